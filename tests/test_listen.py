import io

import numpy as np
import soundfile

from ragalib.display import listen

SR = 22050


def tone(seconds=2.0, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    return 0.3 * np.sin(2 * np.pi * 277.18 * t)


def test_listening_audio_is_mp3_of_the_same_length_and_far_smaller_than_wav():
    data, mime = listen.encode(tone(), sr=SR)
    assert mime == "audio/mpeg" and soundfile.info(io.BytesIO(data)).format == "MP3"
    back, rate = soundfile.read(io.BytesIO(data))
    assert rate == SR and abs(len(back) - 2 * SR) < 0.1 * SR
    assert 0.8 < np.max(np.abs(back)) < 1.0           # peak-normalised to PEAK, no clipping
    assert len(data) < 2 * SR * 2 / 4                 # under a quarter of 16-bit WAV


def test_a_rate_mp3_cannot_carry_falls_back_to_16_bit_wav():
    data, mime = listen.encode(tone(sr=4000), sr=4000)
    assert mime == "audio/wav"
    assert soundfile.info(io.BytesIO(data)).subtype == "PCM_16"


def test_silence_encodes_without_dividing_by_zero():
    data, _ = listen.encode(np.zeros(SR), sr=SR)
    back, _ = soundfile.read(io.BytesIO(data))
    assert np.all(np.isfinite(back)) and np.max(np.abs(back)) < 1e-3


def test_player_and_widget_say_which_format_they_hold():
    import ipywidgets as w

    shown = listen.player(tone(), sr=SR)
    assert shown.mimetype == "audio/mpeg" and 'type="audio/mpeg"' in shown._repr_html_()
    widget = w.Audio()
    listen.set_player(widget, tone(sr=4000), sr=4000)
    assert widget.format == "wav" and widget.value[:4] == b"RIFF"

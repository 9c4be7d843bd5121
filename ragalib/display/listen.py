"""Sound a notebook plays, embedded compactly.

Every player a chapter shows is saved inside the executed notebook (and its HTML), so its
size is the notebook's size: 30 s as 16-bit WAV is 1.3 MB, 1.8 MB once base64-encoded, and
chapter 00's gallery of ten ragas made that chapter 23 MB. Sound that is only listened to is
embedded as MP3 (libsndfile's LAME encoder, about 160 kB per 30 s at 22050 Hz, an eighth of
the WAV); a lesson about the samples themselves (chapter 01's quantisation and aliasing)
plays 16-bit WAV through ``IPython.display.Audio`` instead, so what is heard is exactly
what is stored.

Taught in notebook 00_meet_the_ragas (every player) and used by :mod:`ragalib.display.widgets`.
"""

import io

import numpy as np

MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
"""Sampling rates an MP3 stream can carry; other rates are embedded as 16-bit WAV."""
PEAK = 0.9
"""Every player's peak, as a fraction of full scale (the MP3 encoder overshoots at 1.0)."""


def encode(y, *, sr):
    """``y`` peak-normalised and encoded for a player: MP3 where the rate allows, else WAV.

    Behind notebook 00_meet_the_ragas (not called there by name).

    Parameters
    ----------
    y : np.ndarray, shape (n,)
    sr : int

    Returns
    -------
    data : bytes
    mime : str
        ``"audio/mpeg"`` or ``"audio/wav"``.
    """
    import soundfile

    y = np.asarray(y, dtype=np.float32)
    y = y * (PEAK / max(float(np.max(np.abs(y), initial=0.0)), 1e-9))
    mp3 = sr in MP3_RATES
    buffer = io.BytesIO()
    soundfile.write(buffer, y, sr, format="MP3" if mp3 else "WAV",
                    subtype="MPEG_LAYER_III" if mp3 else "PCM_16")
    return buffer.getvalue(), "audio/mpeg" if mp3 else "audio/wav"


def player(y, *, sr):
    """An ``IPython.display.Audio`` player of ``y``, embedded as by :func:`encode`.

    Taught in notebook 00_meet_the_ragas, and used in 5 later chapters.

    Examples
    --------
    >>> from ragalib import synth
    >>> player(synth.improvise("yaman", 2.0, seed=1), sr=synth.SR).mimetype
    'audio/mpeg'
    """
    from IPython.display import Audio

    data, mime = encode(y, sr=sr)
    shown = Audio(data=data)
    shown.mimetype = mime          # IPython assumes WAV for raw bytes
    return shown


def set_player(widget, y, *, sr):
    """Make an ``ipywidgets.Audio`` ``widget`` play ``y``, embedded as by :func:`encode`.

    Behind notebook 00_meet_the_ragas (not called there by name).
    """
    data, mime = encode(y, sr=sr)
    widget.format = mime.split("/")[1]
    widget.value = data

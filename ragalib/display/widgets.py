"""Every interactive control the notebooks show (notebooks 00_meet_the_ragas, 01_amplitude,
02_spectrogram, 03_mfcc, 07_song_detection, 08_similarity and 09_robust_features).

Each builder draws its first state at once, so the cell shows something (and is tested)
when a notebook runs headless, where nobody turns the knobs. Sound plays from an
``ipywidgets.Audio`` player, as MP3 (:mod:`ragalib.display.listen`), rather than
``IPython.display.Audio`` inside an ``Output``: long audio captured by an ``Output`` widget
stalls headless execution (nbclient) for minutes.

Plots are drawn on a ``matplotlib.figure.Figure`` that pyplot never sees and sent as a PNG
into an ``ipywidgets.Image`` (:func:`draw_png`). Through pyplot and an ``Output`` they came
back blank or half drawn in JupyterLab: widget messages are handled on a kernel thread of
their own, and matplotlib-inline's hook after each cell shows and closes every open pyplot
figure, including one that thread is still drawing. For the same reason the builders wire
``observe`` to an update that sets the image, rather than ``ipywidgets.interactive_output``,
whose update draws into an ``Output``.
"""

import io

from ..constants import SR
from . import listen

PNG_DPI = 100
"""Resolution of a widget's plot: an 11-inch-wide figure is 1100 pixels."""


def draw_png(draw, figsize):
    """A PNG of what ``draw(fig)`` puts on a new ``Figure`` of ``figsize`` inches, drawn
    without pyplot (so no other thread can show or close it half way).

    Behind notebooks 00_meet_the_ragas, 01_amplitude, 02_spectrogram, 03_mfcc,
    07_song_detection, 08_similarity and 09_robust_features (not called there by name).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    draw(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PNG_DPI)
    return buffer.getvalue()


def _image():
    import ipywidgets as w

    return w.Image(format="png", layout=w.Layout(max_width="100%", height="auto"))


def _text(lines):
    """Printed lines as the value of an ``ipywidgets.HTML``."""
    import html

    return f"<pre style='margin:0'>{html.escape(lines)}</pre>"


def _player():
    import ipywidgets as w

    return w.Audio(format="mpeg", autoplay=False, loop=False)


def _raga_picker():
    """A dropdown of the catalogue's ragas, Yaman first chosen."""
    import ipywidgets as w

    from .. import ragas

    return w.Dropdown(options=[(r.name, r.id) for r in ragas.load_catalogue().values()],
                      value="yaman", description="raga")


def raga_explorer(seconds=20.0):
    """Pick a raga, a seed and a drone; hear the improvisation and see its sargam roll.

    Taught in notebook 00_meet_the_ragas.

    Returns
    -------
    ipywidgets.VBox
    """
    import ipywidgets as w

    from .. import ragas, synth
    from . import plots

    raga = _raga_picker()
    seed = w.IntSlider(value=0, min=0, max=20, description="seed")
    drone = w.Checkbox(value=False, description="tanpura drone")
    player = _player()
    text, image = w.HTML(), _image()

    def update(_=None):
        y, score = synth.improvise(raga.value, seconds, seed=seed.value, drone=drone.value,
                                   return_score=True)
        listen.set_player(player, y, sr=synth.SR)
        text.value = _text(ragas.describe(raga.value))
        image.value = draw_png(lambda fig: plots.sargam_roll(score, ax=fig.add_subplot()),
                               (11, 3.6))

    for control in (raga, seed, drone):
        control.observe(update, names="value")
    update()
    return w.VBox([w.HBox([raga, seed, drone]), player, text, image])


def stft_explorer(y, *, sr=SR, seconds=(0.0, 4.0), marks=None):
    """Move n_fft and hop length; the log spectrogram redraws with its resolutions.

    Taught in notebook 02_spectrogram: a long window resolves frequency (harmonics separate)
    but smears time (note onsets blur); a short one does the opposite.
    """
    import ipywidgets as w

    from ..features import FeatureConfig, log_spectrogram
    from . import plots

    clip = y[int(seconds[0] * sr):int(seconds[1] * sr)]
    n_fft = w.SelectionSlider(options=[256, 512, 1024, 2048, 4096, 8192], value=2048,
                              description="n_fft")
    hop = w.SelectionSlider(options=hop_choices(2048), value=512, description="hop_length")
    text, image = w.HTML(), _image()
    busy = []

    def limit_hop(_=None):
        """A hop longer than the window would skip samples: offer only hops up to n_fft."""
        busy.append(True)
        try:
            keep = min(hop.value, n_fft.value)
            hop.options = hop_choices(n_fft.value)
            hop.value = keep
        finally:
            busy.pop()
        update()

    def update(_=None):
        if busy:
            return
        config = FeatureConfig(sr=sr, n_fft=n_fft.value, hop_length=hop.value,
                               segment_seconds=max(5.0, n_fft.value / sr))
        text.value = _text(f"window {1000 * config.n_fft / sr:.0f} ms -> frequency bins "
                           f"{sr / config.n_fft:.1f} Hz apart; hop "
                           f"{1000 * config.hop_length / sr:.0f} ms -> "
                           f"{sr / config.hop_length:.0f} frames per second")
        image.value = draw_png(lambda fig: plots.spectrogram(
            log_spectrogram(clip, config=config), config=config, marks=marks, fmax=4000,
            ax=fig.add_subplot(), title=f"n_fft {config.n_fft}, hop {config.hop_length}"),
            (11, 4))

    n_fft.observe(limit_hop, names="value")
    hop.observe(update, names="value")
    update()
    return w.VBox([w.HBox([n_fft, hop]), text, image])


def hop_choices(n_fft):
    """The hop lengths the STFT explorer offers with a window of ``n_fft`` samples: 128 to
    2048, never longer than the window.

    Behind notebooks 00_meet_the_ragas, 01_amplitude, 02_spectrogram, 03_mfcc,
    07_song_detection, 08_similarity and 09_robust_features (not called there by name).
    """
    return [h for h in (128, 256, 512, 1024, 2048) if h <= n_fft]


def mfcc_explorer(y, *, sr=SR):
    """Move n_mfcc; see the MFCCs and the spectral envelope they keep of one frame.

    Taught in notebook 03_mfcc.
    """
    import ipywidgets as w

    from ..features import FeatureConfig, cepstral_envelope, mfcc
    from . import plots

    n_mfcc = w.IntSlider(value=13, min=1, max=64, description="n_mfcc")
    image = _image()

    def update(_=None):
        config = FeatureConfig(sr=sr, n_mfcc=n_mfcc.value)

        def draw(fig):
            top, bottom = fig.subplots(2, 1)
            plots.mfcc_heatmap(mfcc(y, config=config), config=config, ax=top,
                               title=f"{n_mfcc.value} MFCCs")
            log_mel, envelope = cepstral_envelope(y, config=config)
            plots.cepstral_envelope(log_mel, envelope, n_mfcc.value, ax=bottom)

        image.value = draw_png(draw, (11, 6))

    n_mfcc.observe(update, names="value")
    update()
    return w.VBox([n_mfcc, image])


def instrument_explorer(seconds=5.0):
    """Pick a raga, an instrument and a key; see what MFCCs, chroma and the melody roll keep.

    Taught in notebook 09_robust_features: the MFCCs change with every instrument; the
    pitch-class features change with the notes (the raga, and the key, until Sa is moved to
    C#).
    """
    import ipywidgets as w

    from .. import synth
    from . import plots

    raga = _raga_picker()
    voice = w.Dropdown(options=list(synth.VOICES), value="harmonium", description="instrument")
    tonic = w.Dropdown(options=["C4", "C#4", "D4", "E4", "G3", "A3"], value="C#4",
                       description="Sa")
    player = _player()
    image = _image()

    def update(_=None):
        y = synth.improvise(raga.value, seconds, seed=4, voice=voice.value, tonic=tonic.value)
        listen.set_player(player, y, sr=synth.SR)
        clips = {f"{voice.value}, Sa {tonic.value}": y}
        image.value = draw_png(lambda fig: plots.feature_grid(clips, fig=fig),
                               plots.feature_grid_size(len(clips)))

    for control in (raga, voice, tonic):
        control.observe(update, names="value")
    update()
    return w.VBox([w.HBox([raga, voice, tonic]), player, image])


def waveform_zoom(y, *, sr=SR):
    """Drag a time range; the waveform redraws, with every sample shown once you zoom in.

    Taught in notebook 01_amplitude.
    """
    import ipywidgets as w

    from . import plots

    length = len(y) / sr
    start = min(length / 2, max(0.0, length - 1.0))
    span = w.FloatRangeSlider(value=(start, min(length, start + 1.0)), min=0.0, max=length,
                              step=0.001, readout_format=".3f", description="seconds",
                              layout=w.Layout(width="90%"))
    image = _image()

    def update(_=None):
        start, end = zoom_window(*span.value, length)
        widened = "" if end - start <= span.value[1] - span.value[0] + 1e-9 else (
            f" (widened to the shortest window, {1000 * MIN_ZOOM:.0f} ms)")
        image.value = draw_png(lambda fig: plots.waveform(
            y, sr=sr, start=start, end=end, show_samples=(end - start) < 0.05, ax=fig.add_subplot(),
            title=f"{start:.3f} s to {end:.3f} s: {int(round((end - start) * sr))} samples"
                  f"{widened}"), (11, 3))

    span.observe(update, names="value")
    update()
    return w.VBox([span, image])


MIN_ZOOM = 0.005
"""The shortest window the waveform zoom draws, in seconds (110 samples at 22050 Hz)."""


def zoom_window(start, end, length):
    """The window the waveform zoom draws for a slider at ``(start, end)`` on a signal of
    ``length`` seconds: at least :data:`MIN_ZOOM` wide, inside the signal.

    Behind notebooks 00_meet_the_ragas, 01_amplitude, 02_spectrogram, 03_mfcc,
    07_song_detection, 08_similarity and 09_robust_features (not called there by name).
    """
    if end - start < MIN_ZOOM:
        end = min(length, start + MIN_ZOOM)
        start = max(0.0, end - MIN_ZOOM)
    return start, end


def detect_upload(bundle):
    """Upload a recording; see its tonic, its raga and the timeline of its segments.

    Taught in notebook 07_song_detection. Headless, it shows the upload button and waits.
    """
    import tempfile
    from pathlib import Path

    import ipywidgets as w

    from ..detection import pipeline
    from ..errors import RagalibError
    from . import plots

    upload = w.FileUpload(accept="audio/*", multiple=False, description="your recording")
    text, image = w.HTML(), _image()
    image.layout.display = "none"             # no empty frame before the first recording

    def update(_=None):
        if not upload.value:
            return
        item = upload.value[0]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / Path(item["name"]).name
            path.write_bytes(bytes(item["content"]))
            try:
                found = pipeline.detect_file(path, bundle)
            except RagalibError as exc:
                text.value, image.layout.display = _text(f"ragalib: {exc}"), "none"
                return
        said = found.reason if found.raga is None else f"{found.raga} ({found.confidence:.0%})"
        text.value = _text(f"{item['name']}: {said}; Sa about "
                           f"{found.tonic_note} ({found.tonic_hz:.1f} Hz), shifted "
                           f"{found.shift:+d}")
        image.value = draw_png(lambda fig: plots.timeline(found, bundle.labels,
                                                          ax=fig.add_subplot()), (11, 3))
        image.layout.display = None

    upload.observe(update, names="value")
    return w.VBox([upload, text, image])


def similar_songs(index, bundle, *, k=5, seconds=15.0):
    """Pick a catalogue song; hear it and its ``k`` most similar songs, with raga and score.

    Taught in notebook 08_similarity. Each player holds the first ``seconds`` of a song.
    """
    import ipywidgets as w

    from .. import similarity
    from ..audio import load

    song = w.Dropdown(options=index.files, value=index.files[0], description="song",
                      layout=w.Layout(width="480px"))
    players = [_player() for _ in range(k + 1)]
    labels = [w.HTML() for _ in range(k + 1)]

    def update(_=None):
        found = similarity.recommend(index.folder / song.value, index, bundle, k=k)
        entries = [(song.value, index.ragas[index.files.index(song.value)], None), *found]
        for player, label, (name, raga, score) in zip(players, labels, entries):
            listen.set_player(player, load(index.folder / name, sr=bundle.config.sr)[
                :int(seconds * bundle.config.sr)], sr=bundle.config.sr)
            label.value = (f"<b>{name}</b> ({raga or '?'})" if score is None else
                           f"{name} ({raga or '?'}), similarity {score:.3f}")

    song.observe(update, names="value")
    update()
    rows = [w.HBox([label, player]) for label, player in zip(labels, players)]
    return w.VBox([song, rows[0], w.HTML("<i>you may also like</i>"), *rows[1:]])

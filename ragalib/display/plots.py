"""Every figure the notebooks show, with labelled axes and units.

Each function draws on a given matplotlib ``ax`` (or a new one) and returns the ``ax``.
Used in every chapter, from notebook 00_meet_the_ragas to 11_real_singing.
"""

import numpy as np

from ..constants import C2_HZ
from ..features import DEFAULT, mfcc
from ..melody.pitch import find_phrase
from ..ragas import DEFAULT_TONIC, SEMITONES, get_raga, swara_label


def _legend_beside(ax, **kwargs):
    """The legend to the right of the axes, outside them, so it never covers the data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)


def _new_ax(ax, figsize):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def sargam_roll(score, *, ax=None, show_pakad=True, title=None):
    """Draw a score as a "sargam roll": swara against time, one bar per note.

    Taught in notebook 00_meet_the_ragas. The y axis carries only the raga's own swaras;
    vadi and samvadi rows are shaded, ornaments are drawn thin, and every place where the
    pakad is played is shaded in the background; the legend, beside the plot, names each.
    Where the pakad is never played in full, the title says so.

    Parameters
    ----------
    score : ragalib.synth.Score
    show_pakad : bool
        Shade the pakad's occurrences.
    """
    raga = get_raga(score.raga_id)
    ax = _new_ax(ax, (11, 3.6))
    semis = [n.semitones for n in score.notes]
    lo, hi = (min(semis) - 1, max(semis) + 1) if semis else (-1, 13)
    rows = [p for p in range(lo, hi + 1) if p % 12 in raga.pitch_classes]
    strong = {SEMITONES[raga.vadi], SEMITONES[raga.samvadi]}
    shaded = [p for p in rows if p % 12 in strong]
    for k, p in enumerate(shaded):
        ax.axhspan(p - 0.5, p + 0.5, color="gold", alpha=0.15, lw=0,
                   label="vadi and samvadi" if k == 0 else None)
    found = 0
    if show_pakad:
        spans = score.melody_spans()
        line = [p for p, _, _ in spans]
        target = [n.semitones for n in raga.pakad_notes]
        merged = [p for i, p in enumerate(target) if i == 0 or target[i - 1] != p]
        for found, i in enumerate(find_phrase(line, target), 1):
            ax.axvspan(spans[i][1], spans[i + len(merged) - 1][2], color="tab:green",
                       alpha=0.12, lw=0, label="pakad" if found == 1 else None)
    kinds = set()
    for note in score.notes:
        kind = "ornament" if note.ornament else "note"
        ax.barh(note.semitones, note.duration, left=note.start,
                height=0.3 if note.ornament else 0.75,
                color="tab:gray" if note.ornament else "tab:blue", edgecolor="none",
                label=None if kind in kinds else kind)
        kinds.add(kind)
    ax.set_yticks(rows, [swara_label(p) for p in rows])
    ax.set_ylim(lo - 0.5, hi + 0.5)
    ax.set_xlim(0, score.seconds)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("swara")
    ax.grid(axis="y", alpha=0.3)
    if show_pakad and not found:
        title = (title or f"{raga.name}: sargam roll") + " (the pakad is not played in full here)"
    ax.set_title(title or f"{raga.name}: sargam roll")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return ax


ZOOM_IN_MS_BELOW = 0.1
"""A :func:`waveform` window shorter than this (seconds) is drawn in milliseconds from its
start."""


def waveform(y, *, sr, ax=None, start=0.0, end=None, title="Waveform", show_samples=False):
    """Amplitude against time, optionally zoomed to ``start``..``end`` seconds.

    Taught in notebook 01_amplitude. With ``show_samples`` every sample is drawn as a dot, to
    show that digital audio is a sequence of numbers. A window shorter than
    :data:`ZOOM_IN_MS_BELOW` is drawn in milliseconds from its start, which the axis names.
    """
    ax = _new_ax(ax, (11, 3))
    a = int(start * sr)
    b = len(y) if end is None else min(len(y), int(end * sr))
    t = np.arange(a, b) / sr
    zoomed = (b - a) / sr < ZOOM_IN_MS_BELOW
    if zoomed:       # a few periods: milliseconds from the window's start read better
        t = 1000 * (t - t[0])
    ax.plot(t, y[a:b], lw=0.8 if show_samples else 0.5, color="tab:blue")
    if show_samples:
        ax.plot(t, y[a:b], ".", ms=4, color="tab:red", label=f"samples\n({sr} per second)")
        _legend_beside(ax, fontsize=8)
    ax.set_xlim(t[0], t[-1])
    ax.set_xlabel(f"time (ms from {a / sr:.3f} s)" if zoomed else "time (s)")
    ax.set_ylabel("amplitude")
    ax.set_title(title)
    return ax


def spectrogram(S_db, *, config=DEFAULT, ax=None, y_axis="log", marks=None, fmax=None,
                title="Log-frequency spectrogram", unit="dB", fmin=None):
    """A dB spectrogram with labelled time and frequency axes and a colour bar.

    Taught in notebook 02_spectrogram.

    Parameters
    ----------
    S_db : np.ndarray, shape (1 + n_fft // 2, frames) or (n_mels, frames)
        From :func:`ragalib.features.log_spectrogram` (or a linear magnitude, with
        ``unit="magnitude"``, or :func:`ragalib.features.log_mel` with ``y_axis="mel"``).
    y_axis : {"log", "linear", "mel"}
    marks : dict, optional
        Label -> frequency in Hz, drawn as horizontal lines (e.g. the raga's swaras).
    fmin, fmax : float, optional
        The frequency range drawn (a log axis otherwise spends a third of its height below
        the lowest note).
    """
    import librosa.display

    ax = _new_ax(ax, (11, 4))
    mesh = librosa.display.specshow(S_db, sr=config.sr, hop_length=config.hop_length,
                                    n_fft=config.n_fft, x_axis="time", y_axis=y_axis, ax=ax,
                                    cmap="magma")
    if unit == "dB":
        ax.figure.colorbar(mesh, ax=ax, format="%+2.0f dB", label="level (dB)")
    else:
        ax.figure.colorbar(mesh, ax=ax, label=unit)
    if fmax:
        ax.set_ylim(top=fmax)
    if fmin:
        ax.set_ylim(bottom=fmin)
    if marks:
        _mark_frequencies(ax, marks)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    ax.set_title(title)
    return ax


MIN_LABEL_GAP = 0.045
"""Labels of marked frequencies in one column closer than this share of the axis height are
thinned (two columns, so neighbours alternate between them)."""


def _mark_frequencies(ax, marks):
    """Lines across the plot at ``marks`` (label -> Hz), labelled just outside the right edge
    in two columns; where a label would crowd its column (closer than :data:`MIN_LABEL_GAP` of
    the axis height), it is left out, so each label written stays legible."""
    lo, hi = ax.get_ylim()

    def height(hz):   # share of the axis height, whatever the scale (librosa's is symlog)
        bottom, top, at = (ax.transData.transform((0.0, v))[1] for v in (lo, hi, hz))
        return (at - bottom) / (top - bottom)

    last = [-1.0, -1.0]       # the highest label so far in each column
    for label, hz in sorted(marks.items(), key=lambda item: item[1]):
        if not lo < hz < hi:
            continue
        ax.axhline(hz, color="cyan", lw=0.6, alpha=0.7)
        column = int(np.argmin(last))
        if height(hz) - last[column] >= MIN_LABEL_GAP:
            ax.text(1.004 + 0.022 * column, hz, label, transform=ax.get_yaxis_transform(),
                    color="tab:cyan", fontsize=8, va="center", ha="left", clip_on=False)
            last[column] = height(hz)


def spectrum(y, *, config=DEFAULT, ax=None, at=None, marks=None, fmax=4000.0,
             title="Spectrum of one frame"):
    """The dB magnitude spectrum of one STFT frame (at ``at`` seconds, default the middle).

    Taught in notebook 02_spectrogram: the harmonium's harmonics stand out as peaks.
    """
    from ..features import stft_magnitude

    ax = _new_ax(ax, (11, 3.2))
    mag = stft_magnitude(y, config=config)
    frame = mag.shape[1] // 2 if at is None else min(mag.shape[1] - 1,
                                                      int(at * config.sr / config.hop_length))
    hz = np.arange(mag.shape[0]) * config.sr / config.n_fft
    level = 20 * np.log10(mag[:, frame] / (mag.max() + 1e-12) + 1e-6)
    ax.plot(hz, level, lw=0.8)
    for label, f in (marks or {}).items():
        ax.axvline(f, color="tab:orange", lw=0.6, ls="--")
        ax.text(f, ax.get_ylim()[1], label, fontsize=8, ha="center", va="bottom",
                color="tab:orange")
    ax.set_xlim(0, fmax)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("level (dB)")
    ax.set_title(title, pad=18 if marks else 6)     # above the marks' labels
    return ax


def mel_filterbank(*, config=DEFAULT, ax=None, every=8):
    """The triangular mel filters over linear frequency (every ``every``-th one drawn).

    Taught in notebook 03_mfcc: narrow at low frequencies, wide at high ones, like the ear.
    """
    import librosa

    ax = _new_ax(ax, (11, 3))
    bank = librosa.filters.mel(sr=config.sr, n_fft=config.n_fft, n_mels=config.n_mels)
    hz = np.arange(bank.shape[1]) * config.sr / config.n_fft
    for i in range(0, config.n_mels, every):
        ax.plot(hz, bank[i] / bank[i].max(), lw=0.9)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("weight (each filter scaled to peak 1)")
    ax.set_title(f"Mel filterbank: {config.n_mels} bands (every {every}th shown)")
    ax.set_xlim(0, config.sr / 2)
    return ax


def mfcc_heatmap(M, *, config=DEFAULT, ax=None, title="MFCC", limit=None):
    """MFCCs (time-major, ``(frames, n_mfcc)``) as a heat map: coefficient against time.

    Taught in notebook 03_mfcc. Coefficient 0, the overall level, is left out: it runs to
    hundreds where the others stay within tens, and on one colour scale it would leave them
    all one colour. The map is diverging and centred on 0, from ``-limit`` to ``limit``
    (default: the largest magnitude drawn), so panels given the same ``limit`` compare.
    """
    ax = _new_ax(ax, (11, 3))
    M = np.asarray(M)
    n = M.shape[1]
    first = 1 if n > 1 else 0
    shown = M[:, first:]
    limit = float(np.abs(shown).max()) if limit is None else float(limit)
    seconds = np.arange(M.shape[0] + 1) * config.hop_length / config.sr
    # Row edges at first - 0.5, first + 0.5, ...: each coefficient a row centred on its number.
    mesh = ax.pcolormesh(seconds, np.arange(first, n + 1) - 0.5, shown.T, cmap="coolwarm",
                         vmin=-limit, vmax=limit, shading="flat")
    label = "coefficient value" + (" (c0 not drawn)" if first else "")
    ax.figure.colorbar(mesh, ax=ax, label=label)
    every = max(1, int(np.ceil((n - first) / 16)))     # at most 16 labels, one per labelled row
    ax.set_yticks(np.arange(first, n, every), [str(i) for i in range(first, n, every)])
    ax.set_xlabel("time (s)")
    ax.set_ylabel("MFCC coefficient")
    ax.set_title(title)
    return ax


def segment_view(segment, *, config=DEFAULT, axes=None, title="One 5-s segment"):
    """A segment's waveform above its MFCC matrix, on a shared time axis.

    Taught in notebook 04_dataset: what one training example is, heard and seen.
    """
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(2, 1, figsize=(11, 5), layout="constrained")
    top, bottom = axes
    waveform(segment, sr=config.sr, ax=top, title=title)
    M = mfcc(segment, config=config)
    mfcc_heatmap(M, config=config, ax=bottom,
                 title=f"... and its {M.shape[0]} x {M.shape[1]} MFCC matrix")
    return axes


def framing(y, *, config=DEFAULT, at=1.0, ax=None):
    """One STFT frame: the raw stretch, the Hann window, and their product.

    Taught in notebook 02_spectrogram: the window tapers the frame's edges to zero so the
    FFT does not see a jump where the frame is cut out. The window drawn is the one the STFT
    applies: librosa's periodic Hann (``librosa.filters.get_window``), not numpy's symmetric
    ``np.hanning``.
    """
    import librosa

    ax = _new_ax(ax, (11, 3))
    a = int(at * config.sr)
    frame = y[a:a + config.n_fft]
    window = librosa.filters.get_window("hann", len(frame))
    t = 1000.0 * np.arange(len(frame)) / config.sr
    peak = np.max(np.abs(frame)) or 1.0
    ax.plot(t, frame, lw=0.6, color="tab:gray", label="frame as cut out")
    ax.plot(t, peak * window, lw=1.5, color="tab:orange", label="Hann window (scaled)")
    ax.plot(t, frame * window, lw=0.8, color="tab:blue", label="windowed frame")
    ax.set_xlabel(f"time within the frame (ms); n_fft = {config.n_fft} samples")
    ax.set_ylabel("amplitude")
    ax.set_title(f"One frame at {at:.2f} s")
    _legend_beside(ax, fontsize=8)
    return ax


def distance_matrix(D, labels, *, ax=None, title="Distance", unit="distance"):
    """A symmetric distance matrix as an annotated heat map.

    Taught in notebook 03_mfcc.
    """
    ax = _new_ax(ax, (6, 5))
    mesh = ax.imshow(D, cmap="viridis")
    ax.figure.colorbar(mesh, ax=ax, label=unit)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{D[i, j]:.0f}", ha="center", va="center",
                    color="white" if D[i, j] < 0.6 * np.max(D) else "black")
    ax.set_title(title)
    return ax


def class_balance(counts, *, ax=None, title="Segments per raga and split"):
    """Stacked bars of segment counts per raga, one colour per split.

    Taught in notebook 04_dataset. ``counts`` is :meth:`ragalib.corpus.dataset.Dataset.counts`.
    """
    ax = _new_ax(ax, (11, 3.2))
    ragas = list(counts)
    bottom = np.zeros(len(ragas))
    for split, colour in (("train", "tab:blue"), ("val", "tab:orange"), ("test", "tab:green")):
        values = np.array([counts[r][split] for r in ragas])
        ax.bar(ragas, values, bottom=bottom, color=colour, label=split)
        bottom += values
    ax.set_ylabel("5-s segments")
    ax.set_xlabel("raga")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))   # beside the bars, not on them
    return ax


def cepstral_envelope(log_mel, envelope, n_keep, *, ax=None):
    """One frame's log-mel spectrum with the smooth envelope its first ``n_keep`` MFCCs keep.

    Taught in notebook 03_mfcc; the inputs come from :func:`ragalib.features.cepstral_envelope`.
    """
    ax = _new_ax(ax, (11, 3))
    ax.plot(log_mel, lw=0.8, label="log-mel spectrum of one frame")
    ax.plot(envelope, lw=2, label=f"envelope kept by {n_keep} MFCCs")
    ax.set_xlabel("mel band")
    ax.set_ylabel("level (dB)")
    ax.set_title("What the MFCCs keep of a spectrum")
    ax.legend(loc="upper right")
    return ax


def history(history, *, axes=None, title="Training history", chance=None):
    """Accuracy and loss per epoch, train against validation: the published history plot.

    Taught in notebook 05_train_cnn. ``history`` is the dict ``ragalib.models.cnn.train``
    returns. Each panel marks the epoch where the validation curve is at its best (highest
    accuracy, lowest loss); ``chance`` (one over the number of ragas) draws the accuracy a
    guess would get.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 3.6), layout="constrained")
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, metric, label, pick in ((axes[0], "accuracy", "accuracy", np.argmax),
                                    (axes[1], "loss", "loss", np.argmin)):
        ax.plot(epochs, history[metric], label=f"train {label}")
        ax.plot(epochs, history[f"val_{metric}"], label=f"validation {label}")
        best = int(pick(history[f"val_{metric}"]))
        ax.axvline(epochs[best], color="0.4", linestyle=":",
                   label=f"best validation {label} (epoch {epochs[best]})")
        if metric == "accuracy" and chance is not None:
            ax.axhline(chance, color="0.6", linestyle="--", label=f"chance ({chance:.0%})")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label + (" (cross-entropy)" if metric == "loss" else ""))
        ax.legend(loc="best", fontsize=8)
    axes[0].set_title(f"{title}: accuracy")
    axes[1].set_title(f"{title}: loss")
    return axes


def confusion(matrix, labels, *, ax=None, title="Confusion matrix", normalize=True):
    """A confusion matrix, rows the true raga, columns the predicted one.

    Taught in notebooks 05_train_cnn and 07_song_detection. With ``normalize`` each row shows
    shares of that raga's segments; the count is printed in each cell.
    """
    counts = np.asarray(matrix, dtype=float)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts
    ax = _new_ax(ax, (6.5, 5.5))
    mesh = ax.imshow(shares, cmap="Blues", vmin=0)
    ax.figure.colorbar(mesh, ax=ax, label="share of the row" if normalize else "count")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if counts[i, j]:
                ax.text(j, i, f"{counts[i, j]:.0f}", ha="center", va="center", fontsize=8,
                        color="white" if shares[i, j] > 0.5 * shares.max() else "black")
    ax.set_xlabel("predicted raga")
    ax.set_ylabel("true raga")
    ax.set_title(title)
    return ax


def tonic_profile(hist, tonic_hz, *, ax=None, true_hz=None,
                  title="Where the melody spends its time", ylabel="share of melody energy"):
    """The song's predominant-pitch histogram over one octave, with the estimated Sa marked.

    Taught in notebook 07_song_detection. ``hist`` comes from
    :func:`ragalib.melody.salience.pitch_class_histogram` (60 bins from C), or is another profile on the
    same bins (:func:`ragalib.melody.tonic.drone_profile`, with its own ``title`` and ``ylabel``);
    labels are note names.
    """
    ax = _new_ax(ax, (11, 3))
    names = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
    width = len(hist) // 12
    ax.bar(np.arange(len(hist)) / width, hist, width=1.0 / width, color="tab:blue")
    for hz, colour, label in ((tonic_hz, "tab:red", "estimated Sa"),
                              (true_hz, "tab:green", "true Sa")):
        if hz:
            ax.axvline((12 * np.log2(hz / C2_HZ)) % 12, color=colour, lw=2,
                       ls="--" if label == "true Sa" else "-", label=label)
    ax.set_xticks(range(12), names)
    ax.set_xlabel("pitch class (octaves folded)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper right")
    return ax


def melody_tracks(y, tracks, *, sr, truth=None, start=0.0, end=None, ax=None,
                  title="Melody trackers over the spectrogram"):
    """f0 tracks drawn over a log-frequency spectrogram of ``y``, between ``start`` and
    ``end`` seconds.

    Taught in notebook 07_song_detection. ``tracks`` maps a name to ``(times, hz)`` (NaN where
    unvoiced, as :func:`ragalib.melody.trackers.track` gives them); ``truth``, the same for the true f0,
    is drawn underneath in white.
    """
    import librosa
    import librosa.display

    ax = _new_ax(ax, (11, 4.5))
    end = len(y) / sr if end is None else end
    part = np.asarray(y[int(start * sr):int(end * sr)], dtype=np.float32)
    S = librosa.amplitude_to_db(np.abs(librosa.stft(part, n_fft=2048, hop_length=256)),
                                ref=np.max, top_db=70)
    librosa.display.specshow(S, sr=sr, hop_length=256, x_axis="time", y_axis="log", ax=ax,
                             cmap="gray_r")
    if truth is not None:
        times, hz = truth
        inside = (times >= start) & (times <= end)
        ax.plot(times[inside] - start, hz[inside], color="white", lw=5, alpha=0.9,
                label="true f0 (the singer's)")
    styles = ["tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple"]
    for (name, (times, hz)), colour in zip(tracks.items(), styles):
        inside = (times >= start) & (times <= end)
        ax.plot(times[inside] - start, hz[inside], color=colour, lw=1.2, label=name)
    ax.set_ylim(60, 1200)
    ax.set_xlabel(f"time from {start:g} s")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8, ncol=len(tracks) + 1, framealpha=0.8)
    return ax


def timeline(detection, labels, *, ax=None, title=None):
    """Per-segment raga probabilities across a song, ragas as rows, time as columns.

    Taught in notebook 07_song_detection. Quiet segments that were left out stay blank.
    """
    ax = _new_ax(ax, (11, 3.8))
    seconds = detection.segments[0]["end"] - detection.segments[0]["start"]
    end = max([s["end"] for s in detection.segments] + [e for _, e in detection.skipped])
    grid = np.full((len(labels), int(round(end / seconds))), np.nan)
    for seg, probs in zip(detection.segments, detection.segment_probabilities):
        grid[:, int(round(seg["start"] / seconds))] = probs
    mesh = ax.imshow(grid, aspect="auto", cmap="Greens", vmin=0, vmax=1, origin="lower",
                     extent=(0, end, -0.5, len(labels) - 0.5), interpolation="nearest")
    ax.figure.colorbar(mesh, ax=ax, label="probability")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("raga")
    said = (f"none of these ragas (closest {detection.closest})" if detection.raga is None
            else f"{detection.raga} ({detection.confidence:.0%})")
    ax.set_title(title or f"{said} across the song")
    return ax


def chroma(values, *, config=DEFAULT, ax=None, title="chroma", tonic=DEFAULT_TONIC):
    """Chroma or a melody roll (time-major, ``(frames, 36)``, bin 0 = C) as a heat map: swara
    against time.

    Taught in notebook 09_robust_features. Every feature is taken at the model's Sa (C#), so
    the rows are named as swaras of ``tonic`` (Sa, r, R, ... N; lower case komal, ``M`` tivra)
    by librosa's own axis, ``specshow(y_axis="chroma_h", Sa=...)``: bin 0, C, reads N.
    """
    import librosa
    import librosa.display

    ax = _new_ax(ax, (11, 3))
    values = np.asarray(values)
    sa = int(librosa.note_to_midi(tonic)) % 12
    mesh = librosa.display.specshow(values.T, ax=ax, x_axis="time", y_axis="chroma_h", Sa=sa,
                                    bins_per_octave=values.shape[1], sr=config.sr,
                                    hop_length=config.hop_length, cmap="magma")
    ax.figure.colorbar(mesh, ax=ax, label="energy (loudest = 1)")
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"swara (Sa = {librosa.midi_to_note(sa, octave=False, unicode=False)})")
    ax.set_title(title)
    return ax


FEATURE_TITLES = {"mfcc": "13 MFCCs", "chroma": "chroma", "melody": "melody roll"}


def feature_grid_size(n_clips, n_kinds=3):
    """The size in inches of :func:`feature_grid` for ``n_clips`` rows of ``n_kinds``.

    Behind notebooks 00_meet_the_ragas and 09_robust_features (not called there by name).
    """
    return (5.3 * n_kinds, 3 * n_clips)


def feature_grid(clips, kinds=("mfcc", "chroma", "melody"), *, fig=None):
    """One row per clip, one column per feature kind: what each feature keeps of each clip.

    Taught in notebook 09_robust_features (one raga on two instruments; a take and its
    augmented copy).

    Parameters
    ----------
    clips : dict
        Name -> mono signal at the synthesiser's rate, at least one segment long; the first
        segment is drawn.
    kinds : sequence of str
        Keys of :data:`FEATURE_TITLES`.
    fig : matplotlib.figure.Figure, optional
        Draw on this figure (the widgets' pyplot-free figures); default a new pyplot one.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..features import FeatureConfig, extract

    configs = [FeatureConfig(kind=kind) for kind in kinds]
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=feature_grid_size(len(clips), len(kinds)), layout="constrained")
    axes = fig.subplots(len(clips), len(kinds), squeeze=False)
    values = {(name, config.kind): extract(np.asarray(y)[None, :config.segment_samples],
                                           config=config)[0]
              for name, y in clips.items() for config in configs}
    # one colour scale for every MFCC panel, so that two clips' panels can be compared
    limit = max((np.abs(v[:, 1:]).max() for (_, kind), v in values.items() if kind == "mfcc"),
                default=None)
    for row, name in zip(axes, clips):
        for ax, config in zip(row, configs):
            title = f"{name}: {FEATURE_TITLES[config.kind]}"
            if config.kind == "mfcc":
                mfcc_heatmap(values[name, "mfcc"], config=config, ax=ax, title=title, limit=limit)
            else:
                chroma(values[name, config.kind], config=config, ax=ax, title=title)
    return fig


def pitch_profiles(pitch_model, ragas, *, ax=None):
    """Learned pitch distributions of some ragas, relative to Sa, on one axis.

    Taught in notebook 09_robust_features: rotated twins share notes but not emphasis.
    """
    ax = _new_ax(ax, (11, 3.2))
    width = pitch_model.profiles.shape[1] // 12
    x = np.arange(pitch_model.profiles.shape[1]) / width
    for raga in ragas:
        ax.plot(x, pitch_model.profiles[pitch_model.labels.index(raga)], label=raga)
    ax.set_xticks(range(12), [swara_label(i) for i in range(12)])
    ax.set_xlabel("swara (steps above Sa, octaves folded)")
    ax.set_ylabel("share of melody energy")
    ax.set_title("What the training takes taught the pitch model")
    ax.legend(loc="upper right")
    return ax


def embedding_map(embeddings, ragas, instruments, *, ax=None, title="song embeddings"):
    """Song embeddings drawn in two dimensions (PCA): colour by raga, marker by instrument.

    Taught in notebook 08_similarity.
    """
    from sklearn.decomposition import PCA

    ax = _new_ax(ax, (7, 6))
    pca = PCA(n_components=2, random_state=0)
    points = pca.fit_transform(np.asarray(embeddings))
    share = pca.explained_variance_ratio_
    colours = {r: f"C{i}" for i, r in enumerate(sorted(set(ragas)))}
    markers = dict(zip(sorted(set(instruments)), "osD^vP*X"))
    for (x, y), raga, instrument in zip(points, ragas, instruments):
        ax.scatter(x, y, c=colours[raga], marker=markers[instrument], s=45, alpha=0.85)
    for raga, colour in colours.items():
        ax.scatter([], [], c=colour, marker="o", label=raga)
    for instrument, marker in markers.items():       # hollow, so no raga colour is implied
        ax.scatter([], [], facecolors="none", edgecolors="black", marker=marker, label=instrument)
    ax.legend(fontsize=7, ncol=2, loc="best")
    ax.set_xlabel(f"first principal component ({share[0]:.0%} of the variance)")
    ax.set_ylabel(f"second principal component ({share[1]:.0%} of the variance)")
    ax.set_title(title)
    return ax


TRIAL_PANELS = (("learning_rate", "learning rate", "log"), ("batch_size", "batch size", "log2"),
                ("filters", "filters per convolution", "log2"), ("kernel", "kernel size", None),
                ("dense", "dense units", "log2"), ("dropout", "dropout", None),
                ("batch_norm", "batch normalisation", "bool"),
                ("normalize", "standardised input", "bool"))
"""The panels of :func:`trials_scatter`: trials-table column, axis label, x scale."""


def trials_scatter(rows, *, axes=None, title="Validation accuracy against each hyper-parameter"):
    """One small panel per hyper-parameter: each trial's validation accuracy against its value.

    Taught in notebook 06_tuning. ``rows`` is ``ragalib.tuning.tuner.trials_table``; points are
    coloured by how the trial was proposed (random, by the Gaussian process, or continuing an
    earlier Hyperband trial), and the best trial is ringed. With a handful of trials in eight
    dimensions, a panel shows where the search looked more than what matters.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        One per entry of :data:`TRIAL_PANELS`.
    """
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(2, 4, figsize=(12, 5), layout="constrained", sharey=True)
        fig.suptitle(title)
    axes = np.asarray(axes).ravel()
    colours = {"random": "tab:gray", "gaussian process": "tab:blue"}
    best = max(rows, key=lambda r: r["val_accuracy"]) if rows else None
    for ax, (key, label, scale) in zip(axes, TRIAL_PANELS):
        for kind in dict.fromkeys(r["proposed_by"].split(" trial")[0] for r in rows):
            group = [r for r in rows if r["proposed_by"].split(" trial")[0] == kind]
            ax.scatter([float(r[key]) for r in group], [r["val_accuracy"] for r in group],
                       color=colours.get(kind, "tab:orange"), alpha=0.8, label=kind)
        if best is not None:
            ax.scatter([float(best[key])], [best["val_accuracy"]], s=160, facecolors="none",
                       edgecolors="black", label="best trial")
        if scale == "log":
            ax.set_xscale("log")
            low, high = (min(float(r[key]) for r in rows), max(float(r[key]) for r in rows))
            ticks = [t for t in (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
                     if low / 3 <= t <= high * 3]
            ax.set_xticks(ticks, [f"{t:g}" for t in ticks])   # a few plain ticks, none crowded
            ax.minorticks_off()
        elif scale == "log2":
            ax.set_xscale("log", base=2)
            values = sorted({r[key] for r in rows})
            ax.set_xticks(values, [str(v) for v in values])
            ax.minorticks_off()
        elif scale == "bool":
            ax.set_xticks([0, 1], ["no", "yes"])
            ax.set_xlim(-0.5, 1.5)
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("validation accuracy")
    if len(axes) > 4:
        axes[4].set_ylabel("validation accuracy")
    axes[0].legend(fontsize=7, loc="best")
    return axes


def held_notes(cents, notes, *, hop_s, ax=None, start=0.0, end=None,
               title="A sung contour and its held notes"):
    """A contour in cents above Sa, with its held notes (:func:`ragalib.melody.notes.held_notes`)
    drawn over it as bars on their steps; what is not under a bar is transit.

    Taught in notebook 11_real_singing.
    """
    ax = _new_ax(ax, (11, 3.8))
    t = np.arange(len(cents)) * hop_s
    shown = (t >= start) & (t <= (t[-1] if end is None else end))
    ax.plot(t[shown], np.asarray(cents)[shown], color="0.55", lw=1.0, label="contour (transit)")
    first = True
    for a, b, step in zip(notes.start, notes.stop, notes.step):
        if a * hop_s > (t[-1] if end is None else end) or b * hop_s < start:
            continue
        ax.plot([a * hop_s, b * hop_s], [100 * step] * 2, color="C3", lw=4, solid_capstyle="butt",
                label="held note" if first else None)
        first = False
    steps = np.arange(np.floor(np.nanmin(np.asarray(cents)[shown]) / 100),
                      np.ceil(np.nanmax(np.asarray(cents)[shown]) / 100) + 1).astype(int)
    ax.set_yticks(100 * steps, [swara_label(s) for s in steps], fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set(xlabel="time (s)", ylabel="swara (cents above Sa)", title=title)
    _legend_beside(ax)
    return ax


def none_of_these(inside, outside, *, threshold, axes=None):
    """How well melodies fit their closest raga (:meth:`ragalib.melody.note_model.NoteModel.fit`)
    when their raga is in the catalogue and when it is not: the fits at the Sa given as two
    histograms with the ``threshold`` under which detection says "none of these", and for
    every threshold the share of each kind flagged (the trade-off), at the Sa given and found.

    Taught in notebook 11_real_singing.

    Parameters
    ----------
    inside, outside : dict
        ``{"Sa given": fits, "Sa found": fits}`` of melodies of the catalogue's ragas, and of
        others.
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.8), constrained_layout=True)
    every = np.concatenate([np.asarray(v, float) for v in (*inside.values(), *outside.values())])
    bins = np.linspace(every.min() - 0.05, every.max() + 0.05, 25)
    for fits, label, colour in ((inside, "raga in the catalogue", "C0"),
                                (outside, "raga outside it", "C3")):
        axes[0].hist(fits["Sa given"], bins=bins, alpha=0.6, color=colour, label=label)
    axes[0].axvline(threshold, color="k", ls="--", lw=1, label=f"threshold {threshold:g}")
    axes[0].set(xlabel="fit of the closest raga (Sa given)", ylabel="melodies",
                title="How well the closest raga fits")
    axes[0].legend(fontsize=8)
    steps = np.sort(np.unique(np.concatenate([every, [threshold]])))
    for mode, style in (("Sa given", "-"), ("Sa found", ":")):
        wrongly = [np.mean(np.asarray(inside[mode]) < t) for t in steps]
        rightly = [np.mean(np.asarray(outside[mode]) < t) for t in steps]
        axes[1].plot(wrongly, rightly, style, color="C2", drawstyle="steps-post", label=mode)
        at = int(np.searchsorted(steps, threshold))
        axes[1].plot(wrongly[at], rightly[at], "o", color="k")
    axes[1].plot([0, 1], [0, 1], color="0.7", lw=0.8, label="chance")
    axes[1].set(xlabel="share of catalogue melodies flagged (wrongly)",
                ylabel="share of other melodies flagged (rightly)", xlim=(-0.02, 1.02),
                ylim=(-0.02, 1.02), title="The trade-off (dot: the threshold used)")
    axes[1].legend(fontsize=8, loc="lower right")
    return axes


def reliability(confidence, correct, *, ax=None, title="Reliability", what="answers", bins=10):
    """A reliability diagram: in each band of stated confidence, how often the answers were
    right, against the diagonal a calibrated detector would follow; the number of answers
    in each band is written on its bar, and the title gives the expected calibration error.

    Taught in notebook 07_song_detection (:func:`ragalib.util.stats.reliability` computes it).
    """
    from ..util.stats import reliability as table

    ax = _new_ax(ax, (5.5, 4.5))
    ece, rows = table(confidence, correct, bins=bins)
    width = 1.0 / bins
    for row in rows:
        low = float(row["confidence"].split("-")[0])
        ax.bar(low + width / 2, row["accuracy"], width=width * 0.9, color="tab:blue",
               alpha=0.8)
        ax.plot(row["mean confidence"], row["accuracy"], "k.", ms=5)
        ax.text(low + width / 2, row["accuracy"] + 0.02, str(row["answers"]), ha="center",
                fontsize=7)
    ax.plot([0, 1], [0, 1], "--", color="0.5", label="calibrated")
    ax.plot([], [], "k.", label="mean confidence in the band")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.08)
    ax.set_xlabel("stated confidence")
    ax.set_ylabel(f"share of {what} right")
    ax.set_title(f"{title}\nexpected calibration error {ece:.3f}, {len(confidence)} {what}")
    ax.legend(loc="upper left", fontsize=8)
    return ax


def window_leakage(*, config=DEFAULT, ax=None, bins_around=24):
    """One pure tone, halfway between two FFT bins, through a rectangular and a Hann window:
    the spectral leakage the window is there to prevent.

    Taught in notebook 02_spectrogram. The tone sits at bin 100.5, where leakage is worst;
    the rectangular window's side lobes fall slowly (about 6 dB an octave), the Hann
    window's fast, at the price of a main lobe twice as wide.
    """
    import librosa

    ax = _new_ax(ax, (11, 3.2))
    n = config.n_fft
    hz = 100.5 * config.sr / n
    tone = np.sin(2 * np.pi * hz * np.arange(n) / config.sr)
    bins = np.arange(100 - bins_around, 101 + bins_around + 1)
    for name, window in (("rectangular", np.ones(n)),
                         ("Hann", librosa.filters.get_window("hann", n))):
        spectrum = np.abs(np.fft.rfft(tone * window))
        level = 20 * np.log10(spectrum / spectrum.max() + 1e-12)
        ax.plot(bins * config.sr / n, level[bins], marker=".", ms=3, lw=0.8, label=name)
    ax.axvline(hz, color="0.5", ls=":", label=f"the tone, {hz:.1f} Hz")
    ax.set_ylim(-100, 5)
    ax.set_xlabel(f"frequency (Hz), bins of {config.sr / n:.1f} Hz")
    ax.set_ylabel("level (dB)")
    ax.set_title(f"A tone between two bins, through two windows (n_fft {n})")
    ax.legend(loc="upper right", fontsize=8)
    return ax

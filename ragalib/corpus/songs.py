"""Test songs: what the model has never heard.

Taught in notebook 04_dataset, used in 07_song_detection and 08_similarity. The published
method tested on film songs based on the ragas; we cannot ship those, so we render "songs":
melodies in song form, built on each raga's phrases, on instruments other than the harmonium,
mostly in keys other than C#, at song tempos, half of them over a tabla loud enough to matter,
some with a drone. They are never used for training.

Song form: a refrain (sthayi) built on the pakad and a phrase answering it, which keeps
returning; verses (antara) that climb to the upper Sa and come back; all metered to a beat.
"""

import csv
import io
import zlib
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import numpy as np

from ..constants import OUTPUT_PEAK
from ..paths import songs_dir
from ..ragas import DEFAULT_TONIC, get_raga, raga_ids, tonic_hz
from ..synth.improviser import Grammar, perform
from ..synth.recital import rms
from ..synth.score import Score
from ..synth.tabla import THEKAS, tabla
from ..synth.tanpura import drone_swara, tanpura
from ..synth.voices import SR, render
from ..util.files import atomic_write

INSTRUMENTS = ("plucked", "bowed", "flute", "singer")
"""Song instruments: ``"singer"`` is a sung recital (:mod:`ragalib.synth.recital`: a
vocalist's meend, andolan and shruti intonation over a tanpura and a shadowing harmonium), in
the singer's own register; the others play alone, on other instruments than the harmonium."""
SUNG = "singer"
OTHER_TONICS = ("G3", "G#3", "A3", "A#3", "B3", "C4", "D4", "D#4", "E4", "F4", "F#4")
MANIFEST = "manifest.csv"
MANIFEST_FIELDS = ("file", "raga", "tonic_note", "tonic_hz", "instrument", "percussion",
                   "drone", "taal", "bpm", "seconds", "seed")
PERCUSSION_LEVEL = 0.9   # tabla RMS relative to the melody's
DRONE_LEVEL = 0.35


@dataclass(frozen=True)
class SongSpec:
    """Everything that decides one test song; the same spec renders the same bytes.

    Behind notebooks 04_dataset, 07_song_detection and 08_similarity (not called there by name).
    """

    raga: str
    number: int
    tonic_note: str
    instrument: str
    percussion: bool
    drone: bool
    taal: str
    bpm: float
    seconds: float
    seed: int
    cents: float = 0.0    # Sa this far off the note (a tanpura is tuned to the singer)

    @property
    def sa_hz(self):
        """Sa in Hz: the note, moved by ``cents``."""
        return tonic_hz(self.tonic_note) * 2.0 ** (self.cents / 1200.0)

    @property
    def file(self):
        """A readable name that changes whenever anything in the spec changes."""
        key = self.tonic_note.replace("#", "s")
        from ..synth import GENERATOR_VERSION

        digest = f"{zlib.crc32(f'{GENERATOR_VERSION}{self!r}'.encode()):08x}"[:6]
        return f"{self.raga}_{self.number}_{self.instrument}_{key}_{digest}.wav"


def _seed(*parts):
    return zlib.crc32("/".join(map(str, parts)).encode())


SETS = ("test", "dev", "offgrid")
"""Song sets: ``test`` for the figures we report, ``dev`` (other seeds, same plan) for
choosing between methods, so that no choice is tuned on the songs we report, and
``offgrid`` (other seeds again) with every Sa 10 to 45 cents off the A440 grid, as a real
tanpura tuned to the singer is: a dev set for the tonic's fraction of a semitone."""
OFFGRID_CENTS = (10.0, 45.0)


def song_plan(per_raga=6, *, seconds=(30.0, 60.0), kind="test"):
    """The specs of one song set: ``per_raga`` songs for each raga, deterministic.

    Behind notebooks 04_dataset, 07_song_detection and 08_similarity (not called there by name).

    Instruments rotate, so every raga is heard on every instrument; one song in six is in C#,
    the rest in other keys; every other song has percussion; every third has a drone. A sung
    song has its Sa in the singer's range (:data:`ragalib.synth.recital.SA_RANGES`), up to 30
    cents off the note, and a tanpura nine times in ten, as a recital has. ``kind`` is one of
    :data:`SETS`; the ``dev`` and ``offgrid`` sets follow the same plan with other seeds
    (``offgrid`` with every Sa off the grid).
    """
    from ..synth.recital import DRONE_SHARE, SA_RANGES

    if kind not in SETS:
        raise ValueError(f"song set {kind!r}: choose one of {', '.join(SETS)}")
    tag = "" if kind == "test" else f"-{kind}"
    specs = []
    for r, raga in enumerate(raga_ids()):
        rng = np.random.default_rng(_seed(f"songs{tag}", raga))
        keys = list(rng.permutation(OTHER_TONICS))
        for i in range(per_raga):
            instrument = INSTRUMENTS[(i + r) % len(INSTRUMENTS)]
            tonic, drone = DEFAULT_TONIC if i % 6 == 5 else str(keys[i % len(keys)]), i % 3 == 1
            cents = 0.0
            if instrument == SUNG:
                sung = np.random.default_rng(_seed(f"sung{tag}", raga, i))
                tonic = str(sung.choice(SA_RANGES["male" if i % 2 else "female"]))
                drone = bool(sung.random() < DRONE_SHARE)
                cents = float(np.round(sung.uniform(-30, 30)))
            if kind == "offgrid":
                cents = float(np.round(rng.choice((-1, 1)) * rng.uniform(*OFFGRID_CENTS)))
            specs.append(SongSpec(
                raga=raga, number=i + 1, tonic_note=tonic, instrument=instrument,
                percussion=i % 2 == 0, drone=drone,
                taal=list(THEKAS)[(i + r) % len(THEKAS)],
                bpm=float(np.round(rng.uniform(70, 130))),
                seconds=float(np.round(rng.uniform(*seconds))),
                seed=_seed(f"song{tag}", raga, i), cents=cents))
    return specs


def compose_song(raga_id, seconds, *, tonic=DEFAULT_TONIC, bpm=96.0, seed=0, sung=False):
    """A song's melody: refrain and verses from the raga's grammar, metered at ``bpm``
    (``sung``: andolan left to the singer, see :func:`ragalib.synth.improvise_score`).

    Behind notebooks 04_dataset, 07_song_detection and 08_similarity (not called there by name).

    Returns
    -------
    Score
    """
    raga = get_raga(raga_id)
    rng = np.random.default_rng(seed)
    grammar = Grammar(raga, rng, low=-5, high=17, sung=sung)
    refrain = [grammar.pakad(0)]
    refrain.append(grammar.arc(refrain[0][-1][0], span=(2, 9)))
    verse = [grammar.arc(refrain[-1][-1][0], span=(7, 15))]
    verse.append(grammar.movement(verse[0][-1][0]))
    second_verse = [grammar.taan(verse[-1][-1][0]), grammar.dwell(0)]
    form = [refrain, refrain, verse, refrain, second_verse, refrain]
    beat = 60.0 / bpm
    notes, t, index = [], beat, 0
    while t < seconds:
        for phrase in form[index % len(form)]:
            played, t = perform(grammar, phrase, t, beat, index, rubato=0.02)
            notes += played
            t = (np.floor(t / beat) + 2) * beat   # rest, and come back on the beat
        index += 1
    return Score(raga.id, tonic_hz(tonic), float(seconds),
                 tuple(n for n in notes if n.start < seconds))


def spec_score(spec):
    """The score a :class:`SongSpec` plays: :func:`compose_song` with its raga, length, Sa,
    tempo and seed (andolan left to the voice for a sung song).

    Behind notebooks 04_dataset, 07_song_detection and 08_similarity (not called there by name).
    """
    return compose_song(spec.raga, spec.seconds, tonic=spec.sa_hz, bpm=spec.bpm,
                        seed=spec.seed, sung=spec.instrument == SUNG)


def render_song(spec, *, sr=SR):
    """Render one :class:`SongSpec`: melody, then drone and tabla mixed in.

    Behind notebooks 04_dataset, 07_song_detection and 08_similarity (not called there by name).

    Returns
    -------
    y : np.ndarray, float32, peak about -1 dBFS
    score : Score
    """
    score = spec_score(spec)
    if spec.instrument == SUNG:
        return render_sung_song(spec, score, sr=sr)[:2]
    y = render(score, voice=spec.instrument, sr=sr, seed=spec.seed)
    y = y / rms(y)
    if spec.drone:
        drone = tanpura(score.tonic_hz, spec.seconds, first=drone_swara(spec.raga), sr=sr,
                        seed=spec.seed)
        y = y + DRONE_LEVEL * drone / rms(drone)
    if spec.percussion:
        drums = tabla(score.tonic_hz, spec.seconds, bpm=spec.bpm, taal=spec.taal, sr=sr,
                      seed=spec.seed)
        y = y + PERCUSSION_LEVEL * drums / rms(drums)
    return (OUTPUT_PEAK * y / np.max(np.abs(y))).astype(np.float32), score


def render_sung_song(spec, score=None, *, sr=SR):
    """A sung song as a recital: the singer in ``spec``'s key (male below G3), the drone and
    tabla as ``spec`` says, the harmonium and the recording drawn from its seed.

    Behind notebooks 04_dataset, 07_song_detection and 08_similarity (not called there by name).

    Returns
    -------
    y, score, sung
        The audio, the score, and the singer's true contour
        (:class:`ragalib.synth.singer.SungContour`).
    """
    from dataclasses import replace

    from ..synth.recital import draw_recital, render_recital

    score = score or spec_score(spec)
    recital = replace(draw_recital(spec.seed, tonic=spec.sa_hz, singer=singer_of(spec)),
                      drone=spec.drone, tabla=spec.percussion, taal=spec.taal, bpm=spec.bpm)
    y, sung = render_recital(score, recital, sr=sr)   # the recital's seed is the song's
    return y, score, sung


def manifest_rows(specs):
    """Manifest rows (dicts with :data:`MANIFEST_FIELDS`) for song specs.

    Behind notebooks 04_dataset, 07_song_detection and 08_similarity (not called there by name).
    """
    return [{**{k: v for k, v in asdict(s).items() if k in MANIFEST_FIELDS},
             "file": s.file, "tonic_hz": round(s.sa_hz, 3)} for s in specs]


def write_manifest(folder, specs):
    """Write ``manifest.csv`` atomically.

    Behind notebooks 04_dataset, 07_song_detection and 08_similarity (not called there by name).
    """
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=MANIFEST_FIELDS)
    writer.writeheader()
    writer.writerows(manifest_rows(specs))
    atomic_write(Path(folder) / MANIFEST,
                 lambda tmp: Path(tmp).write_text(text.getvalue(), encoding="utf-8"))


def read_manifest(folder):
    """The manifest as dicts with typed values (floats, bools, ints).

    Behind notebooks 04_dataset, 07_song_detection and 08_similarity (not called there by name).
    """
    from ..errors import RagalibError

    path = Path(folder) / MANIFEST
    if not path.exists():
        raise RagalibError(f"{path}: no such file; render the songs with ensure_songs()")
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for n, row in enumerate(rows, 2):
        try:
            row["tonic_hz"], row["bpm"], row["seconds"] = (float(row[k]) for k in
                                                           ("tonic_hz", "bpm", "seconds"))
            row["percussion"], row["drone"] = (row[k] == "True" for k in ("percussion", "drone"))
            row["seed"] = int(row["seed"])
            row["path"] = Path(folder) / row["file"]
        except (KeyError, TypeError, ValueError) as exc:
            raise RagalibError(f"{path}: line {n}: not a manifest row of this library "
                               f"({type(exc).__name__}: {exc})") from None
    return rows


def ensure_songs(folder=None, *, per_raga=None, seconds=None, kind="test"):
    """Render any missing test songs into ``folder`` and write the manifest.

    Taught in notebook 04_dataset. Six songs of 30-60 s per raga by default; in quick mode two
    songs of 20 s per raga. Existing files are kept, so a second call costs almost nothing;
    rendered songs that are no longer in the plan (named ``<raga>_...wav``) are removed.

    Returns
    -------
    list of dict
        The manifest rows, with a ``path`` for each song.
    """
    folder = Path(folder or songs_dir(kind))
    folder.mkdir(parents=True, exist_ok=True)
    specs = planned_specs(kind, per_raga=per_raga, seconds=seconds)
    wanted = {s.file for s in specs}
    for old in folder.glob("*.wav"):   # songs of another plan or synthesiser version
        if old.name.split("_")[0] in {s.raga for s in specs} and old.name not in wanted:
            old.unlink()
    render_missing(folder, specs, what=f"{kind} songs")
    write_manifest(folder, specs)
    return read_manifest(folder)


def render_missing(folder, specs, *, what="songs"):
    """Render (in worker processes) the songs of ``specs`` that are not yet in ``folder``;
    no manifest is written.

    Behind notebooks 04_dataset, 07_song_detection and 08_similarity (not called there by name).
    """
    from ..util.parallel import map_in_workers

    missing = [s for s in specs if not (Path(folder) / s.file).exists()]
    for _ in map_in_workers(partial(render_and_save, folder=Path(folder)), missing,
                            desc=f"rendering {len(missing)} {what}"):
        pass


def planned_specs(kind="test", *, per_raga=None, seconds=None):
    """The :func:`song_plan` that :func:`ensure_songs` renders: six songs of 30-60 s per raga,
    in quick mode two of 20 s.

    Behind notebooks 04_dataset, 07_song_detection and 08_similarity (not called there by name).
    """
    from ..paths import quick_mode

    quick = quick_mode()
    return song_plan(per_raga or (2 if quick else 6),
                     seconds=seconds or ((20.0, 20.0) if quick else (30.0, 60.0)), kind=kind)


def sung_contour(spec, *, sr=SR):
    """The singer's true contour in a sung song (:class:`ragalib.synth.singer.SungContour`),
    recomputed from its spec without rendering any audio: the reference of
    :func:`ragalib.evaluation.tracking.compare_trackers`.

    Taught in notebook 07_song_detection.
    """
    from ..synth.singer import SINGERS, contour

    return contour(spec_score(spec), singer=SINGERS[singer_of(spec)], sr=sr, seed=spec.seed)[0]


def singer_of(spec):
    """Who sings a sung song: a male voice below F#3, a female one from there up.

    Taught in notebook 07_song_detection.
    """
    return "male" if tonic_hz(spec.tonic_note) < tonic_hz("F#3") else "female"


def render_and_save(spec, *, folder):
    """Render one planned song and save it (atomically) in ``folder``; a worker's share of
    :func:`ensure_songs`.

    Behind notebooks 04_dataset, 07_song_detection and 08_similarity (not called there by name).
    """
    from ..audio import save

    save(folder / spec.file, render_song(spec)[0], sr=SR)


def summary(rows):
    """One line about a set of songs: count, minutes, keys, percussion, drone.

    Taught in notebooks 04_dataset, 08_similarity and 09_robust_features.
    """
    return (f"{len(rows)} songs, {sum(r['seconds'] for r in rows) / 60:.0f} minutes; "
            f"{sum(r['tonic_note'] != 'C#4' for r in rows)} not in C#, "
            f"{sum(r['percussion'] for r in rows)} with tabla, "
            f"{sum(r['drone'] for r in rows)} with drone")

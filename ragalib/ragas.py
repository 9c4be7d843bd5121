"""The raga catalogue: swaras, their semitones, pitches and frequencies on any tonic.

Taught in notebook 00_meet_the_ragas. The catalogue itself is ``ragalib/catalogues/ragas.json``
(package data; ``ragas_more.json`` beside it adds six ragas, and any catalogue a user writes
can be used: :func:`use_catalogue`, notebook 11_real_singing); this module loads it, validates
every note in it, and turns sargam notation into numbers.

Notation: ``S r R g G m M P d D n N`` (lowercase komal, ``M`` tivra), a leading ``,`` for the
lower octave, a trailing ``'`` for the upper, a trailing ``~`` for andolan (a slow
oscillation), and ``|`` for a breath between phrases.
"""

import functools
import json
import math
import os
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from .errors import RagalibError

CATALOGUE_PATH = files(__package__).joinpath("catalogues", "ragas.json")
"""The ten ragas' catalogue, package data: inside the installed package as in a checkout."""

SEMITONES = {"S": 0, "r": 1, "R": 2, "g": 3, "G": 4, "m": 5,
             "M": 6, "P": 7, "d": 8, "D": 9, "n": 10, "N": 11}
"""Semitones above Sa for each of the twelve swaras."""

# The interval each swara makes with Sa, so that music21 spells it as a musician would.
_INTERVALS = {"S": "P1", "r": "m2", "R": "M2", "g": "m3", "G": "M3", "m": "P4",
              "M": "A4", "P": "P5", "d": "m6", "D": "M6", "n": "m7", "N": "M7"}

DEFAULT_TONIC = "C#4"
"""The published method's harmonium was tuned to C#; every model in the series uses it."""

BREATH = "|"


@dataclass(frozen=True)
class SwaraNote:
    """One note of sargam notation: a swara in an octave, perhaps with andolan.

    Behind notebook 00_meet_the_ragas (not called there by name).

    ``octave`` is -1 for the lower (mandra), 0 for the middle, +1 for the upper (tar) octave.
    """

    swara: str
    octave: int = 0
    andolan: bool = False

    @property
    def semitones(self):
        """Semitones above the middle-octave Sa."""
        return SEMITONES[self.swara] + 12 * self.octave

    def __str__(self):
        marks = "," * max(0, -self.octave) + self.swara + "'" * max(0, self.octave)
        return marks + ("~" if self.andolan else "")


def parse_note(token):
    """Parse one sargam token such as ``"S"``, ``",n"``, ``"R'"`` or ``"g~"``.

    Behind notebook 00_meet_the_ragas (not called there by name).

    Raises
    ------
    RagalibError
        If the token is not a swara; the message lists the valid ones.
    """
    text = token.strip()
    andolan = text.endswith("~")
    text = text.rstrip("~")
    low = len(text) - len(text.lstrip(","))
    high = len(text) - len(text.rstrip("'"))
    core = text[low:len(text) - high]
    if core not in SEMITONES or (low and high):
        raise RagalibError(f"unknown swara {token!r}; valid swaras are "
                           f"{' '.join(SEMITONES)} with ',' before for the lower octave, "
                           "\"'\" after for the upper, '~' after for andolan")
    return SwaraNote(core, high - low, andolan)


def parse_phrases(text):
    """Parse notation into phrases: a list of lists of :class:`SwaraNote`, split at ``|``.

    Behind notebook 00_meet_the_ragas (not called there by name).
    """
    phrases = [[parse_note(tok) for tok in part.split()] for part in text.split(BREATH)]
    return [p for p in phrases if p]


@dataclass(frozen=True)
class Raga:
    """One raga's grammar, as the catalogue gives it.

    Behind notebook 00_meet_the_ragas (not called there by name).
    """

    id: str
    name: str
    thaat: str
    time: str
    swaras: tuple
    aroha: tuple
    avaroha: tuple
    pakad: tuple          # phrases: tuple of tuples of SwaraNote
    vadi: str
    samvadi: str
    nyas: tuple
    andolan: tuple
    movements: tuple      # (tuple of SwaraNote, description)
    intonation: tuple = ()   # (swara, cents off equal temperament) where a singer differs
    aliases: tuple = ()      # other spellings of the id (an index's raga column may use them)

    @property
    def pitch_classes(self):
        """Sorted semitones above Sa (0-11) of the raga's swaras."""
        return tuple(sorted(SEMITONES[s] for s in self.swaras))

    @property
    def pakad_notes(self):
        """The pakad as one flat tuple of notes, breaths removed."""
        return tuple(note for phrase in self.pakad for note in phrase)


def _validate_entry(entry, source):
    if not isinstance(entry, dict):
        raise RagalibError(f"{source}: a raga entry must be an object, not {entry!r}")
    where = f"{source}: raga {entry.get('id', '?')!r}"
    required = ("id", "name", "thaat", "time", "swaras", "aroha", "avaroha", "pakad",
                "vadi", "samvadi", "nyas", "andolan", "movements")
    missing = [key for key in required if key not in entry]
    if missing:
        raise RagalibError(f"{where} lacks {', '.join(missing)}")
    try:
        return _raga(entry, where)
    except RagalibError as exc:
        text = str(exc)
        raise RagalibError(text if text.startswith(where) else f"{where}: {text}") from None
    except (TypeError, AttributeError, KeyError) as exc:
        raise RagalibError(f"{where}: a field has the wrong type ({exc})") from None


def _raga(entry, where):
    """The :class:`Raga` of one catalogue entry whose fields are all present, checked."""
    swaras = tuple(entry["swaras"])
    for swara in swaras:
        parse_note(swara)
    allowed = set(swaras)

    def notes(text, field):
        phrases = parse_phrases(text)
        for note in (n for p in phrases for n in p):
            if note.swara not in allowed:
                raise RagalibError(f"{where}: {field} uses {note.swara!r}, which is not one "
                                   f"of its swaras {' '.join(swaras)}")
        return phrases

    for field in ("aroha", "avaroha", "pakad"):
        if not notes(entry[field], field):
            raise RagalibError(f"{where}: its {field} is empty")
    single = {"vadi": entry["vadi"], "samvadi": entry["samvadi"]}
    for field, swara in [*single.items(), *(("nyas", s) for s in entry["nyas"]),
                         *(("andolan", s) for s in entry["andolan"])]:
        if swara not in allowed:
            raise RagalibError(f"{where}: {field} {swara!r} is not one of its swaras "
                               f"{' '.join(swaras)}")
    return Raga(
        id=str(entry["id"]).strip().lower(), name=entry["name"], thaat=entry["thaat"],
        time=entry["time"], swaras=swaras,
        aroha=tuple(n for p in notes(entry["aroha"], "aroha") for n in p),
        avaroha=tuple(n for p in notes(entry["avaroha"], "avaroha") for n in p),
        pakad=tuple(tuple(p) for p in notes(entry["pakad"], "pakad")),
        vadi=entry["vadi"], samvadi=entry["samvadi"],
        nyas=tuple(entry["nyas"]), andolan=tuple(entry["andolan"]),
        movements=tuple((tuple(n for p in notes(m["phrase"], "movement") for n in p),
                         m["about"]) for m in entry["movements"]),
        intonation=_intonation(entry, allowed, where),
        aliases=_aliases(entry, where),
    )


def _aliases(entry, where):
    """The optional ``aliases`` field: a list of other spellings of the id, lowercased (the
    id itself left out)."""
    given = entry.get("aliases", [])
    if not isinstance(given, list) or not all(isinstance(a, str) for a in given):
        raise RagalibError(f"{where}: aliases must be a list of names, not {given!r}")
    own = str(entry["id"]).strip().lower()
    return tuple(dict.fromkeys(a.strip().lower() for a in given if a.strip().lower() != own))


def _intonation(entry, allowed, where):
    """The optional ``intonation`` field as sorted ``(swara, cents)`` pairs, checked: its
    own swaras, and within a quarter-tone of the grid (further is another swara)."""
    pairs = []
    for swara, cents in sorted(dict(entry.get("intonation", {})).items()):
        if swara not in allowed:
            raise RagalibError(f"{where}: intonation {swara!r} is not one of its swaras "
                               f"{' '.join(sorted(allowed))}")
        if isinstance(cents, bool) or not isinstance(cents, (int, float)) or abs(cents) > 50:
            raise RagalibError(f"{where}: intonation of {swara!r} must be a number of cents "
                               f"within 50 of the grid, not {cents!r}")
        pairs.append((swara, float(cents)))
    return tuple(pairs)


CATALOGUE_ENV = "RAGALIB_CATALOGUE"
"""The environment variable naming the active catalogue (:func:`use_catalogue` sets it, so
worker processes judge with the same ragas as their parent)."""


def catalogue_source(path=None):
    """Where a catalogue is: ``path`` as given, or the name of one shipped with ragalib
    (``"ragas_more"`` or ``"ragas_more.json"``, in ``ragalib/catalogues/``); without
    ``path``, the active catalogue (``$RAGALIB_CATALOGUE``, else the ten ragas of
    ``ragas.json``).

    Behind notebook 11_real_singing (not called there by name).

    Raises
    ------
    RagalibError
        If no such file exists, here or among the shipped catalogues.
    """
    if path is None:
        path = os.environ.get(CATALOGUE_ENV) or None
        if path is None:
            return Path(str(CATALOGUE_PATH))
    given = Path(path).expanduser()
    if given.is_file():
        return given.resolve()
    name = given.name if given.suffix == ".json" else f"{given.name}.json"
    shipped = Path(str(CATALOGUE_PATH)).with_name(name)
    if given.parent == Path(".") and shipped.is_file():
        return shipped
    raise RagalibError(f"{path}: no such raga catalogue (a JSON file, or one of the shipped "
                       f"{', '.join(p.stem for p in sorted(shipped.parent.glob('*.json')))})")


def load_catalogue(path=None):
    """Load and validate a raga catalogue, with the catalogues it ``extends``.

    Taught in notebook 00_meet_the_ragas.

    Parameters
    ----------
    path : str or Path, optional
        A catalogue JSON file or a shipped catalogue's name (:func:`catalogue_source`);
        default the active catalogue (:func:`use_catalogue`).

    Returns
    -------
    dict
        Raga id -> :class:`Raga`, in sorted id order.

    Raises
    ------
    RagalibError
        In one line naming the file: missing or not JSON, an entry incomplete, with an unknown
        swara, an empty aroha or a swara outside its own set, a raga id given twice.
    """
    source = catalogue_source(path)
    return dict(_loaded(str(source), _stamp(source))[0])


def catalogue_key(path=None):
    """A digest of the ragas a catalogue defines (their validated entries, wherever they
    are written): what a model records, and what :func:`ragalib.paths.work_dir` keeps apart.

    Behind notebook 11_real_singing (not called there by name).
    """
    source = catalogue_source(path)
    return _loaded(str(source), _stamp(source))[1]


def _stamp(source):
    """The modification times of a catalogue file and of every catalogue beside it (a parent
    it ``extends`` is beside it): editing any renews the cache."""
    try:
        return tuple(sorted((p.name, p.stat().st_mtime_ns)
                            for p in Path(source).parent.glob("*.json")))
    except OSError:
        return None


@functools.lru_cache(maxsize=32)
def _loaded(source, stamp, _seen=()):
    """The ragas of the catalogue file ``source`` (its ``extends`` first) and their digest;
    ``stamp`` (:func:`_stamp`) renews the cache when the file or its parent is edited."""
    import hashlib

    path = Path(source)
    if source in _seen:
        raise RagalibError(f"{path}: extends itself (through {' -> '.join(_seen)})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["ragas"]
        if not isinstance(entries, list):
            raise ValueError("'ragas' must be a list")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RagalibError(f"{path}: not a readable raga catalogue ({exc})") from None
    ragas = []
    if data.get("extends"):
        parent = path.with_name(str(data["extends"]))
        if not parent.is_file():
            raise RagalibError(f"{path}: extends {data['extends']!r}, which is not beside it")
        ragas = list(_loaded(str(parent.resolve()), stamp, (*_seen, source))[0].values())
    ragas += [_validate_entry(entry, path) for entry in entries]
    seen = {}
    for raga in ragas:
        for name in (raga.id, *raga.aliases):
            if name in seen:
                raise RagalibError(f"{path}: raga id {name!r} is given twice "
                                   f"({seen[name]} and {raga.id})")
            seen[name] = raga.id
    ordered = {raga.id: raga for raga in sorted(ragas, key=lambda r: r.id)}
    digest = hashlib.sha1(repr(sorted(ordered.items())).encode()).hexdigest()
    return ordered, digest


class use_catalogue:
    """Judge, synthesise and train with the ragas of another catalogue (``--catalogue`` on
    the command line): a call, or a ``with`` block that restores the previous one.

    Taught in notebook 11_real_singing.

    The catalogue is validated first, then named in ``$RAGALIB_CATALOGUE`` so that worker
    processes use it too. Everything generated from it (takes, datasets, models, caches)
    lives apart from the ten ragas' (:func:`ragalib.paths.work_dir`), and a model trained on
    one catalogue refuses to judge with another. ``use_catalogue(None)`` returns to the ten.
    """

    def __init__(self, path=None):
        self.previous = os.environ.get(CATALOGUE_ENV)
        if path is None:
            os.environ.pop(CATALOGUE_ENV, None)
            return
        source = catalogue_source(path)
        load_catalogue(source)
        os.environ[CATALOGUE_ENV] = str(source)

    def __enter__(self):
        return load_catalogue()

    def __exit__(self, *exc):
        if self.previous is None:
            os.environ.pop(CATALOGUE_ENV, None)
        else:
            os.environ[CATALOGUE_ENV] = self.previous


def catalogue_tag():
    """None for the ten ragas of the shipped catalogue; for any other, ``<name>-<digest>``:
    the folder :func:`ragalib.paths.work_dir` keeps its generated files in.

    Behind notebook 11_real_singing (not called there by name).
    """
    key = catalogue_key()
    if key == catalogue_key(str(CATALOGUE_PATH)):
        return None
    return f"{catalogue_source().stem}-{key[:10]}"


def raga_ids():
    """The catalogue's raga ids, sorted: the label order used everywhere in the series.

    Behind notebook 00_meet_the_ragas (not called there by name).
    """
    return list(load_catalogue())


def get_raga(raga_id):
    """Look up a raga by id (case-insensitive).

    Taught in notebook 00_meet_the_ragas, and used in 3 later chapters.

    Raises
    ------
    RagalibError
        If the id is unknown; the message lists the valid ids.
    """
    if isinstance(raga_id, Raga):
        return raga_id
    catalogue = load_catalogue()
    key = str(raga_id).strip().lower()
    if key not in catalogue:
        key = next((r.id for r in catalogue.values() if key in r.aliases), key)
    if key not in catalogue:
        raise RagalibError(f"unknown raga {raga_id!r}; valid ragas are {', '.join(catalogue)}")
    return catalogue[key]


def swara_semitones(token):
    """Semitones above middle Sa of a sargam token, e.g. ``"P"`` -> 7, ``",n"`` -> -2.

    Taught in notebook 00_meet_the_ragas.
    """
    note = token if isinstance(token, SwaraNote) else parse_note(token)
    return note.semitones


def swara_label(semitones):
    """Sargam label of a pitch relative to middle Sa, e.g. -2 -> ',n', 14 -> "R'".

    Taught in notebook 09_robust_features.
    """
    octave, pc = divmod(int(semitones), 12)
    name = next(s for s, k in SEMITONES.items() if k == pc)
    return "," * max(0, -octave) + name + "'" * max(0, octave)


def tonic_pitch(tonic=DEFAULT_TONIC):
    """The tonic (Sa) as a ``music21.pitch.Pitch``.

    Behind notebook 00_meet_the_ragas (not called there by name).

    Parameters
    ----------
    tonic : str
        A note name with octave, such as ``"C#4"``, ``"Bb3"`` or ``"E-3"``.

    Raises
    ------
    RagalibError
        If music21 does not know the name.
    """
    pitch = music21("pitch")
    text = str(tonic).strip()
    try:
        result = pitch.Pitch(text[:1] + text[1:].replace("b", "-"))
    except Exception:  # music21 raises several types for bad names
        raise RagalibError(f"unknown tonic {tonic!r}; give a note name with octave such as "
                           "C#4, D4 or Bb3") from None
    if result.octave is None:
        result.octave = 4
    return result


TONIC_RANGE = (20.0, 5000.0)


def tonic_hz(tonic=DEFAULT_TONIC):
    """The tonic's frequency in Hz; a number (or text such as ``"176.6"`` or ``"176.6 Hz"``)
    is taken as Hz already.

    Behind notebook 00_meet_the_ragas (not called there by name).

    Raises
    ------
    RagalibError
        For an unknown note name, or a tonic outside 20-5000 Hz.
    """
    if isinstance(tonic, str):
        number = tonic.strip().lower().removesuffix("hz").strip()
        try:
            tonic = float(number)
        except ValueError:
            pass
    if isinstance(tonic, (int, float)) and not isinstance(tonic, bool):
        hz = float(tonic)
        if not math.isfinite(hz):
            raise RagalibError(f"tonic {tonic} is not a frequency")
    else:
        hz = float(tonic_pitch(tonic).frequency)
    if not TONIC_RANGE[0] <= hz <= TONIC_RANGE[1]:
        raise RagalibError(f"tonic {tonic} ({hz:.1f} Hz) is outside "
                           f"{TONIC_RANGE[0]:.0f}-{TONIC_RANGE[1]:.0f} Hz")
    return hz


def music21(module):
    """``music21.<module>``, imported without changing a notebook's figures.

    Behind notebook 00_meet_the_ragas (not called there by name). Imported inside Jupyter,
    music21 starts a one-second timer that loads its IPython extension, which switches
    matplotlib to interactive mode and its inline figures to "retina" (twice the pixels): a
    chapter's figures would change size a second after the first note name it spells. The
    timer (``music21.ipython21.t``) is cancelled before it fires; ``%load_ext
    music21.ipython21`` still loads the extension for whoever wants it.
    """
    import importlib

    found = importlib.import_module(f"music21.{module}")
    timer = getattr(importlib.import_module("music21.ipython21"), "t", None)
    if timer is not None:
        timer.cancel()
    return found


def swara_pitch(token, tonic=DEFAULT_TONIC):
    """The music21 pitch of a swara on a tonic, spelled by its interval above Sa.

    Taught in notebook 00_meet_the_ragas.

    ``swara_pitch("G", "C#4")`` is E#4 (a major third above C#), not F4. Double sharps and
    flats are simplified.
    """
    interval = music21("interval")
    note = token if isinstance(token, SwaraNote) else parse_note(token)
    result = tonic_pitch(tonic).transpose(interval.Interval(_INTERVALS[note.swara]))
    result.octave += note.octave
    if result.accidental is not None and abs(result.accidental.alter) > 1:
        result = result.simplifyEnharmonic()
    return result


def swara_frequency(token, tonic=DEFAULT_TONIC):
    """Equal-tempered frequency in Hz of a swara on a tonic (A4 = 440 Hz).

    Taught in notebooks 00_meet_the_ragas and 02_spectrogram.
    """
    return tonic_hz(tonic) * 2.0 ** (swara_semitones(token) / 12.0)


def _notes_line(notes, tonic):
    names = [swara_pitch(n, tonic).nameWithOctave.replace("-", "b") for n in notes]
    tokens = [str(n) for n in notes]
    width = [max(len(a), len(b)) for a, b in zip(tokens, names)]
    return ("  ".join(t.ljust(w) for t, w in zip(tokens, width)),
            "  ".join(t.ljust(w) for t, w in zip(names, width)))


def describe(raga_id, tonic=DEFAULT_TONIC):
    """A readable text rendering of a raga: its facts, and its scale and pakad in sargam with
    the Western note names on ``tonic`` beneath (music21 cannot draw notation here).

    Taught in notebook 00_meet_the_ragas.
    """
    raga = get_raga(raga_id)
    lines = [f"{raga.name} ({raga.thaat} thaat) - {raga.time}",
             f"vadi {raga.vadi}, samvadi {raga.samvadi}; rests on {' '.join(raga.nyas)}"]
    rows = [("swaras", [parse_note(s) for s in raga.swaras]), ("aroha", raga.aroha),
            ("avaroha", raga.avaroha), ("pakad", raga.pakad_notes)]
    for label, notes in rows:
        sargam, western = _notes_line(notes, tonic)
        lines += [f"{label:>8}  {sargam}", f"{'':>8}  {western}"]
    return "\n".join(lines)


def catalogue_rows():
    """One dict per raga with its grammar in sargam, for a table in notebook 00.

    Taught in notebook 00_meet_the_ragas.
    """
    def text(notes):
        return " ".join(str(n) for n in notes)

    return [{"raga": r.name, "id": r.id, "thaat": r.thaat, "swaras": " ".join(r.swaras),
             "aroha": text(r.aroha), "avaroha": text(r.avaroha),
             "pakad": " | ".join(text(p) for p in r.pakad), "vadi": r.vadi,
             "samvadi": r.samvadi, "time": r.time}
            for r in load_catalogue().values()]


def rotation_twins():
    """Pairs of ragas whose swara sets are the same notes heard from another Sa.

    Taught in notebook 00_meet_the_ragas: once the tonic is wrong,
    one raga's notes *are* another's.

    Returns
    -------
    list of dict
        ``{"raga": a, "twin": b, "from": swara}``: ``b`` is ``a``'s swaras heard with ``a``'s
        ``swara`` as Sa. Each unordered pair appears once.
    """
    catalogue = load_catalogue()
    names = {v: k for k, v in SEMITONES.items()}
    twins = []
    for a in catalogue.values():
        for b in catalogue.values():
            if a.id >= b.id:
                continue
            for shift in range(1, 12):
                if {(p - shift) % 12 for p in a.pitch_classes} == set(b.pitch_classes):
                    twins.append({"raga": a.id, "twin": b.id, "from": names[shift]})
    return twins


def pitch_classes_on(raga_id, tonic=DEFAULT_TONIC):
    """The pitch classes (0 = C ... 11 = B) a raga plays on ``tonic``, spelled by music21.

    Taught in notebook 00_meet_the_ragas, where it checks the rotation twins independently of
    :func:`rotation_twins`'s arithmetic.

    Examples
    --------
    >>> sorted(pitch_classes_on("bhupali", "C4"))     # C D E G A
    [0, 2, 4, 7, 9]
    """
    return {swara_pitch(s, tonic).pitchClass for s in get_raga(raga_id).swaras}


def twin_sentence(twin, tonic=DEFAULT_TONIC):
    """One row of :func:`rotation_twins` said with note names on ``tonic``.

    Taught in notebook 00_meet_the_ragas.

    Examples
    --------
    >>> twin_sentence({"raga": "bhairavi", "twin": "yaman", "from": "r"})
    'Bhairavi on C#, heard with its r (D) as Sa, has the notes of Yaman on D.'
    """
    a, b = get_raga(twin["raga"]), get_raga(twin["twin"])
    sa = tonic_pitch(tonic).name.replace("-", "b")
    new_sa = swara_pitch(twin["from"], tonic).name.replace("-", "b")
    return (f"{a.name} on {sa}, heard with its {twin['from']} ({new_sa}) as Sa, has the notes "
            f"of {b.name} on {new_sa}.")


DEGREES = {"S": "Sa", "R": "Re", "G": "Ga", "M": "Ma", "P": "Pa", "D": "Dha", "N": "Ni"}
"""The seven scale degrees, by the letter of their swaras."""


def differing_degrees(a, b):
    """The scale degrees (Sa, Re, ... Ni) in which ragas ``a`` and ``b`` use other swaras:
    a degree differs when the two ragas do not play the same variants of it (komal, shuddha,
    tivra) or one leaves it out.

    Taught in notebooks 05_train_cnn and 09_robust_features.

    Examples
    --------
    >>> differing_degrees("yaman", "kafi")
    ['Ga', 'Ma', 'Ni']
    """
    def variants(raga):
        found = {}
        for swara in get_raga(raga).swaras:
            found.setdefault(swara.upper(), set()).add(swara)
        return found

    va, vb = variants(a), variants(b)
    return [name for letter, name in DEGREES.items() if va.get(letter) != vb.get(letter)]


def closest_pairs():
    """The pairs of ragas of the catalogue that differ in the fewest degrees:
    ``[(a, b, degrees), ...]`` (see :func:`differing_degrees`).

    Taught in notebook 05_train_cnn.
    """
    ids = raga_ids()
    pairs = [(a, b, differing_degrees(a, b)) for i, a in enumerate(ids) for b in ids[i + 1:]]
    fewest = min(len(d) for _, _, d in pairs)
    return [p for p in pairs if len(p[2]) == fewest]

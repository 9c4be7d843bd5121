"""Raga improvisation as a musician would shape it, not a random walk over the scale.

Taught in notebook 00_meet_the_ragas. Every phrase is built from the raga's grammar:

* it climbs along the aroha and falls along the avaroha (so a vakra, zig-zag, avaroha such as
  Darbari's ``S' d n P m P g m R S`` is followed note by note);
* the pakad opens the piece after a short alap and keeps returning, with variations;
* the raga's characteristic movements are quoted;
* phrases come to rest on the raga's nyas notes, and dwell on vadi and samvadi;
* fast taans run up and down the ladders; held notes may take a kan (grace note) or, where the
  raga asks for it, an andolan (a slow swing to the note below).

Tempo varies from phrase to phrase, phrases breathe between each other, and the melody ranges
over two octaves, lower Pa to upper Pa.
"""

import numpy as np

from ..errors import RagalibError
from ..ragas import DEFAULT_TONIC, SEMITONES, get_raga, tonic_hz
from .score import Note, Score

LOW, HIGH = -5, 19
"""Melodic range in semitones around middle Sa: lower Pa to upper Pa."""

_REST = None           # a pitch of None in a phrase is a breath
_MIN_NOTE = 0.09       # seconds: shorter notes do not sound as notes on a harmonium
_KAN = 0.07            # seconds of a grace note
_PAKAD_EVERY = 6       # the pakad returns at least this often (in phrases)


def _ladder(notes, direction, low, high):
    """The aroha (direction +1) or avaroha (-1) repeated over every octave in range.

    Where two octave copies meet, the notes of the next copy that would step backwards are
    dropped, so Yaman's ``,N R G M D N S'`` continues ``... D N S' R' G' ...``.
    """
    base = [note.semitones for note in notes]
    shifts = range(-2, 3) if direction > 0 else range(2, -3, -1)
    out = []
    for k in shifts:
        copy = [p + 12 * k for p in base]
        while out and copy and (copy[0] - out[-1]) * direction <= 0:
            copy.pop(0)
        out.extend(copy)
    return [p for p in out if low <= p <= high]


def _walk(ladder, start, target, direction):
    """The notes after ``start`` along ``ladder`` that lead to ``target``.

    Stops on ``target`` when the ladder passes through it, else at the first note beyond it
    (the raga's grammar decides where the phrase lands).
    """
    idx = next((i for i, p in enumerate(ladder) if p == start), None)
    if idx is None:
        idx = next((i - 1 for i, p in enumerate(ladder) if (p - start) * direction > 0), None)
        if idx is None:
            return []
    path = []
    for p in ladder[idx + 1:]:
        path.append(p)
        if p == target or (p - target) * direction > 2:
            break
    return path


class Grammar:
    """One raga's grammar as numbers, and the phrase shapes an improviser draws on.

    Behind notebooks 00_meet_the_ragas and 04_dataset (not called there by name): the
    improviser's phrases and the songs' sung lines (:mod:`ragalib.corpus.songs`) both draw on it.
    """

    def __init__(self, raga, rng, low=LOW, high=HIGH, sung=False):
        self.raga, self.rng, self.low, self.high, self.sung = raga, rng, low, high, sung
        self.up = _ladder(raga.aroha, +1, low, high)
        self.down = _ladder(raga.avaroha, -1, low, high)
        self.notes = [p for p in range(low, high + 1) if p % 12 in raga.pitch_classes]
        self.strong = {SEMITONES[raga.vadi]: 3.0, SEMITONES[raga.samvadi]: 2.0}
        self.nyas = {SEMITONES[s] for s in raga.nyas} | set(self.strong)
        self.andolan = {SEMITONES[s] for s in raga.andolan}

    # -- choosing notes -------------------------------------------------------------------
    def _pick(self, candidates, weights):
        weights = np.asarray(weights, dtype=float)
        return candidates[self.rng.choice(len(candidates), p=weights / weights.sum())]

    def _emphasis(self, p):
        return self.strong.get(p % 12, 1.0) * (1.5 if p % 12 == 0 else 1.0)

    def resting_note(self, below):
        """A nyas note below ``below``, preferring the middle register and strong notes."""
        options = [p for p in self.down if p < below and p % 12 in self.nyas]
        options = sorted(set(options)) or [min(self.down)]
        weights = [self._emphasis(p) * np.exp(-abs(p - 4) / 5.0) for p in options]
        return self._pick(options, weights)

    def peak_note(self, above, span=(3, 14)):
        options = sorted({p for p in self.up if above + span[0] <= p <= above + span[1]})
        if not options:
            options = sorted(set(self.up))[-3:]
        weights = [self._emphasis(p) * np.exp(-abs(p - 10) / 6.0) for p in options]
        return self._pick(options, weights)

    # -- phrase shapes: each returns [(semitones or None, beats, andolan), ...] --------------
    def _line(self, pitches, first=1.5, inner=(0.5, 1.0, 1.0), last=(3.0, 4.0)):
        beats = [first] + [self.rng.choice(inner) for _ in pitches[2:]] + [self.rng.choice(last)]
        beats = beats[:len(pitches)]
        out = []
        for p, b in zip(pitches, beats):
            b = b * (1.6 if p % 12 in self.strong and b >= 1 else 1.0)
            out.append((p, b, p % 12 in self.andolan and b >= 2))
        return out

    def arc(self, rest, span=(3, 14)):
        """Up the aroha to a peak, hold it, down the avaroha to a resting note."""
        peak = self.peak_note(rest, span)
        up = _walk(self.up, rest, peak, +1)
        top = up[-1] if up else rest
        end = self.resting_note(top)
        down = _walk(self.down, top, end, -1)
        line = self._line([rest] + up + down)
        if up:  # the peak is held
            i = len(up)
            line[i] = (line[i][0], max(line[i][1], 2.0), line[i][2])
        return line

    def alap(self, rest):
        """A slow opening: around Sa, touching the notes just above and below."""
        above = [p for p in self.up if 0 < p <= 7][:3]
        below = [p for p in self.down if -5 <= p < 0][:2]
        pitches = [0] + above + _walk(self.down, above[-1] if above else 0, 0, -1) + below + [0]
        return self._line(pitches, first=3.0, inner=(1.5, 2.0), last=(4.0,))

    def pakad(self, rest):
        """The catch phrase, as written or with a variation a musician would make."""
        phrases = [list(p) for p in self.raga.pakad]
        roll = self.rng.random()
        if roll < 0.3:
            phrases.append(phrases[-1])                   # repeat the closing fragment
        out = []
        if roll > 0.75:                                  # lead into it from where we are
            first = phrases[0][0].semitones
            direction = 1 if first > rest else -1
            lead = _walk(self.up if direction > 0 else self.down, rest, first, direction)
            out += [(p, 0.5, False) for p in lead[:-1]]
        for fragment in phrases:
            for j, note in enumerate(fragment):
                last = j == len(fragment) - 1
                beats = self.rng.choice((2.0, 3.0)) if last else self.rng.choice((0.75, 1.0))
                out.append((note.semitones, beats, note.andolan))
            out.append((_REST, 0.5, False))
        return out[:-1]

    def movement(self, rest):
        """One of the raga's characteristic movements, sometimes resolved onto a nyas."""
        notes, _ = self.raga.movements[self.rng.integers(len(self.raga.movements))]
        out = [(n.semitones, self.rng.choice((0.75, 1.0)), n.andolan) for n in notes]
        out[-1] = (out[-1][0], 2.5, out[-1][2])
        if self.rng.random() < 0.5:
            end = self.resting_note(out[-1][0])
            out += self._line([out[-1][0]] + _walk(self.down, out[-1][0], end, -1))[1:]
        return out

    def taan(self, rest):
        """A fast run: up the aroha an octave or more, then down the avaroha."""
        peak = self.peak_note(rest, span=(9, 16))
        up = _walk(self.up, rest, peak, +1)
        top = up[-1] if up else rest
        run = [rest] + up + _walk(self.down, top, self.resting_note(top), -1)
        return [(p, 0.5, False) for p in run[:-1]] + [(run[-1], 2.0, False)]

    def dwell(self, rest):
        """Linger on vadi or samvadi: approach, hold, touch the note above, return, resolve."""
        centre_pc = self._pick(list(self.strong), list(self.strong.values()))
        centres = sorted(p for p in set(self.up) & set(self.down) if p % 12 == centre_pc)
        centre = min(centres or [rest], key=lambda p: (abs(p - rest) + abs(p - 5) * 0.5, p))
        direction = 1 if centre >= rest else -1
        approach = _walk(self.up if direction > 0 else self.down, rest, centre, direction)
        above = [p for p in self.up if p > centre][:1]
        end = self.resting_note(centre)
        down = _walk(self.down, centre, end, -1)
        pitches = [rest] + approach[:-1]
        out = [(p, 1.0, False) for p in pitches]
        hold = (centre, 4.0, centre % 12 in self.andolan)
        out += [hold] + [(p, 1.0, False) for p in above] + [(centre, 2.0, False)]
        return out + self._line([centre] + down)[1:]


_SHAPES = {"arc": 0.34, "movement": 0.2, "pakad": 0.14, "taan": 0.14, "dwell": 0.18}


def improvise_score(raga_id, seconds, *, tonic=DEFAULT_TONIC, seed=0, low=LOW, high=HIGH, sung=False):
    """Improvise a piece in a raga, as a score of timed notes.

    Taught in notebook 00_meet_the_ragas.

    Parameters
    ----------
    raga_id : str
        A catalogue id such as ``"yaman"``.
    seconds : float
        Length of the piece; the last phrase is cut at this point.
    tonic : str or float
        Sa as a note name (``"C#4"``) or in Hz.
    seed : int
        The same seed gives the same score.
    low, high : int
        Melodic range in semitones around middle Sa.
    sung : bool
        For a singer: an andolan is one held note marked ``andolan`` (the voice swings it),
        not alternating notes; the notes are the same otherwise.

    Returns
    -------
    Score

    Raises
    ------
    RagalibError
        For an unknown raga or tonic, or a non-positive length.
    """
    raga = get_raga(raga_id)
    sa_hz = tonic_hz(tonic)
    if not np.isfinite(seconds) or seconds <= 0:
        raise RagalibError(f"duration must be a positive number of seconds, not {seconds}")
    rng = np.random.default_rng(seed)
    grammar = Grammar(raga, rng, low, high, sung)
    base_beat = 60.0 / rng.uniform(70, 105)
    notes, t, rest, since_pakad, index = [], rng.uniform(0.05, 0.3), 0, 0, 0
    names, weights = list(_SHAPES), np.array(list(_SHAPES.values()))
    while t < seconds:
        if index == 0:
            shape = "alap"
        elif index == 1 or since_pakad >= _PAKAD_EVERY:
            shape = "pakad"
        else:
            shape = names[rng.choice(len(names), p=weights / weights.sum())]
        since_pakad = 0 if shape == "pakad" else since_pakad + 1
        beat = base_beat * rng.uniform(0.8, 1.25) * (0.5 if shape == "taan" else 1.0)
        played, t = perform(grammar, getattr(grammar, shape)(rest), t, beat, index)
        notes += played
        rest = next((n.semitones for n in reversed(played) if not n.ornament), rest)
        t += rng.uniform(0.3, 1.4)
        index += 1
    notes = tuple(n for n in notes if n.start < seconds)
    return Score(raga.id, sa_hz, float(seconds), notes)


def perform(grammar, events, start, beat, phrase, *, rubato=0.08):
    """Place one phrase's ``(semitones or None, beats, andolan)`` events in time.

    Behind notebook 00_meet_the_ragas (not called there by name).

    Each note lasts its beats times ``beat`` seconds, stretched or squeezed at random by up to
    ``rubato``; ``None`` is a breath. Returns the notes (ornamented) and the end time.
    """
    notes, t = [], start
    for pitch, beats, andolan in events:
        duration = max(_MIN_NOTE, beats * beat * grammar.rng.uniform(1 - rubato, 1 + rubato))
        if pitch is not _REST:
            notes += _ornamented(grammar, pitch, t, duration, phrase, andolan)
        t += duration
    return notes, t


def _ornamented(grammar, pitch, start, duration, phrase, andolan):
    """A note as played: plain, with a kan (grace note) before it, or with andolan."""
    if andolan and duration >= 0.6 and grammar.sung:
        return [Note(start, duration, pitch, phrase, andolan=True)]
    if andolan and duration >= 0.6:
        below = max((p for p in grammar.notes if p < pitch), default=pitch)
        out, t, main = [], start, True
        while t < start + duration - 1e-9:
            length = min(0.32 if main else 0.14, start + duration - t)
            out.append(Note(t, length, pitch if main else below, phrase, ornament=not main))
            t += length
            main = not main
        return out
    if duration >= 0.8 and grammar.rng.random() < 0.2:
        above = min((p for p in grammar.notes if p > pitch), default=pitch)
        return [Note(start, _KAN, above, phrase, ornament=True),
                Note(start + _KAN, duration - _KAN, pitch, phrase)]
    return [Note(start, duration, pitch, phrase)]

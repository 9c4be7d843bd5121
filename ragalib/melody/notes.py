"""A sung contour cut into held notes and the transit between them.

Taught in notebook 11_real_singing. A real singer's note is a movement, not a frame: glides
(meend) pass through the notes between, oscillations (andolan, gamak) swing around a note,
and a plain pitch histogram counts all of that as notes sung. Here a *held note* is a stretch
of the contour that stays near one step of the scale (within :data:`TOLERANCE_CENTS` of it,
after a 50-ms median filter that removes single-frame glitches of the tracker) for at least
:data:`MIN_HELD_S`; everything else is transit, and is not counted as a note.

This is the stable-region idea of the raga recognition literature (Koduri et al. 2012,
"Characterization of intonation in Carnatic music by parametrizing pitch histograms";
Gulati et al. 2014 on nyas segments), kept deliberately simple.
"""

from dataclasses import dataclass

import numpy as np

TOLERANCE_CENTS = 35.0
"""How far from its step a frame of a held note may stray: wider than vibrato's usual 15-25
cents, narrower than the 50 that would make it the next step's."""
MIN_HELD_S = 0.1
"""The shortest held note: shorter stays on one step are glides and grace notes."""
SMOOTHING_S = 0.05
"""The median filter's length before the contour is cut."""
MERGE_GAP_S = 0.04
"""Two stays on one step this close together are one held note (a tracker's glitch)."""
TURN_S = 0.5
"""In a turn X Y X, a Y held for less than this is an ornament of X, not a move."""
MOVE_POWER = 0.5
"""A move between two held notes counts the shorter one's seconds to this power."""


@dataclass(frozen=True)
class HeldNotes:
    """The held notes of a contour: frame ``start`` (inclusive) and ``stop`` (exclusive) and
    ``step``, semitones above Sa, unfolded (``-1`` is lower Ni, ``12`` upper Sa).

    Behind notebook 11_real_singing (not called there by name).
    """

    start: np.ndarray
    stop: np.ndarray
    step: np.ndarray
    hop_s: float

    def __len__(self):
        return len(self.step)

    @property
    def seconds(self):
        return (self.stop - self.start) * self.hop_s


def held_notes(cents, hop_s, *, tolerance=TOLERANCE_CENTS, min_held_s=MIN_HELD_S):
    """Cut a contour in cents above Sa (NaN where silent) into held notes.

    Taught in notebook 11_real_singing.

    Returns
    -------
    HeldNotes
    """
    from scipy.ndimage import median_filter

    cents = np.asarray(cents, dtype=float)
    voiced = np.isfinite(cents)
    size = max(1, int(round(SMOOTHING_S / hop_s)) | 1)
    smooth = cents.copy()
    if size > 1 and voiced.any():             # silent frames take the last sung pitch
        last = np.maximum.accumulate(np.where(voiced, np.arange(len(cents)), -1))
        filled = cents[np.maximum(last, int(np.argmax(voiced)))]
        smooth[voiced] = median_filter(filled, size=size, mode="nearest")[voiced]
    steps = np.round(smooth / 100.0)
    near = voiced & (np.abs(smooth - 100.0 * np.nan_to_num(steps)) < tolerance)
    label = np.where(near, np.nan_to_num(steps), np.nan)
    # runs of one label, a NaN frame ending every run
    change = np.flatnonzero(np.diff(label) != 0) + 1   # NaN != NaN: NaN frames split too
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [len(label)]])
    sung = np.isfinite(label[starts])
    starts, stops, steps = starts[sung], stops[sung], label[starts[sung]].astype(int)
    if not len(steps):
        return HeldNotes(starts, stops, steps, float(hop_s))
    # a stay broken by a glitch shorter than MERGE_GAP_S is one note
    gap = int(round(MERGE_GAP_S / hop_s))
    joined = np.concatenate([[False], (steps[1:] == steps[:-1]) & (starts[1:] - stops[:-1] <= gap)])
    first = np.flatnonzero(~joined)
    starts, steps = starts[first], steps[first]
    stops = np.maximum.reduceat(stops, first) if len(first) else stops[:0]
    keep = (stops - starts) * hop_s >= min_held_s
    return HeldNotes(starts[keep], stops[keep], steps[keep], float(hop_s))


def held_profile(notes, *, rotation=0):
    """Seconds held on each of the 12 steps (folded into one octave), ``rotation``
    semitones taken off every step first (another Sa).

    Taught in notebook 11_real_singing.
    """
    profile = np.zeros(12)
    np.add.at(profile, (notes.step - rotation) % 12, notes.seconds)
    return profile


def held_straying(notes, cents):
    """How far each of the 12 steps (folded) strays while it is held: the mean, weighted by
    seconds held, of each held note's median distance in cents from its step (0 for a step
    never held).

    Behind notebook 11_real_singing (not called there by name). Sa and Pa are *achal*
    swaras: never altered, and held plain, while the other notes carry the oscillations
    (andolan) and the glides that lean on their neighbours; on the dev tracks the steps held
    steadiest point to Sa when nothing else does.

    Parameters
    ----------
    notes : HeldNotes
        Cut from ``cents`` by :func:`held_notes`.
    cents : np.ndarray
        The contour they were cut from.
    """
    cents = np.asarray(cents, dtype=float)
    stray, held = np.zeros(12), np.zeros(12)
    for start, stop, step in zip(notes.start, notes.stop, notes.step):
        distance = np.abs(cents[start:stop] - 100.0 * step)
        distance = distance[np.isfinite(distance)]
        if len(distance):
            stray[step % 12] += np.median(distance) * (stop - start)
            held[step % 12] += stop - start
    return np.divide(stray, held, out=np.zeros(12), where=held > 0)


def note_moves(notes, *, rotation=0):
    """``(2, 12, 12)`` weights of moves from one held note to the next different one:
    ``[up, a, b]`` for a move from step ``a`` to step ``b`` (folded), upward for ``up`` = 1;
    ``rotation`` semitones are taken off every step first (another Sa). A leap of an octave is
    not a move.

    Behind notebook 11_real_singing (not called there by name).

    A turn X Y X whose Y lasts less than :data:`TURN_S` is X ornamented (a kan or a quick
    turn, which a real singer adds everywhere), not two moves; each remaining move weighs the
    shorter of its two notes' seconds to the power :data:`MOVE_POWER`, so a flick between
    long notes counts less than a walk from one held note to another.
    """
    steps, seconds = [], []
    for step, held in zip(notes.step - rotation, notes.seconds):
        if steps and steps[-1] == step:
            seconds[-1] += held
        else:
            steps.append(int(step))
            seconds.append(held)
    k = 1
    while k < len(steps) - 1:
        if steps[k - 1] == steps[k + 1] and seconds[k] < TURN_S:
            seconds[k - 1] += seconds[k] + seconds[k + 1]
            del steps[k:k + 2], seconds[k:k + 2]
        else:
            k += 1
    moves = np.zeros((2, 12, 12))
    for a, b, da, db in zip(steps, steps[1:], seconds, seconds[1:]):
        if a % 12 != b % 12:
            moves[int(b > a), a % 12, b % 12] += min(da, db) ** MOVE_POWER
    return moves


def frame_profile(cents):
    """Seconds-free share of voiced frames on each of the 12 steps: the plain pitch-class
    histogram, for comparison with :func:`held_profile`.

    Taught in notebook 11_real_singing.
    """
    cents = np.asarray(cents, dtype=float)
    steps = np.round(cents[np.isfinite(cents)] / 100.0).astype(int) % 12
    return np.bincount(steps, minlength=12).astype(float)

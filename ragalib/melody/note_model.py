"""A raga model for real singing, read from the catalogue's description alone.

Taught in notebook 11_real_singing. For every raga of the active catalogue
(:func:`ragalib.ragas.use_catalogue`) the model reads two things from its grammar, with no
recording and no synthesis, so a raga a user writes into a catalogue is recognised at once:

* **where the held notes rest** (:func:`profile_template`): every swara of the raga, weighted up
  by how often it appears in the aroha, avaroha, pakad and movements, and by being the vadi,
  the samvadi or a resting note (nyas);
* **which moves the raga makes** (:func:`allowed_moves`): from one note to the next, upward or
  downward, as some phrase of the grammar steps. Bhimpalasi climbs ``,n S g m`` and ``m P n S'``
  where Kafi, with the same notes, climbs ``S R g m`` and ``P D n``: the moves tell them apart
  where the notes cannot.

A melody is cut into held notes (:mod:`ragalib.melody.notes`); its score under a raga is the
mean log probability of its held seconds under the raga's profile, less
:data:`UNGRAMMATICAL_COST` times the share of its moves the raga's grammar never makes. Its
Sa is given, or found with the raga: each of the twelve semitones at the melody's own tuning
is tried.

How it was chosen (on the real dev tracks, six ragas outside the ten, judged among sixteen):
templates learned from the synthetic singer reached 78% of 45-s excerpts with the Sa given,
and moved by ±3 points with the singer's random seed; read from the grammar, 85% (and every
synthetic melody of the sixteen ragas still right). A learned template mostly learns which
moves the improviser never happens to make; the grammar says it directly.
"""

import functools
from dataclasses import dataclass

import numpy as np

from ..errors import RagalibError
from .notes import held_notes, held_profile, held_straying, note_moves

VERSION = 4
"""Part of the key of every verdict cached from it: bump it when how it judges changes,
:mod:`ragalib.melody.notes` included (3: silent frames filled with the last sung pitch;
4: the steadiness cue to Sa)."""
PROFILE_OCCURRENCE = 2.0
"""Weight added to a swara that appears in the grammar's phrases as often as its most
frequent swara (proportionally less for the others); every swara of the raga starts at 1."""
PROFILE_EMPHASIS = {"vadi": 1.0, "samvadi": 0.5, "nyas": 0.5}
"""Weight added to the vadi, the samvadi and each resting note."""
PROFILE_POWER = 0.5
"""The profile is raised to this power (flattened) before it is normalised: the grammar
says where a raga dwells, not exactly how long."""
PROFILE_FLOOR = 0.01
"""Share of the profile spread evenly over the 12 steps: a note outside the raga (an
ornament, a tracker's error) is unlikely, not impossible."""
UNGRAMMATICAL_COST = 0.7
"""Subtracted from the score per unit share of a melody's moves that the raga never makes."""
TEMPERATURE = {"given": 0.11, "estimated": 0.08}
"""Scores are divided by this before the softmax that gives probabilities: the temperature
with the least log loss on the dev tracks' 45-s excerpts, at their given Sa and at the Sa
estimated with the raga (where each raga's score is its best over twelve Sa's)."""
SA_CUE_WEIGHT = 0.5
"""Weight of the raga-independent Sa cue when the Sa is estimated (see :meth:`NoteModel.scores`)."""
STEADY_WEIGHT = 0.15
"""Weight of the steadiness cue when the Sa is estimated: a candidate Sa gains this much per
:data:`STEADY_SCALE_CENTS` its held notes stray less than the melody's held notes on
average, and half as much for its Pa (:func:`ragalib.melody.notes.held_straying`). On the
dev tracks' 45-s excerpts it takes the Sa from 233/281 to 251/281 within 50 cents and the
raga from 210 to 222 (weights 0.1-0.3 all did 243-252 for Sa)."""
STEADY_SCALE_CENTS = 10.0
"""The unit of the steadiness cue: ten cents less straying than average counts one."""
STEADY_MIN_SHARE = 0.01
"""A step held for less than this share of the held seconds counts as straying by
:data:`STEADY_SCALE_CENTS` more than the average: too little was held to call it steady."""
DRONE_WEIGHT = 1.0
"""Weight of a drone's vote beside the melody's scores when the Sa is estimated: on the dev
recordings and on real tanpuras mixed under a synthetic singer, the melody alone sometimes
takes Pa or Ma for Sa and the drone alone fails where it is faint; together they were right
within 50 cents on every one (weights from 0.3 to 3 did as well on the tanpuras)."""
HINT_WEIGHT = 0.1
"""What another estimate of the Sa adds to the candidate it agrees with. Detection passes
the pipeline's own estimate (the pitch model with the drone). On the synthetic dev songs,
with every Sa off the A440 grid, it takes the note model from 58/60 to 60/60 (every weight
from 0.05 to 0.3 did); the smallest of those lets the note model keep a verdict it is sure
of: on the real dev recordings a weight of 0.3 overruled a Jog the melody preferred by 0.19."""
OPEN_SET_FIT = -2.55
"""Below this fit (:meth:`NoteModel.fit`: the chosen raga's own score at the Sa judged, with
no Sa cue) no raga of the catalogue fits: detection answers "none of these". Chosen on dev
material: the real dev tracks' 45-s excerpts of six ragas outside the ten, judged with the
ten (out of the catalogue), and with the sixteen that include them (in it). At -2.55 it
flags 8.9% of the excerpts in the catalogue at their given Sa and 8.2% at the Sa found
(under the 10% we allow) and 46% and 32% of those outside it; no synthetic song fits below
-2.1. A model learned from your recordings fits its ragas' real singing better, so the
threshold may flag less there: ``python -m ragalib report folder DIR --open-set`` prints the
whole trade-off on yours."""
REFERENCE_HZ = 440.0 * 2.0 ** (-9 / 12)
"""C4: the cents of a melody are counted from here before its own tuning is found."""
HOP_S = 0.01
"""The frame spacing of :func:`sung_contour`."""


def _phrases(raga):
    """The grammar's phrases (aroha, avaroha, pakad, movements) as semitones above Sa, a
    note repeated in place counted once."""
    phrases = [raga.aroha, raga.avaroha, *raga.pakad, *(notes for notes, _ in raga.movements)]
    out = []
    for phrase in phrases:
        steps = [note.semitones for note in phrase]
        out.append([s for i, s in enumerate(steps) if i == 0 or s != steps[i - 1]])
    return out


def profile_template(raga):
    """The log probability of each of the 12 steps holding a note of ``raga`` (see the module
    docstring).

    Behind notebook 11_real_singing (not called there by name).
    """
    from ..ragas import SEMITONES

    weight = np.zeros(12)
    weight[[SEMITONES[s] for s in raga.swaras]] = 1.0
    occurrences = np.zeros(12)
    for phrase in _phrases(raga):
        np.add.at(occurrences, np.array(phrase, dtype=int) % 12, 1.0)
    weight += PROFILE_OCCURRENCE * occurrences / occurrences.max() * (weight > 0)
    weight[SEMITONES[raga.vadi]] += PROFILE_EMPHASIS["vadi"]
    weight[SEMITONES[raga.samvadi]] += PROFILE_EMPHASIS["samvadi"]
    for swara in raga.nyas:
        weight[SEMITONES[swara]] += PROFILE_EMPHASIS["nyas"]
    p = (weight / weight.sum()) ** PROFILE_POWER
    p /= p.sum()
    return np.log((1.0 - PROFILE_FLOOR) * p + PROFILE_FLOOR / 12)


def allowed_moves(raga):
    """``(2, 12, 12)`` booleans: ``[up, a, b]`` is True when a phrase of ``raga``'s grammar
    steps directly from step ``a`` to step ``b`` (folded), upward for ``up`` = 1.

    Behind notebook 11_real_singing (not called there by name).
    """
    allowed = np.zeros((2, 12, 12), dtype=bool)
    for phrase in _phrases(raga):
        for a, b in zip(phrase, phrase[1:]):
            allowed[int(b > a), a % 12, b % 12] = True
    return allowed


@dataclass(frozen=True)
class NoteModel:
    """Each raga's profile template and grammatical moves. Build one with
    :func:`ensure_note_model` (or :meth:`from_ragas`).

    Behind notebook 11_real_singing (not called there by name).
    """

    labels: tuple
    log_profiles: np.ndarray   # (ragas, 12)
    allowed: np.ndarray        # (ragas, 2, 12, 12) bool

    @classmethod
    def from_ragas(cls, ragas):
        """The model of :class:`ragalib.ragas.Raga` objects, in the order given."""
        ragas = list(ragas)
        return cls(tuple(r.id for r in ragas), np.array([profile_template(r) for r in ragas]),
                   np.array([allowed_moves(r) for r in ragas]))

    @functools.cached_property
    def key(self):
        """What the model is made of (a cache of its verdicts is keyed by it)."""
        from ..paths import content_key

        return content_key("note model", VERSION, *self.labels, self.log_profiles.tobytes(),
                           self.allowed.tobytes(), UNGRAMMATICAL_COST,
                           sorted(TEMPERATURE.items()), SA_CUE_WEIGHT, DRONE_WEIGHT, HINT_WEIGHT)

    @functools.cached_property
    def _log_any_raga(self):
        """The log of the ragas' mean profile: where held notes rest whatever the raga."""
        return np.log(np.exp(self.log_profiles).mean(axis=0))

    def raga_scores(self, notes, *, rotation=0):
        """The score of :class:`ragalib.melody.notes.HeldNotes` (steps above a Sa
        ``rotation`` semitones below the one they were cut at) under every raga (see the
        module docstring); -inf for every raga when nothing is held.
        """
        return self.count_scores(held_profile(notes, rotation=rotation),
                                 note_moves(notes, rotation=rotation))

    def count_scores(self, profile, moves):
        """:meth:`raga_scores` from what it counts: the seconds held on each step
        (:func:`ragalib.melody.notes.held_profile`) and the moves
        (:func:`ragalib.melody.notes.note_moves`)."""
        if profile.sum() <= 0:
            return np.full(len(self.labels), -np.inf)
        scores = self.log_profiles @ (profile / profile.sum())
        if moves.sum() > 0:
            foreign = (~self.allowed * moves).sum(axis=(1, 2, 3)) / moves.sum()
            scores = scores - UNGRAMMATICAL_COST * foreign
        return scores

    def adapted(self, held, prior_s):
        """The model with each raga's profile drawn towards real singing of it: ``held`` maps
        raga -> seconds held on each step (summed over recordings); its profile becomes
        the grammar's, weighted ``prior_s``, mixed with the recordings' share of seconds
        on each step (floored as the grammar's is), weighted by their seconds held. Ragas
        without recordings keep the grammar's.

        Behind notebook 11_real_singing (named there, not called).
        """
        log_profiles = self.log_profiles.copy()
        for raga, seconds in held.items():
            total = float(np.sum(seconds))
            if raga not in self.labels or total <= 0:
                continue
            sung = (1.0 - PROFILE_FLOOR) * np.asarray(seconds) / total + PROFILE_FLOOR / 12
            weight = total / (total + prior_s)
            i = self.labels.index(raga)
            log_profiles[i] = np.log((1.0 - weight) * np.exp(log_profiles[i]) + weight * sung)
        return NoteModel(self.labels, log_profiles, self.allowed)

    def scores(self, hz, hop_s, *, sa_hz=None):
        """Scores of a melody in Hz under every raga at every candidate Sa.

        With ``sa_hz`` the one candidate is that Sa. Without, the twelve semitones at the
        melody's own tuning (the circular mean of its cents modulo 100: Sa to a fraction of
        a semitone, not to the A440 grid), each scored with :data:`SA_CUE_WEIGHT` times the
        log probability of its held notes under the ragas' mean profile (a raga-independent
        cue: whatever the raga, Sa and Pa are held most).

        Returns
        -------
        scores : np.ndarray, shape (candidates, ragas)
        sa_hz : np.ndarray, shape (candidates,)
            Each candidate in the octave at or below the melody's median pitch.
        """
        hz = np.asarray(hz, dtype=float)
        voiced = np.isfinite(hz) & (hz > 0)
        if not voiced.any():
            raise RagalibError("the melody has no voiced frame")
        with np.errstate(divide="ignore", invalid="ignore"):
            if sa_hz is not None:
                notes = held_notes(1200.0 * np.log2(hz / float(sa_hz)), hop_s)
                return self.raga_scores(notes)[None, :], np.array([float(sa_hz)])
            cents = 1200.0 * np.log2(hz / REFERENCE_HZ)
        turn = np.exp(2j * np.pi * cents[voiced] / 100.0).mean()
        offset = 100.0 * np.angle(turn) / (2 * np.pi)
        notes = held_notes(cents - offset, hop_s)
        steady = _steadiness(notes, cents - offset)
        out = np.empty((12, len(self.labels)))
        for k in range(12):
            out[k] = self.raga_scores(notes, rotation=k)
            profile = held_profile(notes, rotation=k)
            if profile.sum() > 0:
                out[k] += SA_CUE_WEIGHT * self._log_any_raga @ (profile / profile.sum())
            out[k] += STEADY_WEIGHT * (steady[k] + 0.5 * steady[(k + 7) % 12])
        candidates = REFERENCE_HZ * 2.0 ** ((offset + 100.0 * np.arange(12)) / 1200.0)
        median = np.median(hz[voiced])
        candidates = candidates * 2.0 ** np.floor(np.log2(median / candidates))
        return out, candidates

    def fit(self, hz, hop_s, sa_hz, raga):
        """How well ``raga`` fits a melody at ``sa_hz``: its score there (the profile's mean
        log probability less the cost of ungrammatical moves) with no cue to the Sa, so
        that melodies judged at a given Sa and at a found one compare. Below
        :data:`OPEN_SET_FIT`, none of the catalogue's ragas fits.

        Taught in notebook 11_real_singing.
        """
        return float(self.scores(hz, hop_s, sa_hz=sa_hz)[0][0, self.labels.index(raga)])

    def judge(self, hz, hop_s, *, sa_hz=None, drone=None, hint_hz=None):
        """The raga probabilities of a melody and the Sa they were judged at.

        Without ``sa_hz``, the Sa is the candidate of the best (raga, Sa) pair, and each
        raga is scored at its own best Sa (the joint estimate of tonic and raga). With
        ``drone`` (:func:`ragalib.melody.tonic.drone_profile` of the recording), each
        candidate also gets :data:`DRONE_WEIGHT` times the drone's vote for it
        (:func:`ragalib.melody.tonic.drone_evidence`): a tanpura says where Sa is, and the
        melody says it to a fraction of a semitone. With ``hint_hz`` (another estimate of
        the Sa, such as :func:`ragalib.melody.tonic.estimate_tonic`'s), the candidate within
        50 cents of it gets :data:`HINT_WEIGHT` more.

        Returns
        -------
        probabilities : dict
            Raga id -> probability, in label order (a softmax of the scores at the
            :data:`TEMPERATURE` of the case).
        sa_hz : float
        """
        scores, candidates = self.scores(hz, hop_s, sa_hz=sa_hz)
        if drone is not None and sa_hz is None:
            from .tonic import drone_evidence, sa_bin

            vote = drone_evidence(drone, [sa_bin(c) for c in candidates])
            scores = scores + DRONE_WEIGHT * vote[:, None]
        if hint_hz is not None and sa_hz is None:
            cents = 1200.0 * np.log2(candidates / hint_hz)
            near = np.abs((cents + 600.0) % 1200.0 - 600.0) < 50.0
            scores = scores + HINT_WEIGHT * near[:, None]
        best = scores.max(axis=0)
        if not np.isfinite(best).any():
            raise RagalibError("the melody holds no note long enough to judge")
        row = int(np.unravel_index(np.argmax(scores), scores.shape)[0])
        p = np.exp((best - best.max()) / TEMPERATURE["given" if sa_hz else "estimated"])
        return dict(zip(self.labels, map(float, p / p.sum()))), float(candidates[row])


def _steadiness(notes, cents):
    """Per step (folded): how much less its held notes stray than the melody's held notes on
    average, in units of :data:`STEADY_SCALE_CENTS` (-1 for a step held too little)."""
    stray = held_straying(notes, cents)
    held = held_profile(notes)
    if held.sum() <= 0:
        return np.zeros(12)
    share = held / held.sum()
    mean = float(stray @ share)
    return np.where(share >= STEADY_MIN_SHARE, (mean - stray) / STEADY_SCALE_CENTS, -1.0)


def ensure_note_model(labels=None, *, own_recordings=True):
    """The note model of the active catalogue's ragas, or of those of them in ``labels``
    (a detector's), in that order (the grammar's is built in milliseconds and kept for the
    process). With ``own_recordings``, learned from your recordings in ``data/recordings/`` as
    far as they show it helps (:func:`ragalib.melody.note_learning.own_recordings_model`: the
    first call reads each recording once; later calls look at the folder's listing).

    Taught in notebook 11_real_singing.
    """
    from ..ragas import get_raga, load_catalogue

    ragas = (tuple(load_catalogue().values()) if labels is None else
             tuple(get_raga(label) for label in labels))
    model = _model_of(ragas)
    if own_recordings:
        from .note_learning import own_recordings_model

        model = own_recordings_model(model)[0]
    return model


@functools.lru_cache(maxsize=8)
def _model_of(ragas):
    """The model of these :class:`ragalib.ragas.Raga` (their grammar is the whole key)."""
    return NoteModel.from_ragas(ragas)


def sung_contour(raga_id, seconds, seed, singer):
    """A synthetic sung improvisation's contour in cents above Sa, every :data:`HOP_S`.

    Taught in notebook 11_real_singing.
    """
    from ..synth.improviser import improvise_score
    from ..synth.singer import SINGERS, contour

    score = improvise_score(raga_id, seconds, sung=True, seed=seed)
    sung, _ = contour(score, singer=SINGERS[singer], seed=seed)
    frames = np.arange(0.0, sung.times[-1], HOP_S)
    index = np.clip(np.round(frames * sung.sr / sung.hop).astype(int), 0, len(sung.hz) - 1)
    return 1200.0 * np.log2(sung.hz[index] / score.tonic_hz)

"""A symbolic score: the notes an improvisation plays, before any sound is made.

Taught in notebook 00_meet_the_ragas (the sargam roll is drawn from it).
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Note:
    """One played note.

    Behind notebook 00_meet_the_ragas (not called there by name).

    Attributes
    ----------
    start, duration : float
        Seconds from the start of the piece.
    semitones : int
        Above the middle-octave Sa (negative below it).
    phrase : int
        Index of the phrase the note belongs to.
    ornament : bool
        A grace note or an andolan swing rather than a note of the melody line.
    andolan : bool
        A held note a singer swings slowly below and back (see :mod:`ragalib.synth.singer`);
        an instrument plays it as alternating ornament notes instead.
    """

    start: float
    duration: float
    semitones: int
    phrase: int
    ornament: bool = False
    andolan: bool = False

    @property
    def end(self):
        return self.start + self.duration


@dataclass(frozen=True)
class Score:
    """The notes of a piece on one tonic; ``seconds`` is the piece's full length.

    Behind notebook 00_meet_the_ragas (not called there by name).
    """

    raga_id: str
    tonic_hz: float
    seconds: float
    notes: tuple

    def frequencies(self):
        """Equal-tempered frequency in Hz of every note."""
        semis = np.array([n.semitones for n in self.notes], dtype=float)
        return self.tonic_hz * 2.0 ** (semis / 12.0)

    def longest_note(self):
        """The longest melody note and its frequency in Hz (chapters 01 and 02 zoom into it)."""
        note = max((n for n in self.notes if not n.ornament), key=lambda n: n.duration)
        return note, self.tonic_hz * 2.0 ** (note.semitones / 12.0)

    def melody_spans(self):
        """The melody line as ``(semitones, start, end)``: ornaments dropped, repeats merged."""
        spans = []
        for note in self.notes:
            if note.ornament:
                continue
            if spans and spans[-1][0] == note.semitones:
                spans[-1] = (note.semitones, spans[-1][1], note.end)
            else:
                spans.append((note.semitones, note.start, note.end))
        return spans

    def melody(self):
        """Semitones of the melody line: ornaments dropped, repeated notes merged."""
        return [p for p, _, _ in self.melody_spans()]

"""The raga of a pitch track: detection when there is a melody but no audio.

Taught in notebook 11_real_singing; taught by use: ``python -m ragalib detect TRACK.csv``.
Research corpora publish pitch tracks where they cannot publish audio
(:mod:`ragalib.melody.pitch_track` reads them). With no audio there is no CNN to ask: the
note model (:mod:`ragalib.melody.note_model`) judges alone, at the Sa given or at the Sa it
estimates together with the raga.
"""

from ..errors import RagalibError
from .pipeline import Detection, none_fits


def detect_track(track, *, tonic="auto", model=None, open_set=True):
    """Detect the raga of a pitch track (a path or a
    :class:`ragalib.melody.pitch_track.PitchTrack`).

    Taught in notebook 11_real_singing.

    Parameters
    ----------
    tonic : str, float or ragalib.melody.tonic.Tonic
        ``"auto"`` (or ``"catalogue"``): Sa estimated from the melody with the raga; a note
        name or Hz: that Sa. ``"none"`` is refused: a melody's notes are read above a Sa.
    model : ragalib.melody.note_model.NoteModel, optional
        Default :func:`ragalib.melody.note_model.ensure_note_model` of the active catalogue.
    open_set : bool
        When no raga of the catalogue fits, ``raga`` is None
        (:func:`ragalib.detection.pipeline.none_fits`).

    Returns
    -------
    Detection
        ``shift`` is 0 and ``segments`` is empty: a pitch track is judged whole.
    """
    from ..melody.note_model import ensure_note_model
    from ..melody.pitch_track import PitchTrack, read_pitch_track
    from ..melody.tonic import Tonic, note_name

    track = track if isinstance(track, PitchTrack) else read_pitch_track(track)
    tonic = Tonic.parse(tonic)
    if tonic.how in ("none", "true"):
        raise RagalibError(f"{track.source}: a pitch track needs its Sa given (--tonic D4 or "
                           "--tonic 146.8) or estimated (--tonic auto)")
    model = ensure_note_model() if model is None else model
    try:
        probabilities, sa_hz = model.judge(track.hz, track.hop_s,
                                           sa_hz=tonic.hz if tonic.how == "given" else None)
        raga = max(probabilities, key=probabilities.get)
        fit = model.fit(track.hz, track.hop_s, sa_hz, raga)
    except RagalibError as exc:
        raise RagalibError(f"{track.source}: {exc}") from None
    found = Detection(file=track.source, raga=raga, confidence=probabilities[raga],
                      probabilities=probabilities, tonic_hz=sa_hz,
                      tonic_note=tonic.note if tonic.how == "given" else note_name(sa_hz),
                      shift=0, fit=fit, closest=raga)
    return none_fits(found) if open_set else found

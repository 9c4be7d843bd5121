"""The numbers the whole series shares, each written once.

Taught across the series: the sample rate in notebook 01_amplitude, C2 (the bottom of the
chroma and salience ranges) in notebooks 03_mfcc and 07_song_detection, the output peak in
notebook 00_meet_the_ragas, the published accuracies in notebook 05_train_cnn. The published
tonic (C#4) is :mod:`ragalib.ragas`' ``DEFAULT_TONIC``.
"""

SR = 22050
"""The sample rate of every take, feature and model, in Hz (the published method's)."""

C2_HZ = 65.40639132514966
"""C2 in Hz (``librosa.note_to_hz("C2")``): the lowest note of the chroma and salience ranges."""

# The pitch ranges, in one place. Three, each the one its figures were measured with: the
# salience's bins start at C2 (``ragalib.melody.salience``), YIN measures a synthesised note up
# to the harmonium's top, and the trackers search a singer's range. One range for all would
# change what they measure (pYIN's pitch grid starts at its fmin), so it waits for the next
# choice of tracker, made on real singing.
NOTE_RANGE_HZ = (60.0, 1600.0)
"""What YIN searches for one note's pitch (:func:`ragalib.melody.pitch.f0_track`): below C2
to above the synthesiser's highest Sa."""
MELODY_RANGE_HZ = (65.0, 1100.0)
"""What every pitch tracker searches (:mod:`ragalib.melody.trackers`): below a male singer's
lower Pa to above a female singer's upper Pa."""

OUTPUT_PEAK = 0.89
"""The peak every synthesised take and song is normalised to (about -1 dBFS)."""

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".au",
                  ".caf", ".w64"}
"""Extensions libsndfile reads (m4a/AAC is not among them: convert such files first)."""


def octaves_below_nyquist(sr, most):
    """Whole octaves above C2 that stay below 0.45 ``sr`` (just under Nyquist), at most ``most``.

    Behind notebooks 01_amplitude, 03_mfcc, 07_song_detection and 00_meet_the_ragas (not called
    there by name).
    """
    import numpy as np

    return min(most, int(np.log2(0.45 * sr / C2_HZ)))


PUBLISHED_BEFORE, PUBLISHED_AFTER = 0.72, 0.927
"""The published test accuracies, before and after tuning (quoted, not measured here)."""

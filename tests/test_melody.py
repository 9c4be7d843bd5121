"""Melody trackers against a known f0, and the drone's vote for Sa."""

import numpy as np
import pytest

from ragalib import ragas
from ragalib.evaluation import tracking
from ragalib.melody import pitch_model, salience, tonic, trackers
from ragalib.synth import singer
from ragalib.synth.score import Note, Score
from ragalib.synth.tanpura import tanpura

SR = 22050


def glide(seconds=3.0, start_hz=180.0, end_hz=270.0):
    """A harmonic tone gliding from ``start_hz`` to ``end_hz``, and its true f0 every 64
    samples."""
    n = int(seconds * SR)
    hz = np.geomspace(start_hz, end_hz, n)
    phase = np.cumsum(hz / SR)
    y = sum(k ** -1.0 * np.sin(2 * np.pi * k * phase) for k in range(1, 8))
    return (0.5 * y / np.abs(y).max()).astype(np.float32), np.arange(0, n, 64) / SR, hz[::64]


@pytest.mark.parametrize("method", trackers.TRACKERS)
def test_every_tracker_follows_a_gliding_tone(method):
    y, times, truth = glide()
    found = tracking.scores(times, truth, *trackers.track(y, SR, method))
    assert found["raw pitch accuracy"] > 0.9
    assert found["voicing recall"] > 0.9


def test_scores_are_perfect_against_the_reference_and_octave_errors_count_only_as_chroma():
    times = np.arange(200) * 0.01
    truth = np.where(np.arange(200) < 150, 220.0, np.nan)
    assert tracking.scores(times, truth, times, truth)["raw pitch accuracy"] == 1.0
    octave = tracking.scores(times, truth, times, truth * 2)
    assert octave["raw pitch accuracy"] == 0.0 and octave["raw chroma accuracy"] == 1.0


def test_an_unknown_tracker_is_refused():
    with pytest.raises(ValueError, match="unknown tracker"):
        trackers.track(np.zeros(SR, np.float32), SR, "crepe")


def test_a_sung_melody_is_tracked_against_its_own_contour():
    score = Score("yaman", ragas.tonic_hz("C#3"), 3.2,
                  (Note(0.1, 1.0, 0, 0), Note(1.1, 1.0, 4, 0), Note(2.1, 1.0, 7, 0)))
    y, sung = singer.sing(score, singer="male", seed=1)
    found = tracking.scores(sung.times, sung.hz, *trackers.track(y.astype(np.float32), SR,
                                                             "contour"))
    assert found["raw pitch accuracy"] > 0.9


def test_the_drone_votes_for_its_sa_under_a_melody_on_another_note():
    sa = ragas.tonic_hz("D3")
    drone = tanpura(sa, 6.0, sr=SR, seed=1)
    t = np.arange(len(drone)) / SR
    steps = np.array([2, 4, 6, 4])[(t // 1.5).astype(int) % 4]   # Re, Ga, Ma, Ga: no Sa, no Pa
    f0 = sa * 2 * 2 ** (steps / 12)      # a voice an octave up, louder than the drone
    voice = sum(k ** -1.0 * np.sin(2 * np.pi * k * np.cumsum(f0 / SR)) for k in range(1, 6))
    y = (0.3 * drone + voice / np.abs(voice).max()).astype(np.float32)
    hist = tonic.drone_profile(salience.salience(y, sr=SR))
    silent = tonic.drone_profile(np.zeros((360, 50)))
    assert hist.shape == silent.shape == (60,) and not silent.any()
    candidates = tonic.sa_bin(sa) + salience.BINS_PER_SEMITONE * np.arange(12)
    vote = tonic.drone_evidence(hist, candidates % hist.size)
    assert int(np.argmax(vote)) == 0 and vote.max() == 0.0
    # the melody's own histogram has nothing on Sa
    melody_only = salience.pitch_class_histogram(y, sr=SR)
    assert melody_only[tonic.sa_bin(sa)] < 0.05


def test_the_drone_evidence_moves_the_joint_estimate_only_when_weighted():
    model = pitch_model.PitchModel(("a", "b"), np.full((2, pitch_model.BINS),
                                                       1 / pitch_model.BINS),
                                   np.log(np.full((2, 12, 12), 1 / 12)))
    bins = np.repeat(np.arange(0, 60, 5), 20)
    levels = np.ones(len(bins))
    drone = np.zeros(pitch_model.BINS)
    drone[15] = 1.0                      # a drone on D#
    flat, _ = model.scores(bins, levels)
    voted, sa_bins = model.scores(bins, levels, drone=drone, drone_weight=1.0)
    assert np.ptp(flat) == pytest.approx(0.0)
    assert sa_bins[int(np.argmax(voted[:, 0]))] % 60 == 15
    assert np.allclose(model.scores(bins, levels, drone=drone, drone_weight=0.0)[0], flat)

"""The new-environment detector: no false trigger on stationary noise, bounded delay on a drop."""

from __future__ import annotations

import math

import numpy as np
import pytest

from topspark_ros.messages import Classification
from topspark_ros.nodes.novelty import NoveltyDetector, evidence

REFERENCE, RECENT, THRESHOLD = 300, 100, 0.25


def result(confidence: float, scores: tuple[float, ...]) -> Classification:
    """A Classification with only the detector's inputs set."""
    return Classification(0, "", 0, confidence, scores, 100, 100, 0, 0, 0.0, 0.0, 0.0, 1)


def stream(rng: np.random.Generator, n: int, mean: float) -> np.ndarray:
    """Noisy evidence values: mean ``mean``, coefficient of variation 0.4 (as measured), >= 0."""
    return np.maximum(0.0, rng.normal(mean, 0.4 * mean, n))


def feed(detector: NoveltyDetector, values: np.ndarray) -> list[int]:
    """Indices of the values at which the detector fired."""
    return [i for i, v in enumerate(values) if detector.observe(float(v))]


def test_evidence_is_confidence_times_log_top_score() -> None:
    assert evidence(result(0.5, (1.0, 3.0, 0.0))) == pytest.approx(0.5 * math.log(4.0))
    assert evidence(result(1.0, ())) == 0.0  # no assigned neurons: no evidence
    # A lone spike gives confidence 1 but little evidence; a decisive loud answer gives more.
    assert evidence(result(1.0, (0.2,))) < evidence(result(0.8, (3.0,)))


@pytest.mark.parametrize("seed", range(5))
def test_no_false_trigger_on_a_stationary_noisy_stream(seed: int) -> None:
    detector = NoveltyDetector(REFERENCE, RECENT, THRESHOLD)
    rng = np.random.default_rng(seed)
    assert feed(detector, stream(rng, 20_000, 0.8)) == []
    assert detector.armed
    assert 0.0 <= detector.novelty < THRESHOLD


@pytest.mark.parametrize(("seed", "drop"), [(0, 0.4), (1, 0.4), (2, 0.6), (3, 0.9)])
def test_a_drop_triggers_within_one_detector_window(seed: int, drop: float) -> None:
    detector = NoveltyDetector(REFERENCE, RECENT, THRESHOLD)
    rng = np.random.default_rng(seed)
    before, after = stream(rng, 1000, 0.8), stream(rng, 500, 0.8 * (1 - drop))
    values = np.concatenate([before, after])
    fired = feed(detector, values[: len(before) + RECENT])
    assert len(fired) == 1
    assert detector.novelty >= THRESHOLD  # the drop that fired
    delay = fired[0] - len(before) + 1
    # A drop d crosses the threshold once a share THRESHOLD / d of the recent window is new.
    assert 0 < delay <= RECENT
    # One change, one trigger: the windows refill after it and see no further drop.
    assert feed(detector, values[len(before) + RECENT :]) == []


def test_not_armed_until_both_windows_fill() -> None:
    detector = NoveltyDetector(4, 2, 0.5)
    assert feed(detector, np.array([1.0] * 4 + [0.0])) == []  # 5 values: windows not full
    assert not detector.armed
    assert feed(NoveltyDetector(4, 2, 0.5), np.array([1.0] * 5 + [0.0])) == [5]


def test_a_regime_change_restarts_the_windows() -> None:
    detector = NoveltyDetector(4, 2, 0.5)
    for _ in range(6):
        detector.observe(1.0, regime=(100, 1))
    # At another T (or model version) the statistic's level differs: not a new environment.
    assert not any(detector.observe(0.1, regime=(50, 1)) for _ in range(5))
    assert not detector.armed
    assert detector.observe(0.1, regime=(50, 1)) is False


def test_non_finite_values_are_ignored_and_reset_forgets() -> None:
    detector = NoveltyDetector(2, 1, 0.5)
    for value in (1.0, math.nan, 1.0, math.inf, 1.0):
        assert detector.observe(value) is False
    armed_before = detector.armed
    detector.reset()
    assert (armed_before, detector.armed) == (True, False)
    assert detector.novelty == 0.0


def test_windows_must_hold_values() -> None:
    with pytest.raises(ValueError, match="at least one value"):
        NoveltyDetector(0, 1, 0.5)

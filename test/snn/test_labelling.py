"""Tests for label assignment and classification (snn/labelling.py) on hand-made counts."""

from __future__ import annotations

import numpy as np
import pytest

from topspark_ros.snn.labelling import (
    N_CLASSES,
    accuracy,
    assign_labels,
    class_rates,
    class_scores,
    predict,
)

# 6 labelled samples x 4 neurons, 3 classes. Neuron 0 prefers class 0, neuron 1 class 2,
# neuron 2 never fires, neuron 3 prefers class 0; no neuron prefers class 1.
LABELS = np.array([0, 0, 1, 1, 2, 2], np.uint8)
COUNTS = np.array(
    [
        [5, 0, 0, 2],
        [3, 0, 0, 2],
        [0, 1, 0, 1],
        [1, 0, 0, 0],
        [0, 4, 0, 0],
        [0, 6, 0, 1],
    ],
    np.int32,
)
RATES = np.array(
    [
        [4.0, 0.0, 0.0, 2.0],
        [0.5, 0.5, 0.0, 0.5],
        [0.0, 5.0, 0.0, 0.5],
    ]
)


def test_class_rates() -> None:
    np.testing.assert_allclose(class_rates(COUNTS, LABELS, 3), RATES)


def test_class_rates_unseen_class_is_zero() -> None:
    with np.errstate(all="raise"):
        rates = class_rates(COUNTS, LABELS, 5)
    assert rates.shape == (5, 4)
    np.testing.assert_allclose(rates[:3], RATES)
    np.testing.assert_array_equal(rates[3:], 0.0)


def test_assign_labels() -> None:
    assignments = assign_labels(COUNTS, LABELS, 3)
    assert assignments.dtype == np.int16
    np.testing.assert_array_equal(assignments, [0, 2, -1, 0])


def test_assign_labels_uses_mean_not_sum() -> None:
    # Class 0 has 3 samples of 2 spikes (sum 6, mean 2); class 1 one sample of 3 (mean 3).
    counts = np.array([[2], [2], [2], [3]], np.int32)
    labels = np.array([0, 0, 0, 1], np.uint8)
    np.testing.assert_array_equal(assign_labels(counts, labels, 2), [1])


def test_assign_labels_default_ten_classes() -> None:
    labels = np.arange(N_CLASSES, dtype=np.uint8)
    counts = np.zeros((N_CLASSES, N_CLASSES), np.int32)
    counts[labels, labels[::-1]] = 7  # neuron j fires only for class 9 - j
    np.testing.assert_array_equal(assign_labels(counts, labels), labels[::-1])


def test_class_scores_and_predict() -> None:
    assignments = np.array([0, 2, -1, 0], np.int16)
    counts = np.array(
        [
            [4, 0, 7, 2],  # class 0 neurons mean (4 + 2) / 2 = 3; silent-class 1 scores 0
            [0, 3, 0, 0],  # class 2 = 3
            [1, 1, 9, 0],  # class 0 = 0.5, class 2 = 1; the unassigned neuron is ignored
            [0, 0, 0, 0],  # nothing fires: all zero
        ],
        np.int32,
    )
    scores = class_scores(counts, assignments, 3)
    np.testing.assert_allclose(
        scores, [[3.0, 0.0, 0.0], [0.0, 0.0, 3.0], [0.5, 0.0, 1.0], [0.0, 0.0, 0.0]]
    )
    predictions = predict(counts, assignments, 3)
    np.testing.assert_array_equal(predictions[:3], [0, 2, 2])
    assert predictions.shape == (4,)
    assert scores.shape == (4, 3)


def test_class_scores_default_classes_and_all_unassigned() -> None:
    counts = np.array([[1, 2]], np.int32)
    scores = class_scores(counts, np.array([-1, -1], np.int16))
    assert scores.shape == (1, N_CLASSES)
    np.testing.assert_array_equal(scores, 0.0)


def test_assign_then_predict_recovers_training_labels() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 200).astype(np.uint8)
    preferred = np.repeat(np.arange(10), 3)  # 30 neurons, 3 per class
    counts = rng.poisson(0.5, (200, 30)) + 6 * (preferred[None, :] == labels[:, None])
    assignments = assign_labels(counts, labels)
    np.testing.assert_array_equal(assignments, preferred)
    assert accuracy(predict(counts, assignments), labels) == 1.0


@pytest.mark.parametrize(
    ("predictions", "labels", "expected"),
    [([1, 2, 3, 4], [1, 2, 0, 4], 0.75), ([0], [1], 0.0), ([5, 5], [5, 5], 1.0), ([], [], 0.0)],
)
def test_accuracy(predictions: list[int], labels: list[int], expected: float) -> None:
    value = accuracy(np.array(predictions, np.int64), np.array(labels, np.uint8))
    assert isinstance(value, float)
    assert value == pytest.approx(expected)

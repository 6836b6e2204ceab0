"""Neuron label assignment and classification by the mean spike count of each class's neurons."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

N_CLASSES = 10


def class_rates(
    counts: npt.NDArray[np.integer], labels: npt.NDArray[np.integer], n_classes: int = N_CLASSES
) -> npt.NDArray[np.float64]:
    """Mean spike count of each neuron for each class: float64 [n_classes, N] (0 where unseen)."""
    counts = np.asarray(counts, np.float64)
    labels = np.asarray(labels, np.int64)
    sums = np.zeros((n_classes, counts.shape[1]), np.float64)
    np.add.at(sums, labels, counts)
    seen = np.bincount(labels, minlength=n_classes)[:, None].astype(np.float64)
    return np.divide(sums, seen, out=np.zeros_like(sums), where=seen > 0)


def assign_labels(
    counts: npt.NDArray[np.integer], labels: npt.NDArray[np.integer], n_classes: int = N_CLASSES
) -> npt.NDArray[np.int16]:
    """Each neuron's class: the one it fires most for on labelled data; -1 if it never fired."""
    rates = class_rates(counts, labels, n_classes)
    assignments: npt.NDArray[np.int16] = rates.argmax(axis=0).astype(np.int16)
    assignments[rates.max(axis=0) <= 0] = -1
    return assignments


def class_scores(
    counts: npt.NDArray[np.integer],
    assignments: npt.NDArray[np.integer],
    n_classes: int = N_CLASSES,
) -> npt.NDArray[np.float64]:
    """Per-sample score of each class: mean spike count of its assigned neurons, [B, n_classes]."""
    counts = np.asarray(counts, np.float64)
    onehot = np.zeros((counts.shape[1], n_classes), np.float64)
    valid = np.asarray(assignments) >= 0
    onehot[np.nonzero(valid)[0], np.asarray(assignments)[valid]] = 1.0
    members = onehot.sum(axis=0)
    scores = counts @ onehot
    out: npt.NDArray[np.float64] = np.divide(
        scores, members, out=np.zeros_like(scores), where=members > 0
    )
    return out


def predict(
    counts: npt.NDArray[np.integer],
    assignments: npt.NDArray[np.integer],
    n_classes: int = N_CLASSES,
) -> npt.NDArray[np.int64]:
    """Predicted class per sample: the highest mean spike count over each class's neurons."""
    out: npt.NDArray[np.int64] = class_scores(counts, assignments, n_classes).argmax(axis=1)
    return out


def accuracy(predictions: npt.NDArray[np.integer], labels: npt.NDArray[np.integer]) -> float:
    """Fraction of predictions equal to labels (0.0 for no samples)."""
    labels = np.asarray(labels)
    return float(np.mean(np.asarray(predictions) == labels)) if labels.size else 0.0


__all__ = ["N_CLASSES", "accuracy", "assign_labels", "class_rates", "class_scores", "predict"]

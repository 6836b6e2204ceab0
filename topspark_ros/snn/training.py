"""Training, label assignment and evaluation loops over labelled image arrays.

These are the core's only loops over datasets; the CLI and the TopSpark tools call them with a
progress callback and get plain results back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from topspark_ros.snn.labelling import accuracy, assign_labels, predict
from topspark_ros.snn.network import Network, Progress
from topspark_ros.snn.run_stats import RunStats, SampleStats


@dataclass(frozen=True)
class EvalResult:
    """Accuracy of a network on labelled samples, with its predictions and run statistics."""

    accuracy: float
    predictions: npt.NDArray[np.int64]
    counts: npt.NDArray[np.int32]
    stats: RunStats


def train_epochs(
    net: Network, images: npt.NDArray[np.uint8], epochs: int = 1, progress: Progress | None = None
) -> RunStats:
    """Unsupervised STDP over ``images`` for ``epochs`` passes, in order."""
    start = time.perf_counter()
    all_stats = []
    for _ in range(epochs):
        _, stats = net.train(images, progress=progress)
        all_stats.append(stats)
    merged = SampleStats.concatenate(all_stats)
    return RunStats.from_kernel(merged, time.perf_counter() - start)


def assign(
    net: Network,
    images: npt.NDArray[np.uint8],
    labels: npt.NDArray[np.uint8],
    progress: Progress | None = None,
) -> RunStats:
    """Assign each neuron a class from its responses (learning off) to labelled training data."""
    start = time.perf_counter()
    counts, stats = net.respond(images, progress=progress)
    net.state.assignments = assign_labels(counts, labels)
    return RunStats.from_kernel(stats, time.perf_counter() - start)


def evaluate(
    net: Network,
    images: npt.NDArray[np.uint8],
    labels: npt.NDArray[np.uint8],
    progress: Progress | None = None,
) -> EvalResult:
    """Classify ``images`` with learning off and compare with ``labels``."""
    start = time.perf_counter()
    counts, stats = net.respond(images, progress=progress)
    predictions = predict(counts, net.state.assignments)
    return EvalResult(
        accuracy=accuracy(predictions, labels),
        predictions=predictions,
        counts=counts,
        stats=RunStats.from_kernel(stats, time.perf_counter() - start),
    )


__all__ = ["EvalResult", "assign", "evaluate", "train_epochs"]

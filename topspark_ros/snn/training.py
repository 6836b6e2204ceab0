"""Training, label assignment and evaluation loops over labelled image arrays.

These are the core's only loops over datasets; the CLI and the TopSpark tools call them with a
progress callback and get plain results back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from topspark_ros.snn import kernels as kn
from topspark_ros.snn.labelling import accuracy, assign_labels, predict
from topspark_ros.snn.network import Network, Progress


@dataclass(frozen=True)
class RunStats:
    """What a pass over samples did: size, wall time and mean per-sample kernel counts."""

    samples: int
    seconds: float
    input_spikes: float
    exc_spikes: float
    inh_spikes: float
    steps: float
    presentations: float
    depressions: float = 0.0
    potentiations: float = 0.0
    normalised: float = 0.0
    folded: float = 0.0
    summed: float = 0.0
    deadline: float = 0.0

    @property
    def samples_per_s(self) -> float:
        """Throughput of the pass."""
        return self.samples / self.seconds if self.seconds > 0 else float("inf")

    @classmethod
    def from_kernel(cls, stats: npt.NDArray[np.int64], seconds: float) -> RunStats:
        """Summarise the kernel's per-sample stats array [B, STAT_SIZE]."""
        mean = stats.mean(axis=0) if stats.shape[0] else np.zeros(kn.STAT_SIZE)
        return cls(
            samples=int(stats.shape[0]),
            seconds=seconds,
            input_spikes=float(mean[kn.STAT_INPUT_SPIKES]),
            exc_spikes=float(mean[kn.STAT_EXC_SPIKES]),
            inh_spikes=float(mean[kn.STAT_INH_SPIKES]),
            steps=float(mean[kn.STAT_STEPS]),
            presentations=float(mean[kn.STAT_PRESENTATIONS]),
            depressions=float(mean[kn.STAT_DEPRESSIONS]),
            potentiations=float(mean[kn.STAT_POTENTIATIONS]),
            normalised=float(mean[kn.STAT_NORMALISED]),
            folded=float(mean[kn.STAT_FOLDED]),
            summed=float(mean[kn.STAT_SUMMED]),
            deadline=float(mean[kn.STAT_DEADLINE]),
        )


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
    merged = np.concatenate(all_stats) if all_stats else np.zeros((0, kn.STAT_SIZE), np.int64)
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


__all__ = ["EvalResult", "RunStats", "assign", "evaluate", "train_epochs"]

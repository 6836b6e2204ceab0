"""Typed run statistics: the kernels' per-sample work counts by name, and their mean per pass.

The kernels count what each sample did into an int64 array [B, STAT_SIZE] indexed by
``layout.STAT_*``; ``SampleStats`` names its columns so that no caller indexes it, and
``RunStats`` summarises a pass (training, label assignment, evaluation) as means per sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from topspark_ros.snn import layout
from topspark_ros.snn.layout import I64

# SampleStats and RunStats field -> column of the kernels' stats array.
COLUMNS = {
    "input_spikes": layout.STAT_INPUT_SPIKES,
    "exc_spikes": layout.STAT_EXC_SPIKES,
    "inh_spikes": layout.STAT_INH_SPIKES,
    "steps": layout.STAT_STEPS,
    "presentations": layout.STAT_PRESENTATIONS,
    "depressions": layout.STAT_DEPRESSIONS,
    "potentiations": layout.STAT_POTENTIATIONS,
    "normalised": layout.STAT_NORMALISED,
    "folded": layout.STAT_FOLDED,
    "summed": layout.STAT_SUMMED,
    "deadline": layout.STAT_DEADLINE,
}


@dataclass(frozen=True, eq=False)
class SampleStats:
    """What each sample of a run did (int64 [B] each), summed over its presentations."""

    input_spikes: I64  # input spikes presented (only up to an early exit)
    exc_spikes: I64  # excitatory spikes
    inh_spikes: I64  # inhibitory spikes
    steps: I64  # timesteps simulated: T x presentations unless inference exited early
    presentations: I64  # 1 + the re-presentations of a sample that fired too little
    depressions: I64  # synapse updates by presynaptic (depression) STDP
    potentiations: I64  # synapse updates by postsynaptic (potentiation) STDP
    normalised: I64  # column rescales of the lazy weight normalisation
    folded: I64  # weights rescaled in place when the scales are folded into them
    summed: I64  # weights read into the column sums at the start of a learning batch
    deadline: I64  # presentations that reached their last step silent (deadline spike)

    def __len__(self) -> int:
        """The number of samples."""
        return len(self.steps)

    @classmethod
    def from_array(cls, stats: I64) -> SampleStats:
        """Name the columns of the kernels' stats array [B, STAT_SIZE] (views, not copies)."""
        return cls(**{name: stats[:, column] for name, column in COLUMNS.items()})

    @classmethod
    def concatenate(cls, parts: Sequence[SampleStats]) -> SampleStats:
        """The samples of ``parts`` one after the other (e.g. the epochs of a training run)."""
        return cls(
            **{
                name: np.concatenate([getattr(part, name) for part in parts], dtype=np.int64)
                if parts
                else np.zeros(0, np.int64)
                for name in COLUMNS
            }
        )


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
    def from_kernel(cls, stats: SampleStats, seconds: float) -> RunStats:
        """Summarise a pass from the per-sample counts the kernels made of it."""
        n = len(stats)
        return cls(
            samples=n,
            seconds=seconds,
            **{name: float(getattr(stats, name).mean()) if n else 0.0 for name in COLUMNS},
        )


__all__ = ["COLUMNS", "RunStats", "SampleStats"]

"""Summary statistics of measured times shared by the benchmarks and the replay report."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Spread:
    """Summary of a sample of times (ms): count, median, p90, p99, max, mean (NaN if empty)."""

    count: int
    median: float
    p90: float
    p99: float
    max: float
    mean: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        """Percentiles by linear interpolation between order statistics (numpy's default)."""
        if not values:
            nan = float("nan")
            return cls(0, nan, nan, nan, nan, nan)
        arr = np.asarray(values, np.float64)
        median, p90, p99 = (float(v) for v in np.percentile(arr, [50.0, 90.0, 99.0]))
        return cls(len(arr), median, p90, p99, float(arr.max()), float(arr.mean()))

    def to_mapping(self) -> dict[str, float | int | None]:
        """JSON-ready: NaN becomes None."""
        return {k: None if v != v else v for k, v in dataclasses.asdict(self).items()}


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float] | None:
    """The Wilson score interval (95% for z=1.96) of a proportion, as fractions; None without
    trials. It stays inside 0..1 and is honest for few trials, where the normal one is not."""
    if trials <= 0:
        return None
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1.0 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


__all__ = ["Spread", "wilson_interval"]

"""Hand-made operating points and profiles shared by the profile and trade-off tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from topspark_ros.topspark.profile import OperatingPoint, Profile

Row = tuple[int, float, float]

# T, accuracy, inference latency (ms); energies follow latency.
TABLE: list[Row] = [
    (350, 0.91, 3.5),
    (250, 0.91, 2.5),
    (200, 0.905, 2.0),
    (150, 0.90, 1.5),
    (100, 0.895, 1.0),
    (80, 0.89, 0.8),
    (60, 0.87, 0.6),
    (40, 0.80, 0.4),
    (20, 0.60, 0.2),
]


def _point(t: int, acc: float, lat: float, **kw: Any) -> OperatingPoint:
    """A point whose energies are proportional to its latency (1 uJ/ms inference, 2 training)."""
    values: dict[str, Any] = {
        "train_energy_j": lat * 2 * 1e-6,
        "infer_energy_j": lat * 1e-6,
        "memory_bytes": 800_000 if t == 80 else 400_000,
    }
    values.update(kw)
    return OperatingPoint(timesteps=t, accuracy=acc, latency_ms=lat, **values)


def _make_profile(rows: list[Row] | None = None) -> Profile:
    """The hand-made profile of TABLE (or ``rows``), deliberately given in shuffled order."""
    points = [_point(*row) for row in (rows or TABLE)]
    return Profile("mnist", 100, "pair", tuple(reversed(points)))


@pytest.fixture
def table() -> list[Row]:
    """The hand-made (T, accuracy, latency ms) rows."""
    return list(TABLE)


@pytest.fixture
def point() -> Callable[..., OperatingPoint]:
    """Builder of one hand-made operating point."""
    return _point


@pytest.fixture
def make_profile() -> Callable[..., Profile]:
    """Builder of the hand-made profile (or one of given rows)."""
    return _make_profile

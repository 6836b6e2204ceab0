"""Tests for the smallest-cost timestep selection rule (topspark/tradeoff.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from topspark_ros.errors import ConfigError
from topspark_ros.topspark.profile import OperatingPoint, Profile, ProfileError
from topspark_ros.topspark.tradeoff import (
    Constraints,
    InfeasibleError,
    Weights,
    cost,
    feasible,
    select,
)

# --- constraints and weights ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_accuracy_drop": -0.1}, r"max_accuracy_drop must be in \[0, 1\], got -0.1"),
        ({"min_accuracy": 1.1}, r"min_accuracy must be in \[0, 1\]"),
        ({"latency_deadline_ms": 0.0}, "latency_deadline_ms must be finite and > 0, got 0.0"),
        ({"energy_budget_j": float("inf")}, "energy_budget_j must be finite and > 0"),
    ],
)
def test_constraint_ranges(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Constraints(**kwargs)


def test_weight_ranges() -> None:
    with pytest.raises(ConfigError, match=r"weights: memory must be finite and >= 0, got -1"):
        Weights(memory=-1)


# --- selection --------------------------------------------------------------------------------


def test_accuracy_drop_only_picks_cheapest_within_two_points(
    point: Callable[..., OperatingPoint], make_profile: Callable[..., Profile]
) -> None:
    prof = make_profile()
    # 0.91 - 0.02 is 0.8900000000000001 in floats: T=80 (0.89) must still count as within 2 points.
    assert [p.timesteps for p in feasible(prof)] == [350, 250, 200, 150, 100, 80]
    chosen = select(prof)
    assert chosen.point.timesteps == 80
    assert chosen.cost == pytest.approx(2 * 0.8 / 3.5)
    assert chosen.reason.startswith("T=80: lowest cost 0.457 of 6 feasible point(s)")
    assert "accuracy >= 0.8900" in chosen.reason
    assert "latency 4.4x lower" in chosen.reason
    assert "\n" not in chosen.reason


def test_min_accuracy_and_drop_combine_to_the_higher_floor(
    make_profile: Callable[..., Profile], table: list[tuple[int, float, float]]
) -> None:
    prof = make_profile()
    assert select(prof, Constraints(min_accuracy=0.9)).point.timesteps == 150
    assert select(prof, Constraints(min_accuracy=0.5)).point.timesteps == 80
    unconstrained = Constraints(max_accuracy_drop=None)
    assert select(prof, unconstrained).point.timesteps == 20
    assert len(feasible(prof, unconstrained)) == len(table)


def test_accuracy_weight_trades_latency_for_accuracy(make_profile: Callable[..., Profile]) -> None:
    prof = make_profile()
    # cost(T) = 2 * lat / 3.5 + 100 * (0.91 - acc): 350 -> 2.0, 250 -> 1.43, 200 -> 1.64, ...
    chosen = select(prof, weights=Weights(accuracy=1.0))
    assert chosen.point.timesteps == 250
    assert chosen.cost == pytest.approx(2 * 2.5 / 3.5)


def test_latency_deadline(make_profile: Callable[..., Profile]) -> None:
    prof = make_profile()
    weights = Weights(accuracy=1.0)
    assert select(prof, Constraints(latency_deadline_ms=2.2), weights).point.timesteps == 200
    # A deadline equal to a point's latency admits it.
    assert select(prof, Constraints(latency_deadline_ms=2.5), weights).point.timesteps == 250
    # Not binding with the default weights.
    assert select(prof, Constraints(latency_deadline_ms=1.2)).point.timesteps == 80


def test_energy_budget(make_profile: Callable[..., Profile]) -> None:
    prof = make_profile()
    chosen = select(prof, Constraints(energy_budget_j=1.6e-6), Weights(accuracy=1.0))
    assert chosen.point.timesteps == 150
    assert "energy <= 1.6e-06 J" in chosen.reason


def test_memory_weight(make_profile: Callable[..., Profile]) -> None:
    prof = make_profile()
    assert select(prof).point.timesteps == 80
    # T=80 needs twice the baseline's memory: 0.46 + 2.0 against T=100's 0.57 + 1.0.
    chosen = select(prof, weights=Weights(memory=1.0))
    assert chosen.point.timesteps == 100
    assert chosen.cost == pytest.approx(2 * 1.0 / 3.5 + 1.0)


def test_ties_go_to_the_larger_timestep(
    point: Callable[..., OperatingPoint], make_profile: Callable[..., Profile]
) -> None:
    prof = make_profile([(350, 0.91, 3.5), (100, 0.90, 1.0), (80, 0.90, 1.0)])
    assert prof.point(80).memory_bytes != prof.point(100).memory_bytes
    chosen = select(prof)  # memory weight 0: T=100 and T=80 cost the same
    assert chosen.point.timesteps == 100
    everything_free = Weights(latency=0, energy=0)
    assert select(make_profile(), weights=everything_free).point.timesteps == 350
    assert select(make_profile(), weights=everything_free).reason.endswith("the baseline itself")


def test_cost_is_relative_to_the_baseline(
    point: Callable[..., OperatingPoint], make_profile: Callable[..., Profile]
) -> None:
    prof = make_profile()
    assert cost(prof, prof.baseline) == pytest.approx(2.0)
    assert cost(prof, prof.point(100), Weights(0, 0, 0, 1)) == pytest.approx(1.5)
    # More accurate than the baseline: a negative accuracy term.
    better = Profile("mnist", 100, "pair", (point(350, 0.9, 3.5), point(200, 0.92, 2.0)))
    assert cost(better, better.point(200), Weights(0, 0, 0, 1)) == pytest.approx(-2.0)


def test_zero_baseline_value_falls_back_to_the_largest(
    point: Callable[..., OperatingPoint],
) -> None:
    points = (point(350, 0.9, 3.5, memory_bytes=0), point(100, 0.9, 1.0, memory_bytes=500))
    prof = Profile("mnist", 100, "pair", points)
    assert cost(prof, prof.point(100), Weights(0, 0, 1, 0)) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("constraints", "match"),
    [
        (
            Constraints(latency_deadline_ms=0.5),
            (
                r"^mnist N100 pair: no operating point meets accuracy >= 0\.8900 and latency "
                r"<= 0\.5 ms \(the closest, T=80 with accuracy 0\.8900, has latency 0\.8 ms\)$"
            ),
        ),
        (
            Constraints(min_accuracy=0.95),
            r"meets accuracy >= 0\.9500 \(the closest, T=350, has accuracy 0\.9100\)$",
        ),
        (
            Constraints(latency_deadline_ms=0.1),
            r"meets latency <= 0\.1 ms \(the closest, T=20, has latency 0\.2 ms\)$",
        ),
        (
            Constraints(max_accuracy_drop=None, energy_budget_j=1e-8),
            r"meets energy <= 1e-08 J \(the closest, T=20, has energy 2e-07 J\)$",
        ),
        (
            # Energy alone is feasible; with the accuracy floor it is not.
            Constraints(energy_budget_j=0.5e-6, latency_deadline_ms=10.0),
            (
                r"meets accuracy >= 0\.8900 and energy <= 5e-07 J \(the closest, T=80 with "
                r"accuracy 0\.8900, has energy 8e-07 J\)$"
            ),
        ),
    ],
)
def test_infeasible_names_binding_constraints(
    make_profile: Callable[..., Profile], constraints: Constraints, match: str
) -> None:
    prof = make_profile()
    assert feasible(prof, constraints) == []
    with pytest.raises(InfeasibleError, match=match):
        select(prof, constraints)


def test_infeasible_is_a_config_error() -> None:
    assert issubclass(InfeasibleError, ProfileError)
    assert issubclass(ProfileError, ConfigError)


def test_select_needs_the_baseline(point: Callable[..., OperatingPoint]) -> None:
    prof = Profile("mnist", 100, "pair", (point(100, 0.9, 1.0),))
    with pytest.raises(ProfileError, match="no operating point at T=350"):
        select(prof)


def test_select_with_a_custom_baseline(point: Callable[..., OperatingPoint]) -> None:
    prof = Profile("mnist", 100, "pair", (point(250, 0.9, 2.5), point(100, 0.88, 1.0)), 250)
    assert select(prof).point.timesteps == 100

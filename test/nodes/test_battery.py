"""Battery normalisation: 0..1 and 0..100 percentages, NaN, invalid values, current sign."""

from __future__ import annotations

import math
from typing import Any

import pytest

from topspark_ros.messages import STATUS_CHARGING, STATUS_DISCHARGING, BatteryReading
from topspark_ros.nodes.battery import (
    DISCHARGE_NEGATIVE,
    DISCHARGE_POSITIVE,
    battery_fraction,
    discharge_sign,
    normalise,
    remaining_energy_j,
)

NAN = math.nan


def reading(percentage: float, **kwargs: Any) -> BatteryReading:
    """A BatteryReading stamped 0 with the given fields."""
    return BatteryReading(0, percentage, **kwargs)


@pytest.mark.parametrize(
    ("percentage", "scale", "fraction", "scale_after"),
    [
        (0.8, False, 0.8, False),
        (0.0, False, 0.0, False),
        (1.0, False, 1.0, False),
        (1.005, False, 1.0, False),  # rounding noise of a full battery on the 0..1 scale
        (80.0, False, 0.8, True),  # Gazebo's 0..100
        (100.0, False, 1.0, True),
        (0.5, True, 0.005, True),  # once 0..100 is known, 0.5 means 0.5 %
    ],
)
def test_percentage_scales(
    percentage: float, scale: bool, fraction: float, scale_after: bool
) -> None:
    value, detected, problem = battery_fraction(reading(percentage), scale)
    assert problem == ""
    assert value == pytest.approx(fraction)
    assert detected is scale_after


def test_charge_ratio_decides_the_scale_of_a_small_percentage() -> None:
    low = reading(0.5, charge=0.01, capacity=2.0)  # 0.5 % by charge/capacity = 0.005
    assert battery_fraction(low, False)[:2] == (pytest.approx(0.005), True)
    half = reading(0.5, charge=1.0, capacity=2.0)
    assert battery_fraction(half, False)[:2] == (pytest.approx(0.5), False)


@pytest.mark.parametrize("percentage", [NAN, math.inf, -math.inf])
def test_unknown_percentage_falls_back_to_charge_over_capacity(percentage: float) -> None:
    fraction, _, problem = battery_fraction(reading(percentage, charge=1.5, capacity=2.0), False)
    assert problem == ""
    assert fraction == pytest.approx(0.75)
    design = reading(percentage, charge=1.0, design_capacity=4.0)
    assert battery_fraction(design, False)[0] == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (reading(NAN), "percentage nan and no usable charge/capacity"),
        (reading(NAN, charge=1.0, capacity=0.0), "no usable charge/capacity"),
        (reading(NAN, charge=5.0, capacity=2.0), "no usable charge/capacity"),
        (reading(-0.1), "percentage -0.1 outside 0..1 and 0..100"),
        (reading(150.0), "percentage 150 outside 0..1 and 0..100"),
        (reading(0.5, present=False), "battery not present"),
    ],
)
def test_unusable_readings_name_the_problem(bad: BatteryReading, match: str) -> None:
    level = normalise(bad, 50.0)
    assert not level.usable
    assert match in level.problem
    assert math.isnan(level.fraction)


def test_remaining_energy_from_capacity_and_voltage_else_the_configured_capacity() -> None:
    full = reading(0.5, capacity=2.0, voltage=12.0)
    assert remaining_energy_j(full, 0.5, 50.0) == pytest.approx(0.5 * 2.0 * 12.0 * 3600.0)
    no_voltage = reading(0.5, capacity=2.0)
    assert remaining_energy_j(no_voltage, 0.5, 50.0) == pytest.approx(0.5 * 50.0 * 3600.0)
    assert normalise(full, 50.0).energy_j == pytest.approx(43_200.0)


def test_positive_current_while_the_fraction_falls_is_a_discharge() -> None:
    gazebo = reading(79.0, current=2.0, voltage=12.0)
    level = normalise(gazebo, 50.0, percent_scale=True, previous_fraction=0.8)
    assert level.sign == DISCHARGE_POSITIVE
    assert level.discharge_w == pytest.approx(24.0)
    standard = reading(0.79, current=-2.0, voltage=12.0)
    level = normalise(standard, 50.0, previous_fraction=0.8)
    assert level.sign == DISCHARGE_NEGATIVE
    assert level.discharge_w == pytest.approx(24.0)


def test_current_sign_from_status_or_kept_without_evidence() -> None:
    charging = reading(0.5, current=3.0, power_supply_status=STATUS_CHARGING)
    assert discharge_sign(charging, NAN, 0.5, DISCHARGE_POSITIVE) == DISCHARGE_NEGATIVE
    discharging = reading(0.5, current=3.0, power_supply_status=STATUS_DISCHARGING)
    assert discharge_sign(discharging, NAN, 0.5, DISCHARGE_NEGATIVE) == DISCHARGE_POSITIVE
    steady = reading(0.5, current=3.0)
    assert discharge_sign(steady, 0.5, 0.5, DISCHARGE_NEGATIVE) == DISCHARGE_NEGATIVE
    assert discharge_sign(reading(0.4), 0.5, 0.4, DISCHARGE_POSITIVE) == DISCHARGE_POSITIVE
    assert math.isnan(normalise(reading(0.5, current=1.0), 50.0).discharge_w)  # no voltage

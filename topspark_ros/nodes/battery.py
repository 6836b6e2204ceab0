"""Battery readings made comparable: charge fraction 0..1, remaining energy and discharge power.

``sensor_msgs/BatteryState`` gives ``percentage`` in 0..1 (NaN: unknown) and a current that is
negative while discharging. Gazebo's linear battery plugin sends 0..100 and a positive current
while discharging (gz-sim#2685). The functions here are pure: the caller keeps the two
conventions it has detected (percent scale, current sign) and passes them back in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from topspark_ros.messages import STATUS_CHARGING, STATUS_DISCHARGING, BatteryReading

# Current sign conventions: the sign of ``current`` while the battery discharges.
DISCHARGE_NEGATIVE = -1  # sensor_msgs/BatteryState standard
DISCHARGE_POSITIVE = 1  # Gazebo's linear battery plugin

_FULL_TOLERANCE = 0.01  # a 0..1 percentage up to 1.01 is a full battery with rounding noise
_FALL_MIN = 1e-4  # a fraction change smaller than this says nothing about the current sign


@dataclass(frozen=True)
class BatteryLevel:
    """One normalised reading: ``fraction`` 0..1, remaining ``energy_j`` (J), ``discharge_w``
    (W, > 0 discharging, NaN unknown), the conventions detected so far (``percent_scale``,
    current ``sign``) and ``problem``, empty when the fraction is usable."""

    fraction: float
    energy_j: float
    discharge_w: float
    percent_scale: bool
    sign: int
    source: str
    problem: str = ""

    @property
    def usable(self) -> bool:
        """Whether the fraction may drive decisions."""
        return not self.problem


def _positive(value: float) -> bool:
    """Whether ``value`` is finite and > 0."""
    return math.isfinite(value) and value > 0


def capacity_ah(reading: BatteryReading) -> float:
    """The last full capacity (Ah), else the design capacity; NaN or <= 0 when neither is known."""
    return reading.capacity if _positive(reading.capacity) else reading.design_capacity


def charge_ratio(reading: BatteryReading) -> float:
    """charge / capacity (Ah / Ah) when both are known and capacity > 0, else NaN."""
    capacity = capacity_ah(reading)
    if math.isfinite(reading.charge) and _positive(capacity):
        return reading.charge / capacity
    return math.nan


def battery_fraction(reading: BatteryReading, percent_scale: bool) -> tuple[float, bool, str]:
    """(fraction 0..1 or NaN, percent scale, problem) of a reading.

    A percentage above 1.01 (and up to 100) means the 0..100 scale, which then sticks: the caller
    passes it back so that a later 0.5 reads as 0.5 %. When charge and capacity are known their
    ratio also decides the scale of a small percentage. NaN/inf falls back to charge/capacity.
    Below 0 or above 100 is invalid; ``present == False`` is unknown.
    """
    if not reading.present:
        return math.nan, percent_scale, "battery not present"
    ratio = charge_ratio(reading)
    value = reading.percentage
    if not math.isfinite(value):
        if math.isfinite(ratio) and -_FULL_TOLERANCE <= ratio <= 1.0 + _FULL_TOLERANCE:
            return min(max(ratio, 0.0), 1.0), percent_scale, ""
        return math.nan, percent_scale, f"percentage {value} and no usable charge/capacity"
    if value < 0.0 or value > 100.0:
        return math.nan, percent_scale, f"percentage {value:g} outside 0..1 and 0..100"
    if value > 1.0 + _FULL_TOLERANCE:
        percent_scale = True
    elif not percent_scale and math.isfinite(ratio):
        percent_scale = abs(value / 100.0 - ratio) < abs(value - ratio)
    fraction = value / 100.0 if percent_scale else min(value, 1.0)
    return fraction, percent_scale, ""


def discharge_sign(
    reading: BatteryReading, previous_fraction: float, fraction: float, sign: int
) -> int:
    """The current sign convention (DISCHARGE_NEGATIVE or DISCHARGE_POSITIVE) after ``reading``.

    A reported charging/discharging status decides it; otherwise a current seen while the charge
    fraction falls is a discharge current. With no evidence ``sign`` is kept.
    """
    current = reading.current
    if not math.isfinite(current) or current == 0.0:
        return sign
    direction = 1 if current > 0 else -1
    if reading.power_supply_status == STATUS_DISCHARGING:
        return direction
    if reading.power_supply_status == STATUS_CHARGING:
        return -direction
    if math.isfinite(previous_fraction) and previous_fraction - fraction > _FALL_MIN:
        return direction
    return sign


def discharge_power_w(reading: BatteryReading, sign: int) -> float:
    """Power drawn from the battery (W, > 0 discharging) under the sign convention ``sign``."""
    if math.isfinite(reading.current) and _positive(reading.voltage):
        return sign * reading.current * reading.voltage
    return math.nan


def remaining_energy_j(reading: BatteryReading, fraction: float, capacity_wh: float) -> float:
    """Energy left (J): fraction x capacity (Ah) x voltage (V) x 3600 when the reading has both,
    else fraction x ``capacity_wh`` x 3600."""
    capacity = capacity_ah(reading)
    if _positive(capacity) and _positive(reading.voltage):
        return fraction * capacity * reading.voltage * 3600.0
    return fraction * capacity_wh * 3600.0


def normalise(
    reading: BatteryReading,
    capacity_wh: float,
    percent_scale: bool = False,
    sign: int = DISCHARGE_NEGATIVE,
    previous_fraction: float = math.nan,
) -> BatteryLevel:
    """A BatteryLevel from ``reading`` under the conventions detected so far.

    ``capacity_wh`` stands in when the reading carries no capacity or voltage;
    ``previous_fraction`` is the last usable fraction (for the current sign). The returned
    ``percent_scale`` and ``sign`` are the conventions to pass with the next reading.
    """
    fraction, percent_scale, problem = battery_fraction(reading, percent_scale)
    source = "percentage" if math.isfinite(reading.percentage) else "charge/capacity"
    if problem:
        return BatteryLevel(math.nan, math.nan, math.nan, percent_scale, sign, source, problem)
    sign = discharge_sign(reading, previous_fraction, fraction, sign)
    energy = remaining_energy_j(reading, fraction, capacity_wh)
    power = discharge_power_w(reading, sign)
    return BatteryLevel(fraction, energy, power, percent_scale, sign, source)


__all__ = [
    "DISCHARGE_NEGATIVE",
    "DISCHARGE_POSITIVE",
    "BatteryLevel",
    "battery_fraction",
    "capacity_ah",
    "charge_ratio",
    "discharge_power_w",
    "discharge_sign",
    "normalise",
    "remaining_energy_j",
]

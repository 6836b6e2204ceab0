"""The timestep manager: modes, hysteresis, stale and invalid battery data, budget and deadline."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from recording_logger import RecordingLogger

from topspark_ros.config import from_mapping
from topspark_ros.errors import ConfigError
from topspark_ros.messages import (
    OK,
    WARN,
    BatteryReading,
    Classification,
    TimestepCommand,
    TimestepMode,
)
from topspark_ros.nodes.config import TimestepManagerConfig
from topspark_ros.nodes.timestep_manager import TimestepManager
from topspark_ros.packaged import default_profile_path
from topspark_ros.topspark.profile import OperatingPoint, Profile, load_profile
from topspark_ros.topspark.tradeoff import select

S = 1_000_000_000  # ns per second
# T -> accuracy; latency 0.01 ms and energy 1 uJ per timestep. With the default drops the
# nominal mode (2 pts) picks T=100, saving (5 pts) T=40, critical (15 pts) T=30; T=20 is cheapest.
ACCURACY = {350: 0.90, 250: 0.895, 200: 0.89, 150: 0.885, 100: 0.88, 80: 0.87, 60: 0.86}
ACCURACY |= {40: 0.85, 30: 0.80, 20: 0.70}


def make_profile() -> Profile:
    points = tuple(
        OperatingPoint(t, acc, 0.01 * t, 2e-6 * t, 1e-6 * t, 1000) for t, acc in ACCURACY.items()
    )
    return Profile("mnist", 100, "pair", points)


def make_manager(**overrides: Any) -> tuple[TimestepManager, RecordingLogger]:
    log = RecordingLogger()
    config = from_mapping(TimestepManagerConfig, overrides, "test")
    return TimestepManager(config, make_profile(), log), log


def battery(manager: TimestepManager, t_s: float, percentage: float, **fields: Any) -> None:
    manager.on_battery(BatteryReading(int(t_s * S), percentage, **fields), int(t_s * S))


def result(timesteps: int, latency_ms: float) -> Classification:
    return Classification(0, "", 1, 0.9, (), timesteps, timesteps, 10, 100, latency_ms, 0.0, 0, 1)


def step(manager: TimestepManager, t_s: float, percentage: float) -> TimestepCommand:
    """Feed one reading at ``t_s`` and decide; the current command."""
    battery(manager, t_s, percentage)
    manager.update(int(t_s * S))
    return manager.current


def test_modes_and_timesteps_along_a_falling_battery() -> None:
    manager, _ = make_manager(min_dwell_s=0.0)
    seen = {}
    for t_s, fraction in enumerate([1.0, 0.8, 0.55, 0.45, 0.3, 0.19, 0.05]):
        cmd = step(manager, t_s, fraction)
        seen[fraction] = (cmd.mode, cmd.timesteps)
        assert cmd.train_timesteps == cmd.timesteps
        assert cmd.battery_fraction == pytest.approx(fraction)
    assert seen[0.8] == (TimestepMode.NOMINAL, 100)
    assert seen[0.45] == (TimestepMode.SAVING, 40)
    assert seen[0.19] == (TimestepMode.CRITICAL, 30)
    assert seen[0.05] == (TimestepMode.CRITICAL, 30)
    assert step(manager, 9, 0.24).mode == TimestepMode.CRITICAL  # not above 20% + 5% hysteresis
    cmd = step(manager, 10, 0.43)
    assert cmd.mode == TimestepMode.SAVING
    assert cmd.reason == (
        "battery 43% < 50%: saving mode, accuracy drop <= 5 pts; T=40: the cheapest point "
        "within that drop, energy 4e-05 J <= budget 0.719 J"
    )
    assert cmd.expected_accuracy == pytest.approx(0.85)
    assert cmd.expected_energy_j == pytest.approx(40e-6)
    assert math.isnan(cmd.latency_deadline_ms)


def test_noisy_falling_battery_never_raises_t_nor_oscillates() -> None:
    rng = np.random.default_rng(0)
    manager, _ = make_manager()
    times = np.arange(0.0, 300.0, 0.5)
    fractions = np.clip(1.0 - times / 300.0 + rng.uniform(-0.01, 0.01, times.size), 0.05, 1.0)
    timesteps, modes = [], []
    for t_s, fraction in zip(times, fractions, strict=True):
        cmd = step(manager, float(t_s), float(fraction))
        timesteps.append(cmd.timesteps)
        modes.append(cmd.mode)
    assert all(b <= a for a, b in itertools.pairwise(timesteps))
    changes = [m for i, m in enumerate(modes) if i == 0 or m != modes[i - 1]]
    assert changes == [TimestepMode.NOMINAL, TimestepMode.SAVING, TimestepMode.CRITICAL]
    assert sorted(set(timesteps), reverse=True) == [100, 40, 30]


@pytest.mark.parametrize("threshold", [0.5, 0.2])
def test_battery_held_at_a_threshold_changes_at_most_once(threshold: float) -> None:
    rng = np.random.default_rng(1)
    manager, _ = make_manager(min_dwell_s=0.0)
    published = []
    for i, noise in enumerate(rng.uniform(-0.01, 0.01, 400)):
        battery(manager, i * 0.1, threshold + float(noise))
        cmd = manager.update(int(i * 0.1 * S))
        if cmd is not None:
            published.append((cmd.mode, cmd.timesteps))
    distinct = [p for i, p in enumerate(published) if i == 0 or p != published[i - 1]]
    assert len(distinct) <= 2


def test_hysteresis_on_the_way_up_and_min_dwell() -> None:
    manager, _ = make_manager(min_dwell_s=2.0)
    assert step(manager, 0, 0.45).mode == TimestepMode.SAVING
    held = step(manager, 10, 0.54)  # not above 50% + 5% hysteresis
    assert held.mode == TimestepMode.SAVING
    assert held.reason.startswith("battery 54% <= 55% (saving + hysteresis): saving mode")
    cmd = step(manager, 20, 0.56)
    assert (cmd.mode, cmd.timesteps) == (TimestepMode.NOMINAL, 100)
    cmd = step(manager, 21, 0.45)  # T changed 1 s ago: held
    assert (cmd.mode, cmd.timesteps) == (TimestepMode.NOMINAL, 100)
    assert "T=40 (saving) waits 1.0 s (min_dwell_s)" in cmd.reason
    cmd = step(manager, 22.5, 0.45)
    assert (cmd.mode, cmd.timesteps) == (TimestepMode.SAVING, 40)
    cmd = step(manager, 23, 0.1)  # entering critical mode is immediate
    assert (cmd.mode, cmd.timesteps) == (TimestepMode.CRITICAL, 30)


def test_update_publishes_on_change_and_every_publish_period() -> None:
    manager, _ = make_manager(publish_period_s=1.0, min_dwell_s=0.0)
    battery(manager, 0, 0.9)
    assert manager.update(0) is not None
    assert manager.update(int(0.5 * S)) is None
    repeated = manager.update(int(1.0 * S))
    assert repeated is not None and repeated.stamp_ns == S
    battery(manager, 1.2, 0.4)
    changed = manager.update(int(1.2 * S))
    assert changed is not None and changed.mode == TimestepMode.SAVING
    assert manager.current is changed


def test_percent_scale_warns_once_and_is_kept() -> None:
    manager, log = make_manager(min_dwell_s=0.0)
    assert step(manager, 0, 80.0).battery_fraction == pytest.approx(0.8)
    assert step(manager, 1, 79.0).battery_fraction == pytest.approx(0.79)
    assert step(manager, 2, 0.9).battery_fraction == pytest.approx(0.009)  # 0.9 %
    expected = (
        "battery percentage 80 is on the 0..100 scale (as Gazebo sends it): dividing by 100 "
        "from now on"
    )
    assert [w for w in log.warnings() if "0..100" in w] == [expected]


@pytest.mark.parametrize(
    ("percentage", "problem"),
    [
        (math.nan, "percentage nan and no usable charge/capacity"),
        (-5.0, "percentage -5 outside 0..1 and 0..100"),
        (250.0, "percentage 250 outside 0..1 and 0..100"),
    ],
)
def test_unusable_readings_are_ignored_with_one_warning(percentage: float, problem: str) -> None:
    manager, log = make_manager()
    step(manager, 0, 0.8)
    for t_s in (1, 2, 3):
        cmd = step(manager, t_s, percentage)
        assert (cmd.mode, cmd.battery_fraction) == (TimestepMode.NOMINAL, pytest.approx(0.8))
    assert log.warnings() == [f"battery reading ignored: {problem}"]
    status = manager.diagnostics(3 * S)
    assert status.level == WARN
    assert status.message == f"battery reading ignored: {problem}"
    assert step(manager, 4, 0.7).battery_fraction == pytest.approx(0.7)
    assert manager.diagnostics(4 * S).level == OK


def test_nan_percentage_uses_charge_over_capacity() -> None:
    manager, log = make_manager()
    battery(manager, 0, math.nan, charge=0.9, capacity=3.0, voltage=12.0)
    manager.update(0)
    assert manager.current.battery_fraction == pytest.approx(0.3)
    assert manager.current.mode == TimestepMode.SAVING
    assert log.warnings() == []


def test_positive_discharge_current_is_detected() -> None:
    manager, log = make_manager()
    battery(manager, 0, 80.0, current=2.0, voltage=12.0)
    battery(manager, 1, 79.0, current=2.0, voltage=12.0)
    assert ("info", "battery current is positive while discharging") in log.lines
    values = dict(manager.diagnostics(S).values)
    assert values["discharge_current"] == "positive"
    assert float(values["discharge_power_w"]) == pytest.approx(24.0)


def test_stale_data_falls_back_then_recovers() -> None:
    manager, log = make_manager(battery_timeout_s=5.0, min_dwell_s=2.0, fallback_timesteps=20)
    assert step(manager, 0, 0.9).timesteps == 100
    manager.update(5 * S)
    assert manager.current.mode == TimestepMode.NOMINAL
    fallback = manager.update(6 * S)
    assert fallback is not None
    assert (fallback.mode, fallback.timesteps) == (TimestepMode.FALLBACK, 20)
    assert fallback.reason == (
        "battery data stale: last valid reading 6.0 s ago > 5 s: fallback T=20"
    )
    manager.update(7 * S)
    assert log.warnings() == [fallback.reason]
    assert manager.diagnostics(7 * S).level == WARN
    cmd = step(manager, 10, 0.9)
    assert (cmd.mode, cmd.timesteps) == (TimestepMode.NOMINAL, 100)
    assert manager.diagnostics(10 * S).level == OK


def test_no_reading_after_start_falls_back_to_the_cheapest_critical_point() -> None:
    manager, log = make_manager(battery_timeout_s=2.0)
    first = manager.update(0)
    assert first is not None
    assert (first.mode, first.timesteps) == (TimestepMode.NOMINAL, 100)
    assert first.reason.startswith("no battery reading yet: nominal mode")
    battery(manager, 1, math.nan)  # unusable: does not count
    cmd = manager.update(3 * S)
    assert cmd is not None
    assert (cmd.mode, cmd.timesteps) == (
        TimestepMode.FALLBACK,
        30,
    )  # fallback_timesteps 0: critical
    assert cmd.reason == (
        "no valid battery reading in 3.0 s since start; latest reading: percentage nan and no "
        "usable charge/capacity: fallback T=30"
    )
    assert len(log.warnings()) == 2


def test_energy_budget_binds_with_a_tiny_battery() -> None:
    # 1.5 mWh over one hour at 30 Hz: 5e-5 J per input, below T=100's 1e-4 J.
    manager, log = make_manager(battery_capacity_wh=0.0015, mission_time_s=3600.0)
    cmd = step(manager, 0, 1.0)
    assert cmd.energy_budget_j == pytest.approx(5e-5)
    assert (cmd.mode, cmd.timesteps) == (TimestepMode.NOMINAL, 20)
    assert "WARNING infeasible, running the cheapest T=20" in cmd.reason
    assert "energy <= 5e-05 J" in cmd.reason
    assert log.warnings() == [cmd.reason]
    roomy, _ = make_manager(battery_capacity_wh=0.01)
    assert step(roomy, 0, 1.0).timesteps == 100
    assert "energy 0.0001 J <= budget 0.000333 J" in roomy.current.reason


def test_budget_recovery_needs_the_raise_margin() -> None:
    # The budget per input grows as the mission runs on with the battery full: 5.4 J left.
    manager, _ = make_manager(battery_capacity_wh=0.0015, min_dwell_s=0.0)
    assert step(manager, 0, 1.0).timesteps == 20  # 5e-5 J < 1e-4 J of T=100
    cmd = step(manager, 1886, 1.0)  # 1.05e-4 J: T=100 fits, not with 10% to spare
    assert cmd.timesteps == 20
    assert "staying at T=20 until T=100 fits the energy and latency limits" in cmd.reason
    assert step(manager, 1990, 1.0).timesteps == 100  # 1.13e-4 J


def test_latency_deadline_binds_on_measured_latency() -> None:
    manager, log = make_manager(latency_deadline_ms=2.0)
    assert step(manager, 0, 0.9).timesteps == 100  # profile: 1 ms at T=100
    for i in range(29):
        manager.on_result(result(100, 1.0), i)
    manager.on_result(result(100, 1000.0), 29)  # one outlier does not move the median
    assert step(manager, 1, 0.9).timesteps == 100
    for i in range(30):
        manager.on_result(result(100, 3.0), 30 + i)  # this machine is 3x slower
    assert manager.latency_scale == pytest.approx(3.0)
    cmd = step(manager, 5, 0.9)
    assert cmd.timesteps == 20
    assert "latency <= 0.667 ms" in cmd.reason
    assert cmd.reason.endswith("(profile latency x3 measured vs 2 ms)")
    assert cmd.expected_latency_ms == pytest.approx(0.6)
    assert cmd.latency_deadline_ms == 2.0
    assert log.warnings() == [cmd.reason]
    assert manager.diagnostics(5 * S).level == WARN


def test_profile_latency_interpolates_between_points() -> None:
    manager, _ = make_manager()
    assert manager.profile_latency_ms(100) == pytest.approx(1.0)
    assert manager.profile_latency_ms(90) == pytest.approx(0.9)
    assert manager.profile_latency_ms(10) == pytest.approx(0.1)
    assert manager.profile_latency_ms(700) == pytest.approx(7.0)


def test_default_profile_nominal_t_is_the_profile_selection() -> None:
    profile = load_profile(default_profile_path())
    manager = TimestepManager(TimestepManagerConfig(), profile, RecordingLogger())
    battery(manager, 0, 1.0)
    manager.update(0)
    assert manager.current.mode == TimestepMode.NOMINAL
    assert manager.current.timesteps == select(profile).point.timesteps


def test_config_rejects_inverted_thresholds() -> None:
    with pytest.raises(ConfigError, match=r"critical_below \(0.6\) must be <= saving_below"):
        from_mapping(TimestepManagerConfig, {"critical_below": 0.6}, "test")
    with pytest.raises(ConfigError, match=r"saving_max_drop \(0.2\) must be <= critical_max"):
        from_mapping(TimestepManagerConfig, {"saving_max_drop": 0.2}, "test")

"""The simulated robot: a camera watching dataset environments in turn, the true labels, the
environment events and a battery drained by a base load plus the energy the SNN reports.

Everything runs off the ``now_ns`` given to ``tick`` (the node clock: wall, bag or simulated
time), never the wall clock, so the same config, seed and tick times give the same messages. The
simulation's own clock is the time since the first tick; it only moves forward (a node clock
that jumps back pauses it). Each ``tick`` returns, in this order:

1. ``environment`` (the name, a ``std_msgs/String``): at the first tick, at each switch (before
   the first frame of the new environment) and every ``environment_period_s``;
2. at ``rate_hz``, a camera ``image`` (``ImageFrame`` stamped ``now_ns``) and its ``label``
   (``Label``, same stamp); a late tick gives one frame, the missed ones are dropped;
3. at ``battery_rate_hz``, ``battery_state`` (``BatteryReading``).

Environments are shown ``environment_s`` each in the order given. After the last one ``done``
is true and the last environment is held (frames go on) rather than cycling back: the demo ends
at ``done``, and returning to an environment already learnt would be another experiment.

The battery is an energy account in joules: ``battery_capacity_wh x 3600 x battery_start`` at
the start; every tick draws ``base_load_w x dt`` and every ``on_result`` draws
``classification.energy_j x snn_energy_scale`` (why the scale: ``sim/config.py``); the
charge stops at 0. A reading reports ``percentage = charge / capacity``, ``voltage`` linear
from ``battery_voltage_empty`` to ``battery_voltage_full`` in that fraction, and
``current = -power / voltage`` (negative: discharging; 0 once empty), where ``power`` is the
base load plus the SNN energy drawn since the previous reading over that interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from topspark_ros.data.datasets import Dataset
from topspark_ros.messages import (
    NS_PER_S,
    OK,
    WARN,
    BatteryReading,
    Classification,
    DiagnosticStatus,
    LoggerLike,
)
from topspark_ros.nodes.throttle import WarningThrottle
from topspark_ros.sim.config import SimRobotConfig
from topspark_ros.sim.scenario import (
    EnvironmentSchedule,
    FrameSource,
    linear_voltage,
    load_environments,
    simulated_state,
)

DIAGNOSTIC_NAME = "topspark_ros: sim_robot"

Outputs = list[tuple[str, Any]]


class Ticker:
    """Slots ``k / rate_hz`` seconds (k = 0, 1, ...) on the simulation clock: ``due`` once per
    slot reached; slots passed while no tick came are skipped, as a camera drops frames."""

    def __init__(self, rate_hz: float) -> None:
        self.rate_hz = rate_hz
        self._next = 0  # index of the next slot

    def due(self, elapsed_ns: int) -> bool:
        """Whether a slot was reached at ``elapsed_ns`` since the last due one."""
        if elapsed_ns < math.ceil(self._next * NS_PER_S / self.rate_hz):
            return False
        self._next = math.floor(elapsed_ns * self.rate_hz / NS_PER_S) + 1
        return True


class SimRobot:
    """Camera, labels, environment events and battery of a simulated robot (module docstring).

    Not thread-safe: the caller serialises ``tick``, ``on_result`` and ``diagnostics``.
    ``datasets`` maps environment names to images (default: the test split of each, from
    ``config.data_dir`` or the embedded sample).
    """

    def __init__(
        self,
        config: SimRobotConfig,
        logger: LoggerLike,
        datasets: Mapping[str, Dataset] | None = None,
    ) -> None:
        self.config = config
        scenario = config.scenario
        names = scenario.environment_names
        if datasets is None:
            data_dir = config.data_dir or None
            datasets = load_environments(names, data_dir, embedded=data_dir is None)
        self.schedule = EnvironmentSchedule(names, config.environment_ns * len(names))
        self._sources = {
            name: FrameSource(datasets[name], scenario) for name in dict.fromkeys(names)
        }
        self._throttle = WarningThrottle(logger, 10.0)
        self._camera = Ticker(scenario.rate_hz)
        self._battery = Ticker(scenario.battery_rate_hz)
        period = config.environment_period_s
        self._announce = Ticker(1.0 / period) if period > 0 else None
        self._last_ns: int | None = None  # node clock at the last tick
        self._elapsed_ns = 0
        self._index = -1  # environment shown; -1: none yet
        self._charge_j = scenario.battery_capacity_j * scenario.battery_start
        self._reading_ns: int | None = None  # simulation clock at the last battery reading
        self._interval_snn_j = 0.0  # scaled SNN energy drawn since the last reading
        self.frames = 0
        self.results = 0
        self.ignored_results = 0
        self.base_energy_j = 0.0
        self.snn_energy_j = 0.0  # as reported, before snn_energy_scale

    # --- inputs -------------------------------------------------------------------------------

    def on_result(self, result: Classification) -> None:
        """Draw the classification's energy, times ``snn_energy_scale``, from the battery."""
        energy = result.energy_j
        if not math.isfinite(energy) or energy < 0.0:
            self.ignored_results += 1
            self._throttle.warning("energy", f"ignoring a classification with energy {energy} J")
            return
        drawn = energy * self.config.snn_energy_scale
        self.results += 1
        self.snn_energy_j += energy
        self._interval_snn_j += drawn
        self._draw(drawn)

    # --- the clock ----------------------------------------------------------------------------

    def tick(self, now_ns: int) -> Outputs:
        """Advance the simulation to ``now_ns`` (node clock); what to publish, in order."""
        if self._last_ns is not None:
            dt_ns = max(now_ns - self._last_ns, 0)
            self._elapsed_ns += dt_ns
            base = self.config.base_load_w * dt_ns / NS_PER_S
            self.base_energy_j += base
            self._draw(base)
        self._last_ns = now_ns
        elapsed = self._elapsed_ns
        out: Outputs = []
        index = self.schedule.index_at(elapsed)
        announce = self._announce is not None and self._announce.due(elapsed)
        if index != self._index or announce:
            self._index = index
            out.append(("environment", self.environment))
        if self._camera.due(elapsed):
            frame, label = self._sources[self.environment].next(now_ns, self.environment)
            self.frames += 1
            out += [("image", frame), ("label", label)]
        if self._battery.due(elapsed):
            out.append(("battery_state", self._reading(now_ns, elapsed)))
        return out

    # --- state --------------------------------------------------------------------------------

    @property
    def environment(self) -> str:
        """The environment shown now (the first before the first tick)."""
        return self.schedule.names[max(self._index, 0)]

    @property
    def elapsed_s(self) -> float:
        """Simulation time since the first tick (s)."""
        return self._elapsed_ns / NS_PER_S

    @property
    def done(self) -> bool:
        """Whether every environment has been shown for its ``environment_s``."""
        return self._elapsed_ns >= self.schedule.duration_ns

    @property
    def charge_j(self) -> float:
        """Energy left in the battery (J)."""
        return self._charge_j

    @property
    def battery_fraction(self) -> float:
        """Charge / capacity, 0..1."""
        return self._charge_j / self.config.scenario.battery_capacity_j

    def diagnostics(self) -> DiagnosticStatus:
        """Environment, progress and the battery account, as a diagnostic status."""
        cfg = self.config
        position = f"{max(self._index, 0) + 1}/{len(self.schedule.names)}"
        empty = self._charge_j <= 0.0
        message = f"environment {self.environment} ({position}), battery {self._percent()}"
        if self.done:
            message += ", every environment shown"
        if empty:
            message += ", battery empty"
        values = (
            ("environment", self.environment),
            ("environment_index", str(max(self._index, 0))),
            ("elapsed_s", f"{self.elapsed_s:.3f}"),
            ("done", str(self.done).lower()),
            ("frames", str(self.frames)),
            ("battery_fraction", f"{self.battery_fraction:.4g}"),
            ("charge_j", f"{self._charge_j:.4g}"),
            ("base_energy_j", f"{self.base_energy_j:.4g}"),
            ("snn_energy_j", f"{self.snn_energy_j:.4g}"),
            ("snn_energy_scale", f"{cfg.snn_energy_scale:g}"),
            ("results", str(self.results)),
            ("ignored_results", str(self.ignored_results)),
        )
        level = WARN if empty or self.ignored_results else OK
        return DiagnosticStatus(level, DIAGNOSTIC_NAME, message, values=values)

    # --- battery ------------------------------------------------------------------------------

    def _draw(self, energy_j: float) -> None:
        """Take ``energy_j`` from the battery; it stops at empty."""
        self._charge_j = max(self._charge_j - energy_j, 0.0)

    def _percent(self) -> str:
        """The charge as ``83.4%``."""
        return f"{100.0 * self.battery_fraction:.3g}%"

    def _reading(self, now_ns: int, elapsed_ns: int) -> BatteryReading:
        """The battery state now; the power averages the SNN draw since the last reading."""
        cfg = self.config.scenario
        interval_s = (
            0.0 if self._reading_ns is None else (elapsed_ns - self._reading_ns) / NS_PER_S
        )
        snn_w = self._interval_snn_j / interval_s if interval_s > 0.0 else 0.0
        self._reading_ns, self._interval_snn_j = elapsed_ns, 0.0
        fraction = self.battery_fraction
        voltage = linear_voltage(fraction, cfg.battery_voltage_full, cfg.battery_voltage_empty)
        power = self.config.base_load_w + snn_w
        current = -power / voltage if fraction > 0.0 and power > 0.0 else 0.0
        return simulated_state(
            now_ns, fraction, voltage, current, cfg.battery_capacity_ah, cfg.battery_frame_id
        )


__all__ = ["DIAGNOSTIC_NAME", "SimRobot", "Ticker"]

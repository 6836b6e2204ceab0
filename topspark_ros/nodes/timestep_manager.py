"""Adaptive timesteps: battery state and measured latency -> the T perception runs, with a reason.

At every ``update(now_ns)`` the manager decides:

1. The battery mode, with hysteresis: nominal at or above ``saving_below``, saving below it,
   critical below ``critical_below``; a mode is left upward only once the fraction exceeds its
   threshold + ``hysteresis``. Each mode allows an accuracy drop vs the profile's baseline.
2. An energy budget per input, (remaining J / remaining mission s - base load W) / frame rate,
   and the latency deadline divided by the measured/profile latency ratio (the median of the
   last ``latency_window`` results, so the profile's latencies stand for this machine).
3. ``tradeoff.select``: the lowest-cost point meeting the mode's accuracy floor, the budget and
   the deadline. None meets them: the cheapest point (lowest T), the mode kept, a warning.
4. No valid battery reading for ``battery_timeout_s`` (or none yet that long after start):
   fallback mode at ``fallback_timesteps`` (0: the cheapest point meeting ``critical_max_drop``).
   Invalid or unknown readings are ignored (rate-limited warning): fallback comes by timeout.

T changes at most once per ``min_dwell_s``, except that entering critical or fallback mode is
immediate (both only lower T or make it safe). T goes up only when a budget or deadline lets the
higher point in with ``raise_margin`` to spare, so neither limit makes T flap; a falling battery
therefore never raises T unless an energy or latency cut lifts. Monotone T across modes relies
on the config ordering nominal <= saving <= critical drops and on cost growing with T.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from topspark_ros.messages import (
    NS_PER_S,
    OK,
    WARN,
    BatteryReading,
    Classification,
    DiagnosticStatus,
    LoggerLike,
    TimestepCommand,
    TimestepMode,
)
from topspark_ros.nodes.battery import DISCHARGE_NEGATIVE, BatteryLevel, normalise
from topspark_ros.nodes.config import TimestepManagerConfig
from topspark_ros.nodes.throttle import WarningThrottle
from topspark_ros.topspark.profile import OperatingPoint, Profile
from topspark_ros.topspark.tradeoff import Constraints, InfeasibleError, select

DIAGNOSTIC_NAME = "topspark_ros: timestep_manager"

_REWARN_S = 30.0  # ignored battery readings: one warning per 30 s (wall clock), counted


def battery_mode(
    fraction: float, mode: TimestepMode, config: TimestepManagerConfig
) -> TimestepMode:
    """The battery mode after a reading of ``fraction`` (0..1) when the mode was ``mode``.

    Modes get worse at once when the fraction crosses a threshold and better only when it
    exceeds the threshold + ``config.hysteresis``, so noise at a threshold cannot flip them.
    """
    worse = (
        TimestepMode.CRITICAL
        if fraction < config.critical_below
        else TimestepMode.SAVING
        if fraction < config.saving_below
        else TimestepMode.NOMINAL
    )
    if worse >= mode:
        return worse
    margin = config.hysteresis
    better = (
        TimestepMode.NOMINAL
        if fraction > config.saving_below + margin
        else TimestepMode.SAVING
        if fraction > config.critical_below + margin
        else TimestepMode.CRITICAL
    )
    return min(mode, better)


def _pct(fraction: float) -> str:
    """``0.432`` -> ``43.2%``."""
    return f"{100.0 * fraction:.3g}%"


@dataclass(frozen=True)
class _Decision:
    """A chosen T and mode, why, and the battery figures it was based on."""

    mode: TimestepMode
    timesteps: int
    point: OperatingPoint | None
    reason: str
    fraction: float = math.nan
    budget_j: float = math.nan
    infeasible: bool = False
    held: str = ""  # why a newer decision waits (min_dwell_s)


class TimestepManager:
    """Battery (``on_battery``) and latency (``on_result``) -> TimestepCommand (``update``).

    Not thread-safe: the caller serialises calls (one executor or one lock). Times are the node
    clock's ``now_ns``; staleness and mission time use receipt times, not header stamps.
    """

    def __init__(
        self, config: TimestepManagerConfig, profile: Profile, logger: LoggerLike
    ) -> None:
        self._cfg = config
        self._profile = profile
        self._log = logger
        _ = profile.baseline  # ProfileError now, not at the first decision
        self._cheapest = profile.points[-1]
        self._fallback_t, self._fallback_point = self._fallback()
        ascending = profile.points[::-1]
        self._profile_t = np.array([p.timesteps for p in ascending], dtype=np.float64)
        self._profile_ms = np.array([p.latency_ms for p in ascending], dtype=np.float64)
        self._ratios: deque[float] = deque(maxlen=config.latency_window)
        self._start_ns: int | None = None
        self._first_valid_ns: int | None = None
        self._last_valid_ns: int | None = None
        self._level: BatteryLevel | None = None
        self._percent_scale = False
        self._sign = DISCHARGE_NEGATIVE
        self._battery_mode = TimestepMode.NOMINAL
        self._problem = ""  # why the latest reading was ignored; "" when it was used
        self._throttle = WarningThrottle(logger, _REWARN_S)
        self._published_ns: int | None = None
        self._changed_ns: int | None = None
        # Start from the cheapest point so that the first selection is an ordinary raise.
        self._decision = _Decision(
            TimestepMode.NOMINAL, self._cheapest.timesteps, self._cheapest, ""
        )
        self._decision = self._select(0, TimestepMode.NOMINAL, math.nan, "no battery reading yet")
        self._current = self._command(self._decision, 0)

    # --- inputs -----------------------------------------------------------------------------

    def on_battery(self, reading: BatteryReading, now_ns: int) -> None:
        """Take one ``sensor_msgs/BatteryState``; unusable readings are ignored with a warning."""
        self._started(now_ns)
        previous = self._level.fraction if self._level is not None else math.nan
        level = normalise(
            reading, self._cfg.battery_capacity_wh, self._percent_scale, self._sign, previous
        )
        if level.percent_scale and not self._percent_scale:
            self._log.warning(
                f"battery percentage {reading.percentage:g} is on the 0..100 scale (as Gazebo "
                "sends it): dividing by 100 from now on"
            )
        if level.sign != self._sign:
            direction = "positive" if level.sign > 0 else "negative"
            self._log.info(f"battery current is {direction} while discharging")
        self._percent_scale, self._sign = level.percent_scale, level.sign
        if not level.usable:
            self._problem = level.problem
            self._throttle.warning("battery_reading", f"battery reading ignored: {level.problem}")
            return
        self._problem = ""
        self._level = level
        self._last_valid_ns = now_ns
        if self._first_valid_ns is None:
            self._first_valid_ns = now_ns
        self._battery_mode = battery_mode(level.fraction, self._battery_mode, self._cfg)

    def on_result(self, result: Classification, now_ns: int) -> None:
        """Record a classification's latency relative to the profile's at its T."""
        self._started(now_ns)
        if result.timesteps < 1 or not (
            math.isfinite(result.latency_ms) and result.latency_ms > 0
        ):
            return
        expected = self.profile_latency_ms(result.timesteps)
        if expected > 0:
            self._ratios.append(result.latency_ms / expected)

    # --- outputs ----------------------------------------------------------------------------

    @property
    def current(self) -> TimestepCommand:
        """The latest command (also between publications)."""
        return self._current

    @property
    def latency_scale(self) -> float:
        """Median measured / profile latency over the recent results; 1 before any."""
        return float(statistics.median(self._ratios)) if self._ratios else 1.0

    def profile_latency_ms(self, timesteps: int) -> float:
        """The profile's latency (ms) at ``timesteps``: interpolated, proportional to T outside."""
        t, ms = self._profile_t, self._profile_ms
        if timesteps <= t[0]:
            return float(ms[0] * timesteps / t[0])
        if timesteps >= t[-1]:
            return float(ms[-1] * timesteps / t[-1])
        return float(np.interp(timesteps, t, ms))

    def update(self, now_ns: int) -> TimestepCommand | None:
        """Decide T now; the command when T or mode changed or ``publish_period_s`` passed."""
        self._started(now_ns)
        old = self._decision
        new = self._hold(self._decide(now_ns), now_ns)
        changed = (new.timesteps, new.mode) != (old.timesteps, old.mode)
        if new.timesteps != old.timesteps:
            self._changed_ns = now_ns
        self._report(old, new)
        self._decision = new
        self._current = self._command(new, now_ns)
        period_ns = self._cfg.publish_period_s * NS_PER_S
        if (
            not changed
            and self._published_ns is not None
            and now_ns - self._published_ns < period_ns
        ):
            return None
        self._published_ns = now_ns
        return self._current

    def diagnostics(self, now_ns: int) -> DiagnosticStatus:
        """WARN in fallback, on stale or ignored battery data and when no point is feasible."""
        d = self._decision
        age = self._battery_age_s(now_ns)
        stale = age > self._cfg.battery_timeout_s
        if self._problem:
            message = f"battery reading ignored: {self._problem}"
        elif stale:
            message = f"battery data stale ({age:.1f} s old)"
        elif d.mode == TimestepMode.FALLBACK or d.infeasible:
            message = d.reason
        else:
            message = f"T={d.timesteps}, {d.mode.text} mode"
        warn = bool(self._problem) or stale or d.mode == TimestepMode.FALLBACK or d.infeasible
        level = self._level
        values = (
            ("mode", d.mode.text),
            ("timesteps", str(d.timesteps)),
            ("reason", self._current.reason),
            ("battery_fraction", f"{d.fraction:.4g}"),
            ("battery_age_s", f"{age:.3g}"),
            ("energy_budget_j", f"{d.budget_j:.4g}"),
            ("discharge_power_w", f"{level.discharge_w:.4g}" if level else "nan"),
            ("percent_scale", str(self._percent_scale).lower()),
            ("discharge_current", "positive" if self._sign > 0 else "negative"),
            ("latency_scale", f"{self.latency_scale:.4g}"),
            ("latency_samples", str(len(self._ratios))),
        )
        return DiagnosticStatus(WARN if warn else OK, DIAGNOSTIC_NAME, message, values=values)

    # --- decisions ----------------------------------------------------------------------------

    def _started(self, now_ns: int) -> None:
        """The first time seen starts the clock of the no-reading-yet timeout."""
        if self._start_ns is None:
            self._start_ns = now_ns

    def _battery_age_s(self, now_ns: int) -> float:
        """Seconds since the last valid reading (since start when none yet; 0 before start)."""
        since = self._last_valid_ns if self._last_valid_ns is not None else self._start_ns
        return 0.0 if since is None else (now_ns - since) / NS_PER_S

    def _decide(self, now_ns: int) -> _Decision:
        """The decision the battery, budget and deadline call for now, before the dwell rule."""
        timeout = self._cfg.battery_timeout_s
        age = self._battery_age_s(now_ns)
        latest = f"; latest reading: {self._problem}" if self._problem else ""
        if self._level is None:
            if age > timeout:
                why = f"no valid battery reading in {age:.1f} s since start{latest}"
                return self._fallback_decision(why)
            return self._select(now_ns, TimestepMode.NOMINAL, math.nan, "no battery reading yet")
        if age > timeout:
            why = f"battery data stale: last valid reading {age:.1f} s ago > {timeout:g} s{latest}"
            return self._fallback_decision(why)
        fraction = self._level.fraction
        return self._select(now_ns, self._battery_mode, fraction, self._battery_text(fraction))

    def _battery_text(self, fraction: float) -> str:
        """Why the battery mode is what it is, e.g. ``battery 43% < 50%``."""
        cfg = self._cfg
        mode = self._battery_mode
        if mode == TimestepMode.CRITICAL:
            if fraction < cfg.critical_below:
                return f"battery {_pct(fraction)} < {_pct(cfg.critical_below)}"
            bound = cfg.critical_below + cfg.hysteresis
            return f"battery {_pct(fraction)} <= {_pct(bound)} (critical + hysteresis)"
        if mode == TimestepMode.SAVING:
            if fraction < cfg.saving_below:
                return f"battery {_pct(fraction)} < {_pct(cfg.saving_below)}"
            bound = cfg.saving_below + cfg.hysteresis
            return f"battery {_pct(fraction)} <= {_pct(bound)} (saving + hysteresis)"
        return f"battery {_pct(fraction)} >= {_pct(cfg.saving_below)}"

    def _budget_j(self, now_ns: int, fraction: float) -> float:
        """Energy per input (J) the battery allows over the rest of the mission; NaN: none."""
        if self._level is None or self._first_valid_ns is None or not math.isfinite(fraction):
            return math.nan
        cfg = self._cfg
        left_s = cfg.mission_time_s - (now_ns - self._first_valid_ns) / NS_PER_S
        if left_s <= 0:
            return math.nan
        return (self._level.energy_j / left_s - cfg.base_load_w) / cfg.frame_rate_hz

    def _constraints(self, drop: float, budget: float, slack: float) -> Constraints:
        """The mode's accuracy drop, the budget and the scaled deadline, shrunk by ``slack``."""
        deadline = self._cfg.latency_deadline_ms
        latency = deadline * (1.0 - slack) / self.latency_scale if deadline > 0 else None
        energy = budget * (1.0 - slack) if math.isfinite(budget) else None
        return Constraints(
            max_accuracy_drop=drop, latency_deadline_ms=latency, energy_budget_j=energy
        )

    def _select(self, now_ns: int, mode: TimestepMode, fraction: float, head: str) -> _Decision:
        """The decision in battery mode ``mode``; ``head`` says why that mode."""
        cfg = self._cfg
        drop = (cfg.nominal_max_drop, cfg.saving_max_drop, cfg.critical_max_drop)[mode]
        text = f"{head}: {mode.text} mode, accuracy drop <= {100 * drop:.3g} pts"
        budget = self._budget_j(now_ns, fraction)
        try:
            if budget <= 0:
                load = f"base load {cfg.base_load_w:g} W"
                raise InfeasibleError(f"energy budget {budget:.3g} J per input <= 0 ({load})")
            point = select(self._profile, self._constraints(drop, budget, 0.0)).point
        except InfeasibleError as err:
            cheap = self._cheapest
            reason = f"{text}; WARNING infeasible, running the cheapest T={cheap.timesteps}: {err}"
            if cfg.latency_deadline_ms > 0:
                scale = self.latency_scale
                reason += (
                    f" (profile latency x{scale:.3g} measured vs {cfg.latency_deadline_ms:g} ms)"
                )
            return _Decision(mode, cheap.timesteps, cheap, reason, fraction, budget, True)
        current = self._decision
        if point.timesteps > current.timesteps and current.mode != TimestepMode.FALLBACK:
            try:
                tight = select(self._profile, self._constraints(drop, budget, cfg.raise_margin))
                raised = tight.point if tight.point.timesteps > current.timesteps else None
            except InfeasibleError:
                raised = None
            if raised is None:
                reason = (
                    f"{text}; staying at T={current.timesteps} until T={point.timesteps} fits "
                    f"the energy and latency limits with {cfg.raise_margin:.0%} to spare"
                )
                return replace(
                    current, mode=mode, reason=reason, fraction=fraction, budget_j=budget, held=""
                )
            point = raised
        return _Decision(
            mode, point.timesteps, point, text + self._limits(point, budget), fraction, budget
        )

    def _limits(self, point: OperatingPoint, budget: float) -> str:
        """The chosen T and the energy and latency limits it meets, for the reason line."""
        parts = [f"; T={point.timesteps}: the cheapest point within that drop"]
        if math.isfinite(budget):
            parts.append(f", energy {point.infer_energy_j:.3g} J <= budget {budget:.3g} J")
        deadline = self._cfg.latency_deadline_ms
        if deadline > 0:
            scale = self.latency_scale
            expected = point.latency_ms * scale
            parts.append(f", latency {expected:.3g} ms <= {deadline:g} ms (x{scale:.3g} measured)")
        return "".join(parts)

    def _fallback(self) -> tuple[int, OperatingPoint | None]:
        """The fallback T and its operating point (None when the profile has no such T)."""
        t = self._cfg.fallback_timesteps
        if t > 0:
            return t, next((p for p in self._profile.points if p.timesteps == t), None)
        try:
            drop = self._cfg.critical_max_drop
            point = select(self._profile, Constraints(max_accuracy_drop=drop)).point
        except InfeasibleError:
            point = self._cheapest
        return point.timesteps, point

    def _fallback_decision(self, why: str) -> _Decision:
        """Fallback mode at the fallback T, ``why`` naming the battery data problem."""
        reason = f"{why}: fallback T={self._fallback_t}"
        return _Decision(TimestepMode.FALLBACK, self._fallback_t, self._fallback_point, reason)

    def _hold(self, new: _Decision, now_ns: int) -> _Decision:
        """``new`` unless it changes T within ``min_dwell_s`` of the last change (entering
        critical or fallback mode is immediate); then the current decision, noting ``new``."""
        old = self._decision
        if new.timesteps == old.timesteps or self._changed_ns is None:
            return new
        if new.mode in (TimestepMode.CRITICAL, TimestepMode.FALLBACK) and new.mode != old.mode:
            return new
        wait_s = self._cfg.min_dwell_s - (now_ns - self._changed_ns) / NS_PER_S
        if wait_s <= 0:
            return new
        held = f"T={new.timesteps} ({new.mode.text}) waits {wait_s:.1f} s (min_dwell_s)"
        return replace(old, fraction=new.fraction, budget_j=new.budget_j, held=held)

    def _report(self, old: _Decision, new: _Decision) -> None:
        """Log a change: a warning on entering fallback or an infeasible state, else info."""
        entered_fallback = new.mode == TimestepMode.FALLBACK and old.mode != TimestepMode.FALLBACK
        if entered_fallback or (new.infeasible and not old.infeasible):
            self._log.warning(new.reason)
        elif (new.timesteps, new.mode) != (old.timesteps, old.mode):
            self._log.info(f"T {old.timesteps} -> {new.timesteps}: {new.reason}")

    def _command(self, d: _Decision, now_ns: int) -> TimestepCommand:
        """The TimestepCommand of decision ``d`` stamped ``now_ns``."""
        p = d.point
        deadline = self._cfg.latency_deadline_ms
        return TimestepCommand(
            stamp_ns=now_ns,
            timesteps=d.timesteps,
            train_timesteps=d.timesteps,
            mode=int(d.mode),  # the wire number (Python 3.10 prints an IntEnum as its name)
            reason=f"{d.reason}; {d.held}" if d.held else d.reason,
            battery_fraction=d.fraction,
            energy_budget_j=d.budget_j,
            latency_deadline_ms=deadline if deadline > 0 else math.nan,
            expected_accuracy=p.accuracy if p else math.nan,
            expected_latency_ms=p.latency_ms * self.latency_scale if p else math.nan,
            expected_energy_j=p.infer_energy_j if p else math.nan,
        )


__all__ = [
    "DIAGNOSTIC_NAME",
    "TimestepManager",
    "battery_mode",
]

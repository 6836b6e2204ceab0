"""The demo's live terminal view: a few lines, recomputed from the log every refresh."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from topspark_ros.nodes.messages import Classification
from topspark_ros.replay.metrics import battery_fractions, judge, mode_name, state_name

if TYPE_CHECKING:
    from topspark_ros.demo.monitor import DemoMonitor

RECENT = 100  # results behind the "recent" figures


@dataclass
class EnergyTotals:
    """Running count and modelled energy (J) of results: a mean per frame without keeping them."""

    frames: int = 0
    energy_j: float = 0.0
    timesteps: int | None = None  # T of the first result (the fixed-T run's T)

    def add(self, result: Classification) -> None:
        """Count one result (a non-finite energy counts as a frame of unknown energy: skipped)."""
        if self.timesteps is None:
            self.timesteps = result.timesteps
        if math.isfinite(result.energy_j):
            self.frames += 1
            self.energy_j += result.energy_j

    @classmethod
    def of(cls, results: Iterable[tuple[int, Classification]]) -> EnergyTotals:
        """The totals of ``results`` (time, result) pairs."""
        totals = cls()
        for _, result in results:
            totals.add(result)
        return totals

    @property
    def mean_j(self) -> float | None:
        """Mean energy per frame (J), None without results."""
        return self.energy_j / self.frames if self.frames else None


def energy_ratio(
    adaptive: EnergyTotals, fixed: EnergyTotals
) -> tuple[float | None, float | None, float | None]:
    """(adaptive J/frame, fixed-T J/frame, adaptive / fixed): the demo's energy comparison."""
    mine, theirs = adaptive.mean_j, fixed.mean_j
    ratio = mine / theirs if mine is not None and theirs else None
    return mine, theirs, ratio


def _uj(joules: float | None) -> str:
    return "-" if joules is None else f"{1e6 * joules:.0f} uJ"


def render(monitor: DemoMonitor) -> list[str]:
    """The status lines: time, environment, battery, T and mode; frames, recent accuracy,
    latency and energy against the fixed-T run; what the learner does. Reads the monitor's
    recent records and running totals only, so a refresh costs the same at any hour."""
    log = monitor.log
    environment = log.environments[-1][1] if log.environments else "-"
    fractions = battery_fractions(log)
    battery = f"{100 * fractions[-1][1]:.1f}%" if fractions else "-"
    if log.commands:
        command = log.commands[-1][1]
        timestep = f"T={command.timesteps} ({mode_name(command.mode)})"
    else:
        timestep = "T=-"
    judged = [
        j for j in judge(log)[-RECENT:] if j.correct is not None and j.environment == environment
    ]
    accuracy = (
        f"{100 * sum(bool(j.correct) for j in judged) / len(judged):.0f}%" if judged else "-"
    )
    recent = log.classifications[-RECENT:]
    latency = f"{statistics.median(r.latency_ms for _, r in recent):.2f} ms" if recent else "-"
    mine, theirs, ratio = energy_ratio(monitor.energy, monitor.baseline_energy)
    versus = f" vs {_uj(theirs)} at fixed T (x{ratio:.2f})" if ratio is not None else ""
    lines = [
        f"t={log.wall_s:5.0f} s  environment {environment}  battery {battery}  {timestep}",
        (
            f"frames {monitor.frames}  accuracy {accuracy} (recent)  SNN latency "
            f"{latency}  energy/frame {_uj(mine)}{versus}"
        ),
    ]
    if log.statuses:
        status = log.statuses[-1][1]
        lines.append(
            f"learner: {state_name(status.state)} '{status.environment}' "
            f"{status.samples_learned}/{status.samples_target} samples, "
            f"model v{status.model_version}"
        )
    return lines


__all__ = ["RECENT", "EnergyTotals", "energy_ratio", "render"]

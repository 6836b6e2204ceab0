"""What a demo run produced: its whole log, the fixed-T run's results, how it ended, the
memory of its processes; and the energy comparison of the adaptive run against the fixed T."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from topspark_ros.demo.memory import RssSampler
from topspark_ros.messages import Classification
from topspark_ros.replay.records import ReplayLog


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

    @property
    def mean_j(self) -> float | None:
        """Mean energy per frame (J), None without results."""
        return self.energy_j / self.frames if self.frames else None


@dataclass
class DemoResult:
    """How the demo ended: the log, exit codes by process, and a failure or stop reason."""

    log: ReplayLog  # the whole run's, once it ended
    baseline: list[tuple[int, Classification]]  # the fixed-T node's results, once it ended
    transport: str = "dds"
    domain_id: int = 0
    exit_codes: dict[str, int] = field(default_factory=dict)
    stopped: str = ""  # why a stop signal ended it ('interrupted', 'stopped by SIGTERM')
    stop_code: int = 0  # the exit status for that signal (128 + its number)
    failed: str = ""
    memory: RssSampler | None = None  # RSS of every process over the run
    energy: EnergyTotals = field(default_factory=EnergyTotals)  # adaptive results
    baseline_energy: EnergyTotals = field(default_factory=EnergyTotals)  # fixed T


def energy_ratio(
    adaptive: EnergyTotals, fixed: EnergyTotals
) -> tuple[float | None, float | None, float | None]:
    """(adaptive J/frame, fixed-T J/frame, adaptive / fixed): the demo's energy comparison."""
    mine, theirs = adaptive.mean_j, fixed.mean_j
    ratio = mine / theirs if mine is not None and theirs else None
    return mine, theirs, ratio


__all__ = ["DemoResult", "EnergyTotals", "energy_ratio"]

"""The demo's live terminal view: a few lines, recomputed from the log every refresh."""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

from topspark_ros.demo.result import energy_ratio
from topspark_ros.messages import LearningState, TimestepMode
from topspark_ros.replay.metrics import battery_fractions, judge

if TYPE_CHECKING:
    from topspark_ros.demo.monitor import DemoMonitor

RECENT = 100  # results behind the "recent" figures


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
        timestep = f"T={command.timesteps} ({TimestepMode.text_of(command.mode)})"
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
            f"learner: {LearningState.text_of(status.state)} '{status.environment}' "
            f"{status.samples_learned}/{status.samples_target} samples, "
            f"model v{status.model_version}"
        )
    return lines


__all__ = ["RECENT", "render"]

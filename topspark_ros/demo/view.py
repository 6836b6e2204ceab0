"""The demo's live terminal view: a few lines, recomputed from the log every refresh."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from topspark_ros.nodes.messages import Classification
from topspark_ros.replay.metrics import battery_fractions, judge, mode_name, state_name
from topspark_ros.replay.records import ReplayLog

RECENT = 100  # results behind the "recent" figures


def _mean_energy(results: Sequence[tuple[int, Classification]]) -> float | None:
    """Mean modelled energy per frame (J), None without results."""
    return statistics.fmean(r.energy_j for _, r in results) if results else None


def energy_ratio(
    log: ReplayLog, baseline: Sequence[tuple[int, Classification]]
) -> tuple[float | None, float | None, float | None]:
    """(adaptive J/frame, fixed-T J/frame, adaptive / fixed): the demo's energy comparison."""
    mine, theirs = _mean_energy(log.classifications), _mean_energy(baseline)
    ratio = mine / theirs if mine is not None and theirs else None
    return mine, theirs, ratio


def _uj(joules: float | None) -> str:
    return "-" if joules is None else f"{1e6 * joules:.0f} uJ"


def render(log: ReplayLog, baseline: Sequence[tuple[int, Classification]]) -> list[str]:
    """The status lines: time, environment, battery, T and mode; frames, recent accuracy,
    latency and energy against the fixed-T run; what the learner does."""
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
    mine, theirs, ratio = energy_ratio(log, baseline)
    versus = f" vs {_uj(theirs)} at fixed T (x{ratio:.2f})" if ratio is not None else ""
    lines = [
        f"t={log.wall_s:5.0f} s  environment {environment}  battery {battery}  {timestep}",
        (
            f"frames {len(log.classifications)}  accuracy {accuracy} (recent)  SNN latency "
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


__all__ = ["RECENT", "energy_ratio", "render"]

"""The demo's report: the replay report of what the monitor saw, plus the fixed-T comparison."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from topspark_ros.demo.memory import MEMORY_CSV
from topspark_ros.demo.result import DemoResult, energy_ratio
from topspark_ros.messages import NS_PER_S
from topspark_ros.replay.report import write_report
from topspark_ros.topspark.outputs import pyplot, save_figure

ENERGY_PLOT = "energy_vs_fixed.png"


def demo_summary(result: DemoResult) -> dict[str, Any]:
    """The demo's own summary keys: energy per frame against the fixed-T run, and how it ended."""
    baseline = result.baseline
    mine, theirs, ratio = energy_ratio(result.energy, result.baseline_energy)
    fixed = baseline[0][1].timesteps if baseline else None
    return {
        "demo": {
            "transport": result.transport,
            "domain_id": result.domain_id,
            "energy_per_frame_j": mine,
            "fixed_t": fixed,
            "fixed_t_frames": len(baseline),
            "fixed_t_energy_per_frame_j": theirs,
            "energy_ratio": ratio,  # adaptive / fixed T, per frame
            "stopped": result.stopped,
            "failed": result.failed,
            "exit_codes": dict(result.exit_codes),
            "memory": {} if result.memory is None else result.memory.summary(),
        }
    }


def plot_energy_vs_fixed(result: DemoResult, path: Path) -> Path | None:
    """Cumulative modelled energy of the adaptive run and the fixed-T run over time."""
    log, baseline = result.log, result.baseline
    if not log.classifications or not baseline:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8.0, 4.2))
    start = min(log.classifications[0][0], baseline[0][0])
    for series, label in (
        (log.classifications, "adaptive T (timestep manager)"),
        (baseline, f"fixed T={baseline[0][1].timesteps}"),
    ):
        xs = [(t - start) / NS_PER_S for t, _ in series]
        ys = np.cumsum([1e3 * r.energy_j for _, r in series])
        ax.plot(xs, ys, label=f"{label}: {1e3 * ys[-1] / len(series):.0f} uJ/frame")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("cumulative SNN energy (mJ)")
    ax.set_title("Energy: adaptive T against a fixed T on the same camera stream")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    return save_figure(fig, path)


def write_demo_report(result: DemoResult, out: Path) -> list[Path]:
    """summary.json (replay summary + ``demo``), the stream CSVs, the plots and the energy one,
    from the result's whole log (read back from the monitor's spool once the run ended)."""
    paths = write_report(result.log, out, demo_summary(result))
    drawn = plot_energy_vs_fixed(result, out / ENERGY_PLOT)
    if drawn is not None:
        paths.append(drawn)
    if result.memory is not None and result.memory.samples:
        paths.append(result.memory.write_csv(out / MEMORY_CSV))
    return paths


__all__ = ["ENERGY_PLOT", "demo_summary", "plot_energy_vs_fixed", "write_demo_report"]

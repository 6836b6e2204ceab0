"""A replay's report directory: summary.json, a CSV per stream and PNG plots, each written
atomically.

Every file is either the complete new version or untouched (``io_utils.atomic_path``), so a run
stopped while writing leaves no half-written file. An empty or partial log still gets the summary
and the CSVs (headers only when a stream is empty); a plot with nothing to show is not drawn.
The tables are ``replay.tables``, the plots ``replay.plots``, the terminal text
``replay.summary``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from topspark_ros.errors import TopsparkError
from topspark_ros.io_utils import atomic_write_bytes, write_csv
from topspark_ros.replay.metrics import environment_switches, json_ready, judge, summarize
from topspark_ros.replay.plots import (
    plot_accuracy,
    plot_energy,
    plot_latency,
    plot_timesteps_battery,
)
from topspark_ros.replay.records import ReplayLog
from topspark_ros.replay.tables import stream_tables

SUMMARY = "summary.json"


def write_report(
    log: ReplayLog, out_dir: Path, extra: Mapping[str, Any] | None = None
) -> list[Path]:
    """Write summary.json (``summarize`` plus ``extra``'s keys), the stream CSVs and the plots
    with data into ``out_dir``; return them.

    A plot of this report's name left from an earlier run but without data now is removed, so
    the folder describes one replay. OSError becomes a TopsparkError naming the folder.
    """
    judged = judge(log)
    switches = environment_switches(log, judged)
    plots: dict[str, Callable[[Path], Path | None]] = {
        "timesteps_battery.png": lambda p: plot_timesteps_battery(log, switches, p),
        "latency.png": lambda p: plot_latency(log, switches, p),
        "energy.png": lambda p: plot_energy(log, switches, p),
        "accuracy.png": lambda p: plot_accuracy(log, judged, switches, p),
    }
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        summary = {**summarize(log), **json_ready(dict(extra or {}))}
        text = json.dumps(summary, indent=2, allow_nan=False) + "\n"
        paths = [atomic_write_bytes(out_dir / SUMMARY, text.encode())]
        for name, (header, rows) in stream_tables(log, judged).items():
            paths.append(write_csv(out_dir / name, header, rows))
        for name, plot in plots.items():
            drawn = plot(out_dir / name)
            if drawn is None:
                (out_dir / name).unlink(missing_ok=True)
            else:
                paths.append(drawn)
    except OSError as err:
        raise TopsparkError(f"cannot write the replay report in {out_dir}: {err}") from err
    return paths


__all__ = ["SUMMARY", "write_report"]

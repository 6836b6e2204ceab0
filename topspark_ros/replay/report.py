"""A replay's report files: summary.json, a CSV per stream and PNG plots, each written atomically.

Every file is either the complete new version or untouched (``io_utils.atomic_path``), so a run
stopped while writing leaves no half-written file. An empty or partial log still gets the summary
and the CSVs (headers only when a stream is empty); a plot with nothing to show is not drawn.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from topspark_ros.errors import TopsparkError
from topspark_ros.io_utils import atomic_write_bytes
from topspark_ros.messages import NS_PER_S, LearningState, TimestepMode
from topspark_ros.replay.metrics import (
    AFTER_LEARNING,
    BEFORE_LEARNING,
    MIN_JUDGED,
    Judged,
    battery_fractions,
    command_spans,
    environment_switches,
    json_ready,
    judge,
    rolling_accuracy,
    spread,
    summarize,
)
from topspark_ros.replay.records import BAG_TIME, ReplayLog
from topspark_ros.topspark.outputs import pyplot, save_figure

SUMMARY = "summary.json"
ROLLING_WINDOW = 30  # labelled frames per point of the accuracy plot (at least)
MAX_UPDATE_LINES = 12  # more model updates are drawn as ticks, not vertical lines
_MODE_COLOURS = {"saving": "tab:olive", "critical": "tab:red", "fallback": "tab:gray"}
_FIGSIZE = (8.0, 4.2)

Table = tuple[list[str], list[list[Any]]]  # CSV header and rows


def _cell(value: Any) -> Any:
    """A CSV cell: None and non-finite floats blank, bools 1/0."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, bool):
        return int(value)
    return value


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """``header`` and ``rows`` as CSV text (``\\n`` line ends), encoded UTF-8."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return text.getvalue().encode()


def _stream(
    log: ReplayLog,
    items: Sequence[tuple[int, Any]],
    fields: Sequence[str],
    derived: Mapping[str, Callable[[Any], Any]] | None = None,
) -> Table:
    """bag_time_s (from the log's start), stamp_ns, then ``fields`` and ``derived`` columns."""
    derived = derived or {}
    header = ["bag_time_s", "stamp_ns", *fields, *derived]
    rows = [
        [
            (t - log.start_ns) / NS_PER_S,
            m.stamp_ns,
            *(getattr(m, f) for f in fields),
            *(fn(m) for fn in derived.values()),
        ]
        for t, m in items
    ]
    return header, rows


def classification_table(log: ReplayLog, judged: Sequence[Judged]) -> Table:
    """One row per classification with its true label (blank if none), correctness and
    environment."""
    header = [
        "bag_time_s",
        "stamp_ns",
        "predicted",
        "true_label",
        "correct",
        "environment",
        "confidence",
        "timesteps",
        "timesteps_used",
        "spike_count",
        "input_spikes",
        "latency_ms",
        "pipeline_ms",
        "energy_j",
        "model_version",
    ]
    rows: list[list[Any]] = []
    for j in judged:
        c = j.result
        rows.append(
            [
                (j.bag_ns - log.start_ns) / NS_PER_S,
                c.stamp_ns,
                c.label,
                j.truth,
                j.correct,
                j.environment,
                c.confidence,
                c.timesteps,
                c.timesteps_used,
                c.spike_count,
                c.input_spikes,
                c.latency_ms,
                c.pipeline_ms,
                c.energy_j,
                c.model_version,
            ]
        )
    return header, rows


def stream_tables(log: ReplayLog, judged: Sequence[Judged]) -> dict[str, Table]:
    """Each stream's CSV table, by file name; battery.csv ends with the normalised fraction."""
    battery_header, battery_rows = _stream(
        log,
        log.battery,
        [
            "percentage",
            "voltage",
            "current",
            "charge",
            "capacity",
            "present",
            "power_supply_status",
        ],
    )
    fractions = battery_fractions(log)
    return {
        "classification.csv": classification_table(log, judged),
        "timestep_command.csv": _stream(
            log,
            log.commands,
            [
                "timesteps",
                "train_timesteps",
                "mode",
                "reason",
                "battery_fraction",
                "energy_budget_j",
                "latency_deadline_ms",
                "expected_accuracy",
                "expected_latency_ms",
                "expected_energy_j",
            ],
            {"mode_name": lambda c: TimestepMode.text_of(c.mode)},
        ),
        "learning_status.csv": _stream(
            log,
            log.statuses,
            [
                "state",
                "environment",
                "trigger",
                "train_timesteps",
                "samples_learned",
                "samples_target",
                "labelled_samples",
                "plastic_neurons",
                "model_version",
                "novelty",
                "message",
            ],
            {"state_name": lambda s: LearningState.text_of(s.state)},
        ),
        "model_update.csv": _stream(
            log, log.updates, ["version", "path", "sha256", "environment", "samples_seen"]
        ),
        "battery.csv": (
            [*battery_header, "fraction"],
            [[*row, f] for row, (_, f) in zip(battery_rows, fractions, strict=True)],
        ),
        "environment.csv": (
            ["bag_time_s", "environment"],
            [[(t - log.start_ns) / NS_PER_S, name] for t, name in log.environments],
        ),
    }


def _scale(values: Sequence[float], unit: str) -> tuple[float, str]:
    """(factor, unit with SI prefix) that puts the largest of ``values`` in 1..1000."""
    top = max((abs(v) for v in values if math.isfinite(v)), default=0.0)
    for factor, prefix in ((1.0, ""), (1e3, "m"), (1e6, "u"), (1e9, "n")):
        if top * factor >= 1.0:
            return factor, prefix + unit
    return 1e12, "p" + unit


def _seconds(log: ReplayLog, times: Sequence[int]) -> list[float]:
    """Bag times (ns) as seconds from the log's start."""
    return [(t - log.start_ns) / NS_PER_S for t in times]


def _mark_switches(ax: Any, log: ReplayLog, switches: Sequence[tuple[int, str]]) -> None:
    """Environment switches as dashed vertical lines, named just above the axes."""
    for t, name in switches:
        x = (t - log.start_ns) / NS_PER_S
        ax.axvline(x, color="black", linestyle="--", linewidth=0.9, alpha=0.6)
        ax.text(
            x,
            1.01,
            name,
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize="small",
        )


def _legend(*axes: Any, ncol: int = 4) -> None:
    """One legend below the first axes with the entries of all ``axes`` (twin axes share it)."""
    handles, labels = [], []
    for ax in axes:
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    if handles:
        axes[0].legend(
            handles,
            labels,
            fontsize="small",
            loc="upper center",
            bbox_to_anchor=(0.5, -0.14),
            ncol=min(len(handles), ncol),
            frameon=False,
        )


def _decorate(ax: Any, log: ReplayLog, what: str, ylabel: str) -> None:
    """Title (the bag, and whether the run stopped early), axis labels and a light grid."""
    partial = " (stopped early)" if not log.complete else ""
    ax.set_title(f"{what}: {Path(log.source).name}{partial}", pad=16)
    ax.set(xlabel=f"{log.clock} (s)", ylabel=ylabel)
    ax.grid(True, alpha=0.3)


def plot_timesteps_battery(
    log: ReplayLog, switches: Sequence[tuple[int, str]], path: Path
) -> Path | None:
    """T as a step plot over bag time (commanded, else per frame), non-nominal modes shaded,
    and the battery charge (%) on a twin axis; None when there is nothing to draw."""
    frames = log.classifications
    steps = log.commands or frames
    fractions = battery_fractions(log)
    if not steps and not fractions:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=_FIGSIZE)
    if steps:
        xs = _seconds(log, [t for t, _ in steps] + [max(log.end_ns, steps[-1][0])])
        ts = [m.timesteps for _, m in steps]
        what = "T commanded" if log.commands else "T per frame"
        ax.step(xs, [*ts, ts[-1]], where="post", color="tab:blue", label=what)
    shaded: set[str] = set()
    for start, end, mode in _mode_runs(log):
        if mode in _MODE_COLOURS:
            x0, x1 = _seconds(log, [start, end])
            ax.axvspan(
                x0,
                x1,
                color=_MODE_COLOURS[mode],
                alpha=0.15,
                label=None if mode in shaded else f"{mode} mode",
            )
            shaded.add(mode)
    _decorate(ax, log, "T and battery", "timesteps T")
    if steps:
        ax.set_ylim(0, 1.1 * max(m.timesteps for _, m in steps))
    axes = [ax]
    if fractions:
        twin = ax.twinx()
        twin.plot(
            _seconds(log, [t for t, _ in fractions]),
            [100 * f for _, f in fractions],
            color="tab:orange",
            label="battery charge",
        )
        twin.set(ylabel="battery charge (%)", ylim=(0, 105))
        axes.append(twin)
    _mark_switches(ax, log, switches)
    _legend(*axes)
    return save_figure(fig, path)


def plot_latency(log: ReplayLog, switches: Sequence[tuple[int, str]], path: Path) -> Path | None:
    """Per-frame SNN latency and pipeline time (ms) over bag time with their medians."""
    if not log.classifications:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=_FIGSIZE)
    xs = _seconds(log, [t for t, _ in log.classifications])
    series = (("pipeline_ms", "preprocess + SNN", "tab:green"), ("latency_ms", "SNN", "tab:blue"))
    for field, label, colour in series:
        ys = [getattr(c, field) for _, c in log.classifications]
        median = spread(ys)["median"]
        ax.plot(xs, ys, ".", markersize=3, color=colour, alpha=0.6, label=label)
        if median is not None:
            ax.axhline(
                median, color=colour, linestyle=":", label=f"{label} median {median:.3g} ms"
            )
    _decorate(ax, log, "Latency per frame", "time per frame (ms)")
    ax.set_ylim(bottom=0)
    _mark_switches(ax, log, switches)
    _legend(ax, ncol=2)
    return save_figure(fig, path)


def plot_energy(log: ReplayLog, switches: Sequence[tuple[int, str]], path: Path) -> Path | None:
    """Modelled energy per frame and its running total over bag time."""
    points = [(t, c.energy_j) for t, c in log.classifications if math.isfinite(c.energy_j)]
    if not points:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=_FIGSIZE)
    xs = _seconds(log, [t for t, _ in points])
    energy = [e for _, e in points]
    total = list(itertools.accumulate(energy))
    factor, unit = _scale(energy, "J")
    ax.plot(
        xs, [factor * e for e in energy], ".", markersize=3, color="tab:purple", label="per frame"
    )
    _decorate(ax, log, "Modelled inference energy", f"energy per frame ({unit})")
    ax.set_ylim(bottom=0)
    twin = ax.twinx()
    total_factor, total_unit = _scale(total, "J")
    twin.plot(xs, [total_factor * e for e in total], color="tab:brown", label="cumulative")
    twin.set(ylabel=f"cumulative energy ({total_unit})")
    twin.set_ylim(bottom=0)
    _mark_switches(ax, log, switches)
    _legend(ax, twin)
    return save_figure(fig, path)


def _mode_runs(log: ReplayLog) -> list[tuple[int, int, str]]:
    """(start ns, end ns, mode name) of each run of commands in one mode (one band per run)."""
    runs: list[tuple[int, int, str]] = []
    for start, end, command in command_spans(log):
        mode = TimestepMode.text_of(command.mode)
        if runs and runs[-1][2] == mode and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], end, mode)
        else:
            runs.append((start, end, mode))
    return runs


def _window(labelled: int) -> int:
    """Frames per point of the rolling accuracy: ROLLING_WINDOW, or 1% of a long run."""
    return max(ROLLING_WINDOW, labelled // 100)


def plot_accuracy(
    log: ReplayLog, judged: Sequence[Judged], switches: Sequence[tuple[int, str]], path: Path
) -> Path | None:
    """Rolling accuracy over bag time, restarted and coloured at each environment switch, with
    model updates marked; None without labels."""
    labelled = [j for j in judged if j.correct is not None]
    if not labelled:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=_FIGSIZE)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    names = list(dict.fromkeys(j.environment for j in labelled))
    window = _window(len(labelled))
    drawn: set[str] = set()
    for name, group in itertools.groupby(labelled, key=lambda j: j.environment):
        segment = list(group)
        score = rolling_accuracy([bool(j.correct) for j in segment], window)
        label = None
        if name not in drawn:
            mine = [j for j in labelled if j.environment == name]
            right = sum(bool(j.correct) for j in mine)
            label = f"{name}: {100 * right / len(mine):.1f}% of {len(mine)}"
            drawn.add(name)
        colour = colours[names.index(name) % len(colours)]
        ax.plot(
            _seconds(log, [j.bag_ns for j in segment]),
            [100 * s for s in score],
            color=colour,
            label=label,
        )
    updates = _seconds(log, [t for t, _ in log.updates])
    if len(updates) <= MAX_UPDATE_LINES:
        for k, x in enumerate(updates):
            ax.axvline(x, color="tab:green", linestyle=":", label=None if k else "model update")
    elif updates:  # many checkpoints: ticks along the bottom instead of lines
        ax.plot(
            updates,
            [1.5] * len(updates),
            "|",
            color="tab:green",
            markersize=12,
            label=f"model update ({len(updates)})",
        )
    _decorate(ax, log, "Accuracy by environment", f"accuracy (%), last {window} labelled frames")
    ax.set_ylim(0, 102)
    _mark_switches(ax, log, switches)
    _legend(ax)
    return save_figure(fig, path)


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
            paths.append(atomic_write_bytes(out_dir / name, csv_bytes(header, rows)))
        for name, plot in plots.items():
            drawn = plot(out_dir / name)
            if drawn is None:
                (out_dir / name).unlink(missing_ok=True)
            else:
                paths.append(drawn)
    except OSError as err:
        raise TopsparkError(f"cannot write the replay report in {out_dir}: {err}") from err
    return paths


def _percent(value: float | None) -> str:
    """``value`` (0..1) as a percentage, or n/a."""
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _si(value: float | None, unit: str) -> str:
    """``value`` with an SI prefix that puts it in 1..1000, or n/a."""
    if value is None:
        return "n/a"
    factor, scaled = _scale([value], unit)
    return f"{factor * value:.3g} {scaled}"


def _judged(entry: Mapping[str, Any]) -> str:
    """An accuracy with the frames it rests on and its 95% interval; below ``MIN_JUDGED``
    labelled frames it is marked as too few to read as a finding."""
    n = entry["labelled"]
    text = f"{_percent(entry['accuracy'])} of {n} frame{'s' if n != 1 else ''}"
    interval = entry.get("ci95")
    if interval is not None:
        text += f" (95% CI {100 * interval[0]:.0f}-{100 * interval[1]:.0f}%"
        text += ", too few frames to judge)" if n < MIN_JUDGED else ")"
    return text


def _environment_line(name: str, entry: Mapping[str, Any], width: int) -> str:
    """``name``'s accuracy, with the before/after learning split when both have labels."""
    text = f"  {name:<{width}} {_judged(entry)}"
    before, after = entry[BEFORE_LEARNING], entry[AFTER_LEARNING]
    if before["labelled"] and after["labelled"]:
        text += f"; before learning {_judged(before)}, after {_judged(after)}"
    return text


def render_summary(summary: Mapping[str, Any]) -> str:
    """A few lines for the terminal: frames and speed, accuracy per environment, time at each T,
    energy, latency and battery, from ``summarize``'s dict."""
    speed, acc, ts = summary["speed"], summary["accuracy"], summary["timesteps"]
    factor, rate = speed["realtime_factor"], speed["frames_per_s"]
    if summary.get("clock", BAG_TIME) != BAG_TIME:  # a live run: no replay speed
        lines = [
            f"{speed['frames']} frames in {speed['duration_s']:.1f} s"
            + ("" if rate is None else f" ({rate:.3g} frames/s)")
        ]
    else:
        lines = [
            f"{speed['frames']} frames over {speed['duration_s']:.1f} s of bag time in "
            f"{speed['wall_s']:.1f} s ("
            + ("n/a" if factor is None else f"{factor:.2f}x")
            + " real time"
            + ("" if rate is None else f", {rate:.3g} frames/s")
            + ")"
        ]
    if not summary["complete"]:
        lines.append(f"stopped early: {summary['stopped'] or 'unknown reason'}")
    if acc["labelled"]:
        lines.append(f"accuracy {_judged(acc)}, labelled")
        envs = {k: v for k, v in summary["environments"].items() if v["labelled"]}
        width = max(len(k) for k in envs)
        lines += [_environment_line(k, v, width) for k, v in envs.items()]
    if ts["share"]:
        shares = ", ".join(f"T={k} {_percent(v)}" for k, v in ts["share"].items())
        lines.append(f"time at T: {shares} ({ts['changes']} changes)")
    energy, latency = summary["energy"], summary["latency"]["latency_ms"]
    if speed["frames"]:
        lines.append(
            f"energy {_si(energy['total_j'], 'J')} total, "
            f"{_si(energy['mean_per_frame_j'], 'J')} per frame; SNN latency median "
            f"{_si_ms(latency['median'])}, p99 {_si_ms(latency['p99'])}"
        )
    battery = summary["battery"]
    if battery["start_fraction"] is not None:
        lines.append(
            f"battery {_percent(battery['start_fraction'])} -> {_percent(battery['end_fraction'])}"
        )
    return "\n".join(lines)


def _si_ms(value: float | None) -> str:
    """A time in ms, or n/a."""
    return "n/a" if value is None else f"{value:.3g} ms"


__all__ = [
    "ROLLING_WINDOW",
    "SUMMARY",
    "classification_table",
    "csv_bytes",
    "plot_accuracy",
    "plot_energy",
    "plot_latency",
    "plot_timesteps_battery",
    "render_summary",
    "stream_tables",
    "write_report",
]

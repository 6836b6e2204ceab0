"""A replay's plots over bag time, each saved atomically as PNG: T and battery, latency, energy,
and accuracy by environment. Each returns None, drawing nothing, when it has no data."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from topspark_ros.messages import TimestepMode
from topspark_ros.replay.metrics import (
    Judged,
    battery_fractions,
    command_spans,
    elapsed_s,
    rolling_accuracy,
    spread,
)
from topspark_ros.replay.records import ReplayLog
from topspark_ros.replay.summary import si_scale
from topspark_ros.topspark.outputs import pyplot, save_figure

ROLLING_WINDOW = 30  # labelled frames per point of the accuracy plot (at least)
MAX_UPDATE_LINES = 12  # more model updates are drawn as ticks, not vertical lines
_MODE_COLOURS = {"saving": "tab:olive", "critical": "tab:red", "fallback": "tab:gray"}
_FIGSIZE = (8.0, 4.2)


def _seconds(log: ReplayLog, times: Sequence[int]) -> list[float]:
    """Bag times (ns) as seconds from the log's start."""
    return [elapsed_s(log, t) for t in times]


def _mark_switches(ax: Any, log: ReplayLog, switches: Sequence[tuple[int, str]]) -> None:
    """Environment switches as dashed vertical lines, named just above the axes."""
    for t, name in switches:
        x = elapsed_s(log, t)
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
    factor, unit = si_scale(energy, "J")
    ax.plot(
        xs, [factor * e for e in energy], ".", markersize=3, color="tab:purple", label="per frame"
    )
    _decorate(ax, log, "Modelled inference energy", f"energy per frame ({unit})")
    ax.set_ylim(bottom=0)
    twin = ax.twinx()
    total_factor, total_unit = si_scale(total, "J")
    twin.plot(xs, [total_factor * e for e in total], color="tab:brown", label="cumulative")
    twin.set(ylabel=f"cumulative energy ({total_unit})")
    twin.set_ylim(bottom=0)
    _mark_switches(ax, log, switches)
    _legend(ax, twin)
    return save_figure(fig, path)


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


__all__ = [
    "MAX_UPDATE_LINES",
    "ROLLING_WINDOW",
    "plot_accuracy",
    "plot_energy",
    "plot_latency",
    "plot_timesteps_battery",
]

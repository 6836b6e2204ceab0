"""A replay's summary in a few terminal lines (``render_summary``), and the SI prefixes that the
text and the plots' axes share."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from topspark_ros.replay.metrics import AFTER_LEARNING, BEFORE_LEARNING, MIN_JUDGED
from topspark_ros.replay.records import BAG_TIME


def si_scale(values: Sequence[float], unit: str) -> tuple[float, str]:
    """(factor, unit with SI prefix) that puts the largest of ``values`` in 1..1000."""
    top = max((abs(v) for v in values if math.isfinite(v)), default=0.0)
    for factor, prefix in ((1.0, ""), (1e3, "m"), (1e6, "u"), (1e9, "n")):
        if top * factor >= 1.0:
            return factor, prefix + unit
    return 1e12, "p" + unit


def _percent(value: float | None) -> str:
    """``value`` (0..1) as a percentage, or n/a."""
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _si(value: float | None, unit: str) -> str:
    """``value`` with an SI prefix that puts it in 1..1000, or n/a."""
    if value is None:
        return "n/a"
    factor, scaled = si_scale([value], unit)
    return f"{factor * value:.3g} {scaled}"


def _si_ms(value: float | None) -> str:
    """A time in ms, or n/a."""
    return "n/a" if value is None else f"{value:.3g} ms"


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


__all__ = ["render_summary", "si_scale"]

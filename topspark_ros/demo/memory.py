"""Resident memory (RSS) of the demo's processes over time: the soak's evidence that every
process stays flat (``topspark demo --duration 3600``).

Sampled with psutil (the portable, well-kept process library) every ``every_s`` seconds of the
run; written as ``memory.csv`` (time, MB per process) and summarised per process: first sample,
the one at ``WARM_S`` (after start-up: JIT compilation, first model loads), last, maximum, and
the growth from the warm sample to the last.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from topspark_ros.io_utils import write_csv

MEMORY_CSV = "memory.csv"
WARM_S = 300.0  # the reference sample: 5 minutes in (or the last one of a shorter run)
MB = 1 << 20


@dataclass
class RssSampler:
    """RSS (bytes) of named processes, sampled at most every ``every_s`` seconds of run time."""

    pids: Mapping[str, int]
    every_s: float = 10.0
    samples: list[tuple[float, dict[str, int]]] = field(default_factory=list)

    def sample(self, elapsed_s: float) -> None:
        """Record every process's RSS, unless the last sample is younger than ``every_s``; a
        process that has ended is left out of the sample."""
        if self.samples and elapsed_s - self.samples[-1][0] < self.every_s:
            return
        rss = {}
        for name, pid in self.pids.items():
            try:
                rss[name] = int(psutil.Process(pid).memory_info().rss)
            except psutil.Error:  # ended (or a zombie): nothing to measure
                continue
        self.samples.append((elapsed_s, rss))

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per process, in MB: first, at ``WARM_S`` (the first sample from then on, else the
        last), last and max, and ``growth`` = last / warm - 1 (None without samples)."""
        out: dict[str, dict[str, Any]] = {}
        for name in self.pids:
            series = [(t, rss[name]) for t, rss in self.samples if name in rss]
            if not series:
                out[name] = {"samples": 0}
                continue
            warm_t, warm = next(((t, v) for t, v in series if t >= WARM_S), series[-1])
            last_t, last = series[-1]
            out[name] = {
                "samples": len(series),
                "first_mb": series[0][1] / MB,
                "warm_s": warm_t,
                "warm_mb": warm / MB,
                "last_s": last_t,
                "last_mb": last / MB,
                "max_mb": max(v for _, v in series) / MB,
                "growth": last / warm - 1.0 if warm else None,
            }
        return out

    def write_csv(self, path: Path) -> Path:
        """``time_s`` and one column of MB per process (empty where it had ended)."""
        header = ["time_s", *(f"{name}_mb" for name in self.pids)]
        rows = [
            [f"{t:.1f}", *(f"{rss[name] / MB:.2f}" if name in rss else None for name in self.pids)]
            for t, rss in self.samples
        ]
        return write_csv(path, header, rows)


def render_memory(summary: Mapping[str, Mapping[str, Any]]) -> str:
    """One line: each process's RSS from the warm sample to the last, and the change; for a run
    shorter than ``WARM_S``, only the last (start-up growth is not a trend)."""
    sampled = {name: entry for name, entry in summary.items() if entry.get("samples")}
    if not sampled:
        return ""
    first = next(iter(sampled.values()))
    if first["warm_s"] < WARM_S:
        parts = [f"{name} {entry['last_mb']:.0f}" for name, entry in sampled.items()]
        return f"memory (RSS MB at {first['last_s']:.0f} s): " + ", ".join(parts)
    parts = []
    for name, entry in sampled.items():
        growth = entry["growth"]
        change = "" if growth is None else f" ({100 * growth:+.1f}%)"
        parts.append(f"{name} {entry['warm_mb']:.0f}->{entry['last_mb']:.0f}{change}")
    return (
        f"memory (RSS MB, {first['warm_s']:.0f} s -> {first['last_s']:.0f} s): " + ", ".join(parts)
    )


__all__ = ["MEMORY_CSV", "WARM_S", "RssSampler", "render_memory"]

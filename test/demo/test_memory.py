"""The demo's RSS sampling: samples at most every ``every_s``, the summary's warm sample, the
CSV, and the terminal line (a trend only once the run is past its start-up)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from topspark_ros.demo.memory import MB, WARM_S, RssSampler, render_memory


def test_samples_this_process_and_skips_ended_ones(tmp_path: Path) -> None:
    sampler = RssSampler({"me": os.getpid(), "gone": 2**22 + 12345}, every_s=10.0)
    for t in (0.0, 4.0, 10.0, 25.0):
        sampler.sample(t)
    assert [t for t, _ in sampler.samples] == [0.0, 10.0, 25.0]
    assert all(set(rss) == {"me"} and rss["me"] > 10 * MB for _, rss in sampler.samples)
    summary = sampler.summary()
    assert summary["gone"] == {"samples": 0}
    assert summary["me"]["samples"] == 3 and summary["me"]["warm_s"] == 25.0
    lines = sampler.write_csv(tmp_path / "memory.csv").read_text().splitlines()
    assert lines[0] == "time_s,me_mb,gone_mb" and lines[1].endswith(",")


def _entry(warm_s: float, warm_mb: float, last_s: float, last_mb: float) -> dict[str, float]:
    """A summary entry as ``RssSampler.summary`` makes it."""
    growth = last_mb / warm_mb - 1
    return {
        "samples": 9,
        "warm_s": warm_s,
        "warm_mb": warm_mb,
        "last_s": last_s,
        "last_mb": last_mb,
        "growth": growth,
    }


def test_summary_takes_the_first_sample_past_the_warm_up() -> None:
    sampler = RssSampler({"p": 1})
    sampler.samples = [
        (t, {"p": int(mb * MB)}) for t, mb in [(1, 100), (WARM_S + 2, 150), (3600, 153)]
    ]
    entry = sampler.summary()["p"]
    assert (entry["first_mb"], entry["warm_s"], entry["warm_mb"]) == (100, WARM_S + 2, 150)
    assert entry["growth"] == pytest.approx(0.02) and entry["max_mb"] == 153


def test_the_line_shows_a_trend_only_past_the_warm_up() -> None:
    long = {"demo": _entry(302, 139.4, 3594, 141.5), "ended": {"samples": 0}}
    assert render_memory(long) == "memory (RSS MB, 302 s -> 3594 s): demo 139->142 (+1.5%)"
    short = {"demo": _entry(81, 139.0, 81, 139.0)}
    assert render_memory(short) == "memory (RSS MB at 81 s): demo 139"
    assert render_memory({}) == ""

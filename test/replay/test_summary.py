"""The replay summary's terminal lines, and the SI prefixes shared with the plots."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from topspark_ros.replay.metrics import summarize
from topspark_ros.replay.records import ReplayLog
from topspark_ros.replay.summary import render_summary, si_scale

NewLog = Callable[..., ReplayLog]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([2.0, -0.5], (1.0, "J")),
        ([7.9e-3], (1e3, "mJ")),
        ([1.3e-6, float("nan")], (1e6, "uJ")),
        ([4e-9], (1e9, "nJ")),
        ([0.0], (1e12, "pJ")),
        ([], (1e12, "pJ")),
    ],
)
def test_si_scale_puts_the_largest_value_in_1_to_1000(
    values: list[float], expected: tuple[float, str]
) -> None:
    assert si_scale(values, "J") == expected


def test_render_summary(scenario_log: ReplayLog) -> None:
    text = render_summary(summarize(scenario_log))
    lines = text.splitlines()
    assert lines[0] == (
        "600 frames over 60.0 s of bag time in 12.0 s (5.00x real time, 50 frames/s)"
    )
    assert lines[1:] == [
        "accuracy 83.3% of 600 frames (95% CI 80-86%), labelled",
        "  lab   90.0% of 300 frames (95% CI 86-93%)",
        (
            "  field 76.7% of 300 frames (95% CI 72-81%); before learning 50.0% of 100 frames "
            "(95% CI 40-60%, too few frames to judge), after 90.0% of 200 frames (95% CI 85-93%)"
        ),
        "time at T: T=30 25.0%, T=60 41.7%, T=100 33.3% (2 changes)",
        "energy 790 uJ total, 1.32 uJ per frame; SNN latency median 2.39 ms, p99 3.96 ms",
        "battery 80.0% -> 20.0%",
    ]


def test_render_summary_of_an_empty_partial_log(new_log: NewLog) -> None:
    log = new_log(complete=False, stopped="error: bag truncated")
    assert render_summary(summarize(log)).splitlines() == [
        "0 frames over 0.0 s of bag time in 0.0 s (n/a real time)",
        "stopped early: error: bag truncated",
    ]

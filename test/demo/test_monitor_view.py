"""The demo's monitor (node topics -> ReplayLog, over real DDS) and its live view."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from topspark_ros.demo.monitor import BASELINE, DemoMonitor, trim
from topspark_ros.demo.result import energy_ratio
from topspark_ros.demo.view import render
from topspark_ros.graph.wiring import NODES
from topspark_ros.messages import (
    BatteryReading,
    Classification,
    Label,
    LearningStatus,
    TimestepCommand,
)
from topspark_ros.replay.records import ReplayLog
from topspark_ros.ros.dds import DdsTransport

DOMAIN = 100 + os.getpid() % 90
S = 1_000_000_000
NewMonitor = Callable[..., DemoMonitor]


def _log() -> ReplayLog:
    return ReplayLog("demo", "dds", {}, "m.npz", "ab" * 32, 100, True)


def _result(stamp: int, label: int, energy: float, t: int = 100) -> Classification:
    scores = (0.0,) * 10
    return Classification(stamp, "camera", label, 0.5, scores, t, t, 9, 300, 0.2, 1.0, energy, 0)


@pytest.fixture
def new_monitor(tmp_path: Path) -> Iterator[NewMonitor]:
    """DemoMonitor with its spool in tmp_path, closed after the test."""
    made: list[DemoMonitor] = []

    def _new(*args: Any, **kwargs: Any) -> DemoMonitor:
        made.append(DemoMonitor(*args, spool_dir=tmp_path, **kwargs))
        return made[-1]

    yield _new
    for monitor in made:
        monitor.close()


def _ratio(monitor: DemoMonitor) -> tuple[float | None, float | None, float | None]:
    return energy_ratio(monitor.energy, monitor.baseline_energy)


def test_monitor_files_by_type_and_view_renders(new_monitor: NewMonitor) -> None:
    ticks = count(start=10 * S, step=S)
    monitor = new_monitor(_log(), clock=lambda: next(ticks))
    monitor.on_message("mnist")
    monitor.on_message(BatteryReading(0, 0.75))
    monitor.on_message(TimestepCommand(0, 40, 20, TimestepCommand.MODE_SAVING, "battery"))
    for stamp, label in enumerate([1, 2, 3, 4]):
        monitor.on_message(Label(stamp, 1))
        monitor.on_message(_result(stamp, label, 2e-6, 40))
        monitor.on_baseline(_result(stamp, label, 8e-6, 350))
    monitor.on_message(LearningStatus(0, 1, "mnist", "topic", 20, 5, 300, 0, 30, 2, 0.0, ""))
    lines = monitor.read(render)
    assert len(monitor.log.classifications) == 4 and monitor.baseline_energy.frames == 4
    assert "environment mnist" in lines[0] and "battery 75.0%" in lines[0]
    assert "T=40 (saving)" in lines[0]
    assert "frames 4" in lines[1] and "accuracy 25% (recent)" in lines[1]
    assert "2 uJ vs 8 uJ at fixed T (x0.25)" in lines[1]
    assert lines[2] == "learner: learning 'mnist' 5/300 samples, model v2"
    assert monitor.read(_ratio) == pytest.approx((2e-6, 8e-6, 0.25))
    log, baseline = monitor.full_log()
    assert [c.label for _, c in log.classifications] == [1, 2, 3, 4]
    assert [c.timesteps for _, c in baseline] == [350] * 4
    # the spool holds what the totals counted
    assert [c.energy_j for _, c in log.classifications] == [2e-6] * 4
    assert [c.energy_j for _, c in baseline] == [8e-6] * 4


def test_monitor_keeps_only_recent_records_and_spools_all(
    new_monitor: NewMonitor,
) -> None:
    """Memory stays flat: the in-memory log is bounded; the totals and the spool hold it all."""
    ticks = count(start=S, step=S // 30)
    monitor = new_monitor(_log(), clock=lambda: next(ticks), keep=50)
    monitor.on_message("mnist")
    for stamp in range(1000):
        monitor.on_message(Label(stamp, stamp % 10))
        monitor.on_message(_result(stamp, stamp % 10, 1e-6))
        monitor.on_baseline(_result(stamp, 0, 4e-6, 350))
        assert len(monitor.log.classifications) <= 100 and len(monitor.log.labels) <= 100
    lines = monitor.read(render)
    assert "frames 1000" in lines[1] and "accuracy 100% (recent)" in lines[1]
    assert "x0.25" in lines[1]
    log, baseline = monitor.full_log()
    assert [c.stamp_ns for _, c in log.classifications] == list(range(1000))
    assert sorted(log.labels) == list(range(1000)) and log.environments[0][1] == "mnist"
    assert len(baseline) == 1000
    assert (log.start_ns, log.end_ns) == (monitor.log.start_ns, monitor.log.end_ns)
    monitor.on_message(_result(1000, 0, 1e-6))  # filing goes on after a read-back
    assert len(monitor.full_log()[0].classifications) == 1001


def test_trim_keeps_the_last_records_of_each_kind() -> None:
    log = _log()
    for stamp in range(10):
        log.record(Label(stamp, 1), stamp)
        log.record(_result(stamp, 1, 1e-6), stamp)
        log.record(BatteryReading(stamp, 0.5), stamp)
    trim(log, 3)
    assert [t for t, _ in log.classifications] == [7, 8, 9] == [t for t, _ in log.battery]
    assert list(log.labels) == [7, 8, 9]


def test_view_of_an_empty_log(new_monitor: NewMonitor) -> None:
    lines = new_monitor(_log()).read(render)
    assert lines[0].endswith("environment -  battery -  T=-")
    assert "frames 0  accuracy - (recent)" in lines[1] and "x" not in lines[1].split("uJ")[0]


def test_monitor_attaches_to_the_nodes_topics_over_dds(new_monitor: NewMonitor) -> None:
    monitor = new_monitor(_log())
    with DdsTransport(DOMAIN) as watcher, DdsTransport(DOMAIN) as nodes:
        monitor.attach(watcher, NODES.values())
        result = nodes.publisher("classification", Classification)
        baseline = nodes.publisher(f"/{BASELINE}/classification", Classification)
        command = nodes.publisher("timestep_command", TimestepCommand, "latched")
        for publisher in (result, baseline, command):
            assert publisher.wait_matched(5.0)
        command.publish(TimestepCommand(1, 100, 50, 0, "nominal"))
        result.publish(_result(1, 7, 1e-6))
        baseline.publish(_result(1, 7, 3e-6, 350))
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and not (
            monitor.log.classifications and monitor.baseline_energy.frames and monitor.log.commands
        ):
            time.sleep(0.02)
    assert [c.label for _, c in monitor.log.classifications] == [7]
    assert [c.timesteps for _, c in monitor.full_log()[1]] == [350]
    assert [c.timesteps for _, c in monitor.log.commands] == [100]

"""The demo's monitor (node topics -> ReplayLog, over real DDS) and its live view."""

from __future__ import annotations

import os
import time
from itertools import count

import pytest

from topspark_ros.demo.monitor import BASELINE, DemoMonitor
from topspark_ros.demo.view import energy_ratio, render
from topspark_ros.nodes.messages import (
    BatteryReading,
    Classification,
    Label,
    LearningStatus,
    TimestepCommand,
)
from topspark_ros.replay.records import ReplayLog
from topspark_ros.ros.dds import DdsTransport
from topspark_ros.ros.wiring import NODES

DOMAIN = 100 + os.getpid() % 90
S = 1_000_000_000


def _log() -> ReplayLog:
    return ReplayLog("demo", "dds", {}, "m.npz", "ab" * 32, 100, True)


def _result(stamp: int, label: int, energy: float, t: int = 100) -> Classification:
    scores = (0.0,) * 10
    return Classification(stamp, "camera", label, 0.5, scores, t, t, 9, 300, 0.2, 1.0, energy, 0)


def test_monitor_files_by_type_and_view_renders() -> None:
    ticks = count(start=10 * S, step=S)
    monitor = DemoMonitor(_log(), clock=lambda: next(ticks))
    monitor.on_message("mnist")
    monitor.on_message(BatteryReading(0, 0.75))
    monitor.on_message(TimestepCommand(0, 40, 20, TimestepCommand.MODE_SAVING, "battery"))
    for stamp, label in enumerate([1, 2, 3, 4]):
        monitor.on_message(Label(stamp, 1))
        monitor.on_message(_result(stamp, label, 2e-6, 40))
        monitor.on_baseline(_result(stamp, label, 8e-6, 350))
    monitor.on_message(LearningStatus(0, 1, "mnist", "topic", 20, 5, 300, 0, 30, 2, 0.0, ""))
    lines = monitor.read(render)
    assert len(monitor.log.classifications) == 4 and len(monitor.baseline) == 4
    assert "environment mnist" in lines[0] and "battery 75.0%" in lines[0]
    assert "T=40 (saving)" in lines[0]
    assert "frames 4" in lines[1] and "accuracy 25% (recent)" in lines[1]
    assert "2 uJ vs 8 uJ at fixed T (x0.25)" in lines[1]
    assert lines[2] == "learner: learning 'mnist' 5/300 samples, model v2"
    assert monitor.read(energy_ratio) == pytest.approx((2e-6, 8e-6, 0.25))


def test_view_of_an_empty_log() -> None:
    lines = render(_log(), [])
    assert lines[0].endswith("environment -  battery -  T=-")
    assert "frames 0  accuracy - (recent)" in lines[1] and "x" not in lines[1].split("uJ")[0]


def test_monitor_attaches_to_the_nodes_topics_over_dds() -> None:
    monitor = DemoMonitor(_log())
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
            monitor.log.classifications and monitor.baseline and monitor.log.commands
        ):
            time.sleep(0.02)
    assert [c.label for _, c in monitor.log.classifications] == [7]
    assert [c.timesteps for _, c in monitor.baseline] == [350]
    assert [c.timesteps for _, c in monitor.log.commands] == [100]

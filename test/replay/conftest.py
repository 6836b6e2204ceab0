"""Hand-made replay logs shared by the metrics and report tests: no bag, no network."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from topspark_ros.messages import (
    BatteryReading,
    Classification,
    Label,
    LearningStatus,
    ModelUpdate,
    TimestepCommand,
)
from topspark_ros.replay.records import ReplayLog

S = 1_000_000_000  # ns per second
START = 5 * S  # bag time of the scenario's first message


def make_result(stamp_ns: int, label: int, **kw: Any) -> Classification:
    """A classification of the image stamped ``stamp_ns`` as ``label``; ``kw`` overrides."""
    values: dict[str, Any] = {
        "stamp_ns": stamp_ns,
        "frame_id": "camera",
        "label": label,
        "confidence": 0.8,
        "scores": (),
        "timesteps": 100,
        "timesteps_used": 100,
        "spike_count": 40,
        "input_spikes": 300,
        "latency_ms": 2.0,
        "pipeline_ms": 3.0,
        "energy_j": 1e-6,
        "model_version": 0,
    }
    values.update(kw)
    return Classification(**values)


def make_command(stamp_ns: int, timesteps: int, mode: int = 0) -> TimestepCommand:
    """A timestep command for T = ``timesteps`` in ``mode``."""
    return TimestepCommand(stamp_ns, timesteps, timesteps, mode, "test")


def make_log(**kw: Any) -> ReplayLog:
    """An empty log over a fictional bag; ``kw`` sets fields."""
    log = ReplayLog(
        "/bags/run1", "sqlite3", {"image": "/camera/image"}, "model.npz", "ab" * 32, 60, learn=True
    )
    for key, value in kw.items():
        setattr(log, key, value)
    return log


@pytest.fixture
def result() -> Callable[..., Classification]:
    """``make_result``: a classification with test defaults."""
    return make_result


@pytest.fixture
def command() -> Callable[..., TimestepCommand]:
    """``make_command``: a timestep command."""
    return make_command


@pytest.fixture
def new_log() -> Callable[..., ReplayLog]:
    """``make_log``: an empty log, fields set by keyword."""
    return make_log


def make_scenario_log() -> ReplayLog:
    """60 s of bag time at 10 frames/s: "lab" then, from 30 s, "field", where accuracy drops
    until a model update at 40 s; T 100 -> 60 (saving, 20 s) -> 30 (critical, 45 s); a Gazebo
    battery (0..100) falling from 80 to 20; labels on every frame, 90 % right (50 % in the field
    before the update); 20 s of the bag not replayed."""
    log = make_log(
        start_ns=START,
        end_ns=START + 60 * S,
        bag_start_ns=START,
        bag_end_ns=START + 80 * S,
        wall_s=12.0,
    )
    log.environments = [(START, "lab"), (START + 30 * S, "field")]
    log.commands = [
        (START, make_command(START, 100)),
        (START + 20 * S, make_command(0, 60, 1)),
        (START + 45 * S, make_command(0, 30, 2)),
    ]
    log.updates = [(START + 40 * S, ModelUpdate(0, 1, "/ckpt/v1.npz", "cd" * 32, "field", 200))]
    log.statuses = [
        (
            START + 32 * S,
            LearningStatus(
                0,
                LearningStatus.STATE_LEARNING,
                "field",
                "novelty",
                100,
                0,
                200,
                0,
                6,
                0,
                0.7,
                "go",
            ),
        )
    ]
    for k in range(600):
        t = START + k * S // 10
        stamp = t - 20_000_000
        field, learned = k >= 300, k >= 400
        right = k % 2 == 0 if field and not learned else k % 10 != 9  # 50 % or 90 % right
        truth = k * 7 % 10
        guess = truth if right else (truth + 1) % 10
        timesteps = 100 if k < 200 else 60 if k < 450 else 30
        log.classifications.append(
            (
                t,
                make_result(
                    stamp,
                    guess,
                    timesteps=timesteps,
                    timesteps_used=timesteps,
                    latency_ms=0.03 * timesteps + k * 37 % 100 / 100,
                    pipeline_ms=0.03 * timesteps + 1.5,
                    energy_j=timesteps * 2e-8,
                    model_version=int(learned),
                ),
            )
        )
        log.labels[stamp] = Label(stamp, truth)
    for k in range(61):
        t = START + k * S
        log.battery.append((t, BatteryReading(t, 80.0 - k, voltage=12.0, current=1.5)))
    log.skip("no label", 3)
    return log


@pytest.fixture
def scenario_log() -> ReplayLog:
    """``make_scenario_log``: a minute of lab then field frames, commands, battery, an update."""
    return make_scenario_log()

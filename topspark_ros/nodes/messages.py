"""Plain data the node logic takes and returns; field names mirror ``msg/`` and the standard types.

A ROS header becomes ``stamp_ns`` (nanoseconds of the header stamp) and ``frame_id``, so the
adapters can convert every message with one generic function and no per-type code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

# diagnostic_msgs/DiagnosticStatus levels
OK, WARN, ERROR, STALE = 0, 1, 2, 3


class LoggerLike(Protocol):
    """What node logic logs through: ``logging.Logger`` and rclpy's logger both fit."""

    def info(self, msg: str) -> object: ...

    def warning(self, msg: str) -> object: ...

    def error(self, msg: str) -> object: ...


@dataclass(frozen=True)
class ImageFrame:
    """A ``sensor_msgs/Image``: ``data`` holds ``step`` bytes per row for ``height`` rows."""

    stamp_ns: int
    frame_id: str
    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: bytes | npt.NDArray[np.uint8]


@dataclass(frozen=True)
class BatteryReading:
    """The fields of ``sensor_msgs/BatteryState`` the timestep manager uses, as received.

    ``percentage`` is 0..1 by the standard (NaN: unknown; Gazebo sends 0..100); ``current`` is
    negative when discharging by the standard (Gazebo sends it positive); A, Ah, V.
    """

    stamp_ns: int
    percentage: float
    voltage: float = float("nan")
    current: float = float("nan")
    charge: float = float("nan")
    capacity: float = float("nan")
    design_capacity: float = float("nan")
    present: bool = True
    power_supply_status: int = 0
    frame_id: str = ""


@dataclass(frozen=True)
class TimestepCommand:
    """``topspark_ros/TimestepCommand``: the T to run and why."""

    MODE_NOMINAL = 0
    MODE_SAVING = 1
    MODE_CRITICAL = 2
    MODE_FALLBACK = 3

    stamp_ns: int
    timesteps: int
    train_timesteps: int
    mode: int
    reason: str
    battery_fraction: float = float("nan")
    energy_budget_j: float = float("nan")
    latency_deadline_ms: float = float("nan")
    expected_accuracy: float = float("nan")
    expected_latency_ms: float = float("nan")
    expected_energy_j: float = float("nan")
    frame_id: str = ""


@dataclass(frozen=True)
class Classification:
    """``topspark_ros/Classification``: one image's class and what answering it cost."""

    stamp_ns: int
    frame_id: str
    label: int
    confidence: float
    scores: tuple[float, ...]
    timesteps: int
    timesteps_used: int
    spike_count: int
    input_spikes: int
    latency_ms: float
    pipeline_ms: float
    energy_j: float
    model_version: int


@dataclass(frozen=True)
class LearningStatus:
    """``topspark_ros/LearningStatus``: what the online learner is doing."""

    STATE_IDLE = 0
    STATE_LEARNING = 1
    STATE_LABELLING = 2
    STATE_CHECKPOINT = 3

    stamp_ns: int
    state: int
    environment: str
    trigger: str
    train_timesteps: int
    samples_learned: int
    samples_target: int
    labelled_samples: int
    plastic_neurons: int
    model_version: int
    novelty: float
    message: str
    frame_id: str = ""


@dataclass(frozen=True)
class ModelUpdate:
    """``topspark_ros/ModelUpdate``: a checkpoint to reload."""

    stamp_ns: int
    version: int
    path: str
    sha256: str
    environment: str
    samples_seen: int
    frame_id: str = ""


@dataclass(frozen=True)
class Label:
    """``topspark_ros/Label``: the true class of the image stamped ``stamp_ns``."""

    stamp_ns: int
    label: int
    environment: str = ""
    frame_id: str = ""


@dataclass(frozen=True)
class DiagnosticStatus:
    """``diagnostic_msgs/DiagnosticStatus``: level OK/WARN/ERROR/STALE, one-line message."""

    level: int
    name: str
    message: str
    hardware_id: str = ""
    values: tuple[tuple[str, str], ...] = field(default_factory=tuple)


__all__ = [
    "ERROR",
    "OK",
    "STALE",
    "WARN",
    "BatteryReading",
    "Classification",
    "DiagnosticStatus",
    "ImageFrame",
    "Label",
    "LearningStatus",
    "LoggerLike",
    "ModelUpdate",
    "TimestepCommand",
]

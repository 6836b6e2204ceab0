"""The package's shared vocabulary: the plain data every layer exchanges, with ROS type names.

Field names mirror ``msg/`` and the standard types; each dataclass names its ROS message type in
``ROS_TYPE`` and repeats its ``msg/`` constants. A ROS header becomes ``stamp_ns`` (nanoseconds
of the header stamp) and ``frame_id``, so the adapters can convert every message with one
generic function and no per-type code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar, Protocol

import numpy as np
import numpy.typing as npt

from topspark_ros.errors import TransportError

NS_PER_S = 1_000_000_000  # every stamp and message time is integer nanoseconds
STRING_TYPE = "std_msgs/msg/String"  # carried as plain text (the environment name)

# diagnostic_msgs/DiagnosticStatus levels
OK, WARN, ERROR, STALE = 0, 1, 2, 3
# sensor_msgs/BatteryState power_supply_status values used here
STATUS_CHARGING, STATUS_DISCHARGING, STATUS_NOT_CHARGING = 1, 2, 3


class _WireEnum(IntEnum):
    """A message's set of constants: the number goes on the wire, the lower-case name into
    logs and reports."""

    @property
    def text(self) -> str:
        """The lower-case name, as logs, diagnostics and report files show it."""
        return self.name.lower()

    @classmethod
    def text_of(cls, value: int) -> str:
        """The ``text`` of the member ``value`` (a received number); the number itself when no
        member has it."""
        try:
            return cls(value).text
        except ValueError:
            return str(value)


class TimestepMode(_WireEnum):
    """``TimestepCommand.mode``: the battery mode the timestep manager chose T in."""

    NOMINAL = 0
    SAVING = 1
    CRITICAL = 2
    FALLBACK = 3


class LearningState(_WireEnum):
    """``LearningStatus.state``: what the online learner is doing."""

    IDLE = 0
    LEARNING = 1
    LABELLING = 2
    CHECKPOINT = 3


class LoggerLike(Protocol):
    """What node logic logs through: ``logging.Logger`` and rclpy's logger both fit."""

    def info(self, msg: str) -> object: ...

    def warning(self, msg: str) -> object: ...

    def error(self, msg: str) -> object: ...


@dataclass(frozen=True)
class ImageFrame:
    """A ``sensor_msgs/Image``: ``data`` holds ``step`` bytes per row for ``height`` rows."""

    ROS_TYPE: ClassVar[str] = "sensor_msgs/msg/Image"

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

    ROS_TYPE: ClassVar[str] = "sensor_msgs/msg/BatteryState"

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
    """``topspark_ros/TimestepCommand``: the T to run and why; ``mode`` a ``TimestepMode``."""

    ROS_TYPE: ClassVar[str] = "topspark_ros/msg/TimestepCommand"
    MODE_NOMINAL: ClassVar[TimestepMode] = TimestepMode.NOMINAL
    MODE_SAVING: ClassVar[TimestepMode] = TimestepMode.SAVING
    MODE_CRITICAL: ClassVar[TimestepMode] = TimestepMode.CRITICAL
    MODE_FALLBACK: ClassVar[TimestepMode] = TimestepMode.FALLBACK

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

    ROS_TYPE: ClassVar[str] = "topspark_ros/msg/Classification"

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
    """``topspark_ros/LearningStatus``: what the online learner is doing; ``state`` a
    ``LearningState``."""

    ROS_TYPE: ClassVar[str] = "topspark_ros/msg/LearningStatus"
    STATE_IDLE: ClassVar[LearningState] = LearningState.IDLE
    STATE_LEARNING: ClassVar[LearningState] = LearningState.LEARNING
    STATE_LABELLING: ClassVar[LearningState] = LearningState.LABELLING
    STATE_CHECKPOINT: ClassVar[LearningState] = LearningState.CHECKPOINT

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

    ROS_TYPE: ClassVar[str] = "topspark_ros/msg/ModelUpdate"

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

    ROS_TYPE: ClassVar[str] = "topspark_ros/msg/Label"

    stamp_ns: int
    label: int
    environment: str = ""
    frame_id: str = ""


@dataclass(frozen=True)
class DiagnosticStatus:
    """``diagnostic_msgs/DiagnosticStatus``: level OK/WARN/ERROR/STALE, one-line message."""

    ROS_TYPE: ClassVar[str] = "diagnostic_msgs/msg/DiagnosticStatus"

    level: int
    name: str
    message: str
    hardware_id: str = ""
    values: tuple[tuple[str, str], ...] = field(default_factory=tuple)


# The ROS message type of each plain dataclass above.
MESSAGE_TYPES: Mapping[type, str] = {
    cls: cls.ROS_TYPE
    for cls in (
        ImageFrame,
        BatteryReading,
        TimestepCommand,
        Classification,
        LearningStatus,
        ModelUpdate,
        Label,
        DiagnosticStatus,
    )
}


def typename_of(plain: type) -> str:
    """The ROS message type of a dataclass of this module; TransportError for any other type."""
    try:
        return MESSAGE_TYPES[plain]
    except KeyError:
        raise TransportError(f"no ROS message type for {plain.__name__}") from None


__all__ = [
    "ERROR",
    "MESSAGE_TYPES",
    "NS_PER_S",
    "OK",
    "STALE",
    "STATUS_CHARGING",
    "STATUS_DISCHARGING",
    "STATUS_NOT_CHARGING",
    "STRING_TYPE",
    "WARN",
    "BatteryReading",
    "Classification",
    "DiagnosticStatus",
    "ImageFrame",
    "Label",
    "LearningState",
    "LearningStatus",
    "LoggerLike",
    "ModelUpdate",
    "TimestepCommand",
    "TimestepMode",
    "typename_of",
]

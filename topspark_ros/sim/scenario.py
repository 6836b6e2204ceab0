"""A test scenario for a robot: a camera watching dataset images, their labels, a draining battery
and environment switches (e.g. MNIST, then Fashion-MNIST), as timed plain messages.

The parts are separate so a live simulated robot can reuse them: ``EnvironmentSchedule`` (which
environment at time t), ``FrameSource`` (a dataset's images in a seeded shuffled cycle, rendered
as camera frames with their labels) and ``BatteryModel`` (linear drain plus noise, a function of
time). ``scenario_messages`` merges them into the time-ordered stream a scenario bag holds.
Times are nanoseconds; every header stamp equals its message's bag time.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from topspark_ros.config import spec
from topspark_ros.data.datasets import DATASETS, IMAGE_SHAPE, Dataset
from topspark_ros.data.sample import load_data
from topspark_ros.errors import DataError
from topspark_ros.messages import (
    NS_PER_S,
    STATUS_DISCHARGING,
    STATUS_NOT_CHARGING,
    STRING_TYPE,
    BatteryReading,
    ImageFrame,
    Label,
    typename_of,
)
from topspark_ros.sim.render import RENDER_ENCODINGS, render_frame

SCENARIO_SPLIT = "test"  # scenario images: the split the models never trained on
_NAMES = ", ".join(DATASETS)

# One scenario message: bag time (ns), topic, ROS type name and the plain value to serialise.
Message = tuple[int, str, str, object]


@dataclass(frozen=True)
class ScenarioConfig:
    """What a scenario holds: its length, camera, battery, environments and topic names."""

    duration_s: float = field(default=300.0, metadata=spec("scenario length (s)", 0.001, 1e6))
    rate_hz: float = field(
        default=30.0,
        metadata=spec("camera frame rate (Hz); sim_robot ticks every 10 ms", 0.1, 100.0),
    )
    environments: str = field(
        default="mnist,fashion-mnist",
        metadata=spec(f"datasets shown in turn, equal time each (comma list of {_NAMES})"),
    )
    width: int = field(default=640, metadata=spec("camera image width (px)", 1, 10_000))
    height: int = field(default=480, metadata=spec("camera image height (px)", 1, 10_000))
    encoding: str = field(
        default="bgr8", metadata=spec("camera encoding", choices=RENDER_ENCODINGS)
    )
    scale: int = field(
        default=8, metadata=spec("the 28x28 image is enlarged this many times", 1, 300)
    )
    random_position: bool = field(
        default=True, metadata=spec("place each image at a random position; false: centred")
    )
    background: int = field(default=0, metadata=spec("gray level around the image", 0, 255))
    invert: bool = field(
        default=False, metadata=spec("dark objects on a light background (inverted frame)")
    )
    frame_id: str = field(default="camera", metadata=spec("frame_id of the camera images"))
    battery_start: float = field(
        default=1.0, metadata=spec("battery charge fraction at the start", 0.0, 1.0)
    )
    battery_end: float = field(
        default=0.15, metadata=spec("battery charge fraction at the end (linear drain)", 0.0, 1.0)
    )
    battery_rate_hz: float = field(
        default=2.0, metadata=spec("battery state rate (Hz)", 0.01, 100.0)
    )
    battery_noise: float = field(
        default=0.005,
        metadata=spec("noise (std) of the reported charge fraction", 0.0, 0.5),
    )
    battery_capacity_wh: float = field(
        default=23.1,  # 2 Ah at the nominal 11.55 V
        metadata=spec(
            "battery energy when full (Wh); BatteryState gives Ah at the mean voltage", 0.001, 1e5
        ),
    )
    battery_voltage_full: float = field(
        default=12.6, metadata=spec("battery voltage when full (V); 3S LiPo", 0.1, 1000.0)
    )
    battery_voltage_empty: float = field(
        default=10.5, metadata=spec("battery voltage when empty (V)", 0.0, 1000.0)
    )
    battery_frame_id: str = field(
        default="battery", metadata=spec("frame_id of the battery states")
    )
    seed: int = field(
        default=0,
        metadata=spec(
            "seed of the image order and placement, and of a bag's battery noise", 0, 2**31 - 1
        ),
    )
    start_time_s: int = field(
        default=1_700_000_000,
        metadata=spec("first message time (s since the epoch)", 0, 4_000_000_000),
    )
    camera_topic: str = field(default="/camera/image_raw", metadata=spec("camera image topic"))
    battery_topic: str = field(default="/battery_state", metadata=spec("battery state topic"))
    label_topic: str = field(default="/label", metadata=spec("true label topic"))
    environment_topic: str = field(
        default="/environment", metadata=spec("environment name topic (std_msgs/String)")
    )

    def __post_init__(self) -> None:
        # ValueError: config.from_mapping turns it into a ConfigError naming the source.
        names = self.environment_names
        unknown = [name for name in names if name not in DATASETS]
        if not names or unknown:
            raise ValueError(
                f"environments must be a comma list of {', '.join(DATASETS)}, "
                f"got {self.environments!r}"
            )
        size_w, size_h = IMAGE_SHAPE[1] * self.scale, IMAGE_SHAPE[0] * self.scale
        if size_w > self.width or size_h > self.height:
            raise ValueError(
                f"scale {self.scale} makes the image {size_w}x{size_h}, larger than the "
                f"{self.width}x{self.height} frame"
            )
        if self.battery_end > self.battery_start:
            raise ValueError(
                f"battery_end ({self.battery_end}) must be <= battery_start "
                f"({self.battery_start}): the battery drains"
            )
        if self.battery_voltage_empty > self.battery_voltage_full:
            raise ValueError(
                f"battery_voltage_empty ({self.battery_voltage_empty}) must be <= "
                f"battery_voltage_full ({self.battery_voltage_full})"
            )
        topics = self.topics
        for topic in topics:
            if not topic.startswith("/") or topic.endswith("/") or " " in topic:
                raise ValueError(f"topic {topic!r} must be an absolute ROS name like /camera")
        if len(set(topics)) != len(topics):
            raise ValueError(f"topics must differ, got {', '.join(topics)}")

    @property
    def environment_names(self) -> tuple[str, ...]:
        """The environments in order, from the comma list."""
        return tuple(name.strip() for name in self.environments.split(",") if name.strip())

    @property
    def topics(self) -> tuple[str, ...]:
        """Camera, label, battery and environment topics."""
        return (self.camera_topic, self.label_topic, self.battery_topic, self.environment_topic)

    @property
    def duration_ns(self) -> int:
        """The scenario length (ns)."""
        return round(self.duration_s * NS_PER_S)

    @property
    def start_ns(self) -> int:
        """Bag time of the first message (ns since the epoch)."""
        return self.start_time_s * NS_PER_S

    @property
    def battery_nominal_voltage(self) -> float:
        """The mean of full and empty voltage (V): converts Wh to the Ah BatteryState reports."""
        return 0.5 * (self.battery_voltage_full + self.battery_voltage_empty)

    @property
    def battery_capacity_ah(self) -> float:
        """The battery capacity (Ah) at the nominal voltage."""
        return self.battery_capacity_wh / self.battery_nominal_voltage

    @property
    def battery_capacity_j(self) -> float:
        """The battery energy when full (J)."""
        return self.battery_capacity_wh * 3600.0


def tick_times(rate_hz: float, duration_ns: int) -> list[int]:
    """Times (ns from the start) of a clock ticking at ``rate_hz`` from 0 until ``duration_ns``."""
    count = math.ceil(duration_ns * rate_hz / NS_PER_S) + 1
    times = (round(k * NS_PER_S / rate_hz) for k in range(count))
    return [t for t in times if t < duration_ns]


@dataclass(frozen=True)
class EnvironmentSchedule:
    """Environments ``names`` in turn, each for an equal share of ``duration_ns``."""

    names: tuple[str, ...]
    duration_ns: int

    def __post_init__(self) -> None:
        if not self.names or self.duration_ns <= 0:
            raise ValueError("a schedule needs environments and a positive duration")

    @classmethod
    def from_config(cls, cfg: ScenarioConfig) -> EnvironmentSchedule:
        """The schedule of a scenario."""
        return cls(cfg.environment_names, cfg.duration_ns)

    def start_of(self, index: int) -> int:
        """When (ns from the start) environment ``index`` begins: the first ns not before
        ``index`` shares of the duration, so ``index_at(start_of(i)) == i``."""
        return -(-index * self.duration_ns // len(self.names))

    def index_at(self, t_ns: int) -> int:
        """The environment index at ``t_ns`` (the first before 0, the last after the end)."""
        index = int(t_ns) * len(self.names) // self.duration_ns
        return min(max(index, 0), len(self.names) - 1)

    def at(self, t_ns: int) -> str:
        """The name of the environment shown at ``t_ns``."""
        return self.names[self.index_at(t_ns)]

    def switches(self) -> list[tuple[int, str]]:
        """(start ns, name) of every environment in turn, the first at 0."""
        return [(self.start_of(i), name) for i, name in enumerate(self.names)]


class FrameSource:
    """One dataset's images in a seeded shuffled cycle, rendered as the scenario's camera frames.

    Each pass over the dataset is a fresh permutation; positions (if random) come from the same
    seeded generator, so the frames depend only on the dataset, the config and ``seed``.
    """

    def __init__(
        self, dataset: Dataset, cfg: ScenarioConfig, rng: np.random.Generator | None = None
    ) -> None:
        """Frames of ``dataset`` as ``cfg`` renders them, drawn with ``rng`` (default: the
        dataset's own stream of ``cfg.seed``, so each environment's frames ignore the others)."""
        if len(dataset) == 0:
            raise DataError(f"dataset {dataset.name} ({dataset.split}) has no images")
        if rng is None:
            stream = DATASETS.index(dataset.name) if dataset.name in DATASETS else len(DATASETS)
            rng = np.random.default_rng([cfg.seed, stream])
        self.rng = rng
        self.dataset = dataset
        self.cfg = cfg
        self._order = np.empty(0, np.int64)
        self._next = 0

    def next_index(self) -> int:
        """The dataset index of the next image (a new permutation after each pass)."""
        if self._next >= self._order.size:
            self._order = self.rng.permutation(len(self.dataset))
            self._next = 0
        index = int(self._order[self._next])
        self._next += 1
        return index

    def next(self, stamp_ns: int, environment: str = "") -> tuple[ImageFrame, Label]:
        """The next camera frame stamped ``stamp_ns`` and its true label."""
        cfg = self.cfg
        index = self.next_index()
        frame = render_frame(
            self.dataset.images[index],
            stamp_ns,
            cfg.width,
            cfg.height,
            cfg.encoding,
            cfg.scale,
            rng=self.rng if cfg.random_position else None,
            background=cfg.background,
            invert=cfg.invert,
            frame_id=cfg.frame_id,
        )
        label = Label(stamp_ns, int(self.dataset.labels[index]), environment, cfg.frame_id)
        return frame, label


def linear_voltage(fraction: float, voltage_full: float, voltage_empty: float) -> float:
    """A simulated battery's voltage (V): linear from empty to full in the charge fraction."""
    return voltage_empty + (voltage_full - voltage_empty) * fraction


def simulated_state(
    stamp_ns: int,
    fraction: float,
    voltage: float,
    current: float,
    capacity: float,
    frame_id: str,
) -> BatteryReading:
    """The ``BatteryState`` a simulated battery reports: charge ``fraction`` 0..1, ``current``
    (A, negative while discharging), ``capacity`` (Ah); discharging while current flows, else
    not charging."""
    return BatteryReading(
        stamp_ns=stamp_ns,
        percentage=fraction,
        voltage=voltage,
        current=current,
        charge=fraction * capacity,
        capacity=capacity,
        design_capacity=capacity,
        present=True,
        power_supply_status=STATUS_DISCHARGING if current < 0.0 else STATUS_NOT_CHARGING,
        frame_id=frame_id,
    )


@dataclass(frozen=True)
class BatteryModel:
    """A battery draining linearly from ``start`` to ``end`` (charge fractions) over
    ``duration_s``, then on at the same rate until empty; readings add Gaussian noise."""

    start: float
    end: float
    duration_s: float
    noise: float = 0.0
    capacity_ah: float = 2.0
    voltage_full: float = 12.6
    voltage_empty: float = 10.5
    frame_id: str = "battery"

    @classmethod
    def from_config(cls, cfg: ScenarioConfig) -> BatteryModel:
        """The battery of a scenario."""
        return cls(
            cfg.battery_start,
            cfg.battery_end,
            cfg.duration_s,
            cfg.battery_noise,
            cfg.battery_capacity_ah,
            cfg.battery_voltage_full,
            cfg.battery_voltage_empty,
            cfg.battery_frame_id,
        )

    @property
    def drain_per_s(self) -> float:
        """Charge fraction lost per second."""
        return (self.start - self.end) / self.duration_s

    def fraction(self, t_s: float) -> float:
        """The true charge fraction 0..1 at ``t_s`` seconds from the start."""
        return min(max(self.start - self.drain_per_s * max(t_s, 0.0), 0.0), 1.0)

    def current(self, t_s: float) -> float:
        """Current (A) at ``t_s``: negative while discharging, 0 once empty or not draining."""
        if self.drain_per_s <= 0.0 or self.fraction(t_s) <= 0.0:
            return 0.0
        return -self.drain_per_s * self.capacity_ah * 3600.0

    def reading(
        self, t_ns: int, stamp_ns: int, rng: np.random.Generator | None = None
    ) -> BatteryReading:
        """A ``sensor_msgs/BatteryState`` at ``t_ns`` from the start, stamped ``stamp_ns``; the
        reported fraction gets noise from ``rng`` (none without one), clipped to 0..1."""
        t_s = t_ns / NS_PER_S
        fraction = self.fraction(t_s)
        if rng is not None and self.noise > 0.0:
            fraction = min(max(fraction + float(rng.normal(0.0, self.noise)), 0.0), 1.0)
        voltage = linear_voltage(fraction, self.voltage_full, self.voltage_empty)
        return simulated_state(
            stamp_ns, fraction, voltage, self.current(t_s), self.capacity_ah, self.frame_id
        )


def frame_times(cfg: ScenarioConfig) -> list[int]:
    """Times (ns from the start) of the scenario's camera frames."""
    return tick_times(cfg.rate_hz, cfg.duration_ns)


def battery_times(cfg: ScenarioConfig) -> list[int]:
    """Times (ns from the start) of the scenario's battery states."""
    return tick_times(cfg.battery_rate_hz, cfg.duration_ns)


def message_counts(cfg: ScenarioConfig) -> dict[str, int]:
    """How many messages ``scenario_messages`` yields on each topic."""
    frames = len(frame_times(cfg))
    return {
        cfg.environment_topic: len(cfg.environment_names),
        cfg.camera_topic: frames,
        cfg.label_topic: frames,
        cfg.battery_topic: len(battery_times(cfg)),
    }


# Order of messages that share a bag time: the environment switch first, then the frame and its
# label, then the battery state.
_ENVIRONMENT, _FRAME, _BATTERY = 0, 1, 2
_BATTERY_STREAM = 1000  # seed stream of the battery noise (datasets use their DATASETS index)
_Event = tuple[int, int, list[Message]]


def _environment_events(cfg: ScenarioConfig, schedule: EnvironmentSchedule) -> Iterator[_Event]:
    for t, name in schedule.switches():
        stamp = cfg.start_ns + t
        yield t, _ENVIRONMENT, [(stamp, cfg.environment_topic, STRING_TYPE, name)]


def _frame_events(
    cfg: ScenarioConfig, schedule: EnvironmentSchedule, datasets: Mapping[str, Dataset]
) -> Iterator[_Event]:
    sources = {name: FrameSource(datasets[name], cfg) for name in dict.fromkeys(schedule.names)}
    for t in frame_times(cfg):
        stamp = cfg.start_ns + t
        name = schedule.at(t)
        frame, label = sources[name].next(stamp, name)
        yield (
            t,
            _FRAME,
            [
                (stamp, cfg.camera_topic, typename_of(ImageFrame), frame),
                (stamp, cfg.label_topic, typename_of(Label), label),
            ],
        )


def _battery_events(cfg: ScenarioConfig) -> Iterator[_Event]:
    battery = BatteryModel.from_config(cfg)
    rng = np.random.default_rng([cfg.seed, _BATTERY_STREAM])
    for t in battery_times(cfg):
        stamp = cfg.start_ns + t
        reading = battery.reading(t, stamp, rng)
        yield t, _BATTERY, [(stamp, cfg.battery_topic, typename_of(BatteryReading), reading)]


def load_environments(
    names: tuple[str, ...], data_dir: str | Path | None = None, embedded: bool = False
) -> dict[str, Dataset]:
    """The test split of each named dataset (models never trained on it), from ``data_dir`` or
    the embedded sample."""
    return {
        name: load_data(name, SCENARIO_SPLIT, data_dir, embedded, None)
        for name in dict.fromkeys(names)
    }


def scenario_messages(cfg: ScenarioConfig, datasets: Mapping[str, Dataset]) -> Iterator[Message]:
    """Every message of the scenario in time order: (bag time ns, topic, type name, value).

    ``datasets`` maps each environment name to its images. The environment's name (a
    ``std_msgs/String``) comes at 0 and at each switch, before the first frame it applies to;
    each frame is followed by its ``Label`` (same stamp); battery states at their own rate.
    """
    schedule = EnvironmentSchedule.from_config(cfg)
    missing = [name for name in schedule.names if name not in datasets]
    if missing:
        raise DataError(f"no images given for environment(s) {', '.join(missing)}")
    events = heapq.merge(
        _environment_events(cfg, schedule),
        _frame_events(cfg, schedule, datasets),
        _battery_events(cfg),
        key=lambda event: (event[0], event[1]),
    )
    for _, _, messages in events:
        yield from messages


__all__ = [
    "SCENARIO_SPLIT",
    "BatteryModel",
    "EnvironmentSchedule",
    "FrameSource",
    "Message",
    "ScenarioConfig",
    "battery_times",
    "frame_times",
    "linear_voltage",
    "load_environments",
    "message_counts",
    "scenario_messages",
    "simulated_state",
    "tick_times",
]

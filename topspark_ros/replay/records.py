"""What a replay saw and produced, in bag-time order: the input to every report file."""

from __future__ import annotations

from dataclasses import dataclass, field

from topspark_ros.errors import stop_reason
from topspark_ros.messages import (
    NS_PER_S,
    BatteryReading,
    Classification,
    Label,
    LearningStatus,
    ModelUpdate,
    TimestepCommand,
)

# Roles of the input topics a replay reads.
IMAGE, BATTERY, LABEL, ENVIRONMENT = "image", "battery", "label", "environment"
BAG_TIME = "bag time"  # ReplayLog.clock of a bag replay (a live run's is "time")
INTERRUPTED = stop_reason()  # ReplayLog.stopped of a run ended by Ctrl-C
DEFAULT_ENVIRONMENT = "default"  # before any environment message and without labels naming one


@dataclass
class ReplayLog:
    """Inputs the nodes took and outputs they gave during one replay, each with its bag time (ns).

    ``labels`` maps an image's header stamp (ns) to its label. ``environments`` lists environment
    switches from the environment topic. ``skipped`` counts messages not used, by reason.
    ``complete`` is False when the replay stopped early; ``stopped`` then says why.
    """

    source: str
    storage: str
    topics: dict[str, str]  # role -> input topic name
    model: str
    model_sha256: str
    neurons: int
    learn: bool
    start_ns: int = 0  # bag time of the first message replayed
    end_ns: int = 0  # bag time of the last message replayed
    bag_start_ns: int = 0  # the whole bag's span, for progress and speed
    bag_end_ns: int = 0
    classifications: list[tuple[int, Classification]] = field(default_factory=list)
    commands: list[tuple[int, TimestepCommand]] = field(default_factory=list)
    statuses: list[tuple[int, LearningStatus]] = field(default_factory=list)
    updates: list[tuple[int, ModelUpdate]] = field(default_factory=list)
    battery: list[tuple[int, BatteryReading]] = field(default_factory=list)
    labels: dict[int, Label] = field(default_factory=dict)
    environments: list[tuple[int, str]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    clock: str = BAG_TIME  # what the times are: a bag's, or "time" for a live run (the demo)
    complete: bool = True
    stopped: str = ""
    stop_code: int = 0  # 128 + the signal that stopped it (Ctrl-C, SIGTERM, SIGHUP); else 0

    @property
    def duration_s(self) -> float:
        """Bag time replayed, in seconds."""
        return max(0, self.end_ns - self.start_ns) / NS_PER_S

    def record(self, data: object, time_ns: int) -> None:
        """File one message a node took or gave at ``time_ns`` by its type (a ``str`` is an
        environment name); other types are ignored."""
        if isinstance(data, Classification):
            self.classifications.append((time_ns, data))
        elif isinstance(data, TimestepCommand):
            self.commands.append((time_ns, data))
        elif isinstance(data, LearningStatus):
            self.statuses.append((time_ns, data))
        elif isinstance(data, ModelUpdate):
            self.updates.append((time_ns, data))
        elif isinstance(data, BatteryReading):
            self.battery.append((time_ns, data))
        elif isinstance(data, Label):
            self.labels[data.stamp_ns] = data
        elif isinstance(data, str) and (not self.environments or self.environments[-1][1] != data):
            self.environments.append((time_ns, data))

    def skip(self, reason: str, n: int = 1) -> None:
        """Count ``n`` messages not used for ``reason``."""
        self.skipped[reason] = self.skipped.get(reason, 0) + n


__all__ = [
    "BAG_TIME",
    "BATTERY",
    "DEFAULT_ENVIRONMENT",
    "ENVIRONMENT",
    "IMAGE",
    "INTERRUPTED",
    "LABEL",
    "ReplayLog",
]

"""What the demo watches: every node's output topic, filed into a ReplayLog as it arrives.

The monitor subscribes to each publication of the running nodes (camera images excepted: they
are large and say nothing the labels do not), so the live view and the report read the same
log a bag replay fills, and the replay's metrics and plots serve both. A second perception
node at a fixed T publishes under ``BASELINE`` for the energy comparison.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from topspark_ros.nodes.messages import Classification, ImageFrame
from topspark_ros.replay.records import ReplayLog
from topspark_ros.ros.wiring import NodeSpec, qos_of

BASELINE = "baseline"  # namespace of the fixed-T perception node
Clock = Callable[[], int]


class Subscriber(Protocol):
    """What the monitor needs of a transport (``ros.dds.DdsTransport`` fits)."""

    def subscribe(
        self,
        topic: str,
        msgtype: Any,
        callback: Callable[[Any], object],
        qos: str = ...,
        reliability: str | None = ...,
        into: type | None = ...,
    ) -> object: ...


class DemoMonitor:
    """Files the nodes' messages into ``log`` (thread-safe) and the baseline's results apart."""

    def __init__(self, log: ReplayLog, clock: Clock = time.time_ns) -> None:
        self.log = log
        self.baseline: list[tuple[int, Classification]] = []
        self._clock = clock
        self._lock = threading.Lock()
        self._started = clock()

    def on_message(self, data: object) -> None:
        """A message from a node: filed by type at the time it arrived."""
        now = self._clock()
        with self._lock:
            if not self.log.start_ns:
                self.log.start_ns = now
            self.log.end_ns = now
            self.log.record(data, now)

    def on_baseline(self, result: Classification) -> None:
        """A result of the fixed-T perception node."""
        with self._lock:
            self.baseline.append((self._clock(), result))

    def read(self, reader: Callable[[ReplayLog, list[tuple[int, Classification]]], Any]) -> Any:
        """``reader(log, baseline)`` under the lock: a consistent view for the live display."""
        with self._lock:
            self.log.wall_s = (self._clock() - self._started) / 1e9
            return reader(self.log, self.baseline)

    def attach(self, transport: Subscriber, specs: Iterable[NodeSpec]) -> None:
        """Subscribe to every publication of ``specs`` (images excepted) and the baseline's."""
        seen: set[str] = set()
        for spec in specs:
            for pub in spec.publications:
                if pub.data is ImageFrame or pub.topic in seen:
                    continue
                seen.add(pub.topic)
                qos, _ = qos_of(pub, None)
                transport.subscribe(pub.topic, pub.msgtype, self.on_message, qos, into=pub.plain)
        transport.subscribe(
            f"/{BASELINE}/classification",
            "topspark_ros/msg/Classification",
            self.on_baseline,
            into=Classification,
        )


__all__ = ["BASELINE", "DemoMonitor", "Subscriber"]

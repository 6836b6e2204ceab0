"""What the demo watches: every node's output topic, filed into a ReplayLog as it arrives.

The monitor subscribes to each publication of the running nodes (camera images excepted: they
are large and say nothing the labels do not), so the live view and the report read the same
log a bag replay fills, and the replay's metrics and plots serve both. A second perception
node at a fixed T publishes under ``BASELINE`` for the energy comparison.

Memory stays flat however long the demo runs: every message goes to an unnamed spool file (on
disk beside the report, gone when closed or killed), the in-memory log keeps only the recent
records the live view reads, and running totals count the rest. ``full_log`` reads the spool
back once, for the report.
"""

from __future__ import annotations

import dataclasses
import pickle
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any, Protocol

from topspark_ros.demo.result import EnergyTotals
from topspark_ros.graph.wiring import NodeSpec, qos_of
from topspark_ros.messages import NS_PER_S, Classification, ImageFrame
from topspark_ros.replay.records import ReplayLog

BASELINE = "baseline"  # namespace of the fixed-T perception node
KEEP = 400  # records of each kind the in-memory log keeps (the live view reads the last 100)
Clock = Callable[[], int]
Baseline = list[tuple[int, Classification]]
_NODES, _BASELINE = 0, 1  # spool record kinds


def trim(log: ReplayLog, keep: int) -> None:
    """Drop all but the last ``keep`` records of each kind from ``log`` (labels too)."""
    for f in dataclasses.fields(log):
        records = getattr(log, f.name)
        if isinstance(records, list) and len(records) > keep:
            del records[: len(records) - keep]
    if len(log.labels) > keep:
        for stamp in list(log.labels)[: len(log.labels) - keep]:
            del log.labels[stamp]


def _emptied(log: ReplayLog) -> ReplayLog:
    """A copy of ``log`` without its records: the header (source, model, clock, ...) and the
    scalars (start, end, wall time, how it ended)."""
    fresh = dataclasses.replace(log)
    for f in dataclasses.fields(fresh):
        if f.default_factory is not dataclasses.MISSING:
            setattr(fresh, f.name, f.default_factory())
    return fresh


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
    """Files the nodes' messages (thread-safe): the recent ones into ``log``, every one into the
    spool; totals of the adaptive and the fixed-T (baseline) results as they come."""

    def __init__(
        self,
        log: ReplayLog,
        spool_dir: str | Path | None = None,
        clock: Clock = time.time_ns,
        keep: int = KEEP,
    ) -> None:
        self.log = log  # the recent records only (``keep`` of each kind)
        self.frames = 0  # every adaptive result so far
        self.energy = EnergyTotals()  # of the adaptive results
        self.baseline_energy = EnergyTotals()  # of the fixed-T results
        # unnamed: it vanishes when closed (``close``) or when the process dies, however
        self._spool: IO[bytes] = tempfile.TemporaryFile(dir=spool_dir)  # noqa: SIM115
        self._clock = clock
        self._keep = keep
        self._filed = 0
        self._lock = threading.Lock()
        self._started = clock()

    def _file(self, kind: int, now: int, data: object) -> None:
        """Spool one record (under the lock)."""
        pickle.dump((kind, now, data), self._spool, pickle.HIGHEST_PROTOCOL)

    def on_message(self, data: object) -> None:
        """A message from a node: filed by type at the time it arrived."""
        now = self._clock()
        with self._lock:
            self._file(_NODES, now, data)
            if not self.log.start_ns:
                self.log.start_ns = now
            self.log.end_ns = now
            self.log.record(data, now)
            if isinstance(data, Classification):
                self.frames += 1
                self.energy.add(data)
            self._filed += 1
            if self._filed >= self._keep:  # amortised: at most 2 x keep of a kind in memory
                trim(self.log, self._keep)
                self._filed = 0

    def on_baseline(self, result: Classification) -> None:
        """A result of the fixed-T perception node."""
        now = self._clock()
        with self._lock:
            self._file(_BASELINE, now, result)
            self.baseline_energy.add(result)

    def read(self, reader: Callable[[DemoMonitor], Any]) -> Any:
        """``reader(self)`` under the lock: a consistent view for the live display."""
        with self._lock:
            self.log.wall_s = (self._clock() - self._started) / NS_PER_S
            return reader(self)

    def full_log(self) -> tuple[ReplayLog, Baseline]:
        """Everything filed so far, read back from the spool: the whole log (with the live
        log's start, end, wall time and end state) and the baseline's results."""
        with self._lock:
            log, baseline = _emptied(self.log), []  # its header and end state, no records
            self._spool.seek(0)
            while True:
                try:
                    kind, now, data = pickle.load(self._spool)
                except EOFError:
                    break
                if kind == _BASELINE:
                    baseline.append((now, data))
                else:
                    log.record(data, now)
            self._spool.seek(0, 2)  # on to the end, for more records
            return log, baseline

    def close(self) -> None:
        """Drop the spool (``full_log`` no longer works)."""
        self._spool.close()

    def attach(self, transport: Subscriber, specs: Iterable[NodeSpec]) -> None:
        """Subscribe to every publication of ``specs`` (images excepted) and the baseline's."""
        seen: set[str] = set()
        for spec in specs:
            for pub in spec.publications:
                if pub.data is ImageFrame or pub.topic in seen:
                    continue
                seen.add(pub.topic)
                qos, _ = qos_of(pub, None)
                transport.subscribe(pub.topic, pub.msgtype, self.on_message, qos, into=pub.data)
        transport.subscribe(
            f"/{BASELINE}/classification",
            "topspark_ros/msg/Classification",
            self.on_baseline,
            into=Classification,
        )


__all__ = ["BASELINE", "KEEP", "Baseline", "DemoMonitor", "Subscriber", "trim"]

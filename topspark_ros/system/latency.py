"""End-to-end latency of the perception node over DDS or rclpy: frames in at a steady rate,
results back.

``run_latency`` starts ``topspark node perception`` as a separate process on this host, over
``transport`` (dds: Cyclone DDS on loopback at both ends; rclpy: the node a ROS 2 node and this
process an rclpy node too, discovery confined to this host), publishes camera frames rendered
from the embedded MNIST test sample on a fixed schedule (frame i is due at start + i / rate; a
late frame goes out at once, the schedule does not drift), stamps each with ``time.time_ns()``
just before it is written, and records when each ``classification`` arrives. Image->result
latency is arrival minus send on this process's ``perf_counter``, found through the stamp the
node copies into its result; it includes conversion, serialisation and transport both ways, the
node's queue, preprocessing and the network. Frames of the first ``warmup_s`` are sent but not
counted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from topspark_ros.data.sample import load_sample
from topspark_ros.errors import ConfigError, TransportError
from topspark_ros.graph.wiring import DIAGNOSTICS_TOPIC, DIAGNOSTICS_TYPE
from topspark_ros.messages import Classification, ImageFrame
from topspark_ros.ros.dds.names import MAX_DOMAIN_ID
from topspark_ros.ros.qos import RELIABILITIES
from topspark_ros.sim.render import render_frame
from topspark_ros.stats import Spread
from topspark_ros.system.processes import (
    NodeProcess,
    Participant,
    check_transport,
    open_participant,
    start_node,
    wait_ready,
)

NODE = "perception"
DOMAIN_BASE = 10  # default domains 10..99: clear of 0 (a real ROS 2 system) and the tests' ids
DOMAIN_SPAN = 90
MATCH_TIMEOUT_S = 30.0  # discovery of the node's image reader and result writer
DIAGNOSTICS_PERIOD_S = 0.5  # asked of the node, so its final drop count arrives soon
BENCHMARK_NODE = "topspark_latency"  # this process's node name over rclpy
TRANSPORT_NAMES = {"dds": "DDS", "rclpy": "rclpy"}
Say = Callable[[str], None]


def default_domain_id(pid: int | None = None) -> int:
    """A DDS domain id from the process id, unlikely to be in use: 10..99."""
    return DOMAIN_BASE + (os.getpid() if pid is None else pid) % DOMAIN_SPAN


@dataclass(frozen=True)
class LatencySettings:
    """One benchmark run: the model and T, input rate and durations (s), frames and QoS."""

    model_path: str
    timesteps: int
    rate_hz: float = 30.0
    duration_s: float = 20.0
    warmup_s: float = 3.0
    width: int = 640
    height: int = 480
    encoding: str = "bgr8"
    scale: int = 8
    reliability: str = "best_effort"
    early_exit: bool = False
    domain_id: int = DOMAIN_BASE
    drain_s: float = 2.0
    ready_timeout_s: float = 120.0
    seed: int = 0
    transport: str = "dds"  # "dds" or "rclpy": the node's and this process's

    def __post_init__(self) -> None:
        problems = [
            (self.rate_hz > 0 and math.isfinite(self.rate_hz), f"rate {self.rate_hz} Hz"),
            (self.duration_s > 0, f"duration {self.duration_s} s"),
            (self.warmup_s >= 0, f"warm-up {self.warmup_s} s"),
            (self.timesteps >= 1, f"T={self.timesteps}"),
            (self.reliability in RELIABILITIES, f"reliability {self.reliability!r}"),
            (0 <= self.domain_id <= MAX_DOMAIN_ID, f"domain id {self.domain_id}"),
            (self.transport in TRANSPORT_NAMES, f"transport {self.transport!r}"),
        ]
        bad = [text for ok, text in problems if not ok]
        if bad:
            raise ConfigError(f"latency benchmark: invalid {', '.join(bad)}")

    @property
    def warmup_frames(self) -> int:
        """Frames sent before measuring."""
        return round(self.warmup_s * self.rate_hz)

    @property
    def measured_frames(self) -> int:
        """Frames measured (at least one)."""
        return max(1, round(self.duration_s * self.rate_hz))


# --- measuring: pure functions ------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """A frame written: its number, true class, perf_counter times due and sent (s)."""

    index: int
    label: int
    due: float
    at: float
    measured: bool


@dataclass(frozen=True)
class Arrival:
    """A result received at perf_counter time ``at`` (s)."""

    at: float
    result: Classification


@dataclass(frozen=True)
class Matched:
    """Measured frames paired with their results; frames lost; results matching no frame."""

    pairs: tuple[tuple[Sent, Arrival], ...]
    lost: int
    unknown: int


def due_time(start: float, rate_hz: float, index: int) -> float:
    """When frame ``index`` is due (s): ``start + index / rate_hz``, so lateness never adds up."""
    return start + index / rate_hz


def sleep_until(
    deadline: float,
    clock: Callable[[], float] = time.perf_counter,
    sleep: Callable[[float], object] = time.sleep,
) -> float:
    """Sleep until ``clock()`` reaches ``deadline`` (at once if past); the clock then."""
    now = clock()
    while now < deadline:
        sleep(deadline - now)
        now = clock()
    return now


def match(sent: Mapping[int, Sent], arrivals: Sequence[Arrival]) -> Matched:
    """Pair results with the frames (by stamp_ns) they answer; warm-up frames are left out,
    a second result for a frame or one for no frame sent counts as unknown."""
    pairs: list[tuple[Sent, Arrival]] = []
    answered: set[int] = set()
    unknown = 0
    for arrival in arrivals:
        stamp = arrival.result.stamp_ns
        frame = sent.get(stamp)
        if frame is None or stamp in answered:
            unknown += 1
            continue
        answered.add(stamp)
        if frame.measured:
            pairs.append((frame, arrival))
    lost = sum(1 for stamp, frame in sent.items() if frame.measured and stamp not in answered)
    return Matched(tuple(pairs), lost, unknown)


def input_rate(sent: Sequence[Sent]) -> float:
    """Achieved rate (Hz) of the measured frames: intervals over the span of their send times."""
    times = sorted(frame.at for frame in sent if frame.measured)
    if len(times) < 2 or times[-1] <= times[0]:
        return float("nan")
    return (len(times) - 1) / (times[-1] - times[0])


@dataclass(frozen=True)
class LatencyReport:
    """What a run measured: counts, latencies (ms), accuracy, achieved input rate (Hz)."""

    settings: LatencySettings
    n_neurons: int
    frames_sent: int
    warmup_frames: int
    results: int
    lost: int
    unknown: int
    latency: Spread  # image -> result, measured here
    pipeline: Spread  # node-reported: queue + preprocessing + network
    compute: Spread  # node-reported: the network alone
    send_lag: Spread  # how late frames went out against the schedule
    accuracy: float
    input_rate_hz: float
    timesteps: tuple[int, ...]  # the T values results reported
    mean_timesteps_used: float
    node_dropped: int | None  # frames the node's queue dropped (its last diagnostics)

    def to_mapping(self) -> dict[str, Any]:
        """JSON-ready mapping (NaN becomes None)."""
        out: dict[str, Any] = {"settings": dataclasses.asdict(self.settings)}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, Spread):
                out[field.name + "_ms"] = value.to_mapping()
            elif isinstance(value, float) and value != value:
                out[field.name] = None
            elif field.name != "settings":
                out[field.name] = list(value) if isinstance(value, tuple) else value
        return out

    def table(self) -> str:
        """A short human-readable table."""
        s = self.settings
        dropped = "?" if self.node_dropped is None else str(self.node_dropped)
        head = (
            f"perception over {TRANSPORT_NAMES[s.transport]}: "
            f"N{self.n_neurons} T={_ts(self.timesteps, s.timesteps)}"
            f"{' early exit' if s.early_exit else ''}, {s.width}x{s.height} {s.encoding}, "
            f"images {s.reliability}, {s.rate_hz:g} Hz for {s.duration_s:g} s "
            f"(+{s.warmup_s:g} s warm-up), domain {s.domain_id}"
        )
        counts = (
            f"frames sent {self.frames_sent}, results {self.results}, lost {self.lost} "
            f"(node queue dropped {dropped}), unknown {self.unknown}, "
            f"input {self.input_rate_hz:.2f} Hz"
        )
        columns = f"{'(ms)':<16}{'median':>8}{'p90':>8}{'p99':>8}{'max':>8}{'mean':>8}"
        lines = [head, counts, columns]
        for name, spread in (
            ("image->result", self.latency),
            ("node pipeline", self.pipeline),
            ("SNN compute", self.compute),
            ("send lag", self.send_lag),
        ):
            values = (spread.median, spread.p90, spread.p99, spread.max, spread.mean)
            lines.append(f"{name:<16}" + "".join(f"{v:8.2f}" for v in values))
        lines.append(
            f"accuracy {100 * self.accuracy:.1f}% on {self.results} answered frames; "
            f"mean T used {self.mean_timesteps_used:.1f}"
        )
        return "\n".join(lines)

    def summary(self) -> str:
        """One line: the figures the issue asks for."""
        s = self.settings
        return (
            f"latency image->result median {self.latency.median:.2f} ms, "
            f"p99 {self.latency.p99:.2f} ms over {self.results}/{self.frames_sent} frames "
            f"at {self.input_rate_hz:.1f} Hz (N{self.n_neurons} T={s.timesteps}, "
            f"{s.width}x{s.height} {s.encoding}, {s.reliability}, "
            f"{TRANSPORT_NAMES[s.transport]}); "
            f"SNN {self.compute.median:.2f} ms, accuracy {100 * self.accuracy:.1f}%"
        )


def _ts(seen: tuple[int, ...], asked: int) -> str:
    """The T results reported, or the T asked for when none came."""
    return "/".join(str(t) for t in seen) if seen else str(asked)


def build_report(
    settings: LatencySettings,
    n_neurons: int,
    sent: Mapping[int, Sent],
    arrivals: Sequence[Arrival],
    node_dropped: int | None = None,
) -> LatencyReport:
    """Match results to frames and summarise (times in ms)."""
    matched = match(sent, arrivals)
    results = [arrival.result for _, arrival in matched.pairs]
    measured = [frame for frame in sent.values() if frame.measured]
    correct = sum(1 for frame, arrival in matched.pairs if arrival.result.label == frame.label)
    return LatencyReport(
        settings=settings,
        n_neurons=n_neurons,
        frames_sent=len(measured),
        warmup_frames=len(sent) - len(measured),
        results=len(results),
        lost=matched.lost,
        unknown=matched.unknown,
        latency=Spread.of([1e3 * (arrival.at - frame.at) for frame, arrival in matched.pairs]),
        pipeline=Spread.of([r.pipeline_ms for r in results]),
        compute=Spread.of([r.latency_ms for r in results]),
        send_lag=Spread.of([1e3 * (frame.at - frame.due) for frame in measured]),
        accuracy=correct / len(results) if results else float("nan"),
        input_rate_hz=input_rate(measured),
        timesteps=tuple(sorted({r.timesteps for r in results})),
        mean_timesteps_used=(
            float(np.mean([r.timesteps_used for r in results])) if results else float("nan")
        ),
        node_dropped=node_dropped,
    )


# --- running: the node process and this process's DDS participant --------------------------------


class _Inbox:
    """Results and the node's last diagnostic values, filled from the transport's thread."""

    def __init__(self, transport: Participant) -> None:
        self._transport = transport
        self._lock = threading.Lock()
        self.arrivals: list[Arrival] = []
        self.diagnostics: dict[str, str] = {}
        self.diagnostics_seen = 0

    def on_result(self, result: Classification) -> None:
        at = time.perf_counter()
        with self._lock:
            self.arrivals.append(Arrival(at, result))

    def on_diagnostics(self, message: object) -> None:
        for status in self._transport.converter.diagnostic_statuses(message):
            if status.name == NODE:
                with self._lock:
                    self.diagnostics = dict(status.values)
                    self.diagnostics_seen += 1

    def received(self) -> list[Arrival]:
        with self._lock:
            return list(self.arrivals)

    def answered(self) -> set[int]:
        with self._lock:
            return {arrival.result.stamp_ns for arrival in self.arrivals}

    def dropped(self) -> int | None:
        with self._lock:
            text = self.diagnostics.get("dropped")
        return int(text) if text is not None and text.isdigit() else None


@contextlib.contextmanager
def _participant(settings: LatencySettings) -> Iterator[Participant]:
    """This process on the benchmark's transport and domain, on this host only (as the node)."""
    participant = open_participant(settings.transport, settings.domain_id, BENCHMARK_NODE)
    try:
        yield participant
    finally:
        participant.close()


def _check_alive(proc: NodeProcess) -> None:
    """TransportError in one line if the node process has exited."""
    if not proc.alive():
        raise TransportError(
            f"node {proc.name} exited with code {proc.popen.returncode} during the run: "
            f"{proc.last_line()}"
        )


def _send(
    settings: LatencySettings, publish: Callable[[ImageFrame], None], proc: NodeProcess
) -> dict[int, Sent]:
    """Publish warm-up then measured frames on the schedule; the frames sent by stamp_ns."""
    test = load_sample("mnist", "test")
    rng = np.random.default_rng(settings.seed)
    total = settings.warmup_frames + settings.measured_frames
    sent: dict[int, Sent] = {}
    last_stamp = 0
    start = time.perf_counter() + 0.1
    for index in range(total):
        k = index % len(test)
        frame = render_frame(
            test.images[k],
            width=settings.width,
            height=settings.height,
            encoding=settings.encoding,
            scale=settings.scale,
            rng=rng,
        )
        _check_alive(proc)
        due = due_time(start, settings.rate_hz, index)
        sleep_until(due)
        stamp = max(time.time_ns(), last_stamp + 1)  # unique: results are matched by stamp
        last_stamp = stamp
        at = time.perf_counter()
        publish(dataclasses.replace(frame, stamp_ns=stamp))
        measured = index >= settings.warmup_frames
        sent[stamp] = Sent(index, int(test.labels[k]), due, at, measured)
    return sent


def _drain(settings: LatencySettings, sent: Mapping[int, Sent], inbox: _Inbox) -> None:
    """Wait up to ``drain_s`` for the last results, then for one more diagnostics message."""
    wanted = {stamp for stamp, frame in sent.items() if frame.measured}
    deadline = time.monotonic() + settings.drain_s
    while time.monotonic() < deadline and not wanted <= inbox.answered():
        time.sleep(0.01)
    seen = inbox.diagnostics_seen
    deadline = time.monotonic() + 3 * DIAGNOSTICS_PERIOD_S
    while time.monotonic() < deadline and inbox.diagnostics_seen == seen:
        time.sleep(0.01)


def run_latency(
    settings: LatencySettings, log_dir: str | Path, say: Say | None = None
) -> LatencyReport:
    """Start the perception node, run the benchmark and stop the node; TransportError if the
    node fails to start, dies, or never answers."""
    note = say or (lambda _text: None)
    from topspark_ros.snn.model_io import load_model

    n_neurons = load_model(settings.model_path).params.n_neurons
    sets = {
        "model_path": settings.model_path,
        "timesteps": settings.timesteps,
        "image_reliability": settings.reliability,
        "early_exit": settings.early_exit,
        "diagnostics_period_s": DIAGNOSTICS_PERIOD_S,
    }
    via = check_transport(settings.transport)
    note(
        f"starting the {NODE} node over {TRANSPORT_NAMES[via]}, domain {settings.domain_id} "
        f"(log in {log_dir})"
    )
    proc = start_node(NODE, settings.domain_id, log_dir, sets=sets, transport=via)
    try:
        with _participant(settings) as transport:
            inbox = _Inbox(transport)
            transport.subscribe("classification", Classification, inbox.on_result)
            transport.subscribe(DIAGNOSTICS_TOPIC, DIAGNOSTICS_TYPE, inbox.on_diagnostics)
            images = transport.publisher("image", ImageFrame, "sensor", settings.reliability)
            wait_ready([proc], settings.ready_timeout_s)
            if not images.wait_matched(MATCH_TIMEOUT_S):
                raise TransportError(f"the {NODE} node's image reader did not match in time")
            total_s = settings.warmup_s + settings.duration_s
            note(f"node ready; sending {settings.rate_hz:g} Hz for {total_s:g} s")
            sent = _send(settings, images.publish, proc)
            _drain(settings, sent, inbox)
            _check_alive(proc)
            report = build_report(settings, n_neurons, sent, inbox.received(), inbox.dropped())
    finally:
        code = proc.stop()
    if report.results == 0:
        raise TransportError(
            f"no result arrived for {report.frames_sent} frames (node exit code {code}): "
            f"{proc.last_line()}"
        )
    return report


__all__ = [
    "BENCHMARK_NODE",
    "Arrival",
    "LatencyReport",
    "LatencySettings",
    "Matched",
    "Sent",
    "build_report",
    "default_domain_id",
    "due_time",
    "input_rate",
    "match",
    "run_latency",
    "sleep_until",
]

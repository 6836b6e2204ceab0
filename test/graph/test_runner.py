"""NodeRunner: handlers get converted data (with time when asked), the worker publishes work and
diagnostics, known errors become warnings and unexpected ones stop the runner."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from recording_logger import RecordingLogger

from topspark_ros.errors import DataError
from topspark_ros.graph.runner import NodeRunner
from topspark_ros.graph.spec import (
    DIAGNOSTICS_TOPIC,
    NodeInstance,
    Subscription,
    Timed,
    TypedNodeSpec,
)
from topspark_ros.messages import OK, DiagnosticStatus
from topspark_ros.nodes.config import TimestepManagerConfig


class Recorder(RecordingLogger):
    """A recording logger that also keeps what is published."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[str, Any]] = []

    def publish(self, topic: str, data: Any) -> None:
        self.published.append((topic, data))


class Logic:
    """A stand-in node logic: counts calls, fails on request."""

    def __init__(self, fail_work: bool = False) -> None:
        self.got: list[tuple[Any, ...]] = []
        self.fail_work = fail_work
        self.ticks = 0

    def on_plain(self, data: Any) -> None:
        if data == "bad":
            raise DataError("bad data")
        self.got.append((data,))

    def on_timed(self, data: Any, now_ns: int) -> None:
        self.got.append((data, now_ns))

    def diagnostics(self) -> DiagnosticStatus:
        return DiagnosticStatus(OK, "logic", f"{self.ticks} ticks")


def _work(logic: Logic, now_ns: int) -> list[tuple[str, Any]]:
    if logic.fail_work:
        raise RuntimeError("boom")
    logic.ticks += 1
    return [("out", logic.ticks)]


PLAIN: Subscription[Logic] = Subscription.to("a", str, lambda logic: logic.on_plain)
TIMED: Subscription[Logic] = Subscription.to("b", str, Timed(lambda logic: logic.on_timed))
SPEC: TypedNodeSpec[Logic, TimestepManagerConfig] = TypedNodeSpec(
    name="fake",
    executable="fake_node",
    config=TimestepManagerConfig,
    build=lambda config, logger: Logic(),
    subscriptions=(PLAIN, TIMED),
    publications=(),
    work=_work,
    work_period_s=0.01,
    diagnostics=lambda logic, now_ns: logic.diagnostics(),
    serialise=True,
)


def _runner(
    logic: Logic,
    rec: Recorder,
    spec: TypedNodeSpec[Logic, TimestepManagerConfig] = SPEC,
    clock: Callable[[], int] = lambda: 42,
) -> NodeRunner:
    config = TimestepManagerConfig(diagnostics_period_s=0.1)
    return NodeRunner(NodeInstance(spec, config, logic), rec.publish, clock, rec)


def test_handle_passes_time_only_when_asked_and_turns_known_errors_into_warnings() -> None:
    logic, rec = Logic(), Recorder()
    runner = _runner(logic, rec)
    runner.handle(PLAIN.topic, "x")
    runner.handle(TIMED.topic, "y")
    runner.handle(PLAIN.topic, "bad")
    assert logic.got == [("x",), ("y", 42)]
    assert rec.lines == [("warning", "a: bad data")]


def test_nothing_runs_on_time_until_the_clock_starts() -> None:
    now = [0]  # simulated time before the first /clock
    logic, rec = Logic(), Recorder()
    runner = _runner(logic, rec, clock=lambda: now[0])
    runner.handle(TIMED.topic, "early")
    runner.handle(TIMED.topic, "early again")
    runner.handle(PLAIN.topic, "untimed")
    runner.start()
    time.sleep(0.2)
    assert rec.published == [] and logic.ticks == 0
    now[0] = 1_700_000_000_000_000_000
    runner.handle(TIMED.topic, "on time")
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and not rec.published:
        time.sleep(0.01)
    runner.stop()
    assert logic.got == [("untimed",), ("on time", now[0])]
    assert logic.ticks > 0 and rec.published
    assert rec.lines[0] == (
        "warning",
        "b: dropped while the clock has not started (use_sim_time and no /clock yet)",
    )
    assert len([line for line in rec.lines if "clock" in line[1]]) == 1


def test_worker_publishes_work_and_diagnostics_until_stopped() -> None:
    logic, rec = Logic(), Recorder()
    runner = _runner(logic, rec)
    runner.start()
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and len([t for t, _ in rec.published if t == "out"]) < 3:
        time.sleep(0.01)
    assert runner.running
    runner.stop()
    assert not runner.running
    outs = [d for t, d in rec.published if t == "out"]
    assert outs[:3] == [1, 2, 3]
    diags = [d for t, d in rec.published if t == DIAGNOSTICS_TOPIC]
    assert diags and diags[0].name == "logic"


def test_busy_logic_is_worked_again_without_the_pause() -> None:
    logic, rec = Logic(), Recorder()
    spec = replace(SPEC, work_period_s=60.0, busy=lambda lg: lg.ticks < 5)
    runner = _runner(logic, rec, spec)
    runner.start()
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and logic.ticks < 5:
        time.sleep(0.01)
    time.sleep(0.2)
    runner.stop(timeout_s=0.0)
    assert logic.ticks == 5  # five calls at once, then the 60 s pause
    assert [d for t, d in rec.published if t == "out"] == [1, 2, 3, 4, 5]


def test_unexpected_worker_error_stops_the_runner_and_is_kept() -> None:
    logic, rec = Logic(fail_work=True), Recorder()
    runner = _runner(logic, rec, replace(SPEC, serialise=False))
    runner.start()
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and runner.failure is None:
        time.sleep(0.01)
    assert isinstance(runner.failure, RuntimeError)
    assert not runner.running
    assert rec.lines[-1] == ("error", "fake: worker stopped: RuntimeError: boom")
    with pytest.raises(RuntimeError, match="boom"):
        raise runner.failure

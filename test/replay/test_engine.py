"""The bag-time bus: delivery, periodic work in bag time, waiting work, recorded outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from recording_logger import RecordingLogger

from topspark_ros.data import load_sample
from topspark_ros.graph.spec import Subscription, TypedNodeSpec
from topspark_ros.graph.wiring import PERCEPTION, TIMESTEP_MANAGER
from topspark_ros.messages import BatteryReading, Classification, TimestepCommand
from topspark_ros.nodes.config import PerceptionConfig, TimestepManagerConfig
from topspark_ros.replay.engine import BagTimeBus, NodeInstance
from topspark_ros.sim.render import render_frame

MS = 1_000_000


class _Ticker:
    """A toy node logic: counts periodic work calls and echoes queued items one per call."""

    def __init__(self) -> None:
        self.ticks: list[int] = []
        self.queue: list[int] = []

    def on_item(self, item: int) -> None:
        self.queue.extend([item, item])  # two units of work per item


def _toy_spec(period_s: float) -> TypedNodeSpec[_Ticker, PerceptionConfig]:
    def work(logic: _Ticker, now_ns: int) -> list[tuple[str, object]]:
        logic.ticks.append(now_ns)
        return [("echo", logic.queue.pop(0))] if logic.queue else []

    return TypedNodeSpec(
        name="toy",
        executable="toy",
        config=PerceptionConfig,
        build=lambda cfg, log: _Ticker(),
        subscriptions=(Subscription.to("item", int, lambda logic: logic.on_item),),
        publications=(),
        work=work,
        work_period_s=period_s,
        diagnostics=lambda logic, now: None,  # type: ignore[arg-type,return-value]
        busy=lambda logic: bool(logic.queue),
    )


def test_periodic_work_follows_bag_time_and_waiting_work_runs_before_the_next_message() -> None:
    logic = _Ticker()
    seen: list[tuple[str, Any, int]] = []
    bus = BagTimeBus(
        [NodeInstance(_toy_spec(0.1), PerceptionConfig(), logic)],
        lambda topic, data, t: seen.append((topic, data, t)),
        RecordingLogger(),
    )
    bus.deliver("other", 0, 1000 * MS)  # first message: the periodic work runs at once
    assert logic.ticks == [1000 * MS]
    bus.deliver("other", 0, 1050 * MS)  # 50 ms later: not due
    assert logic.ticks == [1000 * MS]
    bus.deliver("item", 7, 1100 * MS)  # due again, and two units of waiting work
    assert seen == [("echo", 7, 1100 * MS), ("echo", 7, 1100 * MS)]
    assert logic.ticks[0] == 1000 * MS and all(t == 1100 * MS for t in logic.ticks[1:])
    bus.deliver("other", 0, 900 * MS)  # time never runs backwards
    assert bus.now() == 1100 * MS


def test_perception_and_manager_answer_every_frame_at_the_commanded_t(
    trained_model: Path,
) -> None:
    logger = RecordingLogger()
    pcfg = PerceptionConfig(model_path=str(trained_model))
    mcfg = TimestepManagerConfig()
    nodes = [
        NodeInstance(PERCEPTION, pcfg, PERCEPTION.build(pcfg, logger)),
        NodeInstance(TIMESTEP_MANAGER, mcfg, TIMESTEP_MANAGER.build(mcfg, logger)),
    ]
    out: list[tuple[str, Any, int]] = []
    bus = BagTimeBus(nodes, lambda topic, data, t: out.append((topic, data, t)), logger)
    images = load_sample("mnist", "test").images[:12]
    start = 1_700_000_000 * 1_000_000_000
    for i, image in enumerate(images):
        t = start + i * 100 * MS
        fraction = 0.9 if i < 6 else 0.1  # the battery falls to critical half-way
        bus.deliver("battery_state", BatteryReading(stamp_ns=t, percentage=fraction), t)
        frame = render_frame(np.asarray(image), t, 64, 48, "bgr8", scale=1)
        bus.deliver("image", frame, t)
    results = [(d, t) for topic, d, t in out if topic == "classification"]
    commands = [d for topic, d, _ in out if topic == "timestep_command"]
    assert len(results) == len(images)
    assert all(isinstance(d, Classification) for d, _ in results)
    assert [d.stamp_ns for d, _ in results] == [t for _, t in results]
    assert all(isinstance(c, TimestepCommand) for c in commands)
    assert commands[-1].mode == TimestepCommand.MODE_CRITICAL
    assert results[-1][0].timesteps == commands[-1].timesteps < results[0][0].timesteps

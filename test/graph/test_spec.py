"""Node specs: handlers get their topic's data type, a spec builds only from its config class,
and what mypy cannot check (topics read twice, reliability fields) fails at declaration."""

from __future__ import annotations

from dataclasses import replace

import pytest
from recording_logger import RecordingLogger

from topspark_ros.graph.spec import NodeInstance, Publication, Subscription, Timed, TypedNodeSpec
from topspark_ros.messages import STRING_TYPE, DiagnosticStatus, Label
from topspark_ros.nodes.config import PerceptionConfig, TimestepManagerConfig


class Logic:
    def __init__(self) -> None:
        self.got: list[object] = []

    def on_label(self, label: Label) -> None:
        self.got.append(label)

    def on_text(self, text: str, now_ns: int) -> None:
        self.got.append((text, now_ns))

    def diagnostics(self) -> DiagnosticStatus:
        return DiagnosticStatus(0, "logic", "")


SPEC: TypedNodeSpec[Logic, PerceptionConfig] = TypedNodeSpec(
    name="fake",
    executable="fake_node",
    config=PerceptionConfig,
    build=lambda config, logger: Logic(),
    subscriptions=(
        Subscription.to("label", Label, lambda logic: logic.on_label),
        Subscription.to("text", str, Timed(lambda logic: logic.on_text)),
    ),
    publications=(Publication("out", str),),
    work=lambda logic, now_ns: [],
    work_period_s=0.0,
    diagnostics=lambda logic, now_ns: logic.diagnostics(),
)


def test_an_instance_dispatches_by_topic_and_only_its_data_type() -> None:
    node = SPEC.instance(PerceptionConfig(), RecordingLogger())
    assert isinstance(node.logic, Logic) and node.timed == {"text"} and not node.busy()
    node.deliver("label", Label(stamp_ns=1, label=3), 0)
    node.deliver("text", "hello", 42)
    assert node.logic.got == [Label(stamp_ns=1, label=3), ("hello", 42)]
    with pytest.raises(TypeError, match=r"^label: got a str, not a Label$"):
        node.deliver("label", "3", 0)
    assert [s.msgtype for s in SPEC.publications] == [STRING_TYPE]


def test_a_spec_builds_only_from_its_config_class() -> None:
    with pytest.raises(TypeError, match=r"^fake takes a PerceptionConfig, not a Timestep"):
        SPEC.instance(TimestepManagerConfig(), RecordingLogger())
    node = NodeInstance(SPEC, PerceptionConfig(), Logic())
    assert node.spec is SPEC


def test_topics_read_twice_and_unknown_reliability_fields_fail_at_declaration() -> None:
    label: Subscription[Logic] = Subscription.to("label", Label, lambda lg: lg.on_label)
    twice = (*SPEC.subscriptions, label)
    with pytest.raises(ValueError, match=r"^fake: a topic is subscribed twice"):
        replace(SPEC, subscriptions=twice)
    bad: Subscription[Logic] = Subscription.to(
        "l", Label, lambda lg: lg.on_label, reliability_param="nope"
    )
    with pytest.raises(ValueError, match=r"^fake: no config field nope \(reliability_param\)$"):
        replace(SPEC, subscriptions=(bad,))

"""What each node subscribes to, publishes and runs: one declarative table for every transport.

The DDS adapter and the rclpy adapter both iterate these specs, so a topic, message type, QoS or
handler is named once. Topic names are relative (launch files namespace and remap them), except
``/diagnostics``.

``NODES`` is every node the package ships (executables, parameter files, ``topspark node NAME``):
``ROBOT_NODES``, which run on a robot (the bringup ``topspark.launch.py``, the replay), and
``SIM_NODES``, which stand in for the robot itself in a simulation (``sim_robot``: camera,
battery, environments). A real robot runs none of the latter: only ``simulate:=true``
(``sim.launch.py``) and ``topspark demo`` start them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from topspark_ros.messages import (
    STRING_TYPE,
    BatteryReading,
    Classification,
    DiagnosticStatus,
    ImageFrame,
    Label,
    LearningStatus,
    LoggerLike,
    ModelUpdate,
    TimestepCommand,
    typename_of,
)
from topspark_ros.nodes.config import (
    OnlineLearnerConfig,
    PerceptionConfig,
    TimestepManagerConfig,
)
from topspark_ros.sim.config import TICK_S, SimRobotConfig

DIAGNOSTICS_TOPIC = "/diagnostics"
DIAGNOSTICS_TYPE = "diagnostic_msgs/msg/DiagnosticArray"

Outputs = list[tuple[str, Any]]


def _msgtype(data: type | None) -> str:
    """The ROS message type of a node dataclass; ``std_msgs/msg/String`` for None (a str)."""
    return STRING_TYPE if data is None else typename_of(data)


class _Plain:
    """``plain``: what a topic's messages become in the node logic (``data``, else ``str``)."""

    data: type | None

    @property
    def plain(self) -> type:
        """The dataclass of the messages, or ``str`` for a String's text."""
        return str if self.data is None else self.data


@dataclass(frozen=True)
class Subscription(_Plain):
    """A topic a node reads: messages become ``data`` (a dataclass; None: a String's text) and
    go to the logic's method ``handler``, with the node clock's now_ns when ``with_time``."""

    topic: str
    data: type | None
    handler: str
    qos: str = "default"
    with_time: bool = False
    reliability_param: str = ""  # config field overriding the QoS reliability, if any

    @property
    def msgtype(self) -> str:
        """The ROS message type: the one of ``data``, else ``std_msgs/msg/String``."""
        return _msgtype(self.data)


@dataclass(frozen=True)
class Publication(_Plain):
    """A topic a node writes, carrying ``data`` dataclasses (None: a String's text, a str) as
    ``msgtype`` messages."""

    topic: str
    data: type | None
    qos: str = "default"

    @property
    def msgtype(self) -> str:
        """The ROS message type: the one of ``data``, else ``std_msgs/msg/String``."""
        return _msgtype(self.data)


@dataclass(frozen=True)
class NodeSpec:
    """A node: its config class, how to build its logic, its topics and its worker.

    ``work(logic, now_ns)`` does one bounded unit of work and returns (topic, data) pairs to
    publish; the worker calls it again after ``work_period_s`` (0: at once, as ``work`` itself
    waits), or at once while ``busy(logic)``. ``diagnostics(logic, now_ns)`` is published every
    ``config.diagnostics_period_s``.
    """

    name: str
    executable: str
    config: type
    build: Callable[[Any, LoggerLike], Any]
    subscriptions: tuple[Subscription, ...]
    publications: tuple[Publication, ...]
    work: Callable[[Any, int], Outputs]
    work_period_s: float
    diagnostics: Callable[[Any, int], DiagnosticStatus]
    serialise: bool = False  # the logic is not thread-safe: handlers and work take one lock
    busy: Callable[[Any], bool] | None = None  # work is waiting: call ``work`` again at once


# --- the nodes ------------------------------------------------------------------------------


def _build_perception(config: PerceptionConfig, logger: LoggerLike) -> Any:
    from topspark_ros.nodes.perception import Perception

    return Perception(config, logger)


def _build_manager(config: TimestepManagerConfig, logger: LoggerLike) -> Any:
    from topspark_ros.nodes.timestep_manager import TimestepManager
    from topspark_ros.packaged import default_profile_path
    from topspark_ros.topspark.profile import load_profile

    profile = load_profile(config.profile_path or default_profile_path())
    return TimestepManager(config, profile, logger)


def _build_learner(config: OnlineLearnerConfig, logger: LoggerLike) -> Any:
    from topspark_ros.nodes.online_learner import OnlineLearner

    return OnlineLearner(config, logger)


def _build_sim_robot(config: SimRobotConfig, logger: LoggerLike) -> Any:
    from topspark_ros.sim.robot import SimRobot

    return SimRobot(config, logger)


def _perception_work(logic: Any, now_ns: int) -> Outputs:
    result = logic.process_next(timeout_s=0.1)
    return [] if result is None else [("classification", result)]


def _manager_work(logic: Any, now_ns: int) -> Outputs:
    command = logic.update(now_ns)
    return [] if command is None else [("timestep_command", command)]


def _learner_work(logic: Any, now_ns: int) -> Outputs:
    status, update = logic.step(now_ns)
    out: Outputs = []
    if update is not None:
        out.append(("model_update", update))
    if status is not None:
        out.append(("learning_status", status))
    return out


def _sim_robot_work(logic: Any, now_ns: int) -> Outputs:
    outputs: Outputs = logic.tick(now_ns)
    return outputs


def _diagnostics_plain(logic: Any, now_ns: int) -> DiagnosticStatus:
    status: DiagnosticStatus = logic.diagnostics()
    return status


def _diagnostics_timed(logic: Any, now_ns: int) -> DiagnosticStatus:
    status: DiagnosticStatus = logic.diagnostics(now_ns)
    return status


PERCEPTION = NodeSpec(
    name="perception",
    executable="perception_node",
    config=PerceptionConfig,
    build=_build_perception,
    subscriptions=(
        Subscription(
            "image", ImageFrame, "submit", "sensor", reliability_param="image_reliability"
        ),
        Subscription("timestep_command", TimestepCommand, "on_command", "latched"),
        Subscription("model_update", ModelUpdate, "on_model_update", "latched"),
    ),
    publications=(Publication("classification", Classification),),
    work=_perception_work,
    work_period_s=0.0,
    diagnostics=_diagnostics_plain,
    busy=lambda logic: logic.queued > 0,
)

TIMESTEP_MANAGER = NodeSpec(
    name="timestep_manager",
    executable="timestep_manager_node",
    config=TimestepManagerConfig,
    build=_build_manager,
    subscriptions=(
        Subscription("battery_state", BatteryReading, "on_battery", with_time=True),
        Subscription("classification", Classification, "on_result", with_time=True),
    ),
    publications=(Publication("timestep_command", TimestepCommand, "latched"),),
    work=_manager_work,
    work_period_s=0.1,
    diagnostics=_diagnostics_timed,
    serialise=True,
)

ONLINE_LEARNER = NodeSpec(
    name="online_learner",
    executable="online_learner_node",
    config=OnlineLearnerConfig,
    build=_build_learner,
    subscriptions=(
        Subscription("image", ImageFrame, "on_image", "sensor", True, "image_reliability"),
        Subscription("classification", Classification, "on_result", with_time=True),
        Subscription("environment", None, "on_environment", with_time=True),
        Subscription("label", Label, "on_label"),
        Subscription("timestep_command", TimestepCommand, "on_command", "latched"),
    ),
    publications=(
        Publication("learning_status", LearningStatus),
        Publication("model_update", ModelUpdate, "latched"),
    ),
    work=_learner_work,
    work_period_s=0.02,
    diagnostics=_diagnostics_plain,
    busy=lambda logic: bool(logic.busy),
)

SIM_ROBOT = NodeSpec(
    name="sim_robot",
    executable="sim_robot_node",
    config=SimRobotConfig,
    build=_build_sim_robot,
    subscriptions=(Subscription("classification", Classification, "on_result"),),
    publications=(
        Publication("environment", None),
        Publication("image", ImageFrame, "sensor"),
        Publication("label", Label),
        Publication("battery_state", BatteryReading),
    ),
    work=_sim_robot_work,
    work_period_s=TICK_S,  # the tick decides which messages are due
    diagnostics=_diagnostics_plain,
    serialise=True,
)

ROBOT_NODES: dict[str, NodeSpec] = {
    spec.name: spec for spec in (PERCEPTION, TIMESTEP_MANAGER, ONLINE_LEARNER)
}
SIM_NODES: dict[str, NodeSpec] = {SIM_ROBOT.name: SIM_ROBOT}
NODES: dict[str, NodeSpec] = {**ROBOT_NODES, **SIM_NODES}


def node_spec(name: str) -> NodeSpec:
    """The spec of node ``name``; ValueError listing the known nodes otherwise."""
    try:
        return NODES[name]
    except KeyError:
        known = ", ".join(NODES)
        raise ValueError(f"unknown node '{name}' (known: {known})") from None


def qos_of(sub: Subscription | Publication, config: Any) -> tuple[str, str | None]:
    """The QoS profile name and the reliability override ('best_effort'/'reliable' or None)."""
    param = getattr(sub, "reliability_param", "")
    return sub.qos, (getattr(config, param) if param else None)


def message_types(specs: Sequence[NodeSpec] = tuple(NODES.values())) -> list[str]:
    """Every message type the nodes use, including diagnostics, sorted."""
    types = {DIAGNOSTICS_TYPE}
    for spec in specs:
        types.update(s.msgtype for s in spec.subscriptions)
        types.update(p.msgtype for p in spec.publications)
    return sorted(types)


__all__ = [
    "DIAGNOSTICS_TOPIC",
    "DIAGNOSTICS_TYPE",
    "NODES",
    "ONLINE_LEARNER",
    "PERCEPTION",
    "ROBOT_NODES",
    "SIM_NODES",
    "SIM_ROBOT",
    "TIMESTEP_MANAGER",
    "NodeSpec",
    "Publication",
    "Subscription",
    "message_types",
    "node_spec",
]

"""What each node subscribes to, publishes and runs: one declarative table for every transport.

The DDS adapter and the rclpy adapter both iterate these specs, so a topic, message type, QoS or
handler is named once. Topic names are relative (launch files namespace and remap them), except
``/diagnostics``. The types are in ``spec``: mypy checks each handler against its topic's data
and the node's logic class.

``NODES`` is every node the package ships (executables, parameter files, ``topspark node NAME``):
``ROBOT_NODES``, which run on a robot (the bringup ``topspark.launch.py``, the replay), and
``SIM_NODES``, which stand in for the robot itself in a simulation (``sim_robot``: camera,
battery, environments). A real robot runs none of the latter: only ``simulate:=true``
(``sim.launch.py``) and ``topspark demo`` start them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from topspark_ros.graph.spec import (
    DIAGNOSTICS_TOPIC,
    DIAGNOSTICS_TYPE,
    NodeSpec,
    Outputs,
    Publication,
    Subscription,
    Timed,
    TypedNodeSpec,
    qos_of,
)
from topspark_ros.messages import (
    BatteryReading,
    Classification,
    DiagnosticStatus,
    ImageFrame,
    Label,
    LearningStatus,
    LoggerLike,
    ModelUpdate,
    TimestepCommand,
)
from topspark_ros.nodes.config import (
    OnlineLearnerConfig,
    PerceptionConfig,
    TimestepManagerConfig,
)
from topspark_ros.nodes.timestep_manager import TimestepManager
from topspark_ros.sim.config import TICK_S, SimRobotConfig
from topspark_ros.sim.robot import SimRobot

if TYPE_CHECKING:  # these load numba and the network: only a node that runs them imports them
    from topspark_ros.nodes.online_learner import OnlineLearner
    from topspark_ros.nodes.perception import Perception


class _Diagnosed(Protocol):
    def diagnostics(self) -> DiagnosticStatus: ...


def _diagnostics(logic: _Diagnosed, now_ns: int) -> DiagnosticStatus:
    """The diagnostics of a logic that does not need the time for them."""
    return logic.diagnostics()


# --- the nodes ------------------------------------------------------------------------------


def _build_perception(config: PerceptionConfig, logger: LoggerLike) -> Perception:
    from topspark_ros.nodes.perception import Perception

    return Perception(config, logger)


def _perception_work(logic: Perception, now_ns: int) -> Outputs:
    result = logic.process_next(timeout_s=0.1)
    return [] if result is None else [("classification", result)]


PERCEPTION: TypedNodeSpec[Perception, PerceptionConfig] = TypedNodeSpec(
    name="perception",
    executable="perception_node",
    config=PerceptionConfig,
    build=_build_perception,
    subscriptions=(
        Subscription.to(
            "image",
            ImageFrame,
            lambda logic: logic.submit,
            "sensor",
            reliability_param="image_reliability",
        ),
        Subscription.to(
            "timestep_command", TimestepCommand, lambda logic: logic.on_command, "latched"
        ),
        Subscription.to(
            "model_update", ModelUpdate, lambda logic: logic.on_model_update, "latched"
        ),
    ),
    publications=(Publication("classification", Classification),),
    work=_perception_work,
    work_period_s=0.0,
    diagnostics=_diagnostics,
    busy=lambda logic: logic.queued > 0,
)


def _build_manager(config: TimestepManagerConfig, logger: LoggerLike) -> TimestepManager:
    from topspark_ros.packaged import default_profile_path
    from topspark_ros.topspark.profile import load_profile

    profile = load_profile(config.profile_path or default_profile_path())
    return TimestepManager(config, profile, logger)


def _manager_work(logic: TimestepManager, now_ns: int) -> Outputs:
    command = logic.update(now_ns)
    return [] if command is None else [("timestep_command", command)]


TIMESTEP_MANAGER: TypedNodeSpec[TimestepManager, TimestepManagerConfig] = TypedNodeSpec(
    name="timestep_manager",
    executable="timestep_manager_node",
    config=TimestepManagerConfig,
    build=_build_manager,
    subscriptions=(
        Subscription.to("battery_state", BatteryReading, Timed(lambda logic: logic.on_battery)),
        Subscription.to("classification", Classification, Timed(lambda logic: logic.on_result)),
    ),
    publications=(Publication("timestep_command", TimestepCommand, "latched"),),
    work=_manager_work,
    work_period_s=0.1,
    diagnostics=TimestepManager.diagnostics,
    serialise=True,
)


def _build_learner(config: OnlineLearnerConfig, logger: LoggerLike) -> OnlineLearner:
    from topspark_ros.nodes.online_learner import OnlineLearner

    return OnlineLearner(config, logger)


def _learner_work(logic: OnlineLearner, now_ns: int) -> Outputs:
    status, update = logic.step(now_ns)
    out: Outputs = []
    if update is not None:
        out.append(("model_update", update))
    if status is not None:
        out.append(("learning_status", status))
    return out


ONLINE_LEARNER: TypedNodeSpec[OnlineLearner, OnlineLearnerConfig] = TypedNodeSpec(
    name="online_learner",
    executable="online_learner_node",
    config=OnlineLearnerConfig,
    build=_build_learner,
    subscriptions=(
        Subscription.to(
            "image",
            ImageFrame,
            Timed(lambda logic: logic.on_image),
            "sensor",
            reliability_param="image_reliability",
        ),
        Subscription.to("classification", Classification, Timed(lambda logic: logic.on_result)),
        Subscription.to("environment", str, Timed(lambda logic: logic.on_environment)),
        Subscription.to("label", Label, lambda logic: logic.on_label),
        Subscription.to(
            "timestep_command", TimestepCommand, lambda logic: logic.on_command, "latched"
        ),
    ),
    publications=(
        Publication("learning_status", LearningStatus),
        Publication("model_update", ModelUpdate, "latched"),
    ),
    work=_learner_work,
    work_period_s=0.02,
    diagnostics=_diagnostics,
    busy=lambda logic: logic.busy,
)

SIM_ROBOT: TypedNodeSpec[SimRobot, SimRobotConfig] = TypedNodeSpec(
    name="sim_robot",
    executable="sim_robot_node",
    config=SimRobotConfig,
    build=SimRobot,
    subscriptions=(
        Subscription.to("classification", Classification, lambda logic: logic.on_result),
    ),
    publications=(
        Publication("environment", str),
        Publication("image", ImageFrame, "sensor"),
        Publication("label", Label),
        Publication("battery_state", BatteryReading),
    ),
    work=SimRobot.tick,
    work_period_s=TICK_S,  # the tick decides which messages are due
    diagnostics=_diagnostics,
    serialise=True,
)


def _by_name(*specs: NodeSpec) -> dict[str, NodeSpec]:
    return {spec.name: spec for spec in specs}


ROBOT_NODES = _by_name(PERCEPTION, TIMESTEP_MANAGER, ONLINE_LEARNER)
SIM_NODES = _by_name(SIM_ROBOT)
NODES: dict[str, NodeSpec] = {**ROBOT_NODES, **SIM_NODES}


def node_spec(name: str) -> NodeSpec:
    """The spec of node ``name``; ValueError listing the known nodes otherwise."""
    try:
        return NODES[name]
    except KeyError:
        known = ", ".join(NODES)
        raise ValueError(f"unknown node '{name}' (known: {known})") from None


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
    "Timed",
    "TypedNodeSpec",
    "message_types",
    "node_spec",
    "qos_of",
]

"""What the launch files declare and pass to the nodes, as pure functions over the node specs.

No ``launch`` imports: the launch files stay thin and these functions are tested without ROS 2.
Launch arguments: ``namespace``, ``use_sim_time``, ``log_level``, ``managed``, ``simulate``, one
``<node>_params_file`` per node, one ``<topic>_topic`` remap per relative topic, and one
``<node>.<param>`` per config field whose default '' means "as in the params file". The bringup
starts the robot's nodes (``wiring.ROBOT_NODES``); ``simulate:=true`` (``sim.launch.py``) adds the
simulated robot (``wiring.SIM_NODES``), whose arguments are declared but unused otherwise.
``replay.launch.py`` remaps the topics a bag feeds to a scenario bag's topics
(``replay_topic_arguments``) and fails with one line when its bag player does
(``bag_player_problem``). The parameter files and docs/ros.md's tables: ``topspark_ros.docgen``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from topspark_ros import config
from topspark_ros.config import check_value, field_kind, field_note
from topspark_ros.errors import ConfigError
from topspark_ros.graph.wiring import NODES, ROBOT_NODES, SIM_NODES, NodeSpec
from topspark_ros.ros.params_file import load_node_config, node_config_class
from topspark_ros.sim.scenario import ScenarioConfig

PACKAGE = "topspark_ros"
TRUE_WORDS = ("true", "True", "TRUE")
FALSE_WORDS = ("false", "False", "FALSE")
LOG_LEVELS = ("debug", "info", "warn", "error", "fatal")
# The node topics a bag feeds, and the ScenarioConfig field naming each one's topic in a bag.
REPLAY_TOPICS = {
    "image": "camera_topic",
    "battery_state": "battery_topic",
    "label": "label_topic",
    "environment": "environment_topic",
}


@dataclass(frozen=True)
class LaunchArgument:
    """One ``DeclareLaunchArgument``: its name, default value (text) and description."""

    name: str
    default: str
    description: str


def config_fields(node: str) -> tuple[dataclasses.Field[Any], ...]:
    """The parameters of ``node``'s config dataclass, in declaration order; ConfigError for an
    unknown node."""
    return config.config_fields(node_config_class(node))


def topics() -> tuple[str, ...]:
    """Every relative topic a node reads or writes, in first-use order (``/diagnostics`` not)."""
    names: dict[str, None] = {}
    for node in NODES.values():
        for topic in [s.topic for s in node.subscriptions] + [p.topic for p in node.publications]:
            if not topic.startswith("/"):
                names[topic] = None
    return tuple(names)


def launch_arguments(share_dir: str | Path) -> list[LaunchArgument]:
    """Every argument ``topspark.launch.py`` declares; params files default to ``share_dir``."""
    config_dir = Path(share_dir) / "config"
    args = [
        LaunchArgument("namespace", "", "namespace of the nodes and their topics"),
        LaunchArgument("use_sim_time", "false", "use /clock (Gazebo, bag replay) [true | false]"),
        LaunchArgument("log_level", "info", f"ROS log level [{' | '.join(LOG_LEVELS)}]"),
        LaunchArgument(
            "managed", "false", "leave the lifecycle nodes unconfigured for a lifecycle manager"
        ),
        LaunchArgument(
            "simulate",
            "false",
            "also start the simulated robot (camera, battery, environments) [true | false]",
        ),
    ]
    args += [
        LaunchArgument(
            f"{node}_params_file",
            str(config_dir / f"{node}.yaml"),
            f"parameter file of the {node} node ('': the built-in defaults)",
        )
        for node in NODES
    ]
    args += [
        LaunchArgument(f"{topic}_topic", topic, f"remap of the '{topic}' topic")
        for topic in topics()
    ]
    args += [
        LaunchArgument(f"{node}.{f.name}", "", f"{field_note(f)}; '': from the params file")
        for node in NODES
        for f in config_fields(node)
    ]
    return args


def replay_topic_arguments() -> list[LaunchArgument]:
    """The ``<topic>_topic`` remaps ``replay.launch.py`` declares: a scenario bag's topics."""
    scenario = ScenarioConfig()
    return [
        LaunchArgument(
            f"{topic}_topic",
            getattr(scenario, field),
            f"remap of the '{topic}' topic: the bag's topic (default: topspark make-bag's)",
        )
        for topic, field in REPLAY_TOPICS.items()
    ]


def bag_player_problem(returncode: int) -> str | None:
    """Why the launch stops when ``ros2 bag play`` exits with ``returncode``; None if it ended
    well or was stopped by a signal (Ctrl-C)."""
    if returncode <= 0:
        return None
    return (
        f"the bag player 'ros2 bag play' failed (exit code {returncode}): install rosbag2 "
        "(apt install ros-$ROS_DISTRO-rosbag2), or pass play:=false and play the bag yourself"
    )


def argument_names() -> list[str]:
    """The names of every argument ``launch_arguments`` declares."""
    return [arg.name for arg in launch_arguments("")]


def parse_bool(text: str, what: str) -> bool:
    """``true``/``false`` (any of the usual capitalisations) as a bool; ConfigError otherwise."""
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ConfigError(f"{what} must be true or false, got {text!r}")


def launched_nodes(values: Mapping[str, str]) -> list[NodeSpec]:
    """The nodes a launch starts: the robot's, then the simulated robot's if ``simulate``."""
    simulate = parse_bool(values.get("simulate", "false"), "simulate")
    return [*ROBOT_NODES.values(), *(SIM_NODES.values() if simulate else ())]


def parse_override(node: str, name: str, text: str) -> Any:
    """The value of launch argument ``<node>.<name>`` converted to the field's type and checked."""
    fields = {f.name: f for f in config_fields(node)}
    if name not in fields:
        raise ConfigError(f"launch argument {node}.{name}: {node} has no parameter '{name}'")
    field = fields[name]
    what = f"launch argument {node}.{name}"
    kind = field_kind(field)
    value: Any = text
    try:
        if kind is bool:
            value = parse_bool(text, what)
        elif kind in (int, float):
            value = kind(text)
    except ValueError:
        article = "an" if kind is int else "a"
        raise ConfigError(f"{what} must be {article} {kind.__name__}, got {text!r}") from None
    return check_value(field, value, f"launch argument of {node}")


def node_overrides(node: str, values: Mapping[str, str]) -> dict[str, Any]:
    """Typed parameter overrides of ``node`` from launch values: the non-empty ``<node>.*``."""
    prefix = f"{node}."
    return {
        f.name: parse_override(node, f.name, values[prefix + f.name])
        for f in config_fields(node)
        if values.get(prefix + f.name, "") != ""
    }


def node_parameters(node: str, values: Mapping[str, str]) -> dict[str, Any]:
    """``Node(parameters=[...])``: every parameter of ``node``, checked, plus ``use_sim_time``.

    The params file is read here rather than passed to the node: rcl applies a ``<node>:``
    section only to a node without namespace, this also finds ``/**`` and ``/<ns>/<node>``
    sections, and a bad value stops the launch before any node starts.
    """
    cls: type[Any] = node_config_class(node)
    params_file = values.get(f"{node}_params_file", "")
    namespace = values.get("namespace", "")
    base: Any = load_node_config(cls, params_file or None, node, namespace)
    merged = config.updated(base, node_overrides(node, values), f"launch arguments of {node}")
    use_sim_time = parse_bool(values.get("use_sim_time", "false"), "use_sim_time")
    return {**config.to_mapping(merged), "use_sim_time": use_sim_time}


def remappings(values: Mapping[str, str]) -> list[tuple[str, str]]:
    """``Node(remappings=...)``: each relative topic to its ``<topic>_topic`` value, if changed."""
    pairs = []
    for topic in topics():
        target = values.get(f"{topic}_topic", topic)
        if target == "":
            raise ConfigError(f"launch argument {topic}_topic must not be empty")
        if target != topic:
            pairs.append((topic, target))
    return pairs


def node_arguments(values: Mapping[str, str]) -> list[str]:
    """``Node(arguments=...)``: ``--managed`` for a lifecycle manager, and the log level."""
    managed = parse_bool(values.get("managed", "false"), "managed")
    level = values.get("log_level", "info")
    if level not in LOG_LEVELS:
        raise ConfigError(f"launch argument log_level must be one of {', '.join(LOG_LEVELS)}")
    return [*(["--managed"] if managed else []), "--ros-args", "--log-level", level]


__all__ = [
    "PACKAGE",
    "REPLAY_TOPICS",
    "LaunchArgument",
    "argument_names",
    "bag_player_problem",
    "config_fields",
    "launch_arguments",
    "launched_nodes",
    "node_arguments",
    "node_overrides",
    "node_parameters",
    "parse_bool",
    "parse_override",
    "remappings",
    "replay_topic_arguments",
    "topics",
]

"""What the launch files declare and pass to the nodes, as pure functions over the node specs.

No ``launch`` imports: the launch files stay thin and these functions are tested without ROS 2.
Launch arguments: ``namespace``, ``use_sim_time``, ``log_level``, ``managed``, ``simulate``, one
``<node>_params_file`` per node, one ``<topic>_topic`` remap per relative topic, and one
``<node>.<param>`` per config field whose default '' means "as in the params file". The bringup
starts the robot's nodes (``wiring.ROBOT_NODES``); ``simulate:=true`` (``sim.launch.py``) adds the
simulated robot (``wiring.SIM_NODES``), whose arguments are declared but unused otherwise.
``replay.launch.py`` remaps the topics a bag feeds to a scenario bag's topics
(``replay_topic_arguments``) and fails with one line when its bag player does
(``bag_player_problem``).
``python -m topspark_ros.ros.launch_support DIR`` rewrites ``DIR/<node>.yaml`` from the classes;
``... --markdown`` prints the topic and parameter tables of docs/ros.md.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from topspark_ros.config import check_value, from_mapping, to_mapping
from topspark_ros.errors import ConfigError
from topspark_ros.graph.wiring import (
    DIAGNOSTICS_TOPIC,
    DIAGNOSTICS_TYPE,
    NODES,
    ROBOT_NODES,
    SIM_NODES,
    NodeSpec,
    node_spec,
)
from topspark_ros.ros.params_file import ROS_PARAMETERS, load_node_config
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


def _spec(node: str) -> NodeSpec:
    """The node's spec; ConfigError (not ValueError) for an unknown node name."""
    try:
        return node_spec(node)
    except ValueError as err:
        raise ConfigError(str(err)) from None


def config_fields(node: str) -> tuple[dataclasses.Field[Any], ...]:
    """The fields of ``node``'s config dataclass, in declaration order."""
    return dataclasses.fields(_spec(node).config)


def field_kind(field: dataclasses.Field[Any]) -> type:
    """bool, int, float or str: the type of the field's default, as ROS declares the parameter."""
    if field.default is dataclasses.MISSING:
        raise TypeError(f"config field {field.name} needs a default to become a ROS parameter")
    return type(field.default)


def topics() -> tuple[str, ...]:
    """Every relative topic a node reads or writes, in first-use order (``/diagnostics`` not)."""
    names: dict[str, None] = {}
    for node in NODES.values():
        for topic in [s.topic for s in node.subscriptions] + [p.topic for p in node.publications]:
            if not topic.startswith("/"):
                names[topic] = None
    return tuple(names)


def field_range(field: dataclasses.Field[Any]) -> str:
    """A field's range ``[lo..hi]`` or choices ``[a | b]``; '' if it has neither."""
    meta = field.metadata
    if meta.get("choices"):
        return f"[{' | '.join(meta['choices'])}]"
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is None and hi is None:
        return ""
    return f"[{_number(lo)}..{_number(hi)}]"


def field_note(field: dataclasses.Field[Any]) -> str:
    """A field's description followed by its range or choices."""
    parts = (str(field.metadata.get("doc", "")), field_range(field))
    return " ".join(part for part in parts if part)


def _number(value: float | None) -> str:
    """A range bound as written in the parameter files: integral values without a decimal point."""
    if value is None:
        return ""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def yaml_scalar(value: Any) -> str:
    """``value`` as a YAML scalar that PyYAML and the rcl parser both read back with its type."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        return text if "." in mantissa or not e else f"{mantissa}.0e{exponent}"
    return json.dumps(str(value))


def params_yaml(node: str) -> str:
    """The text of ``config/<node>.yaml``: every config field with its default and description."""
    node_config = _spec(node).config
    fields = config_fields(node)
    defaults = node_config()
    entries = [(f"{f.name}: {yaml_scalar(getattr(defaults, f.name))}", f) for f in fields]
    width = max(len(entry) for entry, _ in entries) + 2
    lines = [
        f"# Parameters of the {node} node ({node_config.__module__}.{node_config.__name__}).",
        "# Generated from the dataclass with defaults; edit a copy or override in launch",
        f"# ({node}.<name>:=value). Regenerate: python -m topspark_ros.ros.launch_support config",
        "# Ranges [lo..hi] and choices are checked at start-up and on every parameter change.",
        f"{node}:",
        f"  {ROS_PARAMETERS}:",
    ]
    lines += [f"    {entry.ljust(width)}# {field_note(f)}" for entry, f in entries]
    return "\n".join(lines) + "\n"


def write_params(directory: str | Path) -> list[Path]:
    """Write ``<node>.yaml`` for every node into ``directory``; the paths written."""
    directory = Path(directory)
    paths = []
    for node in NODES:
        path = directory / f"{node}.yaml"
        path.write_text(params_yaml(node), encoding="utf-8")
        paths.append(path)
    return paths


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
    cls: type[Any] = _spec(node).config
    params_file = values.get(f"{node}_params_file", "")
    namespace = values.get("namespace", "")
    base: Any = load_node_config(cls, params_file or None, node, namespace)
    overrides = node_overrides(node, values)
    config: Any = from_mapping(
        cls, {**to_mapping(base), **overrides}, f"launch arguments of {node}"
    )
    use_sim_time = parse_bool(values.get("use_sim_time", "false"), "use_sim_time")
    return {**to_mapping(config), "use_sim_time": use_sim_time}


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


def topic_table() -> str:
    """Markdown table of every topic: message type, QoS, publishers and subscribers."""
    rows: dict[str, dict[str, Any]] = {}

    def row(topic: str, msgtype: str, qos: str) -> dict[str, Any]:
        return rows.setdefault(topic, {"type": msgtype, "qos": qos, "pub": [], "sub": []})

    for node in NODES.values():
        for sub in node.subscriptions:
            override = f", reliability: `{sub.reliability_param}`" if sub.reliability_param else ""
            row(sub.topic, sub.msgtype, sub.qos + override)["sub"].append(node.name)
        for pub in node.publications:
            row(pub.topic, pub.msgtype, pub.qos)["pub"].append(node.name)
    row(DIAGNOSTICS_TOPIC, DIAGNOSTICS_TYPE, "default")["pub"].extend(NODES)
    lines = ["| Topic | Type | QoS | Published by | Subscribed by |", "|---|---|---|---|---|"]
    lines += [
        f"| `{topic}` | `{r['type']}` | {r['qos']} | {_endpoints(r['pub'])} "
        f"| {_endpoints(r['sub'])} |"
        for topic, r in rows.items()
    ]
    return "\n".join(lines) + "\n"


def _endpoints(nodes: list[str]) -> str:
    """Nodes at one end of a topic; '(outside)' leads when none of them runs on a real robot."""
    robot = any(node in ROBOT_NODES for node in nodes)
    return ", ".join(nodes if robot else ["(outside)", *nodes])


def parameter_table(node: str) -> str:
    """Markdown table of ``node``'s parameters: type, default, range and description."""
    defaults = _spec(node).config()
    lines = ["| Parameter | Type | Default | Range | Description |", "|---|---|---|---|---|"]
    lines += [
        f"| `{f.name}` | {field_kind(f).__name__} | `{yaml_scalar(getattr(defaults, f.name))}` "
        f"| {field_range(f).replace('|', '/')} | {f.metadata.get('doc', '')} |"
        for f in config_fields(node)
    ]
    return "\n".join(lines) + "\n"


def reference_markdown() -> str:
    """The topic table and one parameter table per node, as docs/ros.md embeds them."""
    parts = ["### Topics\n\n" + topic_table()]
    parts += [f"### Parameters of `{node}`\n\n" + parameter_table(node) for node in NODES]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """``python -m topspark_ros.ros.launch_support CONFIG_DIR``: rewrite the parameter files;
    ``--markdown``: print the reference tables of docs/ros.md."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--markdown"]:
        print(reference_markdown(), end="")
        return 0
    if len(args) != 1 or not Path(args[0]).is_dir():
        usage = "usage: python -m topspark_ros.ros.launch_support (CONFIG_DIR | --markdown)"
        print(usage, file=sys.stderr)
        return 2
    for path in write_params(args[0]):
        print(path)
    return 0


__all__ = [
    "PACKAGE",
    "REPLAY_TOPICS",
    "LaunchArgument",
    "argument_names",
    "bag_player_problem",
    "config_fields",
    "field_kind",
    "field_note",
    "field_range",
    "launch_arguments",
    "launched_nodes",
    "main",
    "node_arguments",
    "node_overrides",
    "node_parameters",
    "parameter_table",
    "params_yaml",
    "parse_bool",
    "parse_override",
    "reference_markdown",
    "remappings",
    "replay_topic_arguments",
    "topic_table",
    "topics",
    "write_params",
    "yaml_scalar",
]

if __name__ == "__main__":
    raise SystemExit(main())

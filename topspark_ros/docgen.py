"""Generated reference: ``config/<node>.yaml`` and the topic and parameter tables of docs/ros.md,
from the node specs and their config dataclasses, so files, docs and code cannot drift.

``python -m topspark_ros.docgen CONFIG_DIR`` rewrites ``CONFIG_DIR/<node>.yaml``;
``python -m topspark_ros.docgen --markdown`` prints the tables of docs/ros.md. Tests compare the
shipped files with this output (test/ros/test_params_files.py, test/ros/test_launch.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from topspark_ros.config import config_fields, field_kind, field_note, field_range, to_mapping
from topspark_ros.graph.wiring import DIAGNOSTICS_TOPIC, DIAGNOSTICS_TYPE, NODES, ROBOT_NODES
from topspark_ros.ros.params_file import ROS_PARAMETERS, node_config_class

REGENERATE = "python -m topspark_ros.docgen config"
USAGE = "usage: python -m topspark_ros.docgen (CONFIG_DIR | --markdown)"


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
    """The text of ``config/<node>.yaml``: every parameter with its default and description."""
    node_config = node_config_class(node)
    defaults = to_mapping(node_config())
    entries = [
        (f"{f.name}: {yaml_scalar(defaults[f.name])}", f) for f in config_fields(node_config)
    ]
    width = max(len(entry) for entry, _ in entries) + 2
    lines = [
        f"# Parameters of the {node} node ({node_config.__module__}.{node_config.__name__}).",
        "# Generated from the dataclass with defaults; edit a copy or override in launch",
        f"# ({node}.<name>:=value). Regenerate: {REGENERATE}",
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
    node_config = node_config_class(node)
    defaults = to_mapping(node_config())
    lines = ["| Parameter | Type | Default | Range | Description |", "|---|---|---|---|---|"]
    lines += [
        f"| `{f.name}` | {field_kind(f).__name__} | `{yaml_scalar(defaults[f.name])}` "
        f"| {field_range(f).replace('|', '/')} | {f.metadata.get('doc', '')} |"
        for f in config_fields(node_config)
    ]
    return "\n".join(lines) + "\n"


def reference_markdown() -> str:
    """The topic table and one parameter table per node, as docs/ros.md embeds them."""
    parts = ["### Topics\n\n" + topic_table()]
    parts += [f"### Parameters of `{node}`\n\n" + parameter_table(node) for node in NODES]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """``python -m topspark_ros.docgen CONFIG_DIR``: rewrite the parameter files;
    ``--markdown``: print the reference tables of docs/ros.md."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--markdown"]:
        print(reference_markdown(), end="")
        return 0
    if len(args) != 1 or not Path(args[0]).is_dir():
        print(USAGE, file=sys.stderr)
        return 2
    for path in write_params(args[0]):
        print(path)
    return 0


__all__ = [
    "REGENERATE",
    "main",
    "parameter_table",
    "params_yaml",
    "reference_markdown",
    "topic_table",
    "write_params",
    "yaml_scalar",
]

if __name__ == "__main__":
    raise SystemExit(main())

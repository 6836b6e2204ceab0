"""ROS 2 parameter files (``<node>: ros__parameters: {...}``) -> a node's config dataclass."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from topspark_ros import config
from topspark_ros.errors import ConfigError
from topspark_ros.graph.wiring import node_spec

ROS_PARAMETERS = "ros__parameters"
# rclpy manages these itself; a params file may carry them for every node.
ROS_ONLY = ("use_sim_time",)


def node_config_class(node: str) -> type:
    """The config dataclass of node ``node``; ConfigError (not ValueError) for an unknown one."""
    try:
        return node_spec(node).config
    except ValueError as err:
        raise ConfigError(str(err)) from None


def node_section(data: Any, node: str, namespace: str = "", source: str = "") -> dict[str, Any]:
    """The merged ``ros__parameters`` for ``node`` from a parsed file: ``/**`` first, then the
    node's plain name, then its fully qualified ``/namespace/node`` name."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of node names to parameters")
    fq = "/" + "/".join(p for p in (*namespace.strip("/").split("/"), node) if p)
    merged: dict[str, Any] = {}
    for key in ("/**", node, fq.lstrip("/"), fq):
        section = data.get(key)
        if section is None:
            continue
        if not isinstance(section, dict) or ROS_PARAMETERS not in section:
            raise ConfigError(f"{source}: '{key}' has no '{ROS_PARAMETERS}' mapping")
        params = section[ROS_PARAMETERS]
        if not isinstance(params, dict):
            raise ConfigError(f"{source}: '{key}.{ROS_PARAMETERS}' is not a mapping")
        merged.update(params)
    return merged


def check_sections(data: Any, nodes: Iterable[str], source: str, namespace: str = "") -> None:
    """ConfigError unless every top-level key of a parsed params file is ``/**`` or one of
    ``nodes`` (plain or fully qualified) and at least one is: a misspelt section is ignored
    otherwise."""
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of node names to parameters")
    keys = ["/**"]
    for node in nodes:
        fq = "/" + "/".join(p for p in (*namespace.strip("/").split("/"), node) if p)
        keys += [node, fq.lstrip("/"), fq]
    expected = list(dict.fromkeys(keys))  # in order, once each
    listed = ", ".join(expected)
    for key in data or {}:
        if key not in expected:
            raise ConfigError(f"{source}: unknown node section {key!r} (expected one of {listed})")
    if not data:
        raise ConfigError(f"{source}: no section for any node (expected one of {listed})")


def load_node_config(
    cls: type[config.T], path: str | Path | None, node: str, namespace: str = ""
) -> config.T:
    """The config dataclass ``cls`` for ``node`` from a params file (None: the defaults)."""
    if path is None:
        return config.from_mapping(cls, {}, f"{node} defaults")
    data = config.read_yaml(path, "parameter file")
    params = node_section(data, node, namespace, str(path))
    for key in ROS_ONLY:
        params.pop(key, None)
    return config.from_mapping(cls, params, f"{path} [{node}]")


__all__ = [
    "ROS_ONLY",
    "ROS_PARAMETERS",
    "check_sections",
    "load_node_config",
    "node_config_class",
    "node_section",
]

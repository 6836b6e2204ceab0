"""ROS 2 parameter files (``<node>: ros__parameters: {...}``) -> a node's config dataclass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from topspark_ros import config
from topspark_ros.errors import ConfigError

ROS_PARAMETERS = "ros__parameters"
# rclpy manages these itself; a params file may carry them for every node.
ROS_ONLY = ("use_sim_time",)


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


__all__ = ["ROS_ONLY", "ROS_PARAMETERS", "load_node_config", "node_section"]

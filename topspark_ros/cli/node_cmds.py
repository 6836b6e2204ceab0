"""``topspark node NAME``: run one ROS node (perception, timestep_manager, online_learner, or the
simulated robot sim_robot).

It runs over rclpy when rclpy is importable (a ROS 2 install), else over Cyclone DDS with
ROS 2-compatible topics; ``--transport`` forces one.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
from typing import Any

from topspark_ros import config
from topspark_ros.cli.common import add_set_arg, parse_overrides
from topspark_ros.errors import ConfigError
from topspark_ros.ros.dds.names import parse_remaps
from topspark_ros.ros.params_file import load_node_config
from topspark_ros.ros.wiring import NODES, NodeSpec, node_spec

TRANSPORTS = ("auto", "dds", "rclpy")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``node`` sub-command."""
    p = sub.add_parser(
        "node",
        help="run one ROS node (over rclpy when available, else ROS 2-compatible DDS)",
        description=__doc__,
    )
    p.add_argument("name", choices=sorted(NODES), help="node to run")
    p.add_argument("--params", help="ROS 2 parameter YAML (<node>: ros__parameters: ...)")
    add_set_arg(p)
    p.add_argument("--transport", choices=TRANSPORTS, default="auto", help="default: auto")
    p.add_argument("--namespace", default="", help="namespace for the node's relative topics")
    p.add_argument(
        "--remap",
        dest="remaps",
        action="append",
        default=[],
        metavar="FROM:=TO",
        help="rename a topic, as ROS 2's -r FROM:=TO (repeatable), e.g. image:=/camera/image_raw",
    )
    p.add_argument(
        "--domain-id", type=int, default=None, help="DDS domain (default: $ROS_DOMAIN_ID or 0)"
    )
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="info")
    p.set_defaults(func=cmd_node)


def node_config(spec: NodeSpec, params: str | None, overrides: list[str], namespace: str) -> Any:
    """The node's config: the params file's values, then ``--set`` overrides."""
    base: Any = load_node_config(spec.config, params, spec.name, namespace)
    changes = parse_overrides(overrides)
    if not changes:
        return base
    merged = {**config.to_mapping(base), **changes}
    return config.from_mapping(spec.config, merged, f"{spec.name} --set")


def choose_transport(requested: str) -> str:
    """'rclpy' when asked, or for 'auto' when rclpy is importable; else 'dds'."""
    if requested == "rclpy" and importlib.util.find_spec("rclpy") is None:
        raise ConfigError("--transport rclpy: rclpy is not importable (source a ROS 2 setup)")
    if requested == "auto":
        return "rclpy" if importlib.util.find_spec("rclpy") is not None else "dds"
    return requested


def cmd_node(args: argparse.Namespace) -> int:
    """Run the node until SIGINT/SIGTERM; exit 1 if its worker failed."""
    spec = node_spec(args.name)
    cfg = node_config(spec, args.params, args.overrides, args.namespace)
    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level.upper(),
        format=f"[{spec.name}] %(levelname)s: %(message)s",
    )
    logger = logging.getLogger(f"topspark_ros.{spec.name}")
    remaps = parse_remaps(args.remaps)
    if choose_transport(args.transport) == "rclpy":
        from topspark_ros.ros.rclpy.entry import run_rclpy_node

        return run_rclpy_node(spec, cfg, args.namespace, remaps)
    from topspark_ros.ros.dds.node import run_dds_node

    return run_dds_node(spec, cfg, args.domain_id, args.namespace, logger, remaps)


__all__ = ["TRANSPORTS", "choose_transport", "cmd_node", "node_config", "register"]

"""``topspark node NAME``: run one ROS node (perception, timestep_manager, online_learner, or the
simulated robot sim_robot).

It runs over rclpy when rclpy and this package's generated messages are importable (a ROS 2
install with topspark_ros built and sourced), else over Cyclone DDS with ROS 2-compatible topics;
``--transport`` forces one.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
from typing import Any

from topspark_ros import config
from topspark_ros.cli import args as argtypes
from topspark_ros.cli.common import add_set_arg, parse_overrides
from topspark_ros.errors import ConfigError, TransportError
from topspark_ros.graph.wiring import NODES, NodeSpec, node_spec
from topspark_ros.messages import LoggerLike
from topspark_ros.ros.dds.names import parse_remaps
from topspark_ros.ros.params_file import load_node_config

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
        "--domain-id",
        type=argtypes.domain_id,
        default=None,
        help="DDS domain (default: $ROS_DOMAIN_ID or 0)",
    )
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="info")
    p.set_defaults(func=cmd_node)


def node_config(spec: NodeSpec, params: str | None, overrides: list[str], namespace: str) -> Any:
    """The node's config: the params file's values, then ``--set`` overrides."""
    base: Any = load_node_config(spec.config, params, spec.name, namespace)
    changes = parse_overrides(overrides)
    if not changes:
        return base
    return config.updated(base, changes, f"{spec.name} --set")


def rclpy_unavailable() -> str:
    """Why the rclpy transport cannot run here ('' if it can): rclpy, or this package's
    generated messages (built by colcon, importable once its install/setup.bash is sourced)."""
    if importlib.util.find_spec("rclpy") is None:
        return "rclpy is not importable (source a ROS 2 setup)"
    try:
        importlib.import_module("topspark_ros.msg")
    except ImportError as err:
        return (
            f"rclpy is importable but topspark_ros.msg is not ({err}): colcon build topspark_ros "
            f"and source its install/setup.bash"
        )
    return ""


def choose_transport(requested: str, logger: LoggerLike | None = None) -> str:
    """'rclpy' when asked (ConfigError if it cannot run), or for 'auto' when it can run; else
    'dds'. ``logger`` gets one warning when 'auto' finds rclpy but cannot use it."""
    if requested == "dds":
        return "dds"
    why = rclpy_unavailable()
    if requested == "rclpy" and why:
        raise ConfigError(f"--transport rclpy: {why}")
    if why and logger is not None and importlib.util.find_spec("rclpy") is not None:
        logger.warning(f"--transport auto: using DDS: {why}")
    return "dds" if why else "rclpy"


def cmd_node(args: argparse.Namespace) -> int:
    """Run the node until SIGINT/SIGTERM (or its starter's death); exit 1 if its worker failed."""
    from topspark_ros.lifeline import die_with_parent

    die_with_parent()
    spec = node_spec(args.name)
    cfg = node_config(spec, args.params, args.overrides, args.namespace)
    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level.upper(),
        format=f"[{spec.name}] %(levelname)s: %(message)s",
    )
    logger = logging.getLogger(f"topspark_ros.{spec.name}")
    remaps = parse_remaps(args.remaps)
    transport = choose_transport(args.transport, logger)
    if transport == "rclpy":
        try:
            from topspark_ros.ros.rclpy.entry import run_rclpy_node
        except ImportError as err:  # rclpy found but broken (e.g. no RMW library)
            if args.transport == "rclpy":
                raise TransportError(f"--transport rclpy: cannot import rclpy: {err}") from err
            logger.warning(f"--transport auto: using DDS: cannot import rclpy: {err}")
            transport = "dds"
    if transport == "rclpy":
        return run_rclpy_node(
            spec, cfg, args.namespace, remaps, domain_id=args.domain_id, log_level=args.log_level
        )
    from topspark_ros.ros.dds.node import run_dds_node

    return run_dds_node(spec, cfg, args.domain_id, args.namespace, logger, remaps)


__all__ = [
    "TRANSPORTS",
    "choose_transport",
    "cmd_node",
    "node_config",
    "rclpy_unavailable",
    "register",
]

"""Run one node over rclpy: the ROS executables (``ros2 run topspark_ros perception_node``) and
``topspark node NAME --transport rclpy``.

The node is configured and activated at once unless ``--managed`` is given (then a lifecycle
manager or ``ros2 lifecycle set`` drives it). It spins in a MultiThreadedExecutor until shutdown
(Ctrl-C, SIGTERM) and exits 1 if configuring failed or the worker died.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Mapping
from typing import Any

import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.utilities import remove_ros_args

from topspark_ros.ros.rclpy.node import SUCCESS, TopsparkNode
from topspark_ros.ros.wiring import NodeSpec, node_spec

SPIN_S = 0.5  # executor wake-up period for checking the worker


def run(node: str, argv: list[str] | None = None) -> int:
    """Run node ``node`` with a command line (``[program, --managed, --ros-args ...]``)."""
    argv = list(sys.argv if argv is None else argv)
    spec = node_spec(node)
    parser = argparse.ArgumentParser(prog=spec.executable, description=__doc__)
    parser.add_argument(
        "--managed", action="store_true", help="wait for lifecycle transitions from outside"
    )
    options = parser.parse_args(remove_ros_args(args=argv)[1:])
    return _spin(lambda: TopsparkNode(spec), argv, managed=options.managed)


def run_rclpy_node(
    spec: NodeSpec, config: Any, namespace: str = "", remaps: Mapping[str, str] | None = None
) -> int:
    """Run ``spec``'s node with parameters from an already loaded ``config`` dataclass;
    ``remaps`` become rclpy's own ``--ros-args -r FROM:=TO`` rules."""
    overrides = [
        Parameter(f.name, value=getattr(config, f.name)) for f in dataclasses.fields(config)
    ]
    argv = [spec.executable]
    if remaps:
        argv += ["--ros-args"]
        for source, target in remaps.items():
            argv += ["-r", f"{source}:={target}"]
    return _spin(
        lambda: TopsparkNode(spec, namespace=namespace, parameter_overrides=overrides),
        argv,
        managed=False,
    )


def _spin(make: Callable[[], TopsparkNode], argv: list[str], managed: bool) -> int:
    """Init rclpy, build the node, bring it up unless ``managed``, spin; the exit code."""
    rclpy.init(args=argv)  # rclpy.init is a context manager only after Jazzy
    node: TopsparkNode | None = None
    try:
        node = make()
        if not managed and not _bring_up(node):
            return 1
        executor = MultiThreadedExecutor()
        executor.add_node(node)
        while rclpy.ok() and node.failure is None:
            executor.spin_once(timeout_sec=SPIN_S)
        return 0 if node.failure is None else 1
    except ParameterException as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, ExternalShutdownException):
        return 0
    finally:
        if node is not None:
            node.release()
            node.destroy_node()
        rclpy.try_shutdown()


def _bring_up(node: TopsparkNode) -> bool:
    """Configure and activate ``node``; False (with the reason logged) if either fails."""
    for transition in (node.trigger_configure, node.trigger_activate):
        if transition() != SUCCESS:
            node.get_logger().error(f"{transition.__name__} failed: exiting")
            return False
    return True


__all__ = ["run", "run_rclpy_node"]

"""Run one node over rclpy: the ROS executables (``ros2 run topspark_ros perception_node``) and
``topspark node NAME --transport rclpy``.

The node is configured and activated at once unless ``--managed`` is given (then a lifecycle
manager or ``ros2 lifecycle set`` drives it). It spins in a MultiThreadedExecutor until Ctrl-C,
SIGTERM or the lifecycle shutdown transition (exit 0), and exits 1 if configuring failed or the
worker died.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Mapping
from typing import Any

import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.utilities import remove_ros_args

from topspark_ros.config import to_mapping
from topspark_ros.graph.wiring import NodeSpec, node_spec
from topspark_ros.ros.rclpy.node import SUCCESS, TopsparkNode

SPIN_S = 0.5  # executor wake-up period for checking the worker
ROS_LOG_LEVELS = {"warning": "warn"}  # ``topspark node --log-level`` names rcutils spells apart


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
    spec: NodeSpec,
    config: Any,
    namespace: str = "",
    remaps: Mapping[str, str] | None = None,
    domain_id: int | None = None,
    log_level: str | None = None,
) -> int:
    """Run ``spec``'s node with parameters from an already loaded ``config`` dataclass;
    ``remaps`` and ``log_level`` (debug, info, warning, error) become rclpy's own
    ``--ros-args -r FROM:=TO --log-level L``; ``domain_id`` None: ``$ROS_DOMAIN_ID`` or 0."""
    overrides = [Parameter(name, value=value) for name, value in to_mapping(config).items()]
    ros_args = [arg for rule in (remaps or {}).items() for arg in ("-r", ":=".join(rule))]
    if log_level is not None:
        ros_args += ["--log-level", ROS_LOG_LEVELS.get(log_level, log_level)]
    argv = [spec.executable, *(["--ros-args", *ros_args] if ros_args else [])]
    return _spin(
        lambda: TopsparkNode(spec, namespace=namespace, parameter_overrides=overrides),
        argv,
        managed=False,
        domain_id=domain_id,
    )


def _spin(
    make: Callable[[], TopsparkNode], argv: list[str], managed: bool, domain_id: int | None = None
) -> int:
    """Init rclpy, build the node, bring it up unless ``managed``, spin until shutdown or the
    node is finalized; the exit code."""
    rclpy.init(args=argv, domain_id=domain_id)  # a context manager only after Jazzy
    node: TopsparkNode | None = None
    executor: MultiThreadedExecutor | None = None
    try:
        node = make()
        if not managed and not _bring_up(node):
            return 1
        executor = MultiThreadedExecutor()
        executor.add_node(node)
        while rclpy.ok() and node.failure is None and not node.finalized:
            executor.spin_once(timeout_sec=SPIN_S)
        return 0 if node.failure is None else 1
    except ParameterException as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, ExternalShutdownException):
        return 0
    finally:
        # Ctrl-C in a terminal signals the whole group, and ros2 launch forwards a second SIGINT:
        # it must not interrupt the cleanup below (launch escalates to SIGTERM if we hang).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if executor is not None:  # waits for callbacks in flight (the shutdown's response)
            executor.shutdown(timeout_sec=SPIN_S * 4)
        if node is not None:
            node.release()
            node.destroy_node()
        rclpy.try_shutdown()


def _bring_up(node: TopsparkNode) -> bool:
    """Configure and activate ``node``; False if either fails (the transition logged why)."""
    for transition in (node.trigger_configure, node.trigger_activate):
        if transition() != SUCCESS:
            node.get_logger().info(f"{transition.__name__} did not succeed: exiting")
            return False
    return True


__all__ = ["ROS_LOG_LEVELS", "run", "run_rclpy_node"]

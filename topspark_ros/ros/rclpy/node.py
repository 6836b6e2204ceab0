"""One ``graph.spec.NodeSpec`` as an rclpy lifecycle node; the logic runs in a ``NodeRunner``.

Parameters are declared in ``__init__``; ``on_configure`` builds the logic (model load and JIT
warm-up) and the publishers; ``on_activate`` subscribes and starts the worker; the other
transitions undo this in reverse. Subscription callbacks run in the executor (one at a time per
node); the worker thread publishes results and ``/diagnostics``. Time is the node clock, so
``use_sim_time`` works with Gazebo and bag replay.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from topspark_ros.errors import TopsparkError, TransportError
from topspark_ros.graph.runner import NodeRunner
from topspark_ros.graph.spec import (
    DIAGNOSTICS_TOPIC,
    DIAGNOSTICS_TYPE,
    NodeInstance,
    NodeSpec,
    Topic,
    qos_of,
)
from topspark_ros.messages import DiagnosticStatus
from topspark_ros.ros.qos import qos_profile
from topspark_ros.ros.rclpy import params
from topspark_ros.ros.rclpy.messages import message_class, rclpy_converter

SUCCESS = TransitionCallbackReturn.SUCCESS
FAILURE = TransitionCallbackReturn.FAILURE
ERROR = TransitionCallbackReturn.ERROR


def ros_qos(name: str, reliability: str | None = None) -> Any:
    """The rclpy ``QoSProfile`` of a wiring QoS name (default, sensor, latched)."""
    profile = qos_profile(name, reliability)
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=profile.depth,
        reliability=ReliabilityPolicy.RELIABLE
        if profile.reliable
        else ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.TRANSIENT_LOCAL
        if profile.transient_local
        else DurabilityPolicy.VOLATILE,
    )


class TopsparkNode(LifecycleNode):
    """The lifecycle node of ``spec``: plain data in and out through the package's Converter."""

    def __init__(self, spec: NodeSpec, **kwargs: Any) -> None:
        """Declare the parameters of ``spec.config``; kwargs go to rclpy's Node."""
        super().__init__(spec.name, **kwargs)
        self.spec = spec
        # Names chosen not to shadow rclpy.Node's own attributes (_publishers, _subscriptions).
        self._converter = rclpy_converter()
        self._instance: NodeInstance | None = None  # config and logic, from on_configure
        self._runner: NodeRunner | None = None  # a new one per activation
        self._outputs: dict[str, tuple[Any, str]] = {}
        self._inputs: list[Any] = []
        self.finalized = False  # set by the shutdown transition: the process should then exit
        params.declare(self, spec.config)
        self.add_on_set_parameters_callback(
            lambda parameters: params.validate(self, spec.config, parameters)
        )

    @property
    def failure(self) -> BaseException | None:
        """Why the worker stopped, if it failed (the process should then exit non-zero)."""
        return None if self._runner is None else self._runner.failure

    def now_ns(self) -> int:
        """The node clock in integer nanoseconds (simulated time under use_sim_time)."""
        return int(self.get_clock().now().nanoseconds)

    # --- lifecycle transitions ------------------------------------------------------------

    def on_configure(self, state: Any) -> Any:
        """Build the logic from the parameters (model load, JIT warm-up) and the publishers."""
        try:
            config = params.load(self, self.spec.config)
            self._instance = self.spec.instance(config, self.get_logger())
            for pub in self.spec.publications:
                self._advertise(pub.topic, pub.msgtype, ros_qos(*qos_of(pub, config)))
            self._advertise(DIAGNOSTICS_TOPIC, DIAGNOSTICS_TYPE, ros_qos("default"))
        except TopsparkError as err:
            self.get_logger().error(f"configure failed: {err}")
            self.release()
            return FAILURE
        except Exception:  # rclpy turns an exception into ERROR silently: log it first
            self.get_logger().error(f"configure failed: {traceback.format_exc()}")
            self.release()
            return ERROR
        self.get_logger().info("configured")
        return super().on_configure(state)

    def on_activate(self, state: Any) -> Any:
        """Activate the publishers, subscribe and start the worker."""
        node = self._instance
        if node is None:
            return FAILURE
        result = super().on_activate(state)
        if result != SUCCESS:
            return result
        self._runner = NodeRunner(node, self._publish, self.now_ns, self.get_logger())
        for sub in self.spec.subscriptions:
            self._inputs.append(
                self.create_subscription(
                    message_class(sub.msgtype),
                    sub.topic,
                    self._receiver(sub),
                    ros_qos(*qos_of(sub, node.config)),
                )
            )
        self._runner.start()
        self.get_logger().info("active")
        return result

    def on_deactivate(self, state: Any) -> Any:
        """Stop the worker and unsubscribe; the logic and its state are kept."""
        self._stop()
        return super().on_deactivate(state)

    def on_cleanup(self, state: Any) -> Any:
        """Drop the logic and the publishers (the next configure re-reads the parameters)."""
        self.release()
        return super().on_cleanup(state)

    def on_shutdown(self, state: Any) -> Any:
        """Release everything; the node then reaches finalized and its process exits."""
        self.release()
        self.finalized = True
        return super().on_shutdown(state)

    def on_error(self, state: Any) -> Any:
        """Release everything and return to unconfigured."""
        self.release()
        return super().on_error(state)

    def release(self) -> None:
        """Stop the worker, unsubscribe, destroy the publishers and drop the logic."""
        self._stop()
        for publisher, _ in self._outputs.values():
            self.destroy_lifecycle_publisher(publisher)
        self._outputs.clear()
        self._runner = None
        self._instance = None

    # --- data in and out -------------------------------------------------------------------

    def _advertise(self, topic: str, msgtype: str, qos: Any) -> None:
        """Create the lifecycle publisher of ``topic`` (active only while the node is)."""
        publisher = self.create_lifecycle_publisher(message_class(msgtype), topic, qos)
        self._outputs[topic] = (publisher, msgtype)

    def _stop(self) -> None:
        """Stop the worker thread (its failure stays readable) and destroy the subscriptions."""
        if self._runner is not None:
            self._runner.stop()
        for subscription in self._inputs:
            self.destroy_subscription(subscription)
        self._inputs.clear()

    def _receiver(self, sub: Topic) -> Callable[[Any], None]:
        """The callback of ``sub``: message -> plain data -> the logic's handler."""

        def receive(message: Any) -> None:
            runner = self._runner
            if runner is None:
                return
            try:
                data = self._converter.from_message(message, sub.msgtype, sub.data)
            except TransportError as err:
                self.get_logger().warning(f"{sub.topic}: {err}")
                return
            runner.handle(sub.topic, data)

        return receive

    def _publish(self, topic: str, data: object) -> None:
        """Publish plain ``data`` on ``topic`` (a DiagnosticStatus goes into a DiagnosticArray)."""
        entry = self._outputs.get(topic)
        if entry is None:
            return
        publisher, msgtype = entry
        if isinstance(data, DiagnosticStatus):
            message = self._converter.diagnostic_array([data], self.now_ns())
        else:
            message = self._converter.to_message(data, msgtype)
        publisher.publish(message)


__all__ = ["TopsparkNode", "ros_qos"]

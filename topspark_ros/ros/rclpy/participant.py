"""This process as a plain rclpy node that publishes and subscribes plain data (no lifecycle).

The demo's monitor and the latency benchmark use it under ``--transport rclpy`` in place of
``ros.dds.DdsTransport``, with the same ``publisher``/``subscribe``/``close`` calls and the
package's Converter, so the node logic and the benchmark stay transport-free. It has its own
rclpy context; a thread spins its executor, so callbacks run there one at a time and must be
quick. It installs no signal handler: Ctrl-C stays the caller's KeyboardInterrupt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import rclpy
from rclpy.context import Context
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.signals import SignalHandlerOptions

from topspark_ros.errors import TransportError
from topspark_ros.interfaces.convert import Converter
from topspark_ros.interfaces.typestore import full_typename
from topspark_ros.messages import typename_of
from topspark_ros.ros.publisher import ConvertingPublisher
from topspark_ros.ros.rclpy.messages import message_class, rclpy_converter
from topspark_ros.ros.rclpy.node import ros_qos

SPIN_S = 0.2  # executor wake-up period: how long close() may wait for the spin thread


class RclpyPublisher(ConvertingPublisher):
    """Publishes one topic; ``publish`` takes an rclpy message or a plain value to convert."""

    def __init__(self, publisher: Any, typename: str, msg_class: type, converter: Converter):
        """A publisher over an rclpy publisher (made by ``RclpyParticipant.publisher``)."""
        super().__init__(typename, msg_class, converter)
        self._publisher = publisher

    def _write(self, sample: object) -> None:
        """Publish one rclpy message."""
        self._publisher.publish(sample)

    def matched(self) -> int:
        """How many subscriptions currently match this publisher."""
        return int(self._publisher.get_subscription_count())


class RclpyParticipant:
    """An rclpy node named ``name`` in domain ``domain_id`` (``ros2 node list`` shows it)."""

    def __init__(self, domain_id: int, name: str) -> None:
        """Init a context of its own, create the node and start spinning it."""
        self.domain_id = domain_id
        self._context = Context()
        rclpy.init(
            args=[],
            context=self._context,
            domain_id=domain_id,
            signal_handler_options=SignalHandlerOptions.NO,
        )
        try:
            self.node: Any = rclpy.create_node(name, context=self._context)
            self._executor = SingleThreadedExecutor(context=self._context)
            self._executor.add_node(self.node)
        except Exception as err:
            self._context.try_shutdown()
            raise TransportError(f"cannot start rclpy node {name}: {err}") from err
        self.converter = rclpy_converter()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._spin, name=f"rclpy-{name}", daemon=True)
        self._thread.start()

    def __enter__(self) -> RclpyParticipant:
        """The participant itself; ``close()`` on exit."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the participant."""
        self.close()

    def publisher(
        self, topic: str, msgtype: str | type, qos: str = "default", reliability: str | None = None
    ) -> RclpyPublisher:
        """A publisher of ``msgtype`` (``pkg/msg/Name`` or a node dataclass) on ``topic``."""
        typename = _typename(msgtype)
        cls = message_class(typename)
        made = self.node.create_publisher(cls, topic, ros_qos(qos, reliability))
        return RclpyPublisher(made, typename, cls, self.converter)

    def subscribe(
        self,
        topic: str,
        msgtype: str | type,
        callback: Callable[[Any], object],
        qos: str = "default",
        reliability: str | None = None,
        into: type | None = None,
    ) -> object:
        """Call ``callback`` with each message on ``topic`` (from the spin thread): the rclpy
        message, or the plain ``into`` converted from it (a node dataclass as ``msgtype``
        implies ``into``); a message that does not convert is dropped with a warning."""
        typename = _typename(msgtype)
        target = into if into is not None else (None if isinstance(msgtype, str) else msgtype)

        def receive(message: Any) -> None:
            if target is None:
                callback(message)
                return
            try:
                data: Any = self.converter.from_message(message, typename, target)
            except TransportError as err:
                self.node.get_logger().warning(f"{topic}: {err}")
                return
            callback(data)

        cls = message_class(typename)
        return self.node.create_subscription(cls, topic, receive, ros_qos(qos, reliability))

    def close(self) -> None:
        """Stop spinning, destroy the node and shut the context down; idempotent."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._thread.join()
        self._executor.shutdown()
        self.node.destroy_node()
        self._context.try_shutdown()

    def _spin(self) -> None:
        """Spin thread: serve callbacks until closed or the context shuts down."""
        while not self._closed.is_set() and self._context.ok():
            try:
                self._executor.spin_once(timeout_sec=SPIN_S)
            except ExternalShutdownException:
                return


def _typename(msgtype: str | type) -> str:
    """The full ROS type name of a type name or a node dataclass."""
    return full_typename(msgtype) if isinstance(msgtype, str) else typename_of(msgtype)


__all__ = ["RclpyParticipant", "RclpyPublisher"]

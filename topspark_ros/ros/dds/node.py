"""Run one node's logic over Cyclone DDS with ROS 2-compatible topics, until SIGINT/SIGTERM."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from topspark_ros.graph.runner import NodeRunner
from topspark_ros.graph.spec import DIAGNOSTICS_TOPIC, DIAGNOSTICS_TYPE, NodeSpec, qos_of
from topspark_ros.lifeline import DEATH_SIGNAL, exit_now
from topspark_ros.messages import DiagnosticStatus, LoggerLike
from topspark_ros.ros.dds.transport import DdsTransport

FAILURE_POLL_S = 0.2
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class DdsNode:
    """A node's logic wired to DDS: readers feed the runner, the runner's output is written."""

    def __init__(
        self,
        spec: NodeSpec,
        config: object,
        logger: LoggerLike,
        domain_id: int | None = None,
        namespace: str = "",
        remaps: Mapping[str, str] | None = None,
    ) -> None:
        self.spec = spec
        self.transport = DdsTransport(domain_id, namespace, remaps=remaps)
        self._logger = logger
        try:
            node = spec.instance(config, logger)
            self._writers = {
                pub.topic: self.transport.publisher(pub.topic, pub.msgtype, pub.qos)
                for pub in spec.publications
            }
            self._diagnostics = self.transport.publisher(DIAGNOSTICS_TOPIC, DIAGNOSTICS_TYPE)
            self.runner = NodeRunner(node, self._publish, time.time_ns, logger)
            for sub in spec.subscriptions:
                qos, reliability = qos_of(sub, config)
                self.transport.subscribe(
                    sub.topic, sub.msgtype, self._deliver(sub.topic), qos, reliability, sub.data
                )
        except BaseException:
            self.transport.close()
            raise

    def _deliver(self, topic: str) -> Callable[[object], None]:
        """The DDS callback of ``topic``: hand the converted data to the runner."""
        return lambda data: self.runner.handle(topic, data)

    def _publish(self, topic: str, data: object) -> None:
        """Write ``data`` on ``topic``; diagnostics go out as a one-status DiagnosticArray."""
        if isinstance(data, DiagnosticStatus):
            array = self.transport.converter.diagnostic_array([data], time.time_ns())
            self._diagnostics.publish(array)
        else:
            self._writers[topic].publish(data)

    def start(self) -> None:
        """Start the worker."""
        self.runner.start()

    def close(self) -> None:
        """Stop the worker and leave the domain."""
        self.runner.stop()
        self.transport.close()


def run_dds_node(
    spec: NodeSpec,
    config: object,
    domain_id: int | None,
    namespace: str,
    logger: LoggerLike,
    remaps: Mapping[str, str] | None = None,
) -> int:
    """Run ``spec``'s node until SIGINT/SIGTERM (exit 0) or until its worker fails (exit 1);
    on ``DEATH_SIGNAL`` (its starter died, see ``lifeline``) it ends as soon as its worker has
    finished (exit 129), without the goodbyes nobody is left to hear."""
    stop = threading.Event()
    signals: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        signals.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (*STOP_SIGNALS, DEATH_SIGNAL)}
    try:
        node = DdsNode(spec, config, logger, domain_id, namespace, remaps)
    except BaseException:
        _restore(previous)
        raise
    try:
        node.start()
        logger.info(f"ready on DDS domain {node.transport.domain_id} (namespace '{namespace}')")
        while not stop.wait(FAILURE_POLL_S):
            if node.runner.failure is not None:
                return 1
        logger.info("shutting down")
        return 0
    finally:
        node.runner.stop()  # the worker finishes what it does (a checkpoint is written whole)
        if DEATH_SIGNAL in signals:  # our starter died: leaving the domain would wait for it
            logger.info("the process that started this node is gone: exiting now")
            exit_now()
        node.close()
        _restore(previous)


def _restore(handlers: dict[signal.Signals, Any]) -> None:
    """Put back the signal handlers ``run_dds_node`` replaced."""
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


__all__ = ["DdsNode", "run_dds_node"]

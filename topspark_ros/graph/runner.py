"""Drives a node's logic on any transport: handlers for incoming data, a worker thread for the
logic's periodic work and diagnostics. The transports (DDS, rclpy) only convert and deliver."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

from topspark_ros.errors import TopsparkError
from topspark_ros.graph.spec import DIAGNOSTICS_TOPIC, NodeInstance
from topspark_ros.messages import DiagnosticStatus, LoggerLike

Publish = Callable[[str, object], None]
Clock = Callable[[], int]
CLOCK_WAIT_S = 0.02  # how often the worker looks whether simulated time has started


class NodeRunner:
    """Runs ``node``'s logic and publishes what it produces through ``publish``.

    ``clock`` gives now_ns (wall or simulated time). ``handle`` is called from transport threads;
    the worker thread calls the spec's ``work`` and publishes diagnostics every
    ``config.diagnostics_period_s``. An unexpected exception in the worker stops the runner and
    is kept in ``failure`` so the process can exit non-zero.

    A clock reading 0 has not started (ROS simulated time before the first ``/clock``): until it
    does, the runner does no work and drops timed inputs (one warning per topic), so no logic
    sees time 0 and then a jump to bag or Gazebo time.
    """

    def __init__(
        self, node: NodeInstance, publish: Publish, clock: Clock, logger: LoggerLike
    ) -> None:
        self.node = node
        self.spec = node.spec
        self._publish = publish
        self._clock = clock
        self._logger = logger
        self._lock: contextlib.AbstractContextManager[object] = (
            threading.Lock() if node.spec.serialise else contextlib.nullcontext()
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._waiting_for_clock: set[str] = set()  # topics already warned about
        self.failure: BaseException | None = None

    def handle(self, topic: str, data: object) -> None:
        """Deliver converted ``data`` of ``topic`` to the logic; known errors become warnings."""
        try:
            with self._lock:
                if topic not in self.node.timed:
                    self.node.deliver(topic, data, 0)
                    return
                now_ns = self._clock()
                if now_ns > 0:
                    self.node.deliver(topic, data, now_ns)
                elif topic not in self._waiting_for_clock:
                    self._waiting_for_clock.add(topic)
                    self._logger.warning(
                        f"{topic}: dropped while the clock has not started "
                        f"(use_sim_time and no /clock yet)"
                    )
        except TopsparkError as err:
            self._logger.warning(f"{topic}: {err}")

    def diagnostics(self) -> DiagnosticStatus:
        """The logic's current diagnostic status."""
        with self._lock:
            return self.node.diagnostics(self._clock())

    def busy(self) -> bool:
        """Whether the logic has work waiting (``work_once`` should run again at once)."""
        return self.node.busy()

    def start(self) -> None:
        """Start (or restart) the worker thread."""
        self._stop.clear()
        self.failure = None
        self._thread = threading.Thread(
            target=self._work, name=f"{self.spec.name}-worker", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Ask the worker to finish and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    @property
    def running(self) -> bool:
        """Whether the worker is alive and has not failed."""
        return self._thread is not None and self._thread.is_alive() and self.failure is None

    def work_once(self) -> bool:
        """One unit of the logic's work, its outputs published; True if more work is waiting."""
        with self._lock:
            outputs = self.node.work(self._clock())
        for topic, data in outputs:
            self._publish(topic, data)
        return self.busy()

    def _work(self) -> None:
        period = float(self.node.config.diagnostics_period_s)
        next_diag = time.monotonic()
        try:
            while not self._stop.is_set():
                if self._clock() <= 0:  # simulated time has not started
                    self._stop.wait(CLOCK_WAIT_S)
                    continue
                busy = self.work_once()
                if time.monotonic() >= next_diag:
                    self._publish(DIAGNOSTICS_TOPIC, self.diagnostics())
                    next_diag = time.monotonic() + period
                if self.spec.work_period_s > 0 and not busy:
                    self._stop.wait(self.spec.work_period_s)
        except BaseException as err:  # kept for the process to report and exit non-zero
            self.failure = err
            self._logger.error(f"{self.spec.name}: worker stopped: {type(err).__name__}: {err}")


__all__ = ["Clock", "NodeRunner", "Publish"]

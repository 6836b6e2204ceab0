"""Run node logic in bag time: the same NodeSpecs the live adapters use, driven by a bag's clock.

Each node is a ``NodeRunner`` whose clock is the bag time of the message being replayed. A
message is delivered to every node subscribed to its topic; whatever a node publishes is
recorded and delivered at once to its subscribers. Periodic work (the timestep manager's
decisions, the learner's steps) runs when bag time passes its period; work a node reports as
waiting (a queued frame, a ready STDP batch) runs before the next message. Replays are therefore
deterministic: nothing depends on thread timing, and every frame is answered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from topspark_ros.graph.runner import NodeRunner
from topspark_ros.graph.spec import NodeInstance
from topspark_ros.messages import NS_PER_S, LoggerLike

MAX_SETTLE = 100_000  # work units per message before a node is deemed stuck
Record = Callable[[str, object, int], None]


class BagTimeBus:
    """Delivers messages among node logics in bag time and records what they publish.

    ``record(topic, data, time_ns)`` sees every publication (relative topic names, as in
    ``wiring``). Diagnostics are not produced: they describe wall-clock health.
    """

    def __init__(self, nodes: Sequence[NodeInstance], record: Record, logger: LoggerLike):
        self._now = 0
        self._record = record
        self._runners: list[NodeRunner] = []
        self._subscribers: dict[str, list[NodeRunner]] = defaultdict(list)
        self._due: dict[int, int] = {}
        for node in nodes:
            runner = NodeRunner(node, self._publish, self.now, logger)
            self._runners.append(runner)
            for sub in node.spec.subscriptions:
                self._subscribers[sub.topic].append(runner)

    def now(self) -> int:
        """The bag time (ns) of the message being replayed."""
        return self._now

    def deliver(self, topic: str, data: object, time_ns: int) -> None:
        """Advance to ``time_ns``, hand ``data`` to ``topic``'s subscribers and let them work."""
        self.advance(time_ns)
        for runner in self._subscribers.get(topic, ()):
            runner.handle(topic, data)
        self.settle()

    def advance(self, time_ns: int) -> None:
        """Move bag time forward (never back) and run the periodic work that fell due."""
        self._now = max(self._now, int(time_ns))
        for index, runner in enumerate(self._runners):
            period_ns = int(runner.spec.work_period_s * NS_PER_S)
            if period_ns <= 0:
                continue
            due = self._due.get(index)
            if due is None or self._now >= due:
                self._due[index] = self._now + period_ns
                runner.work_once()
        self.settle()

    def settle(self) -> None:
        """Run every node's waiting work until none is left (bounded, in case a node spins)."""
        for _ in range(MAX_SETTLE):
            busy = [runner for runner in self._runners if runner.busy()]
            if not busy:
                return
            for runner in busy:
                runner.work_once()
        names = ", ".join(runner.spec.name for runner in self._runners if runner.busy())
        raise RuntimeError(f"replay: node work did not settle ({names})")

    def _publish(self, topic: str, data: object) -> None:
        """Record a node's output and deliver it to the nodes subscribed to it."""
        self._record(topic, data, self._now)
        for runner in self._subscribers.get(topic, ()):
            runner.handle(topic, data)


__all__ = ["BagTimeBus", "NodeInstance"]

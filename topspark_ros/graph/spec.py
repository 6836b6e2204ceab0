"""The types of the node graph: topics, subscriptions, publications and node specs.

A node is declared once as a ``TypedNodeSpec[Logic, Config]``: mypy checks every handler against
its topic's data type and the node's logic class, and the worker functions against that class.
The transports and the replay hold nodes of every type at once, so they see a spec as the
protocol ``NodeSpec`` (the types hidden) and reach the logic only through a ``NodeInstance``,
whose typed constructor checks that spec, config and logic agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import Field, dataclass
from functools import partial
from typing import ClassVar, Generic, Protocol, TypeVar

from topspark_ros.messages import STRING_TYPE, DiagnosticStatus, LoggerLike, typename_of

Logic = TypeVar("Logic")  # a node logic class (Perception, TimestepManager, ...)
Config = TypeVar("Config", bound="NodeConfig")  # its config dataclass
Data = TypeVar("Data")  # what a topic's messages become in the logic

DIAGNOSTICS_TOPIC = "/diagnostics"
DIAGNOSTICS_TYPE = "diagnostic_msgs/msg/DiagnosticArray"

Outputs = list[tuple[str, object]]  # (relative topic, data) pairs a node publishes
Handler = Callable[[Logic], Callable[[Data], None]]  # the logic -> its bound handler method


class NodeConfig(Protocol):
    """A node config: a (frozen) dataclass, with the diagnostics period the runner reads."""

    __dataclass_fields__: ClassVar[dict[str, Field[object]]]

    @property
    def diagnostics_period_s(self) -> float: ...


@dataclass(frozen=True)
class Topic:
    """One end of a node's topic: messages are ``data`` in the logic (a dataclass of
    ``messages``, or ``str`` for a String's text), with a QoS profile name (``ros.qos``) and
    the config field overriding its reliability, if any."""

    topic: str
    data: type[object]
    qos: str = "default"
    reliability_param: str = ""

    @property
    def msgtype(self) -> str:
        """The ROS message type: the one of ``data``, else ``std_msgs/msg/String``."""
        return STRING_TYPE if self.data is str else typename_of(self.data)


@dataclass(frozen=True)
class Publication(Topic):
    """A topic a node writes, carrying ``data`` as ``msgtype`` messages."""


def _checked(topic: str, data: type[Data], value: object) -> Data:
    """``value`` if it is a ``data``; TypeError (a transport bug) otherwise."""
    if not isinstance(value, data):
        raise TypeError(f"{topic}: got a {type(value).__name__}, not a {data.__name__}")
    return value


@dataclass(frozen=True)
class Timed(Generic[Logic, Data]):
    """A handler that also takes the node clock's now_ns: ``handler(logic)(data, now_ns)``,
    e.g. ``Timed(lambda logic: logic.on_battery)``."""

    handler: Callable[[Logic], Callable[[Data, int], None]]


@dataclass(frozen=True, kw_only=True)
class Subscription(Topic, Generic[Logic]):
    """A topic a node reads: ``deliver(logic, data, now_ns)`` hands a message's data to the
    logic, with the node clock's now_ns when ``with_time`` (the runner passes 0 otherwise).

    Made by ``to``, which types the handler against ``data`` and the logic.
    """

    deliver: Callable[[Logic, object, int], None]
    with_time: bool = False

    @classmethod
    def to(
        cls,
        topic: str,
        data: type[Data],
        handler: Handler[Logic, Data] | Timed[Logic, Data],
        qos: str = "default",
        *,
        reliability_param: str = "",
    ) -> Subscription[Logic]:
        """``topic``'s data goes to ``handler(logic)(data)``, e.g. ``lambda logic: logic.submit``
        (``Timed``: with now_ns)."""
        if isinstance(handler, Timed):
            timed = handler.handler

            def deliver(logic: Logic, value: object, now_ns: int) -> None:
                timed(logic)(_checked(topic, data, value), now_ns)

        else:

            def deliver(logic: Logic, value: object, now_ns: int) -> None:
                handler(logic)(_checked(topic, data, value))

        with_time = isinstance(handler, Timed)
        return cls(topic, data, qos, reliability_param, deliver=deliver, with_time=with_time)


def qos_of(end: Topic, config: object) -> tuple[str, str | None]:
    """The QoS profile name and the reliability override ('best_effort'/'reliable' or None)
    that ``config`` sets for ``end``."""
    reliability: str | None = (
        getattr(config, end.reliability_param) if end.reliability_param else None
    )
    return end.qos, reliability


class NodeSpec(Protocol):
    """A node of any logic and config type: what the transports and the tools read of it.

    ``instance`` builds its logic from a config (of class ``config``)."""

    @property
    def name(self) -> str: ...
    @property
    def executable(self) -> str: ...
    @property
    def config(self) -> type[NodeConfig]: ...
    @property
    def subscriptions(self) -> tuple[Topic, ...]: ...
    @property
    def publications(self) -> tuple[Publication, ...]: ...
    @property
    def work_period_s(self) -> float: ...
    @property
    def serialise(self) -> bool: ...

    def instance(self, config: object, logger: LoggerLike) -> NodeInstance: ...


@dataclass(frozen=True)
class TypedNodeSpec(Generic[Logic, Config]):
    """A node: its config class, how to build its logic, its topics and its worker.

    ``work(logic, now_ns)`` does one bounded unit of work and returns (topic, data) pairs to
    publish; the worker calls it again after ``work_period_s`` (0: at once, as ``work`` itself
    waits), or at once while ``busy(logic)``. ``diagnostics(logic, now_ns)`` is published every
    ``config.diagnostics_period_s``.
    """

    name: str
    executable: str
    config: type[Config]
    build: Callable[[Config, LoggerLike], Logic]
    subscriptions: tuple[Subscription[Logic], ...]
    publications: tuple[Publication, ...]
    work: Callable[[Logic, int], Outputs]
    work_period_s: float
    diagnostics: Callable[[Logic, int], DiagnosticStatus]
    serialise: bool = False  # the logic is not thread-safe: handlers and work take one lock
    busy: Callable[[Logic], bool] | None = None  # work is waiting: call ``work`` again at once

    def __post_init__(self) -> None:
        """ValueError for what mypy cannot see: a topic read twice (the runner dispatches by
        topic), a reliability parameter that is no config field."""
        topics = [sub.topic for sub in self.subscriptions]
        if len(set(topics)) < len(topics):
            raise ValueError(f"{self.name}: a topic is subscribed twice ({', '.join(topics)})")
        fields = self.config.__dataclass_fields__
        for param in (sub.reliability_param for sub in self.subscriptions):
            if param and param not in fields:
                raise ValueError(f"{self.name}: no config field {param} (reliability_param)")

    def instance(self, config: object, logger: LoggerLike) -> NodeInstance:
        """The node with its logic built from ``config``; TypeError if that is no ``config``."""
        if not isinstance(config, self.config):
            kind = type(config).__name__
            raise TypeError(f"{self.name} takes a {self.config.__name__}, not a {kind}")
        return NodeInstance(self, config, self.build(config, logger))


def _idle() -> bool:
    """The ``busy`` of a node that never has work waiting."""
    return False


class NodeInstance:
    """A node ready to run: ``spec``, its ``config`` and the ``logic`` built from it.

    The constructor checks (mypy) that the three agree; afterwards the logic is reached through
    ``deliver(topic, data, now_ns)``, ``work(now_ns)``, ``diagnostics(now_ns)`` and ``busy()``,
    which call the spec's typed functions, so a runner needs neither type. ``timed`` holds the
    topics whose handlers take now_ns.
    """

    def __init__(self, spec: TypedNodeSpec[Logic, Config], config: Config, logic: Logic) -> None:
        self.spec: NodeSpec = spec
        self.config: NodeConfig = config
        self.logic: object = logic
        self.timed = frozenset(sub.topic for sub in spec.subscriptions if sub.with_time)
        handlers = {sub.topic: partial(sub.deliver, logic) for sub in spec.subscriptions}

        def deliver(topic: str, data: object, now_ns: int) -> None:
            handlers[topic](data, now_ns)

        self.deliver: Callable[[str, object, int], None] = deliver
        self.work: Callable[[int], Outputs] = partial(spec.work, logic)
        self.diagnostics: Callable[[int], DiagnosticStatus] = partial(spec.diagnostics, logic)
        self.busy: Callable[[], bool] = _idle if spec.busy is None else partial(spec.busy, logic)


__all__ = [
    "DIAGNOSTICS_TOPIC",
    "DIAGNOSTICS_TYPE",
    "NodeConfig",
    "NodeInstance",
    "NodeSpec",
    "Outputs",
    "Publication",
    "Subscription",
    "Timed",
    "Topic",
    "TypedNodeSpec",
    "qos_of",
]

"""A thin DDS transport on cyclonedds that ROS 2 nodes read and write (rmw_cyclonedds wire format).

ROS 2 topic ``name`` is DDS topic ``rt/name``, its type ``pkg::msg::dds_::Name_`` (XCDR1, final,
keyless), the domain ``ROS_DOMAIN_ID``. Incoming samples are taken by one thread per transport
waiting on a WaitSet; it calls the subscriptions' callbacks in turn, so callbacks must be quick
(hand work to a queue). A WaitSet thread measured lower latency than a cyclonedds Listener, which
runs callbacks on the receive thread: round trip 3.8 vs 5.8 ms for a 640x480 RGB image, 0.6 ms
for both with a small message, two processes on one host.

Discovery follows ROS 2's conventions as rmw_cyclonedds does (``discovery.py``):
``ROS_AUTOMATIC_DISCOVERY_RANGE``, ``ROS_STATIC_PEERS`` and ``ROS_LOCALHOST_ONLY`` give a Cyclone
fragment, and ``CYCLONEDDS_URI`` follows it (and wins); unset, that is Cyclone's default (multicast
on the default interface). Fast DDS's type information is ignored (matching by type name), which
ROS 2 Kilted needs for every type holding a sequence. The first transport of a process on a
domain configures it; a later one with other settings is refused, as rmw_cyclonedds refuses a
second node. To confine DDS to loopback with unicast discovery (our demo, tests and
benchmarks), set ``CYCLONEDDS_URI`` to ``loopback_config()`` in the environment of every process
before it creates a transport.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from cyclonedds.core import DDSException, GuardCondition, WaitSet
from cyclonedds.domain import Domain, DomainParticipant
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from cyclonedds.util import duration

from topspark_ros.errors import TransportError
from topspark_ros.interfaces.convert import Converter
from topspark_ros.interfaces.dds_types import DdsTypes
from topspark_ros.interfaces.typestore import full_typename
from topspark_ros.messages import typename_of
from topspark_ros.ros.dds.discovery import cyclone_config
from topspark_ros.ros.dds.endpoints import DdsPublisher, DdsSubscription, delete_entity, one_line
from topspark_ros.ros.dds.names import check_domain_id, dds_topic_name, remapped, ros_domain_id
from topspark_ros.ros.dds.qos import cyclonedds_qos
from topspark_ros.ros.qos import QosProfile, qos_profile

MsgType = str | type
WAIT_S = 1.0  # longest the dispatch thread sleeps without a wake-up
LOOPBACK_MAX_PARTICIPANTS = 32  # participants per domain that unicast discovery probes for


def loopback_config(max_participants: int = LOOPBACK_MAX_PARTICIPANTS) -> str:
    """A ``CYCLONEDDS_URI`` value: loopback only, unicast discovery of local participants."""
    return (
        '<CycloneDDS><Domain Id="any"><General>'
        '<Interfaces><NetworkInterface name="lo"/></Interfaces>'
        "<AllowMulticast>false</AllowMulticast></General>"
        "<Discovery><ParticipantIndex>auto</ParticipantIndex>"
        f"<MaxAutoParticipantIndex>{max_participants - 1}</MaxAutoParticipantIndex>"
        '<Peers><Peer address="127.0.0.1"/></Peers></Discovery></Domain></CycloneDDS>'
    )


class DdsTransport:
    """A DDS participant that publishes and subscribes ROS 2 topics; ``close()`` ends it.

    ``domain_id`` None: ``ROS_DOMAIN_ID`` (default 0). Relative topic names are put under
    ``namespace``; ``remaps`` (FROM -> TO, as ROS 2's ``-r FROM:=TO``) renames topics first.
    ``types`` shares DDS classes between transports (default: a fresh set).
    """

    def __init__(
        self,
        domain_id: int | None = None,
        namespace: str = "",
        types: DdsTypes | None = None,
        remaps: Mapping[str, str] | None = None,
    ) -> None:
        """Join the domain; subscriptions start a dispatch thread on first use."""
        self.domain_id = ros_domain_id() if domain_id is None else check_domain_id(domain_id)
        self.namespace = namespace
        self.remaps = dict(remaps or {})
        self.types = DdsTypes() if types is None else types
        self.converter = Converter(self.types.typestore, self.types.get)
        self._lock = threading.Lock()
        self._topics: dict[str, Topic[Any]] = {}
        self._subscriptions: list[DdsSubscription[Any]] = []
        self._publishers: list[DdsPublisher] = []  # kept alive as long as the transport
        self._thread: threading.Thread | None = None
        self._closed = False
        _DOMAINS.join(self.domain_id)
        try:
            self._participant = DomainParticipant(self.domain_id)
            self._waitset = WaitSet(self._participant)
            self._wake = GuardCondition(self._participant)
            self._waitset.attach(self._wake)
        except DDSException as err:
            _DOMAINS.leave(self.domain_id)
            raise TransportError(
                f"cannot join DDS domain {self.domain_id}: {one_line(err)}"
            ) from err

    def __enter__(self) -> DdsTransport:
        """The transport itself; ``close()`` on exit."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the transport."""
        self.close()

    def publisher(
        self,
        topic: str,
        msgtype: MsgType,
        qos: QosProfile | str = "default",
        reliability: str | None = None,
    ) -> DdsPublisher:
        """A writer of ``msgtype`` (``pkg/msg/Name`` or a node dataclass) on ROS ``topic``."""
        typename, _plain = _resolve(msgtype)
        profile = qos_profile(qos, reliability)
        dds_topic = self._topic(topic, typename)
        try:
            writer = DataWriter(self._participant, dds_topic, qos=cyclonedds_qos(profile))
        except DDSException as err:
            raise TransportError(f"cannot write {dds_topic.name}: {one_line(err)}") from err
        publisher = DdsPublisher(writer, typename, self.types.get(typename), self.converter)
        with self._lock:
            self._publishers.append(publisher)
        return publisher

    def subscribe(
        self,
        topic: str,
        msgtype: MsgType,
        callback: Callable[[Any], object],
        qos: QosProfile | str = "default",
        reliability: str | None = None,
        into: type | None = None,
    ) -> DdsSubscription[Any]:
        """Call ``callback`` with each message on ROS topic ``topic``, from the dispatch thread.

        The callback gets the DDS message object, or the plain ``into`` (a dataclass, or ``str``
        for ``std_msgs/String``) converted from it; a node dataclass as ``msgtype`` implies
        ``into``. A sample that does not convert is dropped with a warning.
        """
        typename, plain = _resolve(msgtype)
        target = into if into is not None else plain
        profile = qos_profile(qos, reliability)
        dds_topic = self._topic(topic, typename)
        convert: Callable[[object], Any] = _identity
        if target is not None:
            convert = _converter(self.converter, typename, target)
        try:
            reader = DataReader(self._participant, dds_topic, qos=cyclonedds_qos(profile))
            subscription = DdsSubscription(reader, typename, callback, convert, self._detach)
            self._waitset.attach(subscription.condition)
        except DDSException as err:
            raise TransportError(f"cannot read {dds_topic.name}: {one_line(err)}") from err
        with self._lock:
            self._subscriptions.append(subscription)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._spin, name=f"dds-{self.domain_id}", daemon=True
                )
                self._thread.start()
        return subscription

    def _detach(self, subscription: DdsSubscription[Any]) -> bool:
        """Take ``subscription`` off the dispatch thread; whether it was on it."""
        with self._lock:
            if subscription.closed or self._closed:
                return False
            subscription.closed = True
            self._subscriptions.remove(subscription)
        self._waitset.detach(subscription.condition)
        return True

    def close(self) -> None:
        """Stop the dispatch thread and leave the domain; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        self._wake.set(True)
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        delete_entity(self._participant)  # deletes every reader, writer and topic in it
        _DOMAINS.leave(self.domain_id)

    def _topic(self, topic: str, typename: str) -> Topic[Any]:
        """The DDS topic for a ROS topic name, made once per transport."""
        if self._closed:
            raise TransportError("the DDS transport is closed")
        name = dds_topic_name(remapped(topic, self.namespace, self.remaps), self.namespace)
        msg_class = self.types.get(typename)
        with self._lock:
            existing = self._topics.get(name)
            if existing is not None:
                if existing.data_type is not msg_class:
                    raise TransportError(
                        f"topic {name} is already used with {existing.data_type.__name__}"
                    )
                return existing
            try:
                made: Topic[Any] = Topic(self._participant, name, msg_class)
            except DDSException as err:
                raise TransportError(f"cannot make topic {name}: {one_line(err)}") from err
            self._topics[name] = made
            return made

    def _spin(self) -> None:
        """Dispatch thread: wait for data or close, then serve every subscription."""
        while not self._closed:
            self._waitset.wait(duration(seconds=WAIT_S))
            with self._lock:
                subscriptions = list(self._subscriptions)
            for subscription in subscriptions:
                if not self._closed and not subscription.closed:
                    subscription.dispatch()


class _Domains:
    """This process's DDS domains, each configured once from the environment (ROS 2 discovery
    settings + ``CYCLONEDDS_URI``) by its first transport and deleted with its last."""

    def __init__(self) -> None:
        """No domain joined yet."""
        self._lock = threading.Lock()
        self._joined: dict[int, tuple[str, Domain, int]] = {}  # config, entity, users

    def join(self, domain_id: int) -> None:
        """Configure ``domain_id`` for one more transport; TransportError if the settings differ
        from those it was configured with, or Cyclone refuses them."""
        config = cyclone_config()
        with self._lock:
            known = self._joined.get(domain_id)
            if known is not None:
                if known[0] != config:
                    raise TransportError(
                        f"DDS domain {domain_id} is already in use in this process with other "
                        "discovery settings (ROS_AUTOMATIC_DISCOVERY_RANGE, ROS_STATIC_PEERS, "
                        "ROS_LOCALHOST_ONLY, CYCLONEDDS_URI)"
                    )
                self._joined[domain_id] = (config, known[1], known[2] + 1)
                return
            try:
                domain = Domain(domain_id, config)
            except DDSException as err:
                raise TransportError(
                    f"cannot configure DDS domain {domain_id}: {one_line(err)}"
                ) from err
            self._joined[domain_id] = (config, domain, 1)

    def leave(self, domain_id: int) -> None:
        """One transport fewer on ``domain_id``; the last one deletes the domain it configured."""
        with self._lock:
            config, domain, users = self._joined[domain_id]
            if users > 1:
                self._joined[domain_id] = (config, domain, users - 1)
                return
            del self._joined[domain_id]
        delete_entity(domain)


_DOMAINS = _Domains()


def _resolve(msgtype: MsgType) -> tuple[str, type | None]:
    """(full type name, node dataclass or None) of a type name or a node dataclass."""
    if isinstance(msgtype, str):
        return full_typename(msgtype), None
    return typename_of(msgtype), msgtype


def _identity(sample: object) -> object:
    """The sample itself."""
    return sample


def _converter(converter: Converter, typename: str, target: type) -> Callable[[object], Any]:
    """A function turning a ``typename`` message into ``target``."""

    def convert(sample: object) -> Any:
        return converter.from_message(sample, typename, target)

    return convert


__all__ = ["DdsPublisher", "DdsSubscription", "DdsTransport", "loopback_config"]

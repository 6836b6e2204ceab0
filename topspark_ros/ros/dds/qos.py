"""ROS 2's QoS profiles as plain data, and their cyclonedds form (XCDR1, as ROS 2 nodes expect)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from cyclonedds.core import Policy, Qos
from cyclonedds.util import duration

from topspark_ros.errors import TransportError

RELIABILITIES = ("reliable", "best_effort")
MAX_BLOCKING_MS = 100  # how long a reliable write may block on a full peer queue


@dataclass(frozen=True)
class QosProfile:
    """Reliability, durability and history depth of a topic, as in ``rclpy.qos.QoSProfile``."""

    reliable: bool
    transient_local: bool
    depth: int

    def with_reliability(self, reliability: str | None) -> QosProfile:
        """This profile with ``reliability`` ("reliable" or "best_effort"; None: unchanged)."""
        if reliability is None:
            return self
        if reliability not in RELIABILITIES:
            expected = " or ".join(RELIABILITIES)
            raise TransportError(f"bad reliability {reliability!r}: expected {expected}")
        return replace(self, reliable=reliability == "reliable")

    def to_cyclonedds(self) -> Qos:
        """The cyclonedds QoS of this profile, XCDR1 data representation as rmw_cyclonedds uses."""
        durability = Policy.Durability
        return Qos(
            Policy.Reliability.Reliable(duration(milliseconds=MAX_BLOCKING_MS))
            if self.reliable
            else Policy.Reliability.BestEffort,
            durability.TransientLocal if self.transient_local else durability.Volatile,
            Policy.History.KeepLast(self.depth),
            Policy.DataRepresentation(use_cdrv0_representation=True),
        )


# ROS 2 profiles: rmw_qos_profile_default, rmw_qos_profile_sensor_data ("sensor" for short) and a
# latched topic.
DEFAULT_QOS = QosProfile(reliable=True, transient_local=False, depth=10)
SENSOR_DATA_QOS = QosProfile(reliable=False, transient_local=False, depth=5)
LATCHED_QOS = QosProfile(reliable=True, transient_local=True, depth=1)
PROFILES: Mapping[str, QosProfile] = MappingProxyType(
    {
        "default": DEFAULT_QOS,
        "sensor": SENSOR_DATA_QOS,
        "sensor_data": SENSOR_DATA_QOS,
        "latched": LATCHED_QOS,
    }
)


def qos_profile(qos: QosProfile | str, reliability: str | None = None) -> QosProfile:
    """The profile ``qos`` (a QosProfile or a name in PROFILES) with a reliability override."""
    if isinstance(qos, str):
        if qos not in PROFILES:
            expected = ", ".join(PROFILES)
            raise TransportError(f"unknown QoS profile {qos!r}: expected one of {expected}")
        qos = PROFILES[qos]
    return qos.with_reliability(reliability)


__all__ = [
    "DEFAULT_QOS",
    "LATCHED_QOS",
    "PROFILES",
    "RELIABILITIES",
    "SENSOR_DATA_QOS",
    "QosProfile",
    "qos_profile",
]

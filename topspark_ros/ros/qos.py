"""ROS 2's QoS profiles as plain data, shared by the rclpy and the DDS adapter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from topspark_ros.errors import TransportError
from topspark_ros.nodes.config import RELIABILITY

RELIABILITIES = RELIABILITY  # "best_effort", "reliable": the values of a reliability override


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

"""The cyclonedds form of a ROS 2 QoS profile (XCDR1, as ROS 2 nodes expect)."""

from __future__ import annotations

from cyclonedds.core import Policy, Qos
from cyclonedds.util import duration

from topspark_ros.ros.qos import QosProfile

MAX_BLOCKING_MS = 100  # how long a reliable write may block on a full peer queue


def cyclonedds_qos(profile: QosProfile) -> Qos:
    """The cyclonedds QoS of ``profile``, XCDR1 data representation as rmw_cyclonedds uses."""
    durability = Policy.Durability
    return Qos(
        Policy.Reliability.Reliable(duration(milliseconds=MAX_BLOCKING_MS))
        if profile.reliable
        else Policy.Reliability.BestEffort,
        durability.TransientLocal if profile.transient_local else durability.Volatile,
        Policy.History.KeepLast(profile.depth),
        Policy.DataRepresentation(use_cdrv0_representation=True),
    )


__all__ = ["MAX_BLOCKING_MS", "cyclonedds_qos"]

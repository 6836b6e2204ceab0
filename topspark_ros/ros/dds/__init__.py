"""ROS 2-compatible DDS transport on cyclonedds: names, QoS profiles, publishers, subscriptions."""

from topspark_ros.ros.dds.names import TOPIC_PREFIX, check_domain_id, dds_topic_name, ros_domain_id
from topspark_ros.ros.dds.qos import cyclonedds_qos
from topspark_ros.ros.dds.transport import (
    DdsPublisher,
    DdsSubscription,
    DdsTransport,
    loopback_config,
)
from topspark_ros.ros.qos import (
    DEFAULT_QOS,
    LATCHED_QOS,
    PROFILES,
    RELIABILITIES,
    SENSOR_DATA_QOS,
    QosProfile,
    qos_profile,
)

__all__ = [
    "DEFAULT_QOS",
    "LATCHED_QOS",
    "PROFILES",
    "RELIABILITIES",
    "SENSOR_DATA_QOS",
    "TOPIC_PREFIX",
    "DdsPublisher",
    "DdsSubscription",
    "DdsTransport",
    "QosProfile",
    "check_domain_id",
    "cyclonedds_qos",
    "dds_topic_name",
    "loopback_config",
    "qos_profile",
    "ros_domain_id",
]

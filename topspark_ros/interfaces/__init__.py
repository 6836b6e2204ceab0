"""Message types from ``msg/`` and the standard ROS 2 ones: typestore, DDS classes, conversion."""

from topspark_ros.interfaces.convert import MESSAGE_TYPES, Converter, typename_of
from topspark_ros.interfaces.dds_types import DdsTypes
from topspark_ros.interfaces.typestore import (
    PACKAGE,
    build_typestore,
    dds_typename,
    full_typename,
    message_definitions,
)

__all__ = [
    "MESSAGE_TYPES",
    "PACKAGE",
    "Converter",
    "DdsTypes",
    "build_typestore",
    "dds_typename",
    "full_typename",
    "message_definitions",
    "typename_of",
]

"""DDS classes: ROS 2 wire names, and CDR byte-identical to rosbags' for the same content."""

from __future__ import annotations

import sys
import zlib

import numpy as np
import pytest
from rosbags.typesys.store import Typestore

from topspark_ros.errors import TransportError
from topspark_ros.interfaces.dds_types import BYTE_TYPES, DdsTypes
from topspark_ros.interfaces.typestore import message_definitions

from .conftest import plain_tree, sample_tree, to_dds, to_rosbags

OWN_TYPES = sorted(message_definitions())
WIRE_TYPES = [
    *OWN_TYPES,
    "sensor_msgs/msg/Image",
    "sensor_msgs/msg/BatteryState",
    "std_msgs/msg/String",
    "diagnostic_msgs/msg/DiagnosticArray",
]
LITTLE_ENDIAN_XCDR1 = b"\x00\x01\x00\x00"


def test_our_types_are_the_msg_files() -> None:
    assert OWN_TYPES == [
        "topspark_ros/msg/Classification",
        "topspark_ros/msg/Label",
        "topspark_ros/msg/LearningStatus",
        "topspark_ros/msg/ModelUpdate",
        "topspark_ros/msg/TimestepCommand",
    ]


@pytest.mark.parametrize(
    ("typename", "dds_name"),
    [
        ("sensor_msgs/msg/Image", "sensor_msgs::msg::dds_::Image_"),
        ("sensor_msgs/Image", "sensor_msgs::msg::dds_::Image_"),
        ("std_msgs/msg/Header", "std_msgs::msg::dds_::Header_"),
        ("builtin_interfaces/msg/Time", "builtin_interfaces::msg::dds_::Time_"),
        ("topspark_ros/msg/TimestepCommand", "topspark_ros::msg::dds_::TimestepCommand_"),
    ],
)
def test_ros2_type_names(dds_types: DdsTypes, typename: str, dds_name: str) -> None:
    cls = dds_types.get(typename)
    assert cls.__idl__.idl_transformed_typename == dds_name
    assert cls.__name__ == dds_name.rsplit("::", 1)[1]


def test_classes_are_built_once_with_nested_types(dds_types: DdsTypes) -> None:
    image = dds_types.get("sensor_msgs/msg/Image")
    assert dds_types.get("sensor_msgs/Image") is image
    assert image.__annotations__["header"] is dds_types.get("std_msgs/msg/Header")


def test_constants_are_class_attributes(dds_types: DdsTypes) -> None:
    command = dds_types.get("topspark_ros/msg/TimestepCommand")
    assert (command.MODE_NOMINAL, command.MODE_FALLBACK) == (0, 3)
    assert dds_types.get("sensor_msgs/msg/BatteryState").POWER_SUPPLY_STATUS_DISCHARGING == 2


def test_final_keyless_xcdr1(dds_types: DdsTypes) -> None:
    name = "topspark_ros/msg/Classification"
    cls = dds_types.get(name)
    cls.__idl__.populate()
    assert cls.__idl__.keyless
    assert cls.__idl__.xcdrv1_head == 0  # final (not appendable/mutable)
    tree = sample_tree(dds_types.typestore, name, np.random.default_rng(0))
    if sys.byteorder == "little":
        assert to_dds(dds_types, name, tree).serialize()[:4] == LITTLE_ENDIAN_XCDR1


@pytest.mark.parametrize("typename", WIRE_TYPES)
def test_cdr_identical_to_rosbags_and_round_trips(
    typestore: Typestore, dds_types: DdsTypes, typename: str
) -> None:
    rng = np.random.default_rng(zlib.crc32(typename.encode()))
    for _ in range(3):
        tree = sample_tree(typestore, typename, rng)
        dds_msg = to_dds(dds_types, typename, tree)
        dds_bytes = dds_msg.serialize()
        ros_bytes = bytes(typestore.serialize_cdr(to_rosbags(typestore, typename, tree), typename))
        assert dds_bytes == ros_bytes
        from_dds = typestore.deserialize_cdr(dds_bytes, typename)
        assert plain_tree(typestore, typename, from_dds) == tree
        from_ros = dds_types.get(typename).deserialize(ros_bytes)
        assert from_ros == dds_msg
        assert plain_tree(typestore, typename, from_ros) == tree


def test_every_standard_type_builds_and_matches_rosbags(
    typestore: Typestore, dds_types: DdsTypes
) -> None:
    rng = np.random.default_rng(1)
    for typename in sorted(typestore.fielddefs):
        tree = sample_tree(typestore, typename, rng)
        dds_bytes = to_dds(dds_types, typename, tree).serialize()
        ros_message = to_rosbags(typestore, typename, tree)
        assert dds_bytes == bytes(typestore.serialize_cdr(ros_message, typename)), typename


def test_byte_sequences_are_bytes(dds_types: DdsTypes, typestore: Typestore) -> None:
    assert {"uint8", "byte", "char"} == BYTE_TYPES
    image = dds_types.get("sensor_msgs/msg/Image")
    tree = sample_tree(typestore, "sensor_msgs/msg/Image", np.random.default_rng(2))
    tree["data"] = bytes(range(256)) * 3
    again = image.deserialize(to_dds(dds_types, "sensor_msgs/msg/Image", tree).serialize())
    assert isinstance(again.data, bytes)
    assert again.data == tree["data"]


def test_unknown_type_is_a_transport_error(dds_types: DdsTypes) -> None:
    with pytest.raises(TransportError, match="unknown message type nope/msg/Nothing"):
        dds_types.get("nope/msg/Nothing")
    with pytest.raises(TransportError, match="bad message type name 'Image'"):
        dds_types.get("Image")

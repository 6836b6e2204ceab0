"""Conversion between the node dataclasses and message objects, through the DDS classes."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest
from rosbags.typesys.store import Typestore

from topspark_ros.errors import TransportError
from topspark_ros.interfaces.convert import Converter
from topspark_ros.interfaces.dds_types import DdsTypes
from topspark_ros.messages import (
    MESSAGE_TYPES,
    WARN,
    BatteryReading,
    Classification,
    DiagnosticStatus,
    ImageFrame,
    Label,
    LearningStatus,
    ModelUpdate,
    TimestepCommand,
    typename_of,
)

STAMP_NS = 1_700_000_123_456_789_012
# Floats are float32-exact so that they survive the float32 message fields unchanged.
SAMPLES: list[Any] = [
    ImageFrame(STAMP_NS, "camera", 2, 3, "rgb8", 0, 9, bytes(range(18))),
    BatteryReading(STAMP_NS, 0.5, 11.25, -1.5, 2.0, 4.0, 5.0, True, 2, "battery"),
    TimestepCommand(STAMP_NS, 32, 20, TimestepCommand.MODE_SAVING, "battery below 40%", 0.375),
    Classification(
        STAMP_NS, "camera", 7, 0.75, (0.0, 1.5, 3.25), 32, 28, 120, 900, 1.5, 2.5, 0.125, 3
    ),
    LearningStatus(
        STAMP_NS,
        LearningStatus.STATE_LEARNING,
        "night",
        "topic",
        20,
        10,
        500,
        3,
        40,
        2,
        0.25,
        "learning",
    ),
    ModelUpdate(STAMP_NS, 4, "/tmp/model.npz", "ab" * 32, "night", 12000),
    Label(STAMP_NS, 3, "night", "camera"),
    DiagnosticStatus(WARN, "perception", "queue full", "cpu0", (("dropped", "3"), ("T", "32"))),
]


@pytest.fixture(scope="module")
def converter(dds_types: DdsTypes) -> Converter:
    """A converter to and from this package's DDS classes."""
    return Converter(dds_types.typestore, dds_types.get)


def _same(left: Any, right: Any) -> bool:
    """Dataclass equality with NaN equal to NaN."""
    pairs = zip(dataclasses.astuple(left), dataclasses.astuple(right), strict=True)
    return type(left) is type(right) and all(
        (isinstance(a, float) and math.isnan(a) and math.isnan(b)) or a == b for a, b in pairs
    )


@pytest.mark.parametrize("plain", SAMPLES, ids=lambda plain: type(plain).__name__)
def test_round_trip_through_dds_bytes(
    converter: Converter, dds_types: DdsTypes, plain: Any
) -> None:
    typename = typename_of(type(plain))
    message = converter.to_message(plain, typename)
    assert isinstance(message, dds_types.get(typename))
    wire = dds_types.get(typename).deserialize(message.serialize())
    assert _same(converter.from_message(wire, typename, type(plain)), plain)


def test_every_node_dataclass_has_a_type(typestore: Typestore) -> None:
    assert {type(plain) for plain in SAMPLES} == set(MESSAGE_TYPES)
    assert all(name in typestore.fielddefs for name in MESSAGE_TYPES.values())


def test_header_is_stamp_ns_and_frame_id(converter: Converter) -> None:
    message = converter.to_message(SAMPLES[0], "sensor_msgs/Image")
    assert (message.header.stamp.sec, message.header.stamp.nanosec) == (1_700_000_123, 456_789_012)
    assert message.header.frame_id == "camera"


def test_numpy_image_data_becomes_bytes(converter: Converter) -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    frame = dataclasses.replace(SAMPLES[0], height=4, width=5, step=15, data=pixels)
    message = converter.to_message(frame, "sensor_msgs/msg/Image")
    assert message.data == pixels.tobytes()
    assert (
        converter.from_message(message, "sensor_msgs/msg/Image", ImageFrame).data == message.data
    )


def test_nan_and_missing_fields(converter: Converter) -> None:
    reading = BatteryReading(stamp_ns=5, percentage=float("nan"))
    message = converter.to_message(reading, "sensor_msgs/msg/BatteryState")
    assert math.isnan(message.percentage) and math.isnan(message.voltage)
    assert (message.temperature, message.location, message.cell_voltage) == (0.0, "", [])
    assert _same(
        converter.from_message(message, "sensor_msgs/msg/BatteryState", BatteryReading), reading
    )


def test_diagnostic_array(converter: Converter) -> None:
    statuses = (SAMPLES[-1], DiagnosticStatus(0, "timestep_manager", "ok"))
    message = converter.diagnostic_array(statuses, STAMP_NS, "robot")
    assert message.header.frame_id == "robot"
    assert [(kv.key, kv.value) for kv in message.status[0].values] == [
        ("dropped", "3"),
        ("T", "32"),
    ]
    assert converter.diagnostic_statuses(message) == statuses


def test_string_wraps_a_plain_value(converter: Converter) -> None:
    message = converter.to_message("night", "std_msgs/msg/String")
    assert message.data == "night"
    assert converter.from_message(message, "std_msgs/String", str) == "night"


def test_mappings_and_tuples_are_accepted(converter: Converter) -> None:
    label = converter.to_message({"stamp_ns": 7, "label": 2}, "topspark_ros/msg/Label")
    assert (label.header.stamp.nanosec, label.label, label.environment) == (7, 2, "")
    pair = converter.to_message(("key", "value"), "diagnostic_msgs/msg/KeyValue")
    assert (pair.key, pair.value) == ("key", "value")


def test_byte_sequence_factory(dds_types: DdsTypes) -> None:
    converter = Converter(dds_types.typestore, dds_types.get, byte_sequence=bytearray)
    message = converter.to_message(SAMPLES[0], "sensor_msgs/msg/Image")
    assert isinstance(message.data, bytearray)


def test_reads_any_attribute_style_message(converter: Converter, typestore: Typestore) -> None:
    # rosbags' own classes (numpy byte arrays) convert like the DDS ones.
    wire = converter.to_message(SAMPLES[0], "sensor_msgs/msg/Image").serialize()
    rosbags_message = typestore.deserialize_cdr(wire, "sensor_msgs/msg/Image")
    assert (
        converter.from_message(rosbags_message, "sensor_msgs/msg/Image", ImageFrame) == SAMPLES[0]
    )
    scores = converter.from_message(
        typestore.deserialize_cdr(
            converter.to_message(SAMPLES[3], "topspark_ros/msg/Classification").serialize(),
            "topspark_ros/msg/Classification",
        ),
        "topspark_ros/msg/Classification",
        Classification,
    ).scores
    assert scores == SAMPLES[3].scores


def test_conversion_errors(converter: Converter) -> None:
    with pytest.raises(
        TransportError, match="cannot convert dict to topspark_ros/msg/Label: label:"
    ):
        converter.to_message({"label": "three"}, "topspark_ros/msg/Label")
    label = converter.to_message(SAMPLES[6], "topspark_ros/msg/Label")
    with pytest.raises(
        TransportError, match="cannot convert topspark_ros/msg/Label to ModelUpdate"
    ):
        converter.from_message(label, "topspark_ros/msg/Label", ModelUpdate)
    with pytest.raises(TransportError, match="no ROS message type for dict"):
        typename_of(dict)
    with pytest.raises(TransportError, match="unknown message type nope/msg/X"):
        converter.to_message({}, "nope/msg/X")

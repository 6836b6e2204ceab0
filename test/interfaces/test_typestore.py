"""The typestore: standard types plus msg/, type names, and errors for broken definitions."""

from __future__ import annotations

from pathlib import Path

import pytest
from rosbags.interfaces import Nodetype
from rosbags.typesys import get_types_from_msg

from topspark_ros.errors import TransportError
from topspark_ros.interfaces.typestore import (
    PACKAGE,
    build_typestore,
    dds_typename,
    full_typename,
    message_definitions,
)
from topspark_ros.messages import (
    Classification,
    Label,
    LearningStatus,
    ModelUpdate,
    TimestepCommand,
)


def test_standard_and_own_types_are_registered() -> None:
    store = build_typestore()
    for name in (
        "sensor_msgs/msg/Image",
        "sensor_msgs/msg/BatteryState",
        "std_msgs/msg/String",
        "diagnostic_msgs/msg/DiagnosticArray",
        *message_definitions(),
    ):
        assert name in store.fielddefs
    consts, fields = store.fielddefs["topspark_ros/msg/TimestepCommand"]
    assert fields[0] == ("header", (Nodetype.NAME, "std_msgs/msg/Header"))
    assert ("MODE_FALLBACK", "uint8", 3) in consts


def test_each_call_builds_a_fresh_store() -> None:
    assert build_typestore() is not build_typestore()


def test_definitions_come_from_the_shipped_msg_dir(repo_root: Path) -> None:
    shipped = message_definitions()
    assert shipped == message_definitions(repo_root / "msg")
    assert shipped["topspark_ros/msg/Label"] == (repo_root / "msg" / "Label.msg").read_text()


def test_store_from_another_directory(tmp_path: Path) -> None:
    (tmp_path / "Ping.msg").write_text("uint32 count\nstring note\n")
    store = build_typestore(tmp_path)
    assert store.fielddefs["topspark_ros/msg/Ping"][1] == [
        ("count", (Nodetype.BASE, ("uint32", 0))),
        ("note", (Nodetype.BASE, ("string", 0))),
    ]


def test_missing_definitions_are_transport_errors(tmp_path: Path) -> None:
    with pytest.raises(TransportError, match=r"no \.msg files in"):
        message_definitions(tmp_path)
    with pytest.raises(TransportError, match=r"no \.msg files in"):
        build_typestore(tmp_path / "absent")


@pytest.mark.parametrize(
    ("name", "full", "dds"),
    [
        ("sensor_msgs/Image", "sensor_msgs/msg/Image", "sensor_msgs::msg::dds_::Image_"),
        ("/std_msgs/msg/String", "std_msgs/msg/String", "std_msgs::msg::dds_::String_"),
        ("topspark_ros/Label", "topspark_ros/msg/Label", "topspark_ros::msg::dds_::Label_"),
    ],
)
def test_type_names(name: str, full: str, dds: str) -> None:
    assert full_typename(name) == full
    assert dds_typename(name) == dds


@pytest.mark.parametrize("name", ["Image", "sensor_msgs/srv/Image", "a/msg/", "a/b/c/d", ""])
def test_bad_type_names(name: str) -> None:
    with pytest.raises(TransportError, match="bad message type name"):
        full_typename(name)


@pytest.mark.parametrize(
    "cls", [TimestepCommand, Classification, LearningStatus, ModelUpdate, Label], ids=str
)
def test_message_constants_are_the_msg_constants(cls: type) -> None:
    # The node-side dataclasses repeat msg/'s constants (MODE_*, STATE_*) for plain Python use;
    # the two lists must stay the same, names and values (ROS_TYPE is the type's name, no msg/
    # constant).
    name = f"{PACKAGE}/msg/{cls.__name__}"
    consts, _ = get_types_from_msg(message_definitions()[name], name)[name]
    from_msg = {const: value for const, _type, value in consts}
    in_python = {k: v for k, v in vars(cls).items() if k.isupper() and k != "ROS_TYPE"}
    assert in_python == from_msg

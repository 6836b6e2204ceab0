"""The rosbags typestore of every message the nodes use: ROS 2 Humble's standard types plus ours.

``msg/*.msg`` is the one source of truth for this package's messages: they are parsed here at run
time (rosbags' ``.msg`` parser), and the DDS classes and converters are derived from the result.
Type names are rosbags' full form, ``pkg/msg/Name``.
"""

from __future__ import annotations

from pathlib import Path

from rosbags.typesys import Stores, TypesysError, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from topspark_ros.errors import TransportError
from topspark_ros.packaged import msg_dir

PACKAGE = "topspark_ros"


def full_typename(name: str) -> str:
    """``pkg/msg/Name`` for ``pkg/Name`` or ``pkg/msg/Name``; TransportError for anything else."""
    parts = name.removeprefix("/").split("/")
    if len(parts) == 2 and all(parts):
        return f"{parts[0]}/msg/{parts[1]}"
    if len(parts) == 3 and parts[1] == "msg" and parts[0] and parts[2]:
        return "/".join(parts)
    raise TransportError(f"bad message type name {name!r}: expected pkg/msg/Name or pkg/Name")


def dds_typename(name: str) -> str:
    """The DDS type name ROS 2 uses for a message type, e.g. ``sensor_msgs::msg::dds_::Image_``."""
    package, _, base = full_typename(name).split("/")
    return f"{package}::msg::dds_::{base}_"


def message_definitions(directory: Path | None = None) -> dict[str, str]:
    """This package's ``.msg`` texts by full type name, from ``directory`` (default: shipped)."""
    directory = msg_dir() if directory is None else directory
    try:
        paths = sorted(directory.glob("*.msg"))
        texts = {f"{PACKAGE}/msg/{path.stem}": path.read_text(encoding="utf-8") for path in paths}
    except OSError as err:
        raise TransportError(f"cannot read message definitions in {directory}: {err}") from err
    if not texts:
        raise TransportError(f"no .msg files in {directory}")
    return texts


def build_typestore(directory: Path | None = None) -> Typestore:
    """A fresh typestore: ROS 2 Humble's standard types with this package's messages registered."""
    store = get_typestore(Stores.ROS2_HUMBLE)
    types = {}
    for typename, text in message_definitions(directory).items():
        try:
            types.update(get_types_from_msg(text, typename))
        except TypesysError as err:
            raise TransportError(f"bad message definition {typename}: {err}") from err
    try:
        store.register(types)
    except TypesysError as err:
        raise TransportError(f"cannot register this package's messages: {err}") from err
    return store


__all__ = ["PACKAGE", "build_typestore", "dds_typename", "full_typename", "message_definitions"]

"""rclpy message classes by ROS type name, and the package's Converter building them.

Shared by the lifecycle nodes and the plain participant (demo monitor, latency probe), so both
turn plain data into the same rclpy messages.
"""

from __future__ import annotations

import array
import functools
import importlib
from collections.abc import Callable
from typing import Any

from rosbags.interfaces import Nodetype

from topspark_ros.interfaces.convert import Converter
from topspark_ros.interfaces.typestore import build_typestore, full_typename


@functools.cache
def message_class(typename: str) -> Any:
    """The rclpy message class of ``pkg/msg/Name`` or ``pkg/Name`` (imported once)."""
    package, _, name = full_typename(typename).split("/")
    return getattr(importlib.import_module(f"{package}.msg"), name)


def rclpy_converter() -> Converter:
    """A Converter between plain data and rclpy messages (``byte`` fields and ``uint8[]`` as
    rclpy stores them)."""
    typestore = build_typestore()
    factories: dict[str, Callable[..., Any]] = {}

    def factory(typename: str) -> Callable[..., Any]:
        made = factories.get(typename)
        if made is None:
            cls = message_class(typename)
            byte_fields = [
                field
                for field, (kind, detail) in typestore.fielddefs[typename][1]
                if kind == Nodetype.BASE and detail[0] == "byte"
            ]
            made = _with_byte_fields(cls, byte_fields) if byte_fields else cls
            factories[typename] = made
        return made

    return Converter(typestore, factory, _byte_array)


def _byte_array(data: bytes) -> array.array[int]:
    """A ``uint8[]`` field value as rclpy stores it (no per-byte check on assignment)."""
    return array.array("B", data)


def _with_byte_fields(cls: Any, names: list[str]) -> Callable[..., Any]:
    """A constructor of ``cls`` taking ints for its ``byte`` fields (rclpy wants 1-byte bytes)."""

    def make(**kwargs: Any) -> Any:
        for name in names:
            if isinstance(kwargs.get(name), int):
                kwargs[name] = bytes([kwargs[name]])
        return cls(**kwargs)

    return make


__all__ = ["message_class", "rclpy_converter"]

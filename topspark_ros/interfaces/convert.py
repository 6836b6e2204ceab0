"""Convert between the node logic's plain dataclasses and ROS message objects of any type.

One generic walk over the typestore's field definitions serves every type and every message
implementation constructed with keyword arguments (this package's DDS classes, rclpy's generated
classes). The rules, in both directions:

- a ``std_msgs/Header`` field is flattened: its ``stamp`` is ``stamp_ns`` and its ``frame_id`` is
  ``frame_id`` on the plain object;
- a ``builtin_interfaces/Time`` field ``x`` is the integer nanoseconds ``x_ns``;
- byte sequences and arrays (``uint8[]``, ``byte[]``, ``char[]``) are ``bytes`` (numpy arrays too);
- other sequences are tuples; a nested message is its registered dataclass (``MESSAGE_TYPES``) or a
  tuple of its fields in order (so ``diagnostic_msgs/KeyValue`` is ``(key, value)``);
- a message with a single field (``std_msgs/String``) wraps a plain value;
- a message field the plain object lacks gets the field type's zero value;
- going out, numbers must fit their field type's range and strings be UTF-8 (what no
  implementation can serialise is a TransportError here, not an exception in the writer); coming
  in, values must be of their field's type (int, float, bool, str; an rclpy ``byte`` of one byte
  is an int; numpy scalars become Python ones).
"""

from __future__ import annotations

import array
import dataclasses
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace
from typing import Any, TypeVar

import numpy as np
from rosbags.interfaces import Nodetype
from rosbags.typesys.store import Typestore

from topspark_ros.errors import TransportError
from topspark_ros.interfaces.typestore import full_typename
from topspark_ros.messages import MESSAGE_TYPES, NS_PER_S, DiagnosticStatus

T = TypeVar("T")

HEADER = "std_msgs/msg/Header"
TIME = "builtin_interfaces/msg/Time"
DIAGNOSTIC_ARRAY = "diagnostic_msgs/msg/DiagnosticArray"
BYTE_TYPES = frozenset({"byte", "char", "uint8"})
# The range of each integer type; ``byte`` (an octet in ROS 2, packed as int8 by rosbags): the
# values both agree on.
INT_RANGES: Mapping[str, tuple[int, int]] = {
    **{
        name: (int(np.iinfo(name).min), int(np.iinfo(name).max))
        for name in ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64")
    },
    "char": (0, 255),
    "byte": (0, 127),
}
INT_TYPES = frozenset(INT_RANGES)
FLOAT32_MAX = float(np.finfo(np.float32).max)
_MISSING = object()


class Converter:
    """Converts plain objects to and from the message classes ``message_class(typename)`` gives.

    ``byte_sequence`` turns outgoing ``bytes`` into what the message class wants for a byte
    sequence (``bytes`` for DDS; e.g. ``array.array('B', ...)`` for rclpy).
    """

    def __init__(
        self,
        typestore: Typestore,
        message_class: Callable[[str], Callable[..., Any]],
        byte_sequence: Callable[[bytes], Any] = bytes,
    ) -> None:
        """Conversions over ``typestore``'s field definitions into ``message_class``'s objects."""
        self.typestore = typestore
        self.message_class = message_class
        self.byte_sequence = byte_sequence
        self._plain_types = {name: plain for plain, name in MESSAGE_TYPES.items()}

    def to_message(self, value: object, typename: str) -> Any:
        """The ``typename`` message holding ``value`` (dataclass, mapping, tuple or scalar)."""
        name = full_typename(typename)
        try:
            return self._to_message(name, value)
        except (TypeError, ValueError, OverflowError) as err:
            kind = type(value).__name__
            raise TransportError(f"cannot convert {kind} to {name}: {err}") from err

    def from_message(self, message: object, typename: str, into: type[T]) -> T:
        """The plain ``into`` (a dataclass, or a scalar type for single-field messages)."""
        name = full_typename(typename)
        try:
            flat = self._flatten(name, message)
            if dataclasses.is_dataclass(into):
                names = {field.name for field in dataclasses.fields(into)}
                return into(**{key: value for key, value in flat.items() if key in names})
            if len(flat) == 1:
                return into(*flat.values())
        except (TypeError, ValueError, AttributeError, OverflowError) as err:
            raise TransportError(f"cannot convert {name} to {into.__name__}: {err}") from err
        raise TransportError(f"cannot convert {name} to {into.__name__}: not a dataclass")

    def diagnostic_array(
        self, statuses: Sequence[DiagnosticStatus], stamp_ns: int, frame_id: str = ""
    ) -> Any:
        """A ``diagnostic_msgs/DiagnosticArray`` of ``statuses`` stamped ``stamp_ns``."""
        value = SimpleNamespace(stamp_ns=stamp_ns, frame_id=frame_id, status=tuple(statuses))
        return self.to_message(value, DIAGNOSTIC_ARRAY)

    def diagnostic_statuses(self, message: object) -> tuple[DiagnosticStatus, ...]:
        """The statuses of a ``diagnostic_msgs/DiagnosticArray`` message."""
        try:
            statuses: tuple[DiagnosticStatus, ...] = self._flatten(DIAGNOSTIC_ARRAY, message)[
                "status"
            ]
        except (TypeError, ValueError, AttributeError, OverflowError) as err:
            raise TransportError(f"cannot convert {DIAGNOSTIC_ARRAY}: {err}") from err
        return statuses

    def _fields(self, name: str) -> list[tuple[str, Any]]:
        """The (field, description) pairs of ``name``."""
        if name not in self.typestore.fielddefs:
            raise TransportError(f"unknown message type {name}: not in the typestore")
        return list(self.typestore.fielddefs[name][1])

    def _to_message(self, name: str, value: object) -> Any:
        """Build the message ``name`` from a plain value."""
        fields = self._fields(name)
        get = _getter(value, [field for field, _ in fields])
        kwargs = {}
        for field, desc in fields:
            kind, detail = desc
            try:
                if kind == Nodetype.NAME and detail == TIME:
                    raw = get(f"{field}_ns", _MISSING)
                    kwargs[field] = self._time(raw if raw is not _MISSING else get(field, 0))
                elif (
                    kind == Nodetype.NAME and detail == HEADER and get(field, _MISSING) is _MISSING
                ):
                    kwargs[field] = self._to_message(HEADER, value)
                else:
                    kwargs[field] = self._to_field(desc, get(field, _MISSING))
            except (TypeError, ValueError, OverflowError) as err:
                raise ValueError(f"{field}: {err}") from err
        return self.message_class(name)(**kwargs)

    def _to_field(self, desc: Any, value: Any) -> Any:
        """One field's message value from its plain value (``_MISSING``: the zero value)."""
        kind, detail = desc
        if kind == Nodetype.BASE:
            return _scalar(detail[0], value)
        if kind == Nodetype.NAME:
            if detail == TIME:
                return self._time(0 if value is _MISSING else value)
            return self._to_message(detail, SimpleNamespace() if value is _MISSING else value)
        subdesc, size = detail
        if value is _MISSING:
            value = [_MISSING] * size if kind == Nodetype.ARRAY else []
        if subdesc[0] == Nodetype.BASE and subdesc[1][0] in BYTE_TYPES:
            return self.byte_sequence(_to_bytes(value))
        return [self._to_field(subdesc, item) for item in value]

    def _time(self, value: Any) -> Any:
        """A ``builtin_interfaces/Time`` from integer nanoseconds, a mapping or a Time-like
        object (anything else, a float say, is an error rather than a silent time 0)."""
        if isinstance(value, (int, np.integer)):
            sec, nanosec = divmod(int(value), NS_PER_S)
            value = {"sec": sec, "nanosec": nanosec}
        elif not isinstance(value, Mapping) and not hasattr(value, "sec"):
            raise TypeError(f"a time is integer nanoseconds, got {type(value).__name__}")
        return self._to_message(TIME, value)

    def _flatten(self, name: str, message: object) -> dict[str, Any]:
        """The plain values of ``message``'s fields, the header flattened."""
        flat: dict[str, Any] = {}
        for field, desc in self._fields(name):
            value = getattr(message, field)
            kind, detail = desc
            try:
                if kind == Nodetype.NAME and detail == HEADER:
                    flat.update(self._flatten(HEADER, value))
                elif kind == Nodetype.NAME and detail == TIME:
                    flat[f"{field}_ns"] = self._nanoseconds(value)
                else:
                    flat[field] = self._from_field(desc, value)
            except (TypeError, ValueError, OverflowError) as err:
                raise ValueError(f"{field}: {err}") from err
        return flat

    def _from_field(self, desc: Any, value: Any) -> Any:
        """One field's plain value from its message value."""
        kind, detail = desc
        if kind == Nodetype.BASE:
            return _plain_scalar(detail[0], value)
        if kind == Nodetype.NAME:
            if detail == TIME:
                return self._nanoseconds(value)
            plain = self._plain_types.get(detail)
            if plain is not None:
                return self.from_message(value, detail, plain)
            fields = self._fields(detail)
            return tuple(self._from_field(sub, getattr(value, f)) for f, sub in fields)
        subdesc = detail[0]
        if subdesc[0] == Nodetype.BASE and subdesc[1][0] in BYTE_TYPES:
            return _to_bytes(value)
        items = value.tolist() if isinstance(value, np.ndarray) else value
        return tuple(self._from_field(subdesc, item) for item in items)

    def _nanoseconds(self, stamp: Any) -> int:
        """Integer nanoseconds of a ``builtin_interfaces/Time``."""
        time = self._flatten(TIME, stamp)
        total: int = time["sec"] * NS_PER_S + time["nanosec"]
        return total


def _getter(value: object, fields: list[str]) -> Callable[[str, Any], Any]:
    """A ``get(name, default)`` over a mapping, an object's attributes, a tuple or a scalar."""
    if isinstance(value, Mapping):
        return value.get
    if isinstance(value, (tuple, list)):
        positional = dict(zip(fields, value, strict=False))
        return positional.get
    if isinstance(value, (str, bytes, int, float, np.generic)) and len(fields) == 1:
        return {fields[0]: value}.get
    return lambda name, default: getattr(value, name, default)


def _scalar(basename: str, value: Any) -> Any:
    """A base-type field value coerced to its Python type (``_MISSING``: zero value); ValueError
    if no implementation could serialise it (out of range, not UTF-8)."""
    if basename == "string":
        text = "" if value is _MISSING else str(value)
        text.encode()  # lone surrogates: UnicodeEncodeError, a ValueError
        return text
    if basename == "bool":
        return False if value is _MISSING else bool(value)
    if basename in INT_TYPES:
        return 0 if value is _MISSING else _in_range(basename, int(value))
    number = 0.0 if value is _MISSING else float(value)
    if basename == "float32" and math.isfinite(number) and abs(number) > FLOAT32_MAX:
        raise ValueError(f"{number!r} is out of range for float32")
    return number


def _plain_scalar(basename: str, value: Any) -> Any:
    """A received base-type value as its plain Python type (an rclpy ``byte`` is 1-byte bytes);
    TypeError or ValueError if it is not of the field's type."""
    if basename == "string":
        if isinstance(value, bytes):
            return value.decode()  # not UTF-8: UnicodeDecodeError, a ValueError
        if isinstance(value, str):
            return str(value)
    elif basename == "bool":
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
    elif basename in INT_TYPES:
        if isinstance(value, bytes) and len(value) == 1:
            return value[0]
        if isinstance(value, (int, np.integer)):
            return operator.index(value)
    elif isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    raise TypeError(f"expected {basename}, got {type(value).__name__}")


def _in_range(basename: str, number: int) -> int:
    """``number`` if it is in the range of the integer type ``basename``, else ValueError."""
    low, high = INT_RANGES[basename]
    if not low <= number <= high:
        raise ValueError(f"{number} is out of range for {basename} [{low}, {high}]")
    return number


def _to_bytes(value: Any) -> bytes:
    """Bytes of a byte sequence: bytes-like, numpy array (raw, C order) or iterable of ints."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, np.ndarray):
        return value.tobytes()
    if isinstance(value, (bytearray, memoryview, array.array)):
        return bytes(value)
    return bytes(0 if item is _MISSING else item for item in value)


__all__ = ["Converter"]

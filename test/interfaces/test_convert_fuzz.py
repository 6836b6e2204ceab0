"""Property tests of the message conversion (interfaces/convert.py) with hypothesis: messages of
every node type with random field values, as DDS and rosbags deliver them (from the wire) and as
an attribute-style object may hold them (NaN and infinity, integers far outside their type,
numpy scalars, rclpy's 1-byte ``byte``, empty and large arrays, non-UTF-8 bytes, None), and node
dataclasses with random values. A message becomes a dataclass whose fields have their
documented types or is refused with a one-line TransportError; a dataclass becomes a message
that DDS and rosbags both serialise or is refused the same way; a valid dataclass comes back
equal through the wire.
"""

from __future__ import annotations

import array
import dataclasses
import math
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from rosbags.interfaces import Nodetype

from topspark_ros.bags.codec import BagCodec
from topspark_ros.errors import TopsparkError, TransportError
from topspark_ros.interfaces.convert import BYTE_TYPES, DIAGNOSTIC_ARRAY, INT_RANGES, Converter
from topspark_ros.interfaces.dds_types import DdsTypes
from topspark_ros.interfaces.typestore import build_typestore
from topspark_ros.messages import (
    MESSAGE_TYPES,
    NS_PER_S,
    DiagnosticStatus,
    ImageFrame,
    Label,
    TimestepCommand,
)

from .conftest import to_dds

FUZZ = settings(max_examples=200)  # the rest: the 'topspark' profile (test/conftest.py)
STORE = build_typestore()
DDS = DdsTypes(STORE)
CONVERTER = Converter(STORE, DDS.get)
CODEC = BagCodec(STORE)
PLAIN_TYPES = sorted(MESSAGE_TYPES, key=lambda cls: cls.__name__)
# stamp_ns as a builtin_interfaces/Time can hold it: int32 seconds, nanoseconds below 1e9.
STAMPS = st.integers(-(2**31) * NS_PER_S, 2**31 * NS_PER_S - 1)
TEXT = st.text(max_size=12)  # any code point but lone surrogates (no UTF-8), NUL included
# Each dataclass field annotation of topspark_ros/messages.py and what a converted value must be.
DOCUMENTED: dict[str, Callable[[Any], bool]] = {
    "int": lambda v: type(v) is int,
    "float": lambda v: type(v) is float,
    "str": lambda v: type(v) is str,
    "bool": lambda v: type(v) is bool,
    "bytes | npt.NDArray[np.uint8]": lambda v: type(v) is bytes,  # from a message: bytes
    "tuple[float, ...]": lambda v: type(v) is tuple and all(type(x) is float for x in v),
    "tuple[tuple[str, str], ...]": lambda v: (
        type(v) is tuple
        and all(type(p) is tuple and len(p) == 2 and all(type(s) is str for s in p) for p in v)
    ),
}
# What an attribute-style message may hold in place of a proper value.
ODD_VALUES = st.one_of(
    st.none(),
    st.floats(),  # NaN, infinities
    st.integers(-(2**70), 2**70),
    TEXT,
    st.binary(max_size=3),  # non-UTF-8, and rclpy's 1-byte ``byte``
    st.sampled_from(
        [np.float32(1.5), np.float64("nan"), np.uint32(7), np.int64(-3), np.bool_(True)]
    ),
    st.sampled_from([array.array("B", b"\x01\x02"), array.array("f", [0.5]), np.ones(3)]),
    st.lists(st.integers(-1, 300), max_size=3),
)


def _base_values(basename: str) -> st.SearchStrategy[Any]:
    """Any value of the ROS base type ``basename`` (floats: NaN and infinities included)."""
    if basename == "string":
        return TEXT
    if basename == "bool":
        return st.booleans()
    if basename in INT_RANGES:
        return st.integers(*INT_RANGES[basename])
    return st.floats(width=32 if basename == "float32" else 64)


def field_values(desc: Any, odd: bool = False) -> st.SearchStrategy[Any]:
    """A value of the typestore field description ``desc`` as the wire carries it (a dict per
    message, bytes for byte sequences, lists for other sequences: conftest's tree), with, if
    ``odd``, sometimes an odd value in place of this value or of any part of it."""
    kind, detail = desc
    made: st.SearchStrategy[Any]
    if kind == Nodetype.NAME:
        fields = STORE.fielddefs[detail][1]
        made = st.fixed_dictionaries({f: field_values(d, odd) for f, d in fields})
    elif kind == Nodetype.BASE:
        made = _base_values(detail[0])
    elif detail[0][0] == Nodetype.BASE and detail[0][1][0] in BYTE_TYPES:
        made = st.binary(max_size=64) | st.integers(0, 1 << 20).map(bytes)  # up to 1 MiB
    else:
        subdesc, size = detail
        length = {"min_size": size, "max_size": size} if kind == Nodetype.ARRAY else {}
        made = st.lists(field_values(subdesc, odd), max_size=6, **length)
    return rarely_odd(made) if odd else made


def rarely_odd(made: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A value of ``made``, or one time in ten or so an odd value, so that some messages hold
    none and convert, and the rest show what an odd value in each place does."""
    return st.sampled_from([False] * 9 + [True]).flatmap(lambda odd: ODD_VALUES if odd else made)


def _attributes(value: Any) -> Any:
    """A tree of dicts as attribute-style objects (as rclpy's and the DDS classes are)."""
    if isinstance(value, dict):
        return SimpleNamespace(**{k: _attributes(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_attributes(item) for item in value]
    return value


def _documented(plain: Any) -> None:
    """Assert that every field of the dataclass ``plain`` has its documented type."""
    for field in dataclasses.fields(plain):
        value = getattr(plain, field.name)
        assert DOCUMENTED[str(field.type)](value), f"{field.name}: {type(value).__name__}"


def _outcome(call: Callable[..., Any], *args: Any) -> tuple[Any, str]:
    """(``call(*args)``, "") or, if it raised a package error, (None, its message), checked to
    be a one-line TransportError; any other exception fails the test."""
    try:
        return call(*args), ""
    except TopsparkError as err:
        refusal = err
    assert isinstance(refusal, TransportError) and "\n" not in str(refusal), repr(str(refusal))
    return None, str(refusal)


def _convert_or_refuse(message: Any, cls: type) -> Any:
    """``message`` converted to ``cls`` (checked: documented types), or None if refused with a
    one-line TransportError; any other exception fails the test."""
    plain, refusal = _outcome(CONVERTER.from_message, message, MESSAGE_TYPES[cls], cls)
    if refusal:
        assert refusal.startswith(f"cannot convert {MESSAGE_TYPES[cls]} to {cls.__name__}: ")
        return None
    assert type(plain) is cls
    _documented(plain)
    return plain


@st.composite
def messages(draw: st.DrawFn, odd: bool) -> tuple[type, dict[str, Any]]:
    """(node dataclass, the tree of a message of its type), any part odd if ``odd``."""
    cls = draw(st.sampled_from(PLAIN_TYPES))
    fields = STORE.fielddefs[MESSAGE_TYPES[cls]][1]
    return cls, {name: draw(field_values(desc, odd)) for name, desc in fields}


@FUZZ
@given(drawn=messages(odd=False))
def test_wire_messages_convert(drawn: tuple[type, dict[str, Any]]) -> None:
    """Any content the wire can carry, received by DDS or rosbags: converts, with its header."""
    cls, tree = drawn
    typename = MESSAGE_TYPES[cls]
    wire = to_dds(DDS, typename, tree).serialize()
    for message in (DDS.get(typename).deserialize(wire), STORE.deserialize_cdr(wire, typename)):
        plain = _convert_or_refuse(message, cls)
        assert plain is not None
        if "header" in tree:
            stamp = tree["header"]["stamp"]
            assert plain.stamp_ns == stamp["sec"] * NS_PER_S + stamp["nanosec"]
            assert plain.frame_id == tree["header"]["frame_id"]


HEADER = {"stamp": {"sec": 1, "nanosec": 2}, "frame_id": ""}
LABEL = {"header": HEADER, "label": 1, "environment": ""}
STATUS = {"level": 2, "name": "", "message": "", "hardware_id": "", "values": []}


@FUZZ
@given(drawn=messages(odd=True))
# Infinite seconds: an OverflowError escaped from_message.
@example(drawn=(Label, {**LABEL, "header": {**HEADER, "stamp": {"sec": math.inf, "nanosec": 0}}}))
# A numpy uint32 label came through as numpy, a float one as float.
@example(drawn=(Label, {**LABEL, "label": np.uint32(3)}))
@example(drawn=(Label, {**LABEL, "label": 3.5}))
# rclpy's ``byte`` is 1-byte bytes: it came through as bytes, not int.
@example(drawn=(DiagnosticStatus, {**STATUS, "level": b"\x02"}))
@example(drawn=(DiagnosticStatus, {**STATUS, "values": "ab"}))  # a string is no sequence
def test_odd_attribute_messages_convert_or_are_refused(drawn: tuple[type, dict[str, Any]]) -> None:
    cls, tree = drawn
    plain = _convert_or_refuse(_attributes(tree), cls)
    event("converted" if plain is not None else "refused")


@FUZZ
@given(tree=field_values((Nodetype.NAME, DIAGNOSTIC_ARRAY), odd=True))
@example(tree={"header": HEADER, "status": None})  # a TypeError escaped diagnostic_statuses
@example(tree={"header": HEADER, "status": [{**STATUS, "level": None}]})  # came through as None
def test_odd_diagnostic_arrays_convert_or_are_refused(tree: dict[str, Any]) -> None:
    statuses, refusal = _outcome(CONVERTER.diagnostic_statuses, _attributes(tree))
    event("refused" if refusal else "converted")
    if refusal:
        assert refusal.startswith("cannot convert diagnostic_msgs/msg/Diagnostic")
        return
    assert type(statuses) is tuple and len(statuses) == len(tree["status"])
    for status in statuses:
        assert type(status) is DiagnosticStatus
        _documented(status)


def plain_values(desc: Any) -> st.SearchStrategy[Any]:
    """A valid plain value of a message field of description ``desc`` (float32-exact)."""
    kind, detail = desc
    subdesc = detail[0] if kind in (Nodetype.ARRAY, Nodetype.SEQUENCE) else None
    if subdesc is None or (subdesc[0] == Nodetype.BASE and subdesc[1][0] in BYTE_TYPES):
        return field_values(desc)
    if subdesc[0] == Nodetype.NAME:  # diagnostic_msgs/KeyValue: (key, value)
        fields = STORE.fielddefs[subdesc[1]][1]
        items = st.tuples(*(field_values(d) for _, d in fields))
    else:
        items = field_values(subdesc)
    return st.lists(items, max_size=6).map(tuple)


@st.composite
def dataclasses_of(draw: st.DrawFn, odd: bool) -> Any:
    """A node dataclass with valid field values, or (``odd``) some of them odd."""
    cls = draw(st.sampled_from(PLAIN_TYPES))
    descs = dict(STORE.fielddefs[MESSAGE_TYPES[cls]][1])
    values = {}
    for field in dataclasses.fields(cls):
        if field.name == "stamp_ns":
            valid = STAMPS
        elif field.name == "frame_id":
            valid = TEXT
        else:
            valid = plain_values(descs[field.name])
        values[field.name] = draw(rarely_odd(valid) if odd else valid)
    return cls(**values)


@FUZZ
@given(plain=dataclasses_of(odd=False))
def test_valid_dataclasses_round_trip_through_the_wire(plain: Any) -> None:
    typename = MESSAGE_TYPES[type(plain)]
    wire = CONVERTER.to_message(plain, typename).serialize()
    assert CODEC.serialize(plain, typename) == wire  # rosbags writes the same bytes
    for message in (DDS.get(typename).deserialize(wire), STORE.deserialize_cdr(wire, typename)):
        back = _convert_or_refuse(message, type(plain))
        assert repr(back) == repr(plain)  # repr: NaN equals NaN, bytes and tuples compared


@FUZZ
@given(plain=dataclasses_of(odd=True))
@example(plain=Label(2**80, 1))  # stamp beyond int32 seconds: cyclonedds raised Exception
@example(plain=Label(0, 2**15))  # int16 overflow: rosbags raised struct.error
@example(plain=Label(0, 1, "\ud800"))  # a lone surrogate cannot be UTF-8
@example(plain=TimestepCommand(0, 1, 1, 0, "", 1e39))  # beyond float32: OverflowError
@example(plain=ImageFrame(1.5e18, "", 1, 1, "mono8", 0, 1, b"\x00"))  # sent as time 0
def test_random_dataclasses_serialise_or_are_refused(plain: Any) -> None:
    """Every message to_message gives can be written by DDS and rosbags alike, and reads back
    as a dataclass of documented types with the same stamp."""
    typename = MESSAGE_TYPES[type(plain)]
    message, refusal = _outcome(CONVERTER.to_message, plain, typename)
    event("refused" if refusal else "sent")
    if refusal:
        assert refusal.startswith(f"cannot convert {type(plain).__name__} to {typename}: ")
        return
    wire = message.serialize()
    assert CODEC.serialize(plain, typename) == wire
    for received in (DDS.get(typename).deserialize(wire), STORE.deserialize_cdr(wire, typename)):
        back = _convert_or_refuse(received, type(plain))
        assert back is not None
        assert getattr(back, "stamp_ns", None) == getattr(plain, "stamp_ns", None)

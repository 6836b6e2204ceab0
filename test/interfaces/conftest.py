"""Shared fixtures: the typestore, DDS classes, and seeded sample values of any message type.

A sample is a plain tree built from the typestore's field definitions: a dict per message, Python
scalars, ``bytes`` for byte sequences/arrays and lists for other sequences. It is turned into a
rosbags message and a DDS message to compare both serialisers on the same content.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
import pytest
from rosbags.interfaces import Nodetype
from rosbags.typesys.store import Typestore

from topspark_ros.interfaces.dds_types import DdsTypes
from topspark_ros.interfaces.typestore import build_typestore

BYTE_TYPES = {"byte", "char", "uint8"}
INT_RANGES = {
    "int8": (-(2**7), 2**7),
    "int16": (-(2**15), 2**15),
    "int32": (-(2**31), 2**31),
    "int64": (-(2**63), 2**63),
    "uint8": (0, 2**8),
    "byte": (0, 2**7),  # rosbags reads byte as int8, ROS 2 as octet: agree on 0..127
    "char": (0, 2**8),
    "uint16": (0, 2**16),
    "uint32": (0, 2**32),
    "uint64": (0, 2**64),
}
NUMPY_TYPES = {
    "bool": np.bool_,
    "float32": np.float32,
    "float64": np.float64,
    **{name: np.dtype(name) for name in ("int8", "int16", "int32", "int64")},
    **{name: np.dtype(name) for name in ("uint8", "uint16", "uint32", "uint64")},
    "byte": np.uint8,
    "char": np.uint8,
}


@pytest.fixture(scope="module")
def typestore() -> Typestore:
    """Humble's standard types plus this package's messages."""
    return build_typestore()


@pytest.fixture(scope="module")
def dds_types(typestore: Typestore) -> DdsTypes:
    """DDS classes over ``typestore``."""
    return DdsTypes(typestore)


def sample_tree(store: Typestore, name: str, rng: np.random.Generator) -> dict[str, Any]:
    """A populated plain value of message ``name``: every field set, sequences of 0..3 items."""
    return {field: _sample_field(store, desc, rng) for field, desc in store.fielddefs[name][1]}


def _sample_field(store: Typestore, desc: Any, rng: np.random.Generator) -> Any:
    kind, detail = desc
    if kind == Nodetype.BASE:
        return _sample_base(detail, rng)
    if kind == Nodetype.NAME:
        return sample_tree(store, detail, rng)
    subdesc, size = detail
    count = size if kind == Nodetype.ARRAY else int(rng.integers(0, min(size or 4, 4)))
    if subdesc[0] == Nodetype.BASE and subdesc[1][0] in BYTE_TYPES:
        return rng.integers(0, 256, count, dtype=np.uint8).tobytes()
    return [_sample_field(store, subdesc, rng) for _ in range(count)]


def _sample_base(basetype: tuple[str, int], rng: np.random.Generator) -> Any:
    basename, bound = basetype
    if basename == "string":
        length = int(rng.integers(0, min(bound or 6, 6) + 1))
        return "".join(rng.choice(list(string.ascii_letters + "/ _"), length))
    if basename == "bool":
        return bool(rng.integers(0, 2))
    if basename == "float32":
        return float(np.float32(rng.normal(0, 100)))
    if basename == "float64":
        return float(rng.normal(0, 1e6))
    low, high = INT_RANGES[basename]
    return int(rng.integers(low, high, dtype=np.uint64 if low == 0 else np.int64))


def to_dds(types: DdsTypes, name: str, tree: dict[str, Any]) -> Any:
    """The DDS message of ``name`` holding ``tree``."""
    store = types.typestore
    kwargs = {
        field: _to_impl(store, desc, tree[field], lambda n, t: to_dds(types, n, t), list)
        for field, desc in store.fielddefs[name][1]
    }
    return types.get(name)(**kwargs)


def to_rosbags(store: Typestore, name: str, tree: dict[str, Any]) -> Any:
    """The rosbags message of ``name`` holding ``tree`` (numpy arrays for numeric sequences)."""
    kwargs = {
        field: _to_impl(store, desc, tree[field], lambda n, t: to_rosbags(store, n, t), None)
        for field, desc in store.fielddefs[name][1]
    }
    return store.types[name](**kwargs)


def _to_impl(store: Typestore, desc: Any, value: Any, nested: Any, base_seq: Any) -> Any:
    kind, detail = desc
    if kind == Nodetype.BASE:
        return value
    if kind == Nodetype.NAME:
        return nested(detail, value)
    subdesc = detail[0]
    if subdesc[0] == Nodetype.NAME:
        return [nested(subdesc[1], item) for item in value]
    basename = subdesc[1][0]
    if basename == "string":
        return list(value)
    if basename in BYTE_TYPES:
        return value if base_seq is list else np.frombuffer(value, np.uint8).copy()
    if base_seq is list:
        return list(value)
    return np.array(value, dtype=NUMPY_TYPES[basename])


def plain_tree(store: Typestore, name: str, message: Any) -> dict[str, Any]:
    """The plain tree of a rosbags or DDS message (inverse of ``to_dds`` / ``to_rosbags``)."""
    return {
        field: _plain_field(store, desc, getattr(message, field))
        for field, desc in store.fielddefs[name][1]
    }


def _plain_field(store: Typestore, desc: Any, value: Any) -> Any:
    kind, detail = desc
    if kind == Nodetype.BASE:
        return value.item() if isinstance(value, np.generic) else value
    if kind == Nodetype.NAME:
        return plain_tree(store, detail, value)
    subdesc = detail[0]
    if subdesc[0] == Nodetype.BASE and subdesc[1][0] in BYTE_TYPES:
        return value.tobytes() if isinstance(value, np.ndarray) else bytes(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return [_plain_field(store, subdesc, item) for item in value]

"""Plain dataclasses <-> rosbags messages and CDR bytes, over this package's typestore."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from rosbags.interfaces import Nodetype
from rosbags.typesys.store import Typestore

from topspark_ros.errors import TransportError
from topspark_ros.interfaces.convert import Converter
from topspark_ros.interfaces.typestore import build_typestore

T = TypeVar("T")

# numpy dtype of each numeric base type: rosbags serialises such sequences and arrays from ndarrays
NUMERIC_DTYPES: dict[str, type[np.generic]] = {
    "bool": np.bool_,
    "byte": np.uint8,
    "char": np.uint8,
    "int8": np.int8,
    "uint8": np.uint8,
    "int16": np.int16,
    "uint16": np.uint16,
    "int32": np.int32,
    "uint32": np.uint32,
    "int64": np.int64,
    "uint64": np.uint64,
    "float32": np.float32,
    "float64": np.float64,
}


def _numeric_fields(typestore: Typestore, typename: str) -> dict[str, type[np.generic]]:
    """The numpy dtype of each field of ``typename`` that is a sequence or array of numbers."""
    numeric = {}
    for name, (kind, detail) in typestore.fielddefs[typename][1]:
        if kind in (Nodetype.ARRAY, Nodetype.SEQUENCE) and detail[0][0] == Nodetype.BASE:
            dtype = NUMERIC_DTYPES.get(detail[0][1][0])
            if dtype is not None:
                numeric[name] = dtype
    return numeric


def _byte_sequence(data: bytes) -> Any:
    """rosbags' serialiser wants a uint8 array for ``uint8[]`` fields."""
    return np.frombuffer(data, np.uint8)


class BagCodec:
    """Serialises plain objects to CDR and back with a typestore (default: ours on Humble's)."""

    def __init__(self, typestore: Typestore | None = None) -> None:
        """Codec over ``typestore``; None builds the standard types plus ``msg/``."""
        self.typestore = build_typestore() if typestore is None else typestore
        self.converter = Converter(self.typestore, self._message_class, _byte_sequence)
        self._classes: dict[str, Callable[..., Any]] = {}

    def _message_class(self, typename: str) -> Callable[..., Any]:
        """The typestore's class of ``typename``, wrapped to give numeric sequences as arrays."""
        known = self._classes.get(typename)
        if known is not None:
            return known
        cls = self.typestore.types[typename]
        numeric = _numeric_fields(self.typestore, typename)

        def build(**fields: Any) -> Any:
            for name, dtype in numeric.items():
                fields[name] = np.asarray(fields[name], dtype)
            return cls(**fields)

        self._classes[typename] = build if numeric else cls
        return self._classes[typename]

    def serialize(self, value: object, typename: str) -> bytes:
        """CDR bytes of ``value`` as a ``typename`` message; TransportError if it does not fit."""
        message = self.converter.to_message(value, typename)
        try:
            return bytes(self.typestore.serialize_cdr(message, typename))
        except (TypeError, ValueError, AttributeError, KeyError) as err:
            raise TransportError(f"cannot serialise {typename}: {err}") from err

    def decode(self, message: object, typename: str, into: type[T]) -> T:
        """The plain ``into`` of a deserialised ``typename`` message."""
        return self.converter.from_message(message, typename, into)


__all__ = ["BagCodec"]

"""IDX reading and writing: round trips and every malformed-file error."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from topspark_ros.data.idx import encode_idx, read_idx, write_idx
from topspark_ros.errors import DataError


@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
@pytest.mark.parametrize("shape", [(7,), (3, 5), (4, 28, 28)])
def test_round_trip(tmp_path: Path, name: str, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    array = rng.integers(0, 256, size=shape, dtype=np.uint8)
    path = write_idx(tmp_path / name, array)
    assert path.read_bytes()[:2] == (b"\x1f\x8b" if name.endswith(".gz") else b"\x00\x00")
    out = read_idx(path)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, array)


def test_gzip_is_detected_by_content(tmp_path: Path) -> None:
    path = tmp_path / "labels-no-suffix"
    path.write_bytes(gzip.compress(encode_idx(np.arange(10, dtype=np.uint8))))
    np.testing.assert_array_equal(read_idx(path), np.arange(10))


def test_write_rejects_non_uint8(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="uint8"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int32))
    with pytest.raises(ValueError, match="dimensions"):
        write_idx(tmp_path / "x", np.zeros((1, 1, 1, 1), dtype=np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope-idx1-ubyte: no such file"):
        read_idx(tmp_path / "nope-idx1-ubyte")


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is a directory"):
        read_idx(tmp_path)


def _with_magic(header: bytes) -> bytes:
    """A file starting with the magic ``header``, then four sizes of 1 and one byte."""
    return header + struct.pack(">I", 1) * 4 + b"\x00"


_TEN = encode_idx(np.zeros(10, dtype=np.uint8))
_TWO_IMAGES = encode_idx(np.zeros((2, 28, 28), dtype=np.uint8))

# Each malformed file: its name, its bytes and what the error says.
MALFORMED = {
    "empty": (
        "f-idx3-ubyte",
        b"",
        r"f-idx3-ubyte: truncated header: expected at least 4 bytes, found 0",
    ),
    "short-magic": (
        "f-idx3-ubyte",
        b"\x00\x00\x08",
        r"f-idx3-ubyte: truncated header: expected at least 4 bytes, found 3",
    ),
    "short-sizes": (
        "f-idx3-ubyte",
        b"\x00\x00\x08\x03\x00\x00\x00\x02",
        r"f-idx3-ubyte: truncated header: expected 16 bytes, found 8",
    ),
    "truncated-payload": (
        "f-idx3-ubyte",
        _TWO_IMAGES[:-100],
        r"truncated: expected 1568 bytes of data, found 1468",
    ),
    "truncated-payload-in-gzip": (
        "f-idx1-ubyte.gz",
        gzip.compress(_TEN[:-3]),
        r"f-idx1-ubyte.gz: truncated: expected 10 bytes",
    ),
    "trailing-garbage": (
        "f-idx1-ubyte",
        _TEN + b"xyz",
        r"trailing garbage: 3 bytes after 10 bytes of data",
    ),
    "not-idx": (
        "f-idx1-ubyte",
        _with_magic(b"\x01\x00\x08\x01"),
        r"wrong magic 01000801: not an IDX file",
    ),
    "zip": ("f-idx1-ubyte", _with_magic(b"PK\x03\x04"), r"wrong magic 504b0304"),
    "type-code": (
        "f-idx1-ubyte",
        _with_magic(b"\x00\x00\x0d\x01"),
        r"wrong magic: unsupported type code 0x0d",
    ),
    "no-dimensions": (
        "f-idx1-ubyte",
        _with_magic(b"\x00\x00\x08\x00"),
        r"wrong magic: 0 dimensions",
    ),
    "four-dimensions": (
        "f-idx1-ubyte",
        _with_magic(b"\x00\x00\x08\x04"),
        r"wrong magic: 4 dimensions",
    ),
}


@pytest.mark.parametrize(("name", "data", "message"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_file(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(DataError, match=message):
        read_idx(path)


@pytest.mark.parametrize("damage", ["truncate", "flip", "header"])
def test_corrupt_gzip(tmp_path: Path, damage: str) -> None:
    blob = bytearray(gzip.compress(encode_idx(np.arange(200, dtype=np.uint8))))
    if damage == "truncate":
        blob = blob[: len(blob) // 2]
    elif damage == "flip":
        blob[-6] ^= 0xFF  # inside the CRC32/size trailer
    else:
        blob[3] = 0xFF  # reserved flag bits
    path = tmp_path / "f-idx1-ubyte.gz"
    path.write_bytes(bytes(blob))
    with pytest.raises(DataError, match=r"f-idx1-ubyte.gz: corrupt gzip data") as info:
        read_idx(path)
    assert info.value.__cause__ is not None
    assert "\n" not in str(info.value)

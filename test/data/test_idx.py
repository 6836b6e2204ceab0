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


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"truncated header: expected at least 4 bytes, found 0"),
        (b"\x00\x00\x08", r"truncated header: expected at least 4 bytes, found 3"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", r"truncated header: expected 16 bytes, found 8"),
    ],
)
def test_truncated_header(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "f-idx3-ubyte"
    path.write_bytes(data)
    with pytest.raises(DataError, match=rf"f-idx3-ubyte: {message}"):
        read_idx(path)


def test_truncated_payload(tmp_path: Path) -> None:
    path = tmp_path / "f-idx3-ubyte"
    path.write_bytes(encode_idx(np.zeros((2, 28, 28), dtype=np.uint8))[:-100])
    with pytest.raises(DataError, match=r"truncated: expected 1568 bytes of data, found 1468"):
        read_idx(path)


def test_truncated_payload_in_gzip(tmp_path: Path) -> None:
    path = tmp_path / "f-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(encode_idx(np.zeros(10, dtype=np.uint8))[:-3]))
    with pytest.raises(DataError, match=r"f-idx1-ubyte.gz: truncated: expected 10 bytes"):
        read_idx(path)


def test_trailing_garbage(tmp_path: Path) -> None:
    path = tmp_path / "f-idx1-ubyte"
    path.write_bytes(encode_idx(np.zeros(10, dtype=np.uint8)) + b"xyz")
    with pytest.raises(DataError, match=r"trailing garbage: 3 bytes after 10 bytes of data"):
        read_idx(path)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"\x01\x00\x08\x01", r"wrong magic 01000801: not an IDX file"),
        (b"PK\x03\x04", r"wrong magic 504b0304"),
        (b"\x00\x00\x0d\x01", r"wrong magic: unsupported type code 0x0d"),
        (b"\x00\x00\x08\x00", r"wrong magic: 0 dimensions"),
        (b"\x00\x00\x08\x04", r"wrong magic: 4 dimensions"),
    ],
)
def test_wrong_magic(tmp_path: Path, header: bytes, message: str) -> None:
    path = tmp_path / "f-idx1-ubyte"
    path.write_bytes(header + struct.pack(">I", 1) * 4 + b"\x00")
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

"""IDX files (the MNIST format), plain or gzip: strict reading and writing of uint8 data.

Layout: two zero bytes, a type code (only 0x08, unsigned byte, is supported), the number of
dimensions (1..3), one big-endian uint32 per dimension, then exactly prod(dims) bytes of data.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

from topspark_ros.errors import DataError
from topspark_ros.io_utils import atomic_write_bytes

UBYTE = 0x08
MAX_NDIM = 3
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped if they start with the gzip magic; errors become DataError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as err:
        raise DataError(f"{path}: no such file") from err
    except IsADirectoryError as err:
        raise DataError(f"{path}: is a directory, expected an IDX file") from err
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from err
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (gzip.BadGzipFile, EOFError, zlib.error, OSError) as err:
        raise DataError(f"{path}: corrupt gzip data ({err})") from err


def parse_idx(data: bytes, source: str) -> npt.NDArray[np.uint8]:
    """Parse uncompressed IDX bytes into a uint8 array; ``source`` names the file in errors."""
    if len(data) < 4:
        raise DataError(
            f"{source}: truncated header: expected at least 4 bytes, found {len(data)}"
        )
    zero0, zero1, code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0:
        raise DataError(f"{source}: wrong magic {data[:4].hex()}: not an IDX file")
    if code != UBYTE:
        raise DataError(f"{source}: wrong magic: unsupported type code 0x{code:02x} (only 0x08)")
    if not 1 <= ndim <= MAX_NDIM:
        raise DataError(f"{source}: wrong magic: {ndim} dimensions (expected 1..{MAX_NDIM})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{source}: truncated header: expected {header} bytes, found {len(data)}")
    dims: tuple[int, ...] = struct.unpack(f">{ndim}I", data[4:header])
    expected = int(np.prod(dims, dtype=np.int64))
    found = len(data) - header
    if found < expected:
        raise DataError(f"{source}: truncated: expected {expected} bytes of data, found {found}")
    if found > expected:
        raise DataError(
            f"{source}: trailing garbage: {found - expected} bytes after {expected} bytes of data"
        )
    flat = np.frombuffer(data, dtype=np.uint8, offset=header)
    array: npt.NDArray[np.uint8] = flat.reshape(dims).copy()
    return array


def read_idx(path: Path) -> npt.NDArray[np.uint8]:
    """Read an IDX file (plain or gzip) into a uint8 array of 1..3 dimensions; DataError if bad."""
    path = Path(path)
    return parse_idx(_read_bytes(path), str(path))


def encode_idx(array: npt.ArrayLike) -> bytes:
    """The IDX bytes of a uint8 array of 1..3 dimensions."""
    arr = np.asarray(array)
    if arr.dtype != np.uint8:
        raise ValueError(f"IDX writer supports uint8 only, got {arr.dtype}")
    if not 1 <= arr.ndim <= MAX_NDIM:
        raise ValueError(f"IDX writer supports 1..{MAX_NDIM} dimensions, got {arr.ndim}")
    header = bytes([0, 0, UBYTE, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + np.ascontiguousarray(arr).tobytes()


def write_idx(path: Path, array: npt.ArrayLike) -> Path:
    """Write a uint8 array as IDX (gzip if the name ends in ``.gz``), atomically replacing."""
    path = Path(path)
    data = encode_idx(array)
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    return atomic_write_bytes(path, data)


__all__ = ["encode_idx", "parse_idx", "read_idx", "write_idx"]

"""IDX files (the MNIST format), plain or gzip: strict reading and writing of uint8 data.

Layout: two zero bytes, a type code (only 0x08, unsigned byte, is supported), the number of
dimensions (1..3), one big-endian uint32 per dimension, then exactly prod(dims) bytes of data.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import math
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from topspark_ros.errors import DataError
from topspark_ros.io_utils import atomic_write_bytes

UBYTE = 0x08
MAX_NDIM = 3
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20  # bytes read at a time while measuring the data
_MAX_TRAILING = 1 << 30  # trailing bytes counted at most (a gzip bomb is not inflated further)


def _open(path: Path) -> io.BufferedReader:
    """The file opened for reading; DataError if it cannot be."""
    try:
        return path.open("rb")
    except FileNotFoundError as err:
        raise DataError(f"{path}: no such file") from err
    except IsADirectoryError as err:
        raise DataError(f"{path}: is a directory, expected an IDX file") from err
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from err


@contextlib.contextmanager
def _read_errors(path: Path, gz: bool) -> Iterator[None]:
    """Read errors of the file (or its gzip stream if ``gz``) as DataError."""
    try:
        yield
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:
        raise DataError(f"{path}: corrupt gzip data ({err})") from err
    except OSError as err:
        what = "corrupt gzip data" if gz else "cannot read"
        raise DataError(f"{path}: {what} ({err.strerror or err})") from err


def _header(data: bytes, source: str) -> tuple[int, tuple[int, ...], int]:
    """(header length, dimensions, data bytes) of the IDX header at the start of ``data``."""
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
    # Python's exact product: a 64-bit one wraps for dimensions up to 2**32 - 1 each.
    return header, dims, math.prod(dims)


def _check_size(expected: int, found: int, source: str, more: str = "") -> None:
    """DataError unless ``found`` (``more``: or more) bytes of data are the ``expected``."""
    if found < expected:
        raise DataError(f"{source}: truncated: expected {expected} bytes of data, found {found}")
    if found > expected:
        raise DataError(
            f"{source}: trailing garbage: {more}{found - expected} bytes after {expected} bytes "
            "of data"
        )


def parse_idx(data: bytes, source: str) -> npt.NDArray[np.uint8]:
    """Parse uncompressed IDX bytes into a uint8 array; ``source`` names the file in errors."""
    header, dims, expected = _header(data, source)
    _check_size(expected, len(data) - header, source)
    flat = np.frombuffer(data, dtype=np.uint8, offset=header)
    array: npt.NDArray[np.uint8] = flat.reshape(dims).copy()
    return array


def _skip(stream: io.BufferedIOBase, limit: int) -> int:
    """Read and drop the rest of ``stream``, up to ``limit`` bytes and one more; how many."""
    count = 0
    while count <= limit:
        chunk = stream.read(min(_CHUNK, limit + 1 - count))
        if not chunk:
            break
        count += len(chunk)
    return count


def read_idx(path: Path) -> npt.NDArray[np.uint8]:
    """Read an IDX file (plain or gzip) into a uint8 array of 1..3 dimensions; DataError if bad.

    The data's size is checked against the header before the array is allocated, so a header
    declaring gigabytes, or a small gzip that inflates to gigabytes, costs no memory.
    """
    path = Path(path)
    source = str(path)
    with contextlib.ExitStack() as files:
        raw = files.enter_context(_open(path))
        with _read_errors(path, gz=False):
            gz = raw.peek(len(_GZIP_MAGIC))[: len(_GZIP_MAGIC)] == _GZIP_MAGIC
        stream: io.BufferedIOBase = raw
        if gz:
            stream = files.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
        with _read_errors(path, gz):
            head = stream.read(4 + 4 * MAX_NDIM)
            header, dims, expected = _header(head, source)
            limit = expected + _MAX_TRAILING
            found = len(head) - header + _skip(stream, limit - (len(head) - header))
            if found > limit:  # counted no further
                _check_size(expected, limit, source, "more than ")
            _check_size(expected, found, source)
            stream.seek(header)
            flat: npt.NDArray[np.uint8] = np.empty(expected, np.uint8)
            view, done = flat.data, 0
            while done < expected:  # the file may have changed since it was measured
                n = stream.readinto(view[done:])
                if not n:
                    break
                done += n
            _check_size(expected, done, source)
    return flat.reshape(dims)


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

"""Property tests of the IDX reader (data/idx.py) and the dataset loader over it, with
hypothesis: random bytes, plain and gzip; random headers (magic, type code, dimensions, sizes
that overflow or do not match the data); truncated and bit-flipped files. No input may raise
anything but DataError, and whatever loads is a valid uint8 array of 1..3 dimensions.
"""

from __future__ import annotations

import gzip
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from topspark_ros.data.datasets import file_names, load_dataset
from topspark_ros.data.idx import encode_idx, parse_idx, read_idx
from topspark_ros.errors import DataError, TopsparkError

FUZZ = settings(max_examples=150)  # the rest: the 'topspark' profile (test/conftest.py)
MAX_DIM = 2**32 - 1
# Dimensions: small ones (that can match the data), powers of two (whose products wrap a 64-bit
# integer) and any uint32.
DIMS = st.one_of(
    st.integers(0, 40),
    st.sampled_from([2**k for k in range(32)] + [MAX_DIM]),
    st.integers(0, MAX_DIM),
)


def _read_or_refuse(path: Path) -> np.ndarray | None:
    """Read ``path``: the array if it loaded (checked valid), None if a DataError refused it;
    any other exception fails the test."""
    try:
        array = read_idx(path)
    except TopsparkError as err:
        refusal: TopsparkError | None = err
    else:
        refusal = None
    if refusal is not None:
        message = str(refusal)
        assert isinstance(refusal, DataError) and "\n" not in message
        assert message.startswith(f"{path}: ")
        return None
    assert array.dtype == np.uint8 and 1 <= array.ndim <= 3
    assert array.flags.writeable and array.flags.c_contiguous
    return array


def _write(tmp_path: Path, data: bytes, gz: bool) -> Path:
    """``data`` as a file, gzipped if ``gz``."""
    path = tmp_path / ("f-idx-ubyte.gz" if gz else "f-idx-ubyte")
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def _header(*dims: int) -> tuple[bytes, tuple[int, ...]]:
    """A well-formed header declaring ``dims``, and ``dims``."""
    return b"\x00\x00\x08" + bytes([len(dims)]) + struct.pack(f">{len(dims)}I", *dims), dims


@st.composite
def headers(draw: st.DrawFn) -> tuple[bytes, tuple[int, ...]]:
    """An IDX header, mostly well-formed (zero magic, code 0x08, 1..3 dimensions), sometimes
    not, and its declared dimensions."""
    zeros = draw(st.sampled_from([b"\x00\x00", b"\x00\x00", b"\x00\x00", b"\x01\x00", b"PK"]))
    code = draw(st.sampled_from([0x08, 0x08, 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0xFF]))
    ndim = draw(st.sampled_from([1, 2, 3, 1, 2, 3, 0, 4, 255]))
    dims = tuple(draw(st.lists(DIMS, min_size=ndim, max_size=ndim)))
    header = zeros + bytes([code, ndim]) + struct.pack(f">{ndim}I", *dims)
    return header, dims


@FUZZ
@given(data=st.binary(max_size=512), gz=st.booleans(), idx_magic=st.booleans())
@example(data=b"", gz=False, idx_magic=False)
@example(data=b"\x1f\x8b", gz=False, idx_magic=False)  # gzip magic, then nothing
def test_random_bytes(tmp_path: Path, data: bytes, gz: bool, idx_magic: bool) -> None:
    _read_or_refuse(_write(tmp_path, (b"\x00\x00\x08\x01" if idx_magic else b"") + data, gz))


@FUZZ
@given(
    header=headers(),
    extra=st.integers(-8, 8),
    cut=st.integers(0, 20),
    gz=st.booleans(),
)
# 2**22 x 2**21 x 2**21 = 2**64 bytes wrapped to 0 in int64 and then failed in reshape.
@example(header=_header(2**22, 2**21, 2**21), extra=0, cut=0, gz=False)
# 2**32-1 cubed wrapped to a negative number of bytes.
@example(header=_header(MAX_DIM, MAX_DIM, MAX_DIM), extra=0, cut=0, gz=True)
def test_random_headers(
    tmp_path: Path, header: tuple[bytes, tuple[int, ...]], extra: int, cut: int, gz: bool
) -> None:
    """Data of the declared size +- ``extra`` bytes (when that is small), or the header cut."""
    head, dims = header
    size = int(np.prod(dims, dtype=object))
    if size + extra <= 4096:
        data = head + (bytes(range(256)) * 16)[: max(size + extra, 0)]
    else:
        data = head[: max(len(head) - cut, 0)] + bytes(cut)
    array = _read_or_refuse(_write(tmp_path, data, gz))
    if array is not None and size + extra <= 4096:
        assert max(size + extra, 0) == size and array.shape == dims
        assert array.tobytes() == data[len(head) :]


@FUZZ
@given(
    array=hnp.arrays(np.uint8, hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=9)),
    gz=st.booleans(),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(
        st.tuples(st.floats(0.0, 1.0, exclude_max=True), st.integers(1, 255)), max_size=4
    ),
)
def test_damaged_valid_files(
    tmp_path: Path,
    array: np.ndarray,
    gz: bool,
    cut: float,
    flips: list[tuple[float, int]],
) -> None:
    """A valid file (gzipped before the damage if ``gz``), cut and bit-flipped."""
    data = bytearray(gzip.compress(encode_idx(array), mtime=0) if gz else encode_idx(array))
    data = data[: int(len(data) * cut)]
    for where, mask in flips:
        if data:
            data[int(len(data) * where)] ^= mask
    path = tmp_path / "f-idx-ubyte"
    path.write_bytes(bytes(data))
    loaded = _read_or_refuse(path)
    if cut == 1.0 and not flips:
        assert loaded is not None
        np.testing.assert_array_equal(loaded, array)


@FUZZ
@given(data=st.binary(max_size=64))
def test_parse_idx_names_the_source(data: bytes) -> None:
    message = ""
    try:
        parse_idx(data, "<source>")
    except DataError as err:
        message = str(err)
    assert message == "" or message.startswith("<source>: ")


@pytest.mark.parametrize("gz", [False, True])
def test_a_huge_declared_size_allocates_nothing_big(tmp_path: Path, gz: bool) -> None:
    """3 GiB declared and 64 MiB of zeros in a 64 KiB gzip: refused without reading them all."""
    head = b"\x00\x00\x08\x03" + struct.pack(">3I", 3, 2**15, 2**15)
    path = tmp_path / "big-idx3-ubyte"
    path.write_bytes(gzip.compress(head + bytes(64 << 20), 1) if gz else head + bytes(1000))
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="truncated: expected 3221225472 bytes of data"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < (8 << 20), f"{peak} bytes allocated"


def test_a_gzip_bomb_behind_a_small_header_allocates_nothing_big(tmp_path: Path) -> None:
    """10 bytes declared, then 64 MiB of zeros (a 64 KiB gzip): refused as trailing garbage."""
    head = b"\x00\x00\x08\x01" + struct.pack(">I", 10)
    path = tmp_path / "bomb-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(head + bytes(10 + (64 << 20)), 1))
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=f"trailing garbage: {64 << 20} bytes after 10 bytes"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < (8 << 20), f"{peak} bytes allocated"


IMAGES = hnp.arrays(
    np.uint8,
    st.one_of(
        st.tuples(st.integers(0, 4), st.just(28), st.just(28)),
        hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=6),
    ),
)
LABELS = hnp.arrays(
    np.uint8,
    hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=5),
    elements=st.integers(0, 12),
)


@settings(FUZZ, max_examples=60)
@given(images=IMAGES, labels=LABELS, gz=st.booleans(), limit=st.none() | st.integers(-1, 5))
def test_load_dataset_of_random_arrays(
    tmp_path: Path, images: np.ndarray, labels: np.ndarray, gz: bool, limit: int | None
) -> None:
    directory = tmp_path / "mnist"
    directory.mkdir(exist_ok=True)
    for path in directory.iterdir():
        path.unlink()
    images_name, labels_name = file_names("test")
    suffix = ".gz" if gz else ""
    _write_array(directory / f"{images_name}{suffix}", images, gz)
    _write_array(directory / f"{labels_name}{suffix}", labels, gz)
    try:
        dataset = load_dataset("mnist", "test", tmp_path, limit)
    except TopsparkError as err:
        refusal: TopsparkError | None = err
    else:
        refusal = None
    if refusal is not None:
        assert isinstance(refusal, DataError) and "\n" not in str(refusal)
        return
    n = len(dataset)
    assert dataset.images.shape == (n, 28, 28) and dataset.labels.shape == (n,)
    assert n == (len(labels) if limit is None else min(limit, len(labels)))
    assert (dataset.labels < 10).all()


def _write_array(path: Path, array: np.ndarray, gz: bool) -> None:
    """``array`` as an IDX file (gzip if ``gz``)."""
    data = encode_idx(array)
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)

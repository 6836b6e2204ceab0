"""Property tests of the image preprocessing (data/preprocess.py) with hypothesis: random frames
(sizes from 0 to far more than the data holds, every encoding and unknown ones, any row stride,
data too short, too long or of the wrong kind, either byte order) and random ImageConfig values
within their declared ranges. No frame may raise anything but a one-line DataError, a frame that
is well-formed must not be refused, and whatever comes out is uint8 of the documented shape.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from topspark_ros.data.preprocess import ENCODINGS, SIZE, centre_object, decode_gray, preprocess
from topspark_ros.errors import DataError, TopsparkError
from topspark_ros.messages import ImageFrame
from topspark_ros.nodes.config import ImageConfig, PerceptionConfig

FUZZ = settings(max_examples=200)  # the rest: the 'topspark' profile (test/conftest.py)
HUGE = [2**16, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**64, 2**100]
UNKNOWN = st.one_of(
    st.sampled_from(["", "MONO8", "mono8 ", "8UC1", "yuv422", "bayer_rggb8", "rgb16", "64FC1"]),
    st.text(max_size=12),  # non-ASCII and control characters, newlines included
)
ODD_SIZES = st.one_of(st.integers(-2, 0), st.sampled_from([-(2**63), *HUGE]))
# What may be wrong with a frame: the empty set (a well-formed frame) about half the time.
FLAWS = st.one_of(
    st.just(frozenset[str]()),
    st.frozensets(
        st.sampled_from(["encoding", "height", "width", "step", "data", "types"]),
        min_size=1,
        max_size=3,
    ),
)
FILL = st.sampled_from(["random", "random", "zeros", "ones", "spot"])


@st.composite
def configs(draw: st.DrawFn) -> ImageConfig:
    """An ImageConfig (or the perception node's subclass of it) with every field drawn within
    its declared range; the ROI mostly 0 (the whole image) or small, to fit most frames."""
    anywhere = draw(st.sampled_from([False, False, False, True]))
    values: dict[str, object] = {}
    for field in dataclasses.fields(ImageConfig):
        lo, hi = field.metadata["lo"], field.metadata["hi"]
        if field.type == "bool":
            values[field.name] = draw(st.booleans())
        elif field.type == "int":
            usual = st.sampled_from([0, 0, 0, 0, 1, 2])
            values[field.name] = draw(st.integers(lo, hi) if anywhere else usual)
        elif field.type == "float":
            values[field.name] = draw(st.floats(lo, hi))
    cls = draw(st.sampled_from([ImageConfig, PerceptionConfig]))
    return cls(**values)


def _pixels(fill: str, size: int, seed: int) -> bytes:
    """``size`` bytes: random, all zero, all 0xFF, or zero but for one bright spot."""
    if fill == "random":
        return np.random.default_rng(seed).integers(0, 256, size, np.uint8).tobytes()
    data = bytearray(b"\xff" * size if fill == "ones" else bytes(size))
    if fill == "spot" and size:
        at = seed % size
        data[at : at + 4] = b"\x00\x00\x80\x3f"[: size - at]  # 1.0f, or bright bytes
    return bytes(data)


@st.composite
def frames(draw: st.DrawFn) -> ImageFrame:
    """An ImageFrame, consistent (step = the row's bytes + padding, data = step x height bytes
    or more) but for the drawn flaws: unknown encoding, odd sizes, a stride too small or
    random, too little data, sizes of another type (numpy integers, float, str, None)."""
    flaws = draw(FLAWS)
    encoding = draw(UNKNOWN if "encoding" in flaws else st.sampled_from(sorted(ENCODINGS)))
    height = draw(ODD_SIZES if "height" in flaws else st.integers(1, 12))
    width = draw(ODD_SIZES if "width" in flaws else st.integers(1, 12))
    known = ENCODINGS.get(encoding)
    bpp = known.bytes_per_pixel if known is not None else draw(st.integers(1, 4))
    odd_step = st.one_of(
        st.integers(-3, -1).map(lambda pad: width * bpp + pad),
        st.integers(-(2**33), 2**33),
        st.sampled_from([0, -1, *HUGE]),
    )
    step = draw(
        odd_step if "step" in flaws else st.integers(0, 8).map(lambda pad: width * bpp + pad)
    )
    need = step * height
    extra = draw(st.sampled_from([-1, -7, -(2**40)] if "data" in flaws else [0, 0, 1, 7]))
    size = need + extra if 0 <= need + extra <= 1 << 16 else draw(st.integers(0, 64))
    data: bytes | np.ndarray = _pixels(draw(FILL), size, draw(st.integers(0, 2**16)))
    kind = draw(st.sampled_from(["bytes", "bytes", "array", "matrix"]))
    if kind == "array":
        data = np.frombuffer(data, np.uint8)
    elif kind == "matrix" and size and size % 4 == 0:
        data = np.frombuffer(data, np.uint8).reshape(4, -1)[:, ::-1]  # not contiguous
    fields = {"height": height, "width": width, "step": step}
    if "types" in flaws:
        for name in draw(st.sets(st.sampled_from(sorted(fields)), min_size=1, max_size=2)):
            fields[name] = draw(odd_integers(fields[name]))
    return ImageFrame(
        stamp_ns=draw(st.integers(0, 2**63)),
        frame_id="camera",
        encoding=encoding,
        is_bigendian=draw(st.sampled_from([0, 1, 255, np.uint8(1)])),
        data=data,
        **fields,
    )


def odd_integers(value: int) -> st.SearchStrategy[object]:
    """``value`` as a numpy integer (whose arithmetic wraps) where it fits one, or as what a
    careless producer might put in an integer field (float, string, None)."""
    numpy_types = [t for t in (np.uint32, np.int32, np.uint64, np.int64) if _fits(t, value)]
    return st.one_of(
        st.sampled_from([t(value) for t in numpy_types] or [np.uint32(7)]),
        st.sampled_from([float(value) if abs(value) < 2**60 else 1.5, str(value), None]),
    )


def _fits(kind: type[np.integer], value: int) -> bool:
    """Whether ``value`` is in the range of the numpy integer type ``kind``."""
    info = np.iinfo(kind)
    return int(info.min) <= value <= int(info.max)


def _raw(frame: ImageFrame) -> bytes:
    """The frame's data as bytes."""
    return frame.data if isinstance(frame.data, bytes) else frame.data.tobytes()


def _gray_shape(frame: ImageFrame, cfg: ImageConfig) -> tuple[int, int] | None:
    """The (height, width) of ``cfg``'s ROI if ``frame`` holds what its fields declare and the
    ROI lies inside it; None if the frame is malformed or the ROI outside."""
    enc = ENCODINGS.get(frame.encoding)
    sizes = (frame.height, frame.width, frame.step)
    if enc is None or not all(isinstance(v, int | np.integer) for v in sizes):
        return None
    h, w, step = (int(v) for v in sizes)
    if h <= 0 or w <= 0 or step < w * enc.bytes_per_pixel or len(_raw(frame)) < step * h:
        return None
    roi_w = cfg.roi_width or w - cfg.roi_x
    roi_h = cfg.roi_height or h - cfg.roi_y
    inside = 0 < roi_w and 0 < roi_h and cfg.roi_x + roi_w <= w and cfg.roi_y + roi_h <= h
    return (roi_h, roi_w) if inside else None


def _refusal(call: object, *args: object) -> TopsparkError | None:
    """The package error ``call(*args)`` raised (checked to be a one-line DataError), or None;
    any other exception fails the test."""
    assert callable(call)
    try:
        call(*args)
    except TopsparkError as err:
        refusal: TopsparkError | None = err
    else:
        refusal = None
    message = str(refusal)
    assert refusal is None or (isinstance(refusal, DataError) and "\n" not in message), message
    return refusal


@FUZZ
@given(frame=frames(), cfg=configs())
@example(  # 2**16 x 2**16 declared, 64 bytes given
    frame=ImageFrame(0, "", 2**16, 2**16, "mono8", 0, 2**16, bytes(64)), cfg=ImageConfig()
)
@example(frame=ImageFrame(0, "", 1, 1, "32FC1", 0, 4, b"\x00\x00\xc0\x7f"), cfg=ImageConfig())
@example(  # 16-bit pixels across a stride of an odd number of bytes
    frame=ImageFrame(0, "", 2, 1, "16UC1", 1, 3, b"\x01\x00\xff\xff\x00\x01"), cfg=ImageConfig()
)
@example(  # numpy sizes: 2**16 x 2**16 wrapped to 0 bytes in uint32 and then failed in reshape
    frame=ImageFrame(0, "", np.uint32(2**16), 2**16, "mono8", 0, np.uint32(2**16), bytes(64)),
    cfg=ImageConfig(),
)
def test_random_frames(frame: ImageFrame, cfg: ImageConfig) -> None:
    before = _raw(frame)
    refused = _refusal(preprocess, frame, cfg)
    words = str(refused).split()[:2] if refused else ["preprocessed"]
    event(" ".join(word for word in words if not any(c.isdigit() for c in word)))
    if refused is not None:
        assert _gray_shape(frame, cfg) is None or str(refused).startswith("32FC1 image holds no")
    else:
        assert _gray_shape(frame, cfg) is not None
        image = preprocess(frame, cfg)
        assert image.dtype == np.uint8 and image.shape == (SIZE, SIZE)
        if cfg.auto_crop and not decode_gray(frame, cfg).any():
            assert not image.any()  # nothing bright: nothing to centre
    assert _raw(frame) == before  # the frame is never written to


@FUZZ
@given(frame=frames(), cfg=configs())
def test_decode_gray_of_random_frames(frame: ImageFrame, cfg: ImageConfig) -> None:
    """The ROI in 8-bit gray, its bytes exactly for mono8; refused as preprocess refuses."""
    refused, shape = _refusal(decode_gray, frame, cfg), _gray_shape(frame, cfg)
    refused_too = _refusal(preprocess, frame, cfg)
    assert str(refused) == str(refused_too)
    if refused is not None:
        return
    assert shape is not None
    gray = decode_gray(frame, cfg)
    assert gray.dtype == np.uint8 and gray.shape == shape
    if frame.encoding == "mono8":
        h, step, y, x = int(frame.height), int(frame.step), cfg.roi_y, cfg.roi_x
        rows = np.frombuffer(_raw(frame), np.uint8)[: step * h].reshape(h, step)
        expected = rows[y : y + shape[0], x : x + shape[1]]
        np.testing.assert_array_equal(gray, 255 - expected if cfg.invert else expected)


@FUZZ
@given(
    gray=hnp.arrays(np.uint8, hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=60)),
    threshold=st.floats(0.0, 1.0),
)
@example(gray=np.zeros((0, 5), np.uint8), threshold=0.5)
@example(gray=np.full((1, 60), 255, np.uint8), threshold=1.0)
def test_centre_object_of_any_gray_image(gray: np.ndarray, threshold: float) -> None:
    """28x28 uint8 no brighter than the input; black (or empty) in, black out; one bright pixel
    stays as bright. (A faint sparse object may vanish when shrunk: two 1s in opposite corners
    of 60x60 average to 0.)"""
    out = centre_object(gray, threshold)
    assert out.dtype == np.uint8 and out.shape == (SIZE, SIZE)
    assert out.max(initial=0) <= gray.max(initial=0)
    assert gray.any() or not out.any()
    if np.count_nonzero(gray) == 1:  # one bright pixel: enlarged to 20x20, as bright
        assert out.max() == gray.max()

"""Camera image -> the network's input: any encoding and size to a uint8 [28, 28] gray digit.

A ``sensor_msgs/Image`` (as ``messages.ImageFrame``) is decoded row by row through
``step`` (rows may be padded), cut to the region of interest, converted to 8-bit gray, optionally
inverted, then either auto-cropped the way MNIST was made (the bright object's bounding box is
scaled so its longer side is 20 px, keeping the aspect ratio, and placed in 28x28 with its centre
of mass at the centre) or resized whole to 28x28 with ``cv2.INTER_AREA``.

Gray scale per encoding: 8-bit colour uses OpenCV's luma weights; ``16UC1``/``mono16`` are
divided by the frame's (ROI's) maximum, because 16-bit cameras often fill only 10-12 bits and
depth images hold millimetres, so a fixed 65535 would leave most frames black; ``32FC1`` maps
0..1 to 0..255 (clipped; NaN and infinity become 0, and a frame with no finite value at all is
a DataError, not a black image).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from topspark_ros.errors import DataError

if TYPE_CHECKING:
    from topspark_ros.messages import ImageFrame

SIZE = 28  # the network's input is SIZE x SIZE
FIT = 20  # auto_crop: the object's longer side in pixels, as in MNIST
CENTRE = 14.0  # auto_crop: where the centre of mass goes (MNIST's mean is row 14.0, col 14.0)

U8 = npt.NDArray[np.uint8]


class PreprocessSettings(Protocol):
    """The preprocessing settings this module reads (``nodes.config.ImageConfig`` has them,
    with their ranges): stated here so that data/ does not import the node layer."""

    @property
    def roi_x(self) -> int: ...
    @property
    def roi_y(self) -> int: ...
    @property
    def roi_width(self) -> int: ...
    @property
    def roi_height(self) -> int: ...
    @property
    def invert(self) -> bool: ...
    @property
    def auto_crop(self) -> bool: ...
    @property
    def crop_threshold(self) -> float: ...


@dataclass(frozen=True)
class Encoding:
    """How one ``sensor_msgs/Image`` encoding is stored: element type, channels, gray code."""

    dtype: str  # numpy kind and size, byte order added per frame: 'u1', 'u2' or 'f4'
    channels: int
    to_gray: int | None = None  # cv2.cvtColor code for colour encodings

    @property
    def bytes_per_pixel(self) -> int:
        """Bytes of one pixel (all channels)."""
        return np.dtype(self.dtype).itemsize * self.channels


ENCODINGS: dict[str, Encoding] = {
    "mono8": Encoding("u1", 1),
    "rgb8": Encoding("u1", 3, cv2.COLOR_RGB2GRAY),
    "bgr8": Encoding("u1", 3, cv2.COLOR_BGR2GRAY),
    "rgba8": Encoding("u1", 4, cv2.COLOR_RGBA2GRAY),
    "bgra8": Encoding("u1", 4, cv2.COLOR_BGRA2GRAY),
    "16UC1": Encoding("u2", 1),
    "mono16": Encoding("u2", 1),
    "32FC1": Encoding("f4", 1),
}


def _encoding(frame: ImageFrame) -> Encoding:
    """The frame's encoding; DataError naming it and the supported ones if unknown."""
    name = frame.encoding
    enc = ENCODINGS.get(name) if isinstance(name, str) else None
    if enc is None:
        raise DataError(
            f"image encoding {name!r:.80} is not supported; use one of {', '.join(ENCODINGS)}"
        )
    return enc


def _integer(frame: ImageFrame, name: str) -> int:
    """The frame's field ``name`` as a Python int (numpy integers too: no wrapping arithmetic);
    DataError naming the field if it is not an integer."""
    value = getattr(frame, name)
    try:
        return operator.index(value)
    except TypeError:
        raise DataError(f"image {name} must be an integer, got {type(value).__name__}") from None


def _rows(frame: ImageFrame, enc: Encoding, h: int, w: int, step: int) -> U8:
    """The frame's bytes as uint8 [h, w x bytes per pixel], row padding dropped; DataError if
    the sizes, the row stride ``step`` or the data do not fit together."""
    if h <= 0 or w <= 0:
        raise DataError(f"image size must be positive, got {w}x{h} (width x height)")
    row_bytes = w * enc.bytes_per_pixel
    if step < row_bytes:
        raise DataError(
            f"image step {step} is less than width {w} x {enc.bytes_per_pixel} bytes "
            f"({frame.encoding})"
        )
    data = frame.data
    try:
        flat = data.reshape(-1) if isinstance(data, np.ndarray) else np.frombuffer(data, np.uint8)
    except (TypeError, ValueError) as err:
        raise DataError(f"image data is not a byte buffer ({type(data).__name__})") from err
    if flat.dtype != np.uint8:
        raise DataError(f"image data must be bytes or uint8, got {flat.dtype}")
    need = step * h
    if flat.size < need:
        raise DataError(f"image data has {flat.size} bytes, step {step} x height {h} needs {need}")
    return flat[:need].reshape(h, step)[:, :row_bytes]


def _roi(h: int, w: int, cfg: PreprocessSettings) -> tuple[int, int, int, int]:
    """The region of interest (x, y, width, height) of an h x w image; 0 sizes reach the edge."""
    x, y = cfg.roi_x, cfg.roi_y
    roi_w = cfg.roi_width or w - x
    roi_h = cfg.roi_height or h - y
    if x < 0 or y < 0 or roi_w <= 0 or roi_h <= 0 or x + roi_w > w or y + roi_h > h:
        raise DataError(
            f"ROI x={cfg.roi_x} y={cfg.roi_y} width={cfg.roi_width} height={cfg.roi_height} "
            f"lies outside the {w}x{h} image"
        )
    return x, y, roi_w, roi_h


def _gray(pixels: npt.NDArray[np.generic], enc: Encoding) -> U8:
    """8-bit gray [h, w] from decoded pixels [h, w, channels] (scaling in the module docstring)."""
    if enc.to_gray is not None:
        return np.asarray(cv2.cvtColor(np.ascontiguousarray(pixels), enc.to_gray), np.uint8)
    plane = pixels[:, :, 0]
    if enc.dtype == "u1":
        return np.ascontiguousarray(plane, np.uint8)
    if enc.dtype == "u2":
        top = int(plane.max())
        scale = 255.0 / top if top > 0 else 0.0
        scaled = plane.astype(np.float32) * np.float32(scale)
    else:
        values = plane.astype(np.float32)
        if not np.isfinite(values).any():
            raise DataError("32FC1 image holds no finite value (all NaN or infinity)")
        finite = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
        scaled = np.clip(finite, 0.0, 1.0) * np.float32(255.0)
    out: U8 = np.rint(scaled).astype(np.uint8)
    return out


def decode_gray(frame: ImageFrame, cfg: PreprocessSettings) -> U8:
    """The frame's region of interest as 8-bit gray [roi height, roi width], inverted if set."""
    enc = _encoding(frame)
    height, width, step, bigendian = (
        _integer(frame, name) for name in ("height", "width", "step", "is_bigendian")
    )
    rows = _rows(frame, enc, height, width, step)
    x, y, w, h = _roi(height, width, cfg)
    bpp = enc.bytes_per_pixel
    cut = np.ascontiguousarray(rows[y : y + h, x * bpp : (x + w) * bpp])
    order = ">" if bigendian and enc.dtype != "u1" else "<"
    pixels = cut.view(np.dtype(order + enc.dtype)).reshape(h, w, enc.channels)
    gray = _gray(pixels, enc)
    return np.subtract(255, gray, dtype=np.uint8) if cfg.invert else gray


def centre_object(gray: U8, threshold: float) -> U8:
    """MNIST-style crop of gray [h, w]: object box to 20 px, centre of mass at 28x28's centre.

    Object pixels exceed ``threshold`` x the brightest (the brightest if none do); an all-black
    or empty image gives all zeros.
    """
    out = np.zeros((SIZE, SIZE), np.uint8)
    top = int(gray.max(initial=0))
    if top == 0:  # all black, or empty
        return out
    mask = gray > threshold * top
    if not mask.any():
        mask = gray >= top
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    crop = gray[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    ch, cw = crop.shape
    factor = FIT / max(ch, cw)
    new_h, new_w = max(1, round(ch * factor)), max(1, round(cw * factor))
    interp = cv2.INTER_AREA if factor < 1.0 else cv2.INTER_LINEAR
    patch = np.asarray(cv2.resize(crop, (new_w, new_h), interpolation=interp), np.uint8)
    mass = patch.astype(np.float64)
    total = mass.sum()
    if total <= 0.0:
        return out
    com_r = float(mass.sum(axis=1) @ np.arange(new_h)) / total
    com_c = float(mass.sum(axis=0) @ np.arange(new_w)) / total
    r0, c0 = round(CENTRE - com_r), round(CENTRE - com_c)
    # Paste with clipping: an off-centre object may overhang the 28x28 field.
    dr0, dc0 = max(r0, 0), max(c0, 0)
    dr1, dc1 = min(r0 + new_h, SIZE), min(c0 + new_w, SIZE)
    if dr1 > dr0 and dc1 > dc0:
        out[dr0:dr1, dc0:dc1] = patch[dr0 - r0 : dr1 - r0, dc0 - c0 : dc1 - c0]
    return out


def preprocess(frame: ImageFrame, cfg: PreprocessSettings) -> U8:
    """A camera frame as the network's input: uint8 [28, 28]; DataError on a malformed frame."""
    gray = decode_gray(frame, cfg)
    if cfg.auto_crop:
        return centre_object(gray, cfg.crop_threshold)
    if gray.shape == (SIZE, SIZE):
        return gray
    return np.asarray(cv2.resize(gray, (SIZE, SIZE), interpolation=cv2.INTER_AREA), np.uint8)


__all__ = ["ENCODINGS", "Encoding", "centre_object", "decode_gray", "preprocess"]

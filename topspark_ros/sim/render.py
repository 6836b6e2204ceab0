"""Dataset image -> camera frame: a small gray image, enlarged, placed in a robot-size frame.

Benchmarks and scenario bags need what a robot camera would send, not a 28x28 array: the image
is enlarged ``scale`` times (``cv2.INTER_LINEAR``), drawn at a position in a ``width`` x
``height`` frame of gray level ``background`` (brighter pixels of the image win), optionally
inverted (a dark object on a light background, as ink on paper) and encoded as one of the 8-bit
``sensor_msgs/Image`` encodings with gray replicated to every colour channel (alpha opaque).
The perception preprocessing (``data.preprocess`` with ``auto_crop``) recovers the image.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from topspark_ros.data.preprocess import ENCODINGS
from topspark_ros.errors import DataError
from topspark_ros.messages import ImageFrame

U8 = npt.NDArray[np.uint8]

RENDER_ENCODINGS = tuple(name for name, enc in ENCODINGS.items() if enc.dtype == "u1")
_ALPHA_LAST = ("rgba8", "bgra8")


def place(
    image: U8,
    width: int,
    height: int,
    scale: int = 1,
    position: tuple[int, int] | None = None,
    background: int = 0,
) -> tuple[U8, tuple[int, int]]:
    """Gray frame uint8 [height, width] holding ``image`` [h, w] enlarged ``scale`` times with
    its top-left corner at ``position`` (x, y; None: centred), and that position."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 2:
        kind = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image)
        raise DataError(f"image must be uint8 [h, w], got {kind}")
    if width <= 0 or height <= 0:
        raise DataError(f"frame size must be positive, got {width}x{height} (width x height)")
    if scale < 1:
        raise DataError(f"scale must be >= 1, got {scale}")
    if not 0 <= background <= 255:
        raise DataError(f"background must be a gray level 0..255, got {background}")
    h, w = image.shape[0] * scale, image.shape[1] * scale
    if w > width or h > height:
        raise DataError(
            f"image {image.shape[1]}x{image.shape[0]} at scale {scale} is {w}x{h}, larger than "
            f"the {width}x{height} frame"
        )
    x, y = ((width - w) // 2, (height - h) // 2) if position is None else position
    if not (0 <= x <= width - w and 0 <= y <= height - h):
        raise DataError(
            f"position ({x}, {y}) puts the {w}x{h} image outside the {width}x{height} frame"
        )
    big = image
    if scale > 1:
        big = np.asarray(cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR), np.uint8)
    gray = np.full((height, width), background, np.uint8)
    np.maximum(gray[y : y + h, x : x + w], big, out=gray[y : y + h, x : x + w])
    return gray, (x, y)


def random_position(
    rng: np.random.Generator, size: tuple[int, int], width: int, height: int, scale: int = 1
) -> tuple[int, int]:
    """A uniform top-left (x, y) that keeps an image of ``size`` (h, w) x ``scale`` inside."""
    free_x, free_y = width - size[1] * scale, height - size[0] * scale
    if free_x < 0 or free_y < 0:
        raise DataError(
            f"image {size[1]}x{size[0]} at scale {scale} does not fit a {width}x{height} frame"
        )
    return int(rng.integers(0, free_x + 1)), int(rng.integers(0, free_y + 1))


def encode_gray(gray: U8, encoding: str) -> U8:
    """Gray [h, w] as the pixels of an 8-bit ``encoding``: uint8 [h, w x channels]."""
    if encoding not in RENDER_ENCODINGS:
        raise DataError(
            f"cannot render encoding {encoding!r}; use one of {', '.join(RENDER_ENCODINGS)}"
        )
    channels = ENCODINGS[encoding].channels
    if channels == 1:
        return gray
    pixels = np.repeat(gray[:, :, None], channels, axis=2)
    if encoding in _ALPHA_LAST:
        pixels[:, :, 3] = 255
    return pixels.reshape(gray.shape[0], -1)


def render_frame(
    image: U8,
    stamp_ns: int = 0,
    width: int = 640,
    height: int = 480,
    encoding: str = "bgr8",
    scale: int = 8,
    position: tuple[int, int] | None = None,
    rng: np.random.Generator | None = None,
    background: int = 0,
    invert: bool = False,
    frame_id: str = "camera",
) -> ImageFrame:
    """A camera frame (``data``: uint8 [height x step]) showing ``image`` [h, w] enlarged
    ``scale`` times at ``position`` (x, y), or at a random one from ``rng``, else centred."""
    if position is not None and rng is not None:
        raise DataError("give a position or an rng, not both")
    if rng is not None and isinstance(image, np.ndarray) and image.ndim == 2:
        position = random_position(rng, (image.shape[0], image.shape[1]), width, height, scale)
    gray, _ = place(image, width, height, scale, position, background)
    if invert:
        np.subtract(255, gray, out=gray)
    pixels = encode_gray(gray, encoding)
    return ImageFrame(
        stamp_ns=stamp_ns,
        frame_id=frame_id,
        height=height,
        width=width,
        encoding=encoding,
        is_bigendian=0,
        step=pixels.shape[1],
        data=pixels.reshape(-1),
    )


__all__ = ["RENDER_ENCODINGS", "encode_gray", "place", "random_position", "render_frame"]

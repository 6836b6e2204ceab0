"""Tests for image preprocessing (data/preprocess.py): encodings, padding, ROI, crop, errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from topspark_ros.data import load_sample, preprocess
from topspark_ros.data.preprocess import ENCODINGS, centre_object, decode_gray
from topspark_ros.errors import DataError
from topspark_ros.messages import ImageFrame
from topspark_ros.nodes.config import ImageConfig
from topspark_ros.snn.labelling import predict
from topspark_ros.snn.network import Network
from topspark_ros.snn.params import load_preset
from topspark_ros.snn.training import assign

WIDTH, HEIGHT = 640, 480
CROP = ImageConfig()
WHOLE = ImageConfig(auto_crop=False)


def digit(index: int = 0) -> np.ndarray:
    """A 28x28 uint8 MNIST test digit (the first ten all reach 255)."""
    return load_sample("mnist", "test").images[index]


def canvas(image: np.ndarray, x: int = 300, y: int = 200, scale: int = 1) -> np.ndarray:
    """``image`` scaled up ``scale`` times, placed at (x, y) in a black 640x480 gray frame."""
    big = np.zeros((HEIGHT, WIDTH), np.uint8)
    if scale != 1:
        size = (image.shape[1] * scale, image.shape[0] * scale)
        image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    big[y : y + image.shape[0], x : x + image.shape[1]] = image
    return big


def encode(gray: np.ndarray, encoding: str, bigendian: bool = False) -> np.ndarray:
    """8-bit gray [h, w] as the pixels of ``encoding`` [h, w, channels] of the same brightness."""
    if encoding in ("16UC1", "mono16"):
        pixels = gray.astype(np.uint16) * 16  # a 12-bit camera: 255 -> 4080
        return pixels.astype(">u2" if bigendian else "<u2")[:, :, None]
    if encoding == "32FC1":
        return (gray / np.float32(255.0)).astype(">f4" if bigendian else "<f4")[:, :, None]
    channels = ENCODINGS[encoding].channels
    pixels = np.repeat(gray[:, :, None], channels, axis=2)
    if channels == 4:
        pixels[:, :, 3] = 255  # alpha
    return pixels


def frame(pixels: np.ndarray, encoding: str, pad: int = 0, bigendian: bool = False) -> ImageFrame:
    """An ImageFrame of pixels [h, w, channels]; each row followed by ``pad`` junk bytes."""
    h, w = pixels.shape[:2]
    rows = np.ascontiguousarray(pixels).view(np.uint8).reshape(h, -1)
    padded = np.concatenate([rows, np.full((h, pad), 0xAB, np.uint8)], axis=1)
    return ImageFrame(
        stamp_ns=0,
        frame_id="camera",
        height=h,
        width=w,
        encoding=encoding,
        is_bigendian=int(bigendian),
        step=padded.shape[1],
        data=padded.tobytes(),
    )


def mono8(gray: np.ndarray) -> ImageFrame:
    """A mono8 frame of gray [h, w]."""
    return frame(gray[:, :, None], "mono8")


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
@pytest.mark.parametrize("pad", [0, 5])
def test_every_encoding_gives_the_digit(encoding: str, pad: int) -> None:
    expected = preprocess(mono8(digit()), CROP)
    big = frame(encode(canvas(digit()), encoding), encoding, pad=pad)
    np.testing.assert_array_equal(preprocess(big, CROP), expected)


@pytest.mark.parametrize("encoding", ["16UC1", "32FC1"])
def test_big_endian_equals_little_endian(encoding: str) -> None:
    gray = canvas(digit(1))
    little = frame(encode(gray, encoding), encoding, pad=3)
    big = frame(encode(gray, encoding, bigendian=True), encoding, pad=3, bigendian=True)
    assert big.data != little.data
    np.testing.assert_array_equal(preprocess(big, CROP), preprocess(little, CROP))
    np.testing.assert_array_equal(decode_gray(big, WHOLE), gray)


@pytest.mark.parametrize(
    ("encoding", "order"),
    [("rgb8", (0, 1, 2)), ("bgr8", (2, 1, 0)), ("rgba8", (0, 1, 2)), ("bgra8", (2, 1, 0))],
)
def test_colour_channel_order(encoding: str, order: tuple[int, int, int]) -> None:
    # Pure red, green and blue patches come out with their luma weights 0.299, 0.587, 0.114.
    pixels = np.zeros((1, 3, ENCODINGS[encoding].channels), np.uint8)
    for patch, channel in enumerate(order):
        pixels[0, patch, channel] = 200
    gray = decode_gray(frame(pixels, encoding), WHOLE)
    np.testing.assert_allclose(gray[0], [0.299 * 200, 0.587 * 200, 0.114 * 200], atol=1.0)


def test_16bit_is_scaled_by_the_frame_maximum() -> None:
    # A 12-bit camera: 4095 is its brightest value and becomes 255.
    pixels = np.array([[0, 1024, 2048, 4095]], np.uint16)[:, :, None]
    gray = decode_gray(frame(pixels, "16UC1"), WHOLE)
    np.testing.assert_array_equal(gray, [[0, 64, 128, 255]])
    black = np.zeros((2, 2, 1), np.uint16)
    np.testing.assert_array_equal(decode_gray(frame(black, "16UC1"), WHOLE), 0)


def test_float_nan_and_infinity_become_black_values_are_clipped() -> None:
    values = np.array([[np.nan, np.inf, -np.inf, -0.5, 0.5, 1.0, 7.0]], np.float32)
    gray = decode_gray(frame(values[:, :, None], "32FC1"), WHOLE)
    np.testing.assert_array_equal(gray, [[0, 0, 0, 0, 128, 255, 255]])
    garbage = np.full((HEIGHT, WIDTH, 1), np.nan, np.float32)
    garbage[0, :3] = np.inf
    with pytest.raises(DataError, match=r"32FC1 image holds no finite value"):
        preprocess(frame(garbage, "32FC1"), CROP)


def test_data_may_be_a_uint8_array() -> None:
    f = mono8(canvas(digit()))
    as_array = ImageFrame(**{**f.__dict__, "data": np.frombuffer(f.data, np.uint8)})
    np.testing.assert_array_equal(preprocess(as_array, CROP), preprocess(f, CROP))


# --------------------------------------------------------------------------- geometry


def test_whole_image_is_resized_with_inter_area() -> None:
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (56, 84), dtype=np.uint8)
    out = preprocess(mono8(gray), WHOLE)
    # INTER_AREA at integer factors is the block mean.
    blocks = gray.reshape(28, 2, 28, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(out, blocks, atol=1.0)
    np.testing.assert_array_equal(preprocess(mono8(digit()), WHOLE), digit())


def test_roi_cuts_the_region() -> None:
    gray = canvas(digit(), x=300, y=200)
    cfg = ImageConfig(roi_x=300, roi_y=200, roi_width=28, roi_height=28, auto_crop=False)
    np.testing.assert_array_equal(preprocess(mono8(gray), cfg), digit())
    # Zero width and height reach the right and bottom edges.
    to_edge = decode_gray(mono8(gray), ImageConfig(roi_x=600, roi_y=470))
    assert to_edge.shape == (10, 40)
    # A region without the digit is empty.
    elsewhere = ImageConfig(roi_x=0, roi_y=0, roi_width=200, roi_height=100)
    np.testing.assert_array_equal(preprocess(mono8(gray), elsewhere), 0)


@pytest.mark.parametrize(
    "roi",
    [
        {"roi_x": 640},
        {"roi_y": 480},
        {"roi_x": 600, "roi_width": 41},
        {"roi_y": 10, "roi_height": 471},
    ],
)
def test_roi_outside_the_image_is_an_error(roi: dict[str, int]) -> None:
    with pytest.raises(DataError, match=r"ROI .* outside the 640x480 image"):
        preprocess(mono8(canvas(digit())), ImageConfig(**roi))


def test_invert_makes_a_dark_digit_on_white_the_same() -> None:
    expected = preprocess(mono8(digit()), CROP)
    paper = 255 - canvas(digit(5))
    inverted = preprocess(mono8(paper), ImageConfig(invert=True))
    np.testing.assert_array_equal(inverted, preprocess(mono8(digit(5)), CROP))
    assert not np.array_equal(inverted, expected)


def test_auto_crop_fits_20_pixels_and_centres_the_mass() -> None:
    out = centre_object(canvas(digit(2), x=17, y=360, scale=4), 0.25)
    mask = out > 0.25 * out.max()
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (19, 20, 21)
    mass = out.astype(float)
    com = (mass.sum(axis=1) @ np.arange(28), mass.sum(axis=0) @ np.arange(28))
    np.testing.assert_allclose(np.array(com) / mass.sum(), 14.0, atol=0.6)


def test_auto_crop_keeps_the_aspect_ratio() -> None:
    bar = np.zeros((100, 100), np.uint8)
    bar[10:90, 40:60] = 255  # 80 x 20: becomes 20 x 5
    out = centre_object(bar, 0.25)
    assert (out > 0).any(axis=1).sum() == 20
    assert (out > 0).any(axis=0).sum() == 5


def test_empty_frame_gives_zeros() -> None:
    black = np.zeros((HEIGHT, WIDTH), np.uint8)
    np.testing.assert_array_equal(preprocess(mono8(black), CROP), np.zeros((28, 28), np.uint8))


def test_single_bright_pixel_is_an_object() -> None:
    gray = np.zeros((50, 50), np.uint8)
    gray[7, 9] = 90
    out = preprocess(mono8(gray), ImageConfig(crop_threshold=1.0))
    assert out.dtype == np.uint8 and out.shape == (28, 28)
    assert out.max() == 90


def test_scaled_digits_in_a_big_frame_classify_like_the_originals() -> None:
    # Digits tripled in size at various places of a bgr8 frame, then auto-cropped, get the
    # tiny network's answers on the originals about as often as a second run on the originals
    # does (the Poisson input makes the answers of a small network vary from run to run).
    train = load_sample("mnist", "train")
    net = Network.fresh(load_preset("tuned").replace(n_neurons=60, timesteps=100), seed=0)
    net.train(train.images)
    assign(net, train.images, train.labels)
    test = load_sample("mnist", "test")
    originals, labels = test.images[:100], test.labels[:100]
    framed = np.stack(
        [
            preprocess(frame(encode(canvas(img, 100 + 4 * i, 50 + i, 3), "bgr8"), "bgr8"), CROP)
            for i, img in enumerate(originals)
        ]
    )
    first, rerun, answers = (
        predict(net.respond(images)[0], net.state.assignments)
        for images in (originals, originals, framed)
    )
    assert np.mean(answers == first) >= np.mean(rerun == first) - 0.1
    assert np.mean(answers == labels) >= np.mean(first == labels) - 0.1


# --------------------------------------------------------------------------- bad frames


def replace(f: ImageFrame, **changes: object) -> ImageFrame:
    """A copy of frame ``f`` with some fields changed."""
    return ImageFrame(**{**f.__dict__, **changes})


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"encoding": "yuv422"}, r"encoding 'yuv422' is not supported; use one of mono8, rgb8"),
        ({"height": 0}, r"image size must be positive, got 28x0"),
        ({"width": -1}, r"image size must be positive, got -1x28"),
        ({"step": 27}, r"image step 27 is less than width 28 x 1 bytes \(mono8\)"),
        ({"encoding": "rgb8"}, r"image step 28 is less than width 28 x 3 bytes \(rgb8\)"),
        ({"data": b"\x00" * 100}, r"image data has 100 bytes, step 28 x height 28 needs 784"),
        ({"data": np.zeros(784, np.float32)}, r"image data must be bytes or uint8, got float32"),
        ({"data": None}, r"image data is not a byte buffer \(NoneType\)"),
        ({"data": [0] * 784}, r"image data is not a byte buffer \(list\)"),
    ],
)
def test_malformed_frames_are_data_errors(changes: dict[str, object], match: str) -> None:
    with pytest.raises(DataError, match=match):
        preprocess(replace(mono8(digit()), **changes), CROP)

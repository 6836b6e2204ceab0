"""Tests for rendering dataset images into camera frames (sim/render.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from topspark_ros.data import load_sample, preprocess
from topspark_ros.data.preprocess import ENCODINGS, decode_gray
from topspark_ros.errors import DataError
from topspark_ros.nodes.config import ImageConfig
from topspark_ros.sim.render import (
    RENDER_ENCODINGS,
    encode_gray,
    place,
    random_position,
    render_frame,
)
from topspark_ros.snn.labelling import predict
from topspark_ros.snn.model_io import load_model
from topspark_ros.snn.network import Network

CROP = ImageConfig()
WHOLE = ImageConfig(auto_crop=False)
COUNT = 30


def digits(count: int = COUNT) -> np.ndarray:
    """The first ``count`` MNIST test digits, uint8 [count, 28, 28]."""
    return load_sample("mnist", "test").images[:count]


def test_every_8bit_encoding_is_rendered() -> None:
    assert RENDER_ENCODINGS == ("mono8", "rgb8", "bgr8", "rgba8", "bgra8")


@pytest.mark.parametrize("encoding", RENDER_ENCODINGS)
def test_preprocessing_a_rendered_frame_recovers_the_digit(encoding: str) -> None:
    # Each rendered digit (8x enlarged, random place in 640x480) comes back from auto_crop
    # nearer its own original than any other digit, and within ~18 gray levels on average.
    images = digits()
    rng = np.random.default_rng(0)
    back = np.stack(
        [preprocess(render_frame(img, encoding=encoding, rng=rng), CROP) for img in images]
    )
    dist = np.abs(back[:, None].astype(int) - images[None].astype(int)).mean(axis=(2, 3))
    np.testing.assert_array_equal(dist.argmin(axis=1), np.arange(COUNT))
    assert dist.diagonal().mean() < 12.0
    assert dist.diagonal().max() < 20.0


def test_frame_fields_and_pixels() -> None:
    img = digits(1)[0]
    frame = render_frame(img, 77, 64, 48, "bgra8", scale=1, position=(5, 9), frame_id="cam")
    assert (frame.stamp_ns, frame.frame_id, frame.encoding) == (77, "cam", "bgra8")
    assert (frame.width, frame.height, frame.step, frame.is_bigendian) == (64, 48, 256, 0)
    assert isinstance(frame.data, np.ndarray) and frame.data.dtype == np.uint8
    pixels = frame.data.reshape(48, 64, 4)
    np.testing.assert_array_equal(pixels[9 : 9 + 28, 5 : 5 + 28, 0], img)
    np.testing.assert_array_equal(pixels[..., 0], pixels[..., 2])
    np.testing.assert_array_equal(pixels[..., 3], 255)
    np.testing.assert_array_equal(decode_gray(frame, WHOLE)[9 : 9 + 28, 5 : 5 + 28], img)


def test_centred_by_default_and_scaled_with_inter_linear() -> None:
    gray, at = place(np.full((28, 28), 200, np.uint8), 100, 80, scale=2)
    assert at == (22, 12)
    assert (gray > 0).sum() == 56 * 56
    assert gray[12, 22] == 200 and gray[11, 22] == 0 and gray[12 + 56, 22] == 0


def test_background_and_invert_make_ink_on_paper() -> None:
    img = digits(1)[0]
    paper = render_frame(img, encoding="mono8", scale=4, background=10, invert=True)
    gray = decode_gray(paper, WHOLE)
    assert gray[0, 0] == 245 and gray.min() <= 5
    plain = render_frame(img, encoding="mono8", scale=4)
    back = preprocess(paper, ImageConfig(invert=True, crop_threshold=0.25))
    assert np.abs(back.astype(int) - preprocess(plain, CROP).astype(int)).mean() < 3.0


def test_random_positions_are_seeded_and_inside() -> None:
    first = [random_position(np.random.default_rng(3), (28, 28), 640, 480, 8) for _ in range(2)]
    assert first[0] == first[1]
    rng = np.random.default_rng(1)
    spots = [random_position(rng, (28, 28), 100, 60, 2) for _ in range(200)]
    xs, ys = zip(*spots, strict=True)
    assert min(xs) == 0 and max(xs) == 100 - 56
    assert min(ys) == 0 and max(ys) == 60 - 56


def test_rendered_digits_classify_like_the_originals(trained_model: Path) -> None:
    # The tiny session model answers rendered frames as it answers the originals, about as
    # often as a second run on the originals does (Poisson input varies from run to run).
    net = Network(load_model(trained_model), seed=0)
    test = load_sample("mnist", "test")
    originals, labels = test.images[:100], test.labels[:100]
    rng = np.random.default_rng(2)
    framed = np.stack([preprocess(render_frame(img, rng=rng), CROP) for img in originals])
    first, rerun, answers = (
        predict(net.respond(images)[0], net.state.assignments)
        for images in (originals, originals, framed)
    )
    assert np.mean(answers == first) >= np.mean(rerun == first) - 0.1
    assert np.mean(answers == labels) >= np.mean(first == labels) - 0.1


def test_encode_gray_replicates_channels() -> None:
    gray = np.arange(6, dtype=np.uint8).reshape(2, 3)
    for encoding in RENDER_ENCODINGS:
        pixels = encode_gray(gray, encoding)
        channels = ENCODINGS[encoding].channels
        assert pixels.shape == (2, 3 * channels)
        np.testing.assert_array_equal(pixels.reshape(2, 3, channels)[..., 0], gray)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"encoding": "16UC1"}, r"cannot render encoding '16UC1'; use one of mono8, rgb8"),
        ({"width": 0}, r"frame size must be positive, got 0x480"),
        ({"scale": 0}, r"scale must be >= 1, got 0"),
        ({"background": 256}, r"background must be a gray level 0..255, got 256"),
        ({"scale": 20}, r"image 28x28 at scale 20 is 560x560, larger than the 640x480 frame"),
        ({"position": (600, 0)}, r"position \(600, 0\) puts the 224x224 image outside"),
        ({"position": (0, -1)}, r"position \(0, -1\) puts the 224x224 image outside"),
        (
            {"position": (0, 0), "rng": np.random.default_rng(0)},
            r"give a position or an rng, not both",
        ),
        ({"rng": np.random.default_rng(0), "width": 100}, r"does not fit a 100x480 frame"),
    ],
)
def test_bad_arguments_are_data_errors(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(DataError, match=match):
        render_frame(digits(1)[0], **kwargs)


@pytest.mark.parametrize(
    ("image", "match"),
    [
        (np.zeros((28, 28), np.float32), r"image must be uint8 \[h, w\], got float32 \(28, 28\)"),
        (
            np.zeros((28, 28, 3), np.uint8),
            r"image must be uint8 \[h, w\], got uint8 \(28, 28, 3\)",
        ),
        ([[0]], r"image must be uint8 \[h, w\], got <class 'list'>"),
    ],
)
def test_bad_images_are_data_errors(image: object, match: str) -> None:
    with pytest.raises(DataError, match=match):
        render_frame(image)

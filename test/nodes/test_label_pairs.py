"""Label pairing by stamp, in either arrival order, tagged with the environment."""

from __future__ import annotations

import numpy as np

from topspark_ros.messages import Label
from topspark_ros.nodes.label_pairs import LabelPairs


def image(value: int) -> np.ndarray:
    """A uint8 [28, 28] image filled with ``value``."""
    return np.full((28, 28), value, np.uint8)


def test_labels_pair_with_images_in_either_order() -> None:
    pairs = LabelPairs(buffer_size=4, max_labelled=10)
    pairs.add_image(1, image(1), "a")
    pairs.add_label(Label(1, 3), "a")  # image first
    pairs.add_label(Label(2, 5), "a")  # label first: waits for its image
    assert len(pairs) == 1
    pairs.add_image(2, image(2), "a")
    pairs.add_label(Label(99, 1), "a")  # no such image (yet)
    images, labels = pairs.of("a")
    assert labels.tolist() == [3, 5]
    assert images[:, 0, 0].tolist() == [1, 2]
    assert pairs.new == 2


def test_environment_comes_from_the_label_or_the_current_one() -> None:
    pairs = LabelPairs(buffer_size=4, max_labelled=10)
    pairs.add_image(1, image(1), "a")
    pairs.add_image(2, image(2), "a")
    pairs.add_label(Label(1, 3, environment="b"), "a")
    pairs.add_label(Label(2, 4), "a")
    assert pairs.of("b")[1].tolist() == [3]
    assert pairs.of("a")[1].tolist() == [4]
    assert pairs.new == 1  # only pairs of the current environment count as new
    pairs.clear_new()
    assert pairs.new == 0
    empty_images, empty_labels = pairs.of("c")
    assert empty_images.shape == (0, 28, 28)
    assert empty_labels.size == 0


def test_buffers_are_bounded() -> None:
    pairs = LabelPairs(buffer_size=2, max_labelled=3)
    for stamp in range(5):
        pairs.add_image(stamp, image(stamp), "a")
    pairs.add_label(Label(0, 1), "a")  # its image has left the buffer: waits
    for stamp in range(10, 13):
        pairs.add_label(Label(stamp, 1), "a")
    assert pairs.unmatched == 2  # the buffer holds 2 waiting labels
    for stamp in range(3, 5):
        pairs.add_label(Label(stamp, 2), "a")
    for stamp in range(5, 7):
        pairs.add_image(stamp, image(stamp), "a")
        pairs.add_label(Label(stamp, 3), "a")
    assert len(pairs) == 3  # max_labelled
    assert pairs.of("a")[1].tolist() == [2, 3, 3]

"""Labelled samples for the online learner: ``Label`` messages matched to images by stamp.

A label names the image by its header stamp; whichever of the two arrives first waits (up to
``buffer_size`` of each) for the other, since two topics give no ordering guarantee.
"""

from __future__ import annotations

from collections import OrderedDict, deque

import numpy as np
import numpy.typing as npt

from topspark_ros.messages import Label

Image = npt.NDArray[np.uint8]


class LabelPairs:
    """Recent images, labels waiting for their image, and the (image, class, environment) pairs.

    Not thread-safe: the owner serialises calls. A pair's environment is the label's, or the
    ``environment`` current when it was made if the label names none.
    """

    def __init__(self, buffer_size: int, max_labelled: int) -> None:
        self._size = buffer_size
        self._images: OrderedDict[int, Image] = OrderedDict()
        self._waiting: OrderedDict[int, Label] = OrderedDict()
        self._pairs: deque[tuple[Image, int, str]] = deque(maxlen=max_labelled)
        self.new = 0  # pairs of the current environment since the last ``clear_new``
        self.unmatched = 0  # labels dropped before their image arrived

    def __len__(self) -> int:
        """Pairs held."""
        return len(self._pairs)

    def add_image(self, stamp_ns: int, image: Image, environment: str) -> None:
        """Keep a preprocessed image uint8 [28, 28]; pair it if its label came first."""
        self._images[stamp_ns] = image
        while len(self._images) > self._size:
            self._images.popitem(last=False)
        label = self._waiting.pop(stamp_ns, None)
        if label is not None:
            self._pair(image, label, environment)

    def add_label(self, label: Label, environment: str) -> None:
        """Pair a label with the image of its stamp, or hold it until that image arrives."""
        image = self._images.get(label.stamp_ns)
        if image is not None:
            self._pair(image, label, environment)
            return
        self._waiting[label.stamp_ns] = label
        while len(self._waiting) > self._size:
            self._waiting.popitem(last=False)
            self.unmatched += 1

    def of(self, environment: str) -> tuple[Image, npt.NDArray[np.int64]]:
        """The pairs of ``environment``: images uint8 [M, 28, 28] and classes int64 [M]."""
        chosen = [(image, cls) for image, cls, env in self._pairs if env == environment]
        if not chosen:
            return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64)
        images = np.stack([image for image, _ in chosen])
        return images, np.array([cls for _, cls in chosen], np.int64)

    def clear_new(self) -> None:
        """Start counting new pairs afresh (after a re-assignment or an environment switch)."""
        self.new = 0

    def _pair(self, image: Image, label: Label, environment: str) -> None:
        """Keep one (image, class, environment) pair."""
        env = label.environment or environment
        self._pairs.append((image, int(label.label), env))
        if env == environment:
            self.new += 1


__all__ = ["LabelPairs"]

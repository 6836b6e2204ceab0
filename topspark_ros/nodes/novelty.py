"""New-environment detection: a sustained drop of the network's response evidence.

The statistic is ``evidence(result) = confidence x ln(1 + top class score)``: the winning class's
share of the vote times the (log) mean spike count of its neurons. On inputs unlike anything it
learnt, the network either splits its vote (confidence falls) or answers with a lone, often
deadline, spike (the top score falls while a single spike gives confidence 1, so confidence alone
can even rise). Measured on the embedded samples (MNIST-trained N60..N200 models, T 50..350,
Fashion-MNIST as the new environment), evidence fell by 27-70% in every case, while confidence
changed by -32% to +17% and the total spike count by -13% to +225%; with the default windows
the two environments' means lie 3-7 standard errors apart.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable

from topspark_ros.messages import Classification


def evidence(result: Classification) -> float:
    """The detector's statistic for one result: confidence x ln(1 + highest class score)."""
    top = max(result.scores, default=0.0)
    return float(result.confidence) * math.log1p(max(float(top), 0.0))


class NoveltyDetector:
    """Compares the mean of the last ``detector_window`` values with the mean of the
    ``reference_window`` values before them; a relative drop >= ``threshold`` is a new environment.

    After a trigger (or ``reset``) both windows refill before the next one can fire, so one change
    triggers once. Values from another regime (e.g. another T or model version) are not
    comparable: a change of ``regime`` restarts the windows. Non-finite values are ignored.
    """

    def __init__(self, reference_window: int, detector_window: int, threshold: float) -> None:
        if reference_window < 1 or detector_window < 1:
            raise ValueError("detector windows must hold at least one value")
        self.threshold = threshold
        self._recent: deque[float] = deque()
        self._reference: deque[float] = deque()
        self._recent_size = detector_window
        self._reference_size = reference_window
        self._recent_sum = 0.0
        self._reference_sum = 0.0
        self._added = 0
        self._regime: Hashable = None
        self.novelty = 0.0  # latest relative drop, 0..1 (0 until both windows are full)

    @property
    def armed(self) -> bool:
        """Whether both windows are full, so a drop can be detected."""
        return len(self._reference) == self._reference_size

    def reset(self) -> None:
        """Forget all values (e.g. after learning): the next reference is built from scratch."""
        self._recent.clear()
        self._reference.clear()
        self._recent_sum = self._reference_sum = 0.0
        self.novelty = 0.0

    def observe(self, value: float, regime: Hashable = None) -> bool:
        """Add one value; True when it completes a drop of at least ``threshold`` (then reset)."""
        if regime != self._regime:
            self._regime = regime
            self.reset()
        if not math.isfinite(value):
            return False
        self._push(value)
        if not self.armed:
            return False
        reference = self._reference_sum / self._reference_size
        recent = self._recent_sum / self._recent_size
        drop = 1.0 - recent / reference if reference > 0 else 0.0
        self.novelty = min(1.0, max(0.0, drop))
        if drop >= self.threshold:
            self.reset()
            self.novelty = min(1.0, drop)
            return True
        return False

    def _push(self, value: float) -> None:
        """Append to the recent window, moving its oldest value into the reference window."""
        self._recent.append(value)
        self._recent_sum += value
        if len(self._recent) > self._recent_size:
            moved = self._recent.popleft()
            self._recent_sum -= moved
            self._reference.append(moved)
            self._reference_sum += moved
            if len(self._reference) > self._reference_size:
                self._reference_sum -= self._reference.popleft()
        self._added += 1
        if self._added >= self._reference_size + self._recent_size:
            # Running sums drift with rounding; recompute them exactly once per window length.
            self._added = 0
            self._recent_sum = math.fsum(self._recent)
            self._reference_sum = math.fsum(self._reference)


__all__ = ["NoveltyDetector", "evidence"]

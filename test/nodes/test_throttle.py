"""Rate-limited warnings (nodes/throttle.py): one line per kind per interval, counts held back."""

from __future__ import annotations

from typing import Any

from topspark_ros.nodes.throttle import WarningThrottle


class Clock:
    """A settable clock in seconds."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_line_per_kind_per_interval(recorder: Any) -> None:
    clock = Clock()
    throttle = WarningThrottle(recorder, interval_s=1.0, clock=clock)
    assert throttle.warning("image", "bad image 1")
    assert not throttle.warning("image", "bad image 2")
    assert throttle.warning("model", "bad model")  # another kind passes
    clock.now += 0.5
    assert not throttle.warning("image", "bad image 3")
    clock.now += 0.5
    assert throttle.warning("image", "bad image 4")
    assert recorder.warnings() == [
        "bad image 1",
        "bad model",
        "bad image 4 (2 more since the last such warning)",
    ]

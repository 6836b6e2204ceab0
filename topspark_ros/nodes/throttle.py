"""Rate-limited warnings: one line per kind of problem per interval, however often it happens.

A camera that sends malformed frames at 30 Hz must not flood the log; the node still counts every
occurrence and the next line that gets through says how many were held back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from topspark_ros.messages import LoggerLike


class WarningThrottle:
    """Pass a warning of each ``kind`` at most once per ``interval_s`` seconds; thread-safe.

    ``clock`` returns seconds (default ``time.monotonic``), replaceable in tests.
    """

    def __init__(
        self,
        logger: LoggerLike,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._interval = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def warning(self, kind: str, message: str) -> bool:
        """Log ``message`` unless a ``kind`` warning was logged within the interval; say if so."""
        now = self._clock()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self._interval:
                self._held[kind] = self._held.get(kind, 0) + 1
                return False
            self._last[kind] = now
            held = self._held.pop(kind, 0)
        suffix = f" ({held} more since the last such warning)" if held else ""
        self._log.warning(message + suffix)
        return True


__all__ = ["WarningThrottle"]

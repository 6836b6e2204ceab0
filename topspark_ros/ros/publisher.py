"""What both adapters' plain publishers share: convert plain data to the transport's message
class, publish, and wait for subscribers to match (DDS transport and the rclpy participant)."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable

from topspark_ros.interfaces.convert import Converter


def wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Poll ``condition`` every 10 ms for up to ``timeout_s`` seconds; its last value."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


class ConvertingPublisher(ABC):
    """Publishes one topic; ``publish`` takes a message object or a plain value to convert."""

    def __init__(self, typename: str, msg_class: type, converter: Converter) -> None:
        """A publisher of ``typename`` messages (``msg_class``), built by ``converter``."""
        self.typename = typename
        self._msg_class = msg_class
        self._converter = converter

    def publish(self, message: object) -> None:
        """Publish ``message``: an instance of the message class, or a dataclass/mapping/scalar."""
        sample = message
        if not isinstance(message, self._msg_class):
            sample = self._converter.to_message(message, self.typename)
        self._write(sample)

    def wait_matched(self, timeout_s: float, count: int = 1) -> bool:
        """Wait up to ``timeout_s`` s for ``count`` matched subscribers; whether they came."""
        return wait_until(lambda: self.matched() >= count, timeout_s)

    @abstractmethod
    def matched(self) -> int:
        """How many subscribers currently match this publisher."""

    @abstractmethod
    def _write(self, sample: object) -> None:
        """Send one message object."""


__all__ = ["ConvertingPublisher", "wait_until"]

"""The two ends of a DDS topic: a publisher that converts and writes, a subscription that takes,
converts and calls back. ``DdsTransport`` makes them; its dispatch thread drives subscriptions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from cyclonedds.core import InstanceState, ReadCondition, SampleState, ViewState
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader

from topspark_ros.errors import TopsparkError, TransportError
from topspark_ros.interfaces.convert import Converter
from topspark_ros.ros.publisher import ConvertingPublisher, wait_until

T = TypeVar("T")
TAKE_BATCH = 64  # samples taken per reader per wake-up


class DdsPublisher(ConvertingPublisher):
    """Writes one topic; ``publish`` takes a message object or a plain value to convert."""

    def __init__(
        self, writer: DataWriter[Any], typename: str, msg_class: type, converter: Converter
    ) -> None:
        """A publisher over an existing cyclonedds writer (made by ``DdsTransport.publisher``)."""
        super().__init__(typename, msg_class, converter)
        self._writer = writer
        self.topic: str = writer.topic.name

    def _write(self, sample: object) -> None:
        """Write one DDS sample."""
        try:
            self._writer.write(sample)
        except Exception as err:  # cyclonedds raises bare Exception for unencodable values
            raise TransportError(f"cannot publish on {self.topic}: {one_line(err)}") from err

    def matched(self) -> int:
        """How many readers currently match this writer."""
        return len(self._writer.get_matched_subscriptions())

    def close(self) -> None:
        """Delete the writer (its readers see it leave)."""
        delete_entity(self._writer)


class DdsSubscription(Generic[T]):
    """Reads one topic and hands each valid sample, converted when asked, to a callback."""

    def __init__(
        self,
        reader: DataReader[Any],
        typename: str,
        callback: Callable[[T], object],
        convert: Callable[[object], T],
        detach: Callable[[DdsSubscription[Any]], bool],
    ) -> None:
        """A subscription over an existing reader (made by ``DdsTransport.subscribe``)."""
        self._reader = reader
        self._detach = detach
        self.typename = typename
        self.topic: str = reader.topic.name
        self._callback = callback
        self._convert = convert
        self.condition = ReadCondition(reader, SampleState.Any | ViewState.Any | InstanceState.Any)
        self.closed = False

    def matched(self) -> int:
        """How many writers currently match this reader."""
        return len(self._reader.get_matched_publications())

    def wait_matched(self, timeout_s: float, count: int = 1) -> bool:
        """Wait up to ``timeout_s`` seconds for ``count`` matched writers; whether they came."""
        return wait_until(lambda: self.matched() >= count, timeout_s)

    def close(self) -> None:
        """Stop: no more callbacks, the reader is deleted; idempotent."""
        if self._detach(self):
            delete_entity(self._reader)

    def dispatch(self) -> None:
        """Take what has arrived and call the callback on each sample, in order."""
        log = logging.getLogger(__name__)
        try:
            samples = self._reader.take(N=TAKE_BATCH)
        except Exception as err:  # a sample cyclonedds cannot decode: drop the batch, go on
            log.warning("dropped samples on %s: %s", self.topic, one_line(err))
            return
        for sample in samples:
            if not sample.sample_info.valid_data:
                continue  # a writer left or disposed: no data
            try:
                value = self._convert(sample)
            except TopsparkError as err:
                log.warning("dropped a sample on %s: %s", self.topic, err)
                continue
            try:
                self._callback(value)
            except Exception:  # a bug in the callback: report it with its traceback, keep going
                log.exception("callback for %s failed", self.topic)


def delete_entity(entity: Any) -> None:
    """Delete a cyclonedds entity now (its children too); the binding has no public call."""
    entity.__del__()


def one_line(err: BaseException) -> str:
    """An exception's message on one line."""
    return " ".join(str(err).split()) or type(err).__name__


__all__ = ["DdsPublisher", "DdsSubscription", "delete_entity", "one_line"]

"""Write rosbag2 bags (sqlite3 or MCAP) of plain dataclasses, atomically.

The bag is written under its own name inside a hidden sibling directory and renamed to its path
only when closed, so a reader never sees a half-written bag, an existing bag at that path
survives a failed write, and the storage files inside carry the bag's name, not a temporary one.
Every connection stores its message definition (custom ``msg/`` types included), so ``ros2 bag
info``, ``ros2 bag play`` and other tools can read the bag without this package.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path
from types import TracebackType
from typing import Literal

from rosbags.interfaces import Connection
from rosbags.rosbag2 import CompressionFormat, CompressionMode, StoragePlugin, Writer, WriterError

from topspark_ros.bags.codec import BagCodec
from topspark_ros.errors import BagError

STORAGES: dict[str, StoragePlugin] = {"sqlite3": StoragePlugin.SQLITE3, "mcap": StoragePlugin.MCAP}
# zstd compression as ros2 bag applies it to each storage.
COMPRESSION = {"sqlite3": CompressionMode.MESSAGE, "mcap": CompressionMode.STORAGE}
VERSION: Literal[9] = 9  # rosbag2 metadata version written by Jazzy's ros2 bag


def _hidden_sibling(path: Path, tag: str) -> Path:
    """A not-yet-existing hidden path beside ``path``."""
    return path.with_name(f".{path.name}.{tag}-{secrets.token_hex(4)}")


def _is_replaceable(path: Path) -> bool:
    """Whether ``path`` may be replaced: absent, an empty directory, or a bag directory."""
    if not path.exists():
        return True
    return path.is_dir() and (not any(path.iterdir()) or (path / "metadata.yaml").is_file())


class BagWriter:
    """A rosbag2 bag at ``path`` in ``storage`` ('sqlite3' or 'mcap'), written on ``close``.

    Use as a context manager: leaving the block normally closes the bag (and renames it into
    place); leaving it by an exception discards what was written and keeps what was at ``path``.
    """

    def __init__(
        self,
        path: str | Path,
        storage: str = "sqlite3",
        codec: BagCodec | None = None,
        compress: bool = False,
    ):
        """Prepare a bag at ``path``; BagError for an unknown storage or a path that is no bag.

        ``compress``: zstd, as ``ros2 bag record`` does it per storage: each message for sqlite3
        (``--compression-mode message``), MCAP's own chunks for mcap (the ``zstd_fast`` preset).
        """
        if storage not in STORAGES:
            raise BagError(f"unknown bag storage {storage!r}; use one of {', '.join(STORAGES)}")
        self.compress = compress
        self.path = Path(path)
        if not _is_replaceable(self.path):
            raise BagError(f"{self.path} exists and is not a rosbag2 bag; not overwriting it")
        self.storage = storage
        self.codec = BagCodec() if codec is None else codec
        self._stage = _hidden_sibling(self.path, "partial")
        self._tmp = self._stage / self.path.name
        self._writer: Writer | None = None
        self._connections: dict[str, tuple[str, Connection]] = {}
        self.count = 0

    def open(self) -> BagWriter:
        """Start writing into the hidden directory."""
        if self._writer is not None:
            raise BagError(f"bag {self.path} is already open for writing")
        try:
            self._stage.mkdir(parents=True)
            writer = Writer(self._tmp, version=VERSION, storage_plugin=STORAGES[self.storage])
            if self.compress:
                writer.set_compression(COMPRESSION[self.storage], CompressionFormat.ZSTD)
            writer.open()
        except (WriterError, OSError) as err:
            shutil.rmtree(self._stage, ignore_errors=True)
            raise BagError(f"cannot write bag {self.path}: {err}") from err
        self._writer = writer
        return self

    def add_topic(self, topic: str, typename: str) -> None:
        """Declare ``topic`` of ``typename`` (done by ``write`` for a topic's first message)."""
        writer = self._require()
        known = self._connections.get(topic)
        if known is not None:
            if known[0] != typename:
                raise BagError(f"topic {topic} is {known[0]}, cannot also write {typename}")
            return
        try:
            conn = writer.add_connection(topic, typename, typestore=self.codec.typestore)
        except (WriterError, KeyError) as err:
            raise BagError(f"cannot add topic {topic} ({typename}): {err}") from err
        self._connections[topic] = (typename, conn)

    def write(self, topic: str, typename: str, value: object, time_ns: int) -> None:
        """Write ``value`` (a plain dataclass, or a String's text) at bag time ``time_ns``."""
        self.write_cdr(topic, typename, self.codec.serialize(value, typename), time_ns)

    def write_cdr(self, topic: str, typename: str, data: bytes, time_ns: int) -> None:
        """Write an already serialised message."""
        self.add_topic(topic, typename)
        writer = self._require()
        writer.write(self._connections[topic][1], int(time_ns), data)
        self.count += 1

    def close(self) -> Path:
        """Finish the bag and move it to ``path`` (replacing a bag there); return ``path``."""
        writer = self._require()
        self._writer = None
        try:
            writer.close()
        except (WriterError, OSError) as err:
            shutil.rmtree(self._stage, ignore_errors=True)
            raise BagError(f"cannot finish bag {self.path}: {err}") from err
        except BaseException:  # e.g. Ctrl-C while closing: leave nothing half-written behind
            shutil.rmtree(self._stage, ignore_errors=True)
            raise
        old = _hidden_sibling(self.path, "old")
        if self.path.exists():
            os.replace(self.path, old)
        os.replace(self._tmp, self.path)
        shutil.rmtree(self._stage, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        return self.path

    def abort(self) -> None:
        """Discard what was written; ``path`` keeps what it held."""
        writer, self._writer = self._writer, None
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.abort()
        shutil.rmtree(self._stage, ignore_errors=True)

    def _require(self) -> Writer:
        if self._writer is None:
            raise BagError(f"bag {self.path} is not open for writing")
        return self._writer

    def __enter__(self) -> BagWriter:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


__all__ = ["STORAGES", "VERSION", "BagWriter"]

"""Write rosbag2 bags (sqlite3 or MCAP) of plain dataclasses, atomically.

The bag is written under its own name inside a hidden sibling directory and renamed to its path
only when closed, so a reader never sees a half-written bag, an existing bag at that path
survives a failed write, and the storage files inside carry the bag's name, not a temporary one.
The hidden directory is a marked staging directory (``io_utils.make_staging_dir``): one that a
killed run left behind is removed by the next write to the same path.
Only a bag this writer made (``custom_data`` marker in its metadata) holding nothing but its own
files is ever replaced; anything else at the path is refused with a BagError, untouched.
Every connection stores its message definition (custom ``msg/`` types included), so ``ros2 bag
info``, ``ros2 bag play`` and other tools can read the bag without this package.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import yaml
from rosbags.interfaces import Connection
from rosbags.rosbag2 import CompressionFormat, CompressionMode, StoragePlugin, Writer, WriterError

from topspark_ros.bags.codec import BagCodec
from topspark_ros.errors import BagError
from topspark_ros.io_utils import STAGING_MARKER, make_staging_dir, remove_stale_staging

STORAGES: dict[str, StoragePlugin] = {"sqlite3": StoragePlugin.SQLITE3, "mcap": StoragePlugin.MCAP}
# zstd compression as ros2 bag applies it to each storage.
COMPRESSION = {"sqlite3": CompressionMode.MESSAGE, "mcap": CompressionMode.STORAGE}
VERSION: Literal[9] = 9  # rosbag2 metadata version written by Jazzy's ros2 bag
METADATA = "metadata.yaml"
# custom_data entry of every bag this writer makes: only such a bag is ever replaced
MARKER_KEY = "topspark_ros.writer"
MARKER_VALUE = "BagWriter"
STAGE_TAG = "partial"  # the bag is written in the hidden sibling ``.NAME.partial-XXXXXXXX``


def _bag_info(path: Path) -> dict[str, Any] | None:
    """The ``rosbag2_bagfile_information`` of ``path/metadata.yaml``, or None if unreadable."""
    try:
        doc = yaml.safe_load((path / METADATA).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    info = doc.get("rosbag2_bagfile_information") if isinstance(doc, dict) else None
    return info if isinstance(info, dict) else None


def _own_files(info: dict[str, Any]) -> set[str] | None:
    """The names a marked bag's metadata claims (itself and its storage files), else None."""
    custom = info.get("custom_data")
    files = info.get("relative_file_paths")
    if not isinstance(custom, dict) or custom.get(MARKER_KEY) != MARKER_VALUE:
        return None
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return {METADATA, *files}


def replace_refusal(path: Path) -> str | None:
    """Why a new bag may not replace what is at ``path`` (one line), or None when it may.

    It may when ``path`` is absent, an empty directory, or a bag this writer made that holds no
    file besides its metadata and storage files: replacing never deletes anything else.
    """
    if path.is_symlink():
        return f"{path} is a symbolic link; not overwriting it"
    if not path.exists():
        return None
    if not path.is_dir():
        return f"{path} exists and is not a rosbag2 bag; not overwriting it"
    try:
        names = sorted(p.name for p in path.iterdir())
    except OSError as err:
        return f"{path}: cannot list the directory ({err.strerror or err}); not overwriting it"
    if not names:
        return None
    if METADATA not in names:
        return f"{path} exists and is not a rosbag2 bag; not overwriting it"
    info = _bag_info(path)
    own = None if info is None else _own_files(info)
    if own is None:
        return (
            f"{path} is not a bag this tool wrote; not overwriting it "
            "(remove it or choose another path)"
        )
    extra = [name for name in names if name not in own]
    if extra:
        shown = ", ".join(extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
        return f"{path} holds files that are not part of its bag ({shown}); not overwriting it"
    return None


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
        refusal = replace_refusal(self.path)
        if refusal is not None:
            raise BagError(refusal)
        self.storage = storage
        self.codec = BagCodec() if codec is None else codec
        self._stage: Path | None = None  # the staging directory, while open
        self._writer: Writer | None = None
        self._connections: dict[str, tuple[str, Connection]] = {}
        self.count = 0

    def open(self) -> BagWriter:
        """Start writing into the hidden directory."""
        if self._writer is not None:
            raise BagError(f"bag {self.path} is already open for writing")
        try:
            remove_stale_staging(self.path, STAGE_TAG)  # left by earlier runs that were killed
            self._stage = make_staging_dir(self.path, STAGE_TAG)
            plugin = STORAGES[self.storage]
            writer = Writer(self._stage / self.path.name, version=VERSION, storage_plugin=plugin)
            writer.set_custom_data(MARKER_KEY, MARKER_VALUE)
            if self.compress:
                writer.set_compression(COMPRESSION[self.storage], CompressionFormat.ZSTD)
            writer.open()
        except (WriterError, OSError) as err:
            self._discard()
            raise BagError(f"cannot write bag {self.path}: {err}") from err
        except BaseException:
            self._discard()
            raise
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
            self._discard()
            raise BagError(f"cannot finish bag {self.path}: {err}") from err
        except BaseException:  # e.g. Ctrl-C while closing: leave nothing half-written behind
            self._discard()
            raise
        refusal = replace_refusal(self.path)  # what is there may have changed while writing
        if refusal is not None:
            self._discard()
            raise BagError(refusal)
        self._swap_in()
        return self.path

    def _swap_in(self) -> None:
        """Rename the staged bag to ``path``; the old bag there goes into the stage, removed
        with it. Stopped half-way, the old bag is put back (the stage is kept if it cannot be)."""
        stage = self._stage
        assert stage is not None  # set by open, which _require checked
        old = stage / f"{self.path.name}.old"
        try:
            if self.path.exists():
                os.replace(self.path, old)
            os.replace(stage / self.path.name, self.path)
        except BaseException as err:
            if old.exists() and not self.path.exists():
                with contextlib.suppress(OSError):
                    os.replace(old, self.path)
            if old.exists():  # it holds the old bag: keep it, unmarked, for no run to remove
                with contextlib.suppress(OSError):
                    (stage / STAGING_MARKER).unlink()
                self._stage = None
            self._discard()
            if isinstance(err, OSError):
                raise BagError(f"cannot move bag into place {self.path}: {err}") from err
            raise
        self._discard()

    def abort(self) -> None:
        """Discard what was written; ``path`` keeps what it held."""
        writer, self._writer = self._writer, None
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.abort()
        self._discard()

    def _discard(self) -> None:
        """Remove the staging directory and what it holds."""
        stage, self._stage = self._stage, None
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)

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


__all__ = ["MARKER_KEY", "MARKER_VALUE", "STORAGES", "VERSION", "BagWriter", "replace_refusal"]

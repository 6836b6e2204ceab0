"""Read rosbag2 bags (sqlite3 or MCAP; a bag directory or its storage file) as plain dataclasses.

Topics are found by message type: the camera is the ``sensor_msgs/msg/Image`` topic, the battery
the ``sensor_msgs/msg/BatteryState`` one, labels ``topspark_ros/msg/Label`` and environment
switches a ``std_msgs/msg/String`` topic named ``environment``; a flag picks one when a bag has
several. Anything wrong with the bag as a whole is a one-line BagError; a single message that
cannot be decoded is skipped and counted. rosbags' parsers (and apsw under its sqlite3 storage)
raise many kinds of exception on damaged bytes, plain TypeErrors among them, so at the reading
boundaries any exception means a damaged bag or message.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from rosbags.highlevel import AnyReader
from rosbags.interfaces import Connection

from topspark_ros.bags.codec import BagCodec
from topspark_ros.errors import BagError
from topspark_ros.interfaces.typestore import build_typestore
from topspark_ros.messages import STRING_TYPE, BatteryReading, ImageFrame, Label, typename_of

STORAGE_FILES = {".db3": "sqlite3", ".mcap": "mcap"}


@dataclass(frozen=True)
class Role:
    """An input the replay reads: its message type, the plain type it becomes, how to spot it."""

    name: str
    typename: str
    plain: type | None  # None: the message's single field (std_msgs/String's text)
    required: bool = False
    topic_suffix: str = ""  # for generic types: the topic's last name segment must be this


ROLES: tuple[Role, ...] = (
    Role("image", typename_of(ImageFrame), ImageFrame, required=True),
    Role("battery", typename_of(BatteryReading), BatteryReading),
    Role("label", typename_of(Label), Label),
    Role("environment", STRING_TYPE, None, topic_suffix="environment"),
)


@dataclass(frozen=True)
class BagMessage:
    """One message of a role's topic at bag time ``time_ns``: ``data`` is the plain value."""

    role: str
    time_ns: int
    data: Any


def _resolve(path: Path) -> Path:
    """The path rosbags opens; BagError for what is plainly no bag."""
    if not path.exists():
        raise BagError(f"bag {path} does not exist")
    if path.is_dir():
        if not (path / "metadata.yaml").is_file():
            files = sorted(p.name for p in path.iterdir() if p.suffix in STORAGE_FILES)
            hint = (
                f"; pass its storage file ({path / files[0]}) instead, or run "
                f"'ros2 bag reindex {path}'"
                if files
                else ""
            )
            raise BagError(f"bag directory {path} has no metadata.yaml{hint}")
        return path
    if path.suffix not in STORAGE_FILES:
        raise BagError(
            f"{path} is not a rosbag2 bag: give a bag directory or a .db3 / .mcap storage file"
        )
    return path


class BagReader:
    """An open bag: its topics, time span and decoded messages. Use as a context manager."""

    def __init__(self, path: str | Path) -> None:
        """Open ``path``; BagError (one line) if it is missing, malformed or truncated."""
        self.path = Path(path)
        target = _resolve(self.path)
        try:
            self._reader = AnyReader([target], default_typestore=build_typestore())
            self._reader.open()
        except Exception as err:  # any failure of the parsers means a damaged bag
            raise BagError(f"cannot read bag {self.path}: {_one_line(err)}") from err
        self.codec = BagCodec(self._reader.typestore)
        self.storage = self._storage(target)

    def _storage(self, target: Path) -> str:
        """'sqlite3' or 'mcap': from the storage file's suffix."""
        paths = [target] if target.is_file() else sorted(target.iterdir())
        for p in paths:
            if p.suffix in STORAGE_FILES:
                return STORAGE_FILES[p.suffix]
        return "sqlite3"

    @property
    def start_ns(self) -> int:
        """Bag time of the first message."""
        return int(self._reader.start_time) if self.message_count else 0

    @property
    def end_ns(self) -> int:
        """Bag time just after the last message."""
        return int(self._reader.end_time) if self.message_count else 0

    @property
    def message_count(self) -> int:
        """Messages in the bag, all topics."""
        return int(self._reader.message_count)

    @property
    def topics(self) -> dict[str, str]:
        """Topic name -> message type, for every topic in the bag."""
        return {c.topic: c.msgtype for c in self._reader.connections}

    def count(self, topic: str) -> int:
        """Messages on ``topic``."""
        return sum(c.msgcount for c in self._reader.connections if c.topic == topic)

    def unknown_types(self) -> dict[str, str]:
        """Topics whose message type the bag does not define (and we do not know): name -> type."""
        known = self._reader.typestore.fielddefs
        return {c.topic: c.msgtype for c in self._reader.connections if c.msgtype not in known}

    def find_topics(self, chosen: Mapping[str, str | None] | None = None) -> dict[str, str]:
        """Role -> topic for every role found; ``chosen`` names a role's topic explicitly.

        BagError when the bag has no image topic, a role has several candidates and none was
        chosen, or a chosen topic is missing, of another type or of an unknown type.
        """
        chosen = chosen or {}
        unknown = self.unknown_types()
        found: dict[str, str] = {}
        for role in ROLES:
            name = chosen.get(role.name)
            if name:
                found[role.name] = self._check_chosen(role, name, unknown)
                continue
            candidates = [
                topic
                for topic, typename in self.topics.items()
                if typename == role.typename
                and topic not in unknown
                and (not role.topic_suffix or topic.rsplit("/", 1)[-1] == role.topic_suffix)
            ]
            if len(candidates) > 1:
                raise BagError(
                    f"bag {self.path} has {len(candidates)} {role.typename} topics "
                    f"({', '.join(sorted(candidates))}); choose one with --{role.name}-topic"
                )
            if candidates:
                found[role.name] = candidates[0]
            elif role.required:
                listing = ", ".join(f"{t} [{m}]" for t, m in sorted(self.topics.items()))
                raise BagError(
                    f"bag {self.path} has no {role.typename} topic for the {role.name} "
                    f"(topics: {listing or 'none'})"
                )
        return found

    def _check_chosen(self, role: Role, name: str, unknown: Mapping[str, str]) -> str:
        """``name`` if it is a usable topic of ``role``'s type."""
        topics = self.topics
        if name not in topics:
            raise BagError(f"--{role.name}-topic {name}: no such topic in bag {self.path}")
        if name in unknown:
            raise BagError(
                f"--{role.name}-topic {name}: message type {topics[name]} is unknown "
                "(the bag holds no definition for it)"
            )
        if topics[name] != role.typename:
            raise BagError(
                f"--{role.name}-topic {name} is {topics[name]}, expected {role.typename}"
            )
        return name

    def messages(
        self, topics: Mapping[str, str], skipped: Callable[[str], object] | None = None
    ) -> Iterator[BagMessage]:
        """The messages of ``topics`` (role -> topic) in bag-time order, decoded to plain data.

        A message that cannot be decoded is skipped: ``skipped(reason)`` is called for it.
        BagError if the bag turns out to be truncated or corrupt while reading.
        """
        roles = {topic: role for role, topic in topics.items()}
        plain = {role.name: role.plain for role in ROLES}
        connections: list[Connection] = [c for c in self._reader.connections if c.topic in roles]
        count = 0
        stream = self._reader.messages(connections=connections)
        while True:
            try:
                connection, time_ns, raw = next(stream)
            except StopIteration:
                return
            except Exception as err:  # any failure of the parsers means a damaged bag
                raise BagError(
                    f"bag {self.path} is truncated or corrupt after {count} messages: "
                    f"{_one_line(err)}"
                ) from err
            count += 1
            role = roles[connection.topic]
            try:
                message = self._reader.deserialize(raw, connection.msgtype)
                into: type = plain[role] or str
                data: Any = self.codec.decode(message, connection.msgtype, into)
            except Exception:  # a damaged message: skip it
                if skipped is not None:
                    skipped(f"undecodable {role} message")
                continue
            yield BagMessage(role, int(time_ns), data)

    def close(self) -> None:
        """Close the bag's files."""
        with contextlib.suppress(Exception):
            self._reader.close()

    def __enter__(self) -> BagReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _one_line(err: BaseException) -> str:
    """An exception's message on one line (rosbags' messages may span several)."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text.rstrip(".")


__all__ = ["ROLES", "STORAGE_FILES", "BagMessage", "BagReader", "Role"]

"""Reading bags: topics found by type, and every kind of bad bag as one clear BagError."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from rosbags.typesys import get_types_from_msg

from topspark_ros.bags.codec import BagCodec
from topspark_ros.bags.reader import BagReader
from topspark_ros.bags.writer import BagWriter
from topspark_ros.errors import BagError
from topspark_ros.interfaces.typestore import build_typestore
from topspark_ros.messages import BatteryReading, ImageFrame, Label
from topspark_ros.sim.render import render_frame

IMAGE, BATTERY, LABEL = (
    "sensor_msgs/msg/Image",
    "sensor_msgs/msg/BatteryState",
    "topspark_ros/msg/Label",
)
STRING = "std_msgs/msg/String"
MS = 1_000_000
T0 = 1_700_000_000 * 1_000_000_000
STORAGES = ("sqlite3", "mcap")


def _frame(i: int, encoding: str = "mono8") -> ImageFrame:
    image = np.zeros((28, 28), np.uint8)
    image[8:20, 10 + i % 5 : 14 + i % 5] = 255
    return render_frame(image, T0 + i * 100 * MS, 32, 32, encoding, scale=1)


def _bag(path: Path, storage: str, images: int = 6, extra: bool = True) -> Path:
    with BagWriter(path, storage) as bag:
        for i in range(images):
            t = T0 + i * 100 * MS
            bag.write("/camera/image_raw", IMAGE, _frame(i), t)
            if extra:
                bag.write("/label", LABEL, Label(stamp_ns=t, label=i % 10, environment="a"), t)
                bag.write("/battery_state", BATTERY, BatteryReading(t, 0.9 - 0.01 * i), t)
        if extra:
            bag.write("/environment", STRING, "a", T0)
    return path


def _storage_file(bag: Path) -> Path:
    return next(p for p in bag.iterdir() if p.suffix in (".db3", ".mcap"))


@pytest.mark.parametrize("storage", STORAGES)
def test_topics_by_type_and_messages_in_time_order(tmp_path: Path, storage: str) -> None:
    path = _bag(tmp_path / "bag", storage)
    with BagReader(path) as bag:
        topics = bag.find_topics()
        assert bag.storage == storage
        assert topics == {
            "image": "/camera/image_raw",
            "battery": "/battery_state",
            "label": "/label",
            "environment": "/environment",
        }
        messages = list(bag.messages(topics))
    times = [m.time_ns for m in messages]
    assert times == sorted(times) and len(messages) == 6 * 3 + 1
    frames = [m.data for m in messages if m.role == "image"]
    assert all(isinstance(f, ImageFrame) for f in frames)
    assert bytes(frames[2].data) == bytes(_frame(2).data)
    labels = [m.data for m in messages if m.role == "label"]
    assert [lab.label for lab in labels] == [0, 1, 2, 3, 4, 5]
    assert [m.data for m in messages if m.role == "environment"] == ["a"]


def test_a_storage_file_can_be_read_without_its_directory(tmp_path: Path) -> None:
    path = _bag(tmp_path / "bag", "mcap")
    with BagReader(_storage_file(path)) as bag:
        assert bag.find_topics()["image"] == "/camera/image_raw"


@pytest.mark.parametrize("storage", STORAGES)
def test_no_image_topic(tmp_path: Path, storage: str) -> None:
    path = tmp_path / "bag"
    with BagWriter(path, storage) as bag:
        bag.write("/battery_state", BATTERY, BatteryReading(T0, 0.5), T0)
    with BagReader(path) as reader, pytest.raises(BagError) as err:
        reader.find_topics()
    text = str(err.value)
    assert "no sensor_msgs/msg/Image topic" in text and "/battery_state" in text
    assert "\n" not in text


def test_several_image_topics_need_a_choice(tmp_path: Path) -> None:
    path = tmp_path / "bag"
    with BagWriter(path) as bag:
        bag.write("/left", IMAGE, _frame(0), T0)
        bag.write("/right", IMAGE, _frame(1), T0)
    with BagReader(path) as reader:
        with pytest.raises(BagError, match="choose one with --image-topic"):
            reader.find_topics()
        assert reader.find_topics({"image": "/right"})["image"] == "/right"
        with pytest.raises(BagError, match="no such topic"):
            reader.find_topics({"image": "/middle"})
        with pytest.raises(
            BagError,
            match="/left is sensor_msgs/msg/Image, expected sensor_msgs/msg/BatteryState",
        ):
            reader.find_topics({"image": "/left", "battery": "/left"})


def test_unknown_message_type_is_skipped_or_refused(tmp_path: Path) -> None:
    """A bag without stored definitions (as Humble's sqlite3 bags) holding a type we lack."""
    store = build_typestore()
    store.register(get_types_from_msg("int32 size", "acme_msgs/msg/Widget"))
    path = tmp_path / "bag"
    with BagWriter(path, "sqlite3", BagCodec(store)) as bag:
        bag.write("/camera/image_raw", IMAGE, _frame(0), T0)
        bag.write("/widget", "acme_msgs/msg/Widget", {"size": 3}, T0)
    with sqlite3.connect(_storage_file(path)) as db:
        db.execute("DELETE FROM message_definitions")
    with BagReader(path) as reader:
        assert reader.unknown_types() == {"/widget": "acme_msgs/msg/Widget"}
        assert reader.find_topics() == {"image": "/camera/image_raw"}
        with pytest.raises(BagError, match="acme_msgs/msg/Widget is unknown"):
            reader.find_topics({"image": "/widget"})


@pytest.mark.parametrize("storage", STORAGES)
def test_truncated_storage_file(tmp_path: Path, storage: str) -> None:
    path = _bag(tmp_path / "bag", storage)
    data = _storage_file(path)
    with data.open("r+b") as fh:
        fh.truncate(data.stat().st_size // 2)
    with pytest.raises(BagError) as err:
        BagReader(path)
    assert str(err.value).startswith(f"cannot read bag {path}: ") and "\n" not in str(err.value)


def test_corruption_mid_bag_is_a_bag_error_after_the_good_messages(tmp_path: Path) -> None:
    path = tmp_path / "bag"
    with BagWriter(path, "sqlite3") as bag:
        for i in range(60):
            frame = render_frame(np.full((28, 28), i, np.uint8), T0 + i * MS, 128, 96, "bgr8", 2)
            bag.write("/camera/image_raw", IMAGE, frame, T0 + i * MS)
    data = _storage_file(path)
    with data.open("r+b") as fh:
        fh.seek(int(data.stat().st_size * 0.6))
        fh.write(b"\xff" * 65536)
    with BagReader(path) as reader:
        stream = reader.messages(reader.find_topics())
        seen = [next(stream) for _ in range(10)]
        with pytest.raises(BagError, match="truncated or corrupt after"):
            seen.extend(stream)
    assert 10 <= len(seen) < 60


def test_directory_without_metadata(tmp_path: Path) -> None:
    path = _bag(tmp_path / "bag", "sqlite3")
    (path / "metadata.yaml").unlink()
    with pytest.raises(BagError, match=r"has no metadata\.yaml; pass its storage file"):
        BagReader(path)
    with BagReader(_storage_file(path)) as reader:  # the hint works
        assert reader.find_topics()["image"] == "/camera/image_raw"
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BagError, match=r"^bag directory .*empty has no metadata.yaml$"):
        BagReader(empty)


def test_missing_path_and_non_bag_file(tmp_path: Path) -> None:
    with pytest.raises(BagError, match="does not exist"):
        BagReader(tmp_path / "nope")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(BagError, match="is not a rosbag2 bag"):
        BagReader(text)


@pytest.mark.parametrize("storage", STORAGES)
def test_an_undecodable_message_is_skipped_and_counted(tmp_path: Path, storage: str) -> None:
    path = tmp_path / "bag"
    with BagWriter(path, storage) as bag:
        bag.write("/camera/image_raw", IMAGE, _frame(0), T0)
        bag.write_cdr("/camera/image_raw", IMAGE, b"\x00\x01\x00\x00garbage", T0 + MS)
        bag.write("/camera/image_raw", IMAGE, _frame(2), T0 + 2 * MS)
    skipped: list[str] = []
    with BagReader(path) as reader:
        frames = list(reader.messages(reader.find_topics(), skipped.append))
    assert [m.time_ns for m in frames] == [T0, T0 + 2 * MS]
    assert skipped == ["undecodable image message"]


def test_copy_of_a_bag_reads_the_same(tmp_path: Path) -> None:
    path = _bag(tmp_path / "bag", "sqlite3")
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    with BagReader(path) as a, BagReader(copy) as b:
        assert a.topics == b.topics and a.start_ns == b.start_ns == T0


@pytest.mark.parametrize("storage", STORAGES)
def test_compressed_bags_read_the_same(tmp_path: Path, storage: str) -> None:
    plain, packed = tmp_path / "plain", tmp_path / "packed"
    with BagWriter(plain, storage) as a, BagWriter(packed, storage, compress=True) as b:
        for i in range(20):
            frame = render_frame(np.full((28, 28), 9 * i, np.uint8), T0 + i * MS, 320, 240, "bgr8")
            a.write("/camera", IMAGE, frame, T0 + i * MS)
            b.write("/camera", IMAGE, frame, T0 + i * MS)
    size = {p: sum(f.stat().st_size for f in p.iterdir()) for p in (plain, packed)}
    assert size[packed] < size[plain] / 10
    with BagReader(plain) as a, BagReader(packed) as b:
        left = [(m.time_ns, bytes(m.data.data)) for m in a.messages(a.find_topics())]
        right = [(m.time_ns, bytes(m.data.data)) for m in b.messages(b.find_topics())]
    assert left == right and len(left) == 20

"""BagWriter and scenario bags in both storages, read back with rosbags' AnyReader using only the
definitions stored in the bag (no default typestore)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from rosbags.highlevel import AnyReader

from topspark_ros.bags.codec import BagCodec
from topspark_ros.bags.writer import (
    MARKER_KEY,
    MARKER_VALUE,
    STORAGES,
    BagWriter,
    replace_refusal,
)
from topspark_ros.errors import BagError, DataError
from topspark_ros.messages import BatteryReading, Classification, ImageFrame, Label
from topspark_ros.sim.bag import directory_size, write_scenario
from topspark_ros.sim.scenario import (
    ScenarioConfig,
    load_environments,
    message_counts,
    scenario_messages,
)

STORAGE_NAMES = sorted(STORAGES)
LABEL = "topspark_ros/msg/Label"
TINY = ScenarioConfig(
    duration_s=1.0, rate_hz=6.0, width=32, height=30, scale=1, battery_rate_hz=3.0
)


def read_back(path: Path) -> list[tuple[str, str, int, Any]]:
    """(topic, type, bag time, message) of each message, decoded by the bag's own definitions."""
    with AnyReader([path]) as reader:
        return [
            (conn.topic, conn.msgtype, time, reader.deserialize(raw, conn.msgtype))
            for conn, time, raw in reader.messages()
        ]


def metadata(path: Path) -> dict[str, Any]:
    """The bag's metadata.yaml, its ``rosbag2_bagfile_information`` section."""
    info: dict[str, Any] = yaml.safe_load((path / "metadata.yaml").read_text())
    return info["rosbag2_bagfile_information"]


def topic_table(path: Path) -> dict[str, tuple[str, int]]:
    """topic -> (type, message count) from metadata.yaml."""
    return {
        entry["topic_metadata"]["name"]: (entry["topic_metadata"]["type"], entry["message_count"])
        for entry in metadata(path)["topics_with_message_count"]
    }


def siblings(path: Path) -> list[str]:
    """Names in ``path``'s directory other than ``path`` (staging leftovers)."""
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


def fail_inside(writer: BagWriter) -> None:
    """Write one message inside ``writer``'s block, then raise RuntimeError('boom')."""
    with writer:
        writer.write("/label", LABEL, Label(1, 2), 1)
        raise RuntimeError("boom")


def write_sample(path: Path, storage: str) -> Path:
    """A bag with one message of each kind the scenario writes, plus a Classification."""
    frame = ImageFrame(5, "camera", 2, 3, "mono8", 0, 3, np.arange(6, dtype=np.uint8))
    with BagWriter(path, storage) as writer:
        writer.write("/environment", "std_msgs/msg/String", "mnist", 1)
        writer.write("/camera", "sensor_msgs/msg/Image", frame, 5)
        writer.write("/label", LABEL, Label(5, 7, "mnist", "camera"), 5)
        battery = BatteryReading(9, 0.5, voltage=11.5, current=-2.0, capacity=2.0)
        writer.write("/battery", "sensor_msgs/msg/BatteryState", battery, 9)
        result = Classification(9, "camera", 3, 0.5, (0.1, 0.9), 20, 20, 4, 80, 1.0, 2.0, 3e-6, 1)
        writer.write("/result", "topspark_ros/msg/Classification", result, 9)
        assert writer.count == 5
    return path


@pytest.mark.parametrize("storage", STORAGE_NAMES)
def test_bag_reads_back_with_its_own_definitions(tmp_path: Path, storage: str) -> None:
    path = write_sample(tmp_path / "bag", storage)
    messages = read_back(path)
    assert [(topic, time) for topic, _, time, _ in messages] == [
        ("/environment", 1),
        ("/camera", 5),
        ("/label", 5),
        ("/battery", 9),
        ("/result", 9),
    ]
    by_topic = {topic: msg for topic, _, _, msg in messages}
    assert by_topic["/environment"].data == "mnist"
    image = by_topic["/camera"]
    assert (image.height, image.width, image.encoding, image.step) == (2, 3, "mono8", 3)
    assert image.data.tolist() == list(range(6))
    label = by_topic["/label"]
    assert (label.label, label.environment, label.header.frame_id) == (7, "mnist", "camera")
    assert label.header.stamp.nanosec == 5
    battery = by_topic["/battery"]
    assert battery.percentage == 0.5 and battery.current == -2.0
    assert battery.cell_voltage.size == 0
    assert by_topic["/result"].scores.tolist() == pytest.approx([0.1, 0.9])


@pytest.mark.parametrize("storage", STORAGE_NAMES)
def test_metadata_lists_topics_types_and_counts(tmp_path: Path, storage: str) -> None:
    path = write_sample(tmp_path / "bag", storage)
    info = metadata(path)
    assert info["storage_identifier"] == storage and info["message_count"] == 5
    assert topic_table(path)["/label"] == (LABEL, 1)
    assert topic_table(path)["/battery"] == ("sensor_msgs/msg/BatteryState", 1)
    # the storage file carries the bag's name, not the staging directory's
    assert [p.name for p in path.iterdir() if p.name != "metadata.yaml"] == [
        "bag.db3" if storage == "sqlite3" else "bag.mcap"
    ]
    assert info["relative_file_paths"] == [f"bag.{'db3' if storage == 'sqlite3' else 'mcap'}"]
    assert siblings(path) == []


@pytest.mark.parametrize("storage", STORAGE_NAMES)
def test_exception_inside_the_block_leaves_nothing(tmp_path: Path, storage: str) -> None:
    path = tmp_path / "bag"
    with pytest.raises(RuntimeError, match="boom"):
        fail_inside(BagWriter(path, storage))
    assert not path.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("storage", STORAGE_NAMES)
def test_failed_write_keeps_the_existing_bag(tmp_path: Path, storage: str) -> None:
    path = write_sample(tmp_path / "bag", storage)
    before = read_back(path)
    with pytest.raises(RuntimeError, match="boom"):
        fail_inside(BagWriter(path, storage))
    assert [m[:3] for m in read_back(path)] == [m[:3] for m in before]
    assert siblings(path) == []


def test_finished_write_replaces_an_existing_bag(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "bag", "sqlite3")
    with BagWriter(path, "mcap") as writer:
        writer.write("/label", LABEL, Label(3, 4), 3)
    assert metadata(path)["storage_identifier"] == "mcap"
    assert [topic for topic, *_ in read_back(path)] == ["/label"]
    assert siblings(path) == []


def test_refuses_to_overwrite_what_is_no_bag(tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("keep me")
    with pytest.raises(BagError, match=r"notes\.txt exists and is not a rosbag2 bag"):
        BagWriter(file)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "data.csv").write_text("1,2")
    with pytest.raises(BagError, match="folder exists and is not a rosbag2 bag"):
        BagWriter(folder)
    assert file.read_text() == "keep me" and (folder / "data.csv").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    with BagWriter(empty) as writer:
        writer.write("/label", LABEL, Label(3, 4), 3)
    assert (empty / "metadata.yaml").is_file()


def test_writer_errors(tmp_path: Path) -> None:
    with pytest.raises(BagError, match="unknown bag storage 'rosbag1'; use one of sqlite3, mcap"):
        BagWriter(tmp_path / "bag", "rosbag1")
    writer = BagWriter(tmp_path / "bag")
    with pytest.raises(BagError, match="is not open for writing"):
        writer.write("/label", LABEL, Label(1, 2), 1)
    writer.open()
    with pytest.raises(BagError, match=r"bag .*bag is already open for writing"):
        writer.open()
    writer.write("/label", LABEL, Label(1, 2), 1)
    with pytest.raises(BagError, match="topic /label is topspark_ros/msg/Label, cannot also"):
        writer.write("/label", "std_msgs/msg/String", "x", 2)
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_codec_serialises_numeric_sequences_as_arrays() -> None:
    codec = BagCodec()
    reading = BatteryReading(1, 0.5)
    message = codec.converter.to_message(reading, "sensor_msgs/msg/BatteryState")
    assert message.cell_voltage.dtype == np.float32 and message.cell_voltage.size == 0
    data = codec.serialize(reading, "sensor_msgs/msg/BatteryState")
    back = codec.typestore.deserialize_cdr(data, "sensor_msgs/msg/BatteryState")
    decoded = codec.decode(back, "sensor_msgs/msg/BatteryState", BatteryReading)
    assert (decoded.stamp_ns, decoded.percentage, decoded.present) == (1, 0.5, True)
    assert np.isnan(decoded.voltage) and np.isnan(decoded.current)


@pytest.mark.parametrize("storage", STORAGE_NAMES)
def test_scenario_bag_holds_the_scenario(tmp_path: Path, storage: str) -> None:
    calls: list[int] = []
    bag = write_scenario(
        tmp_path / "scenario", TINY, storage, embedded=True, progress=calls.append
    )
    assert bag.path == tmp_path / "scenario" and bag.size_bytes == directory_size(bag.path)
    counts = message_counts(TINY)
    assert bag.counts == counts and bag.messages == 2 + 6 + 6 + 3
    assert sum(calls) == counts[TINY.camera_topic]
    types = {
        TINY.environment_topic: "std_msgs/msg/String",
        TINY.camera_topic: "sensor_msgs/msg/Image",
        TINY.label_topic: LABEL,
        TINY.battery_topic: "sensor_msgs/msg/BatteryState",
    }
    assert topic_table(bag.path) == {topic: (types[topic], counts[topic]) for topic in types}

    expected = list(scenario_messages(TINY, load_environments(TINY.environment_names, None, True)))
    messages = read_back(bag.path)
    assert [(topic, time) for topic, _, time, _ in messages] == [(m[1], m[0]) for m in expected]
    for (_, typename, time, msg), (_, _, _, value) in zip(messages, expected, strict=True):
        if typename == "std_msgs/msg/String":
            assert msg.data == value
            continue
        stamp = msg.header.stamp
        assert stamp.sec * 1_000_000_000 + stamp.nanosec == time
        if typename == LABEL:
            assert (msg.label, msg.environment) == (value.label, value.environment)
        elif typename == "sensor_msgs/msg/Image":
            assert (msg.width, msg.height, msg.encoding) == (32, 30, "bgr8")
            assert msg.data.tobytes() == np.asarray(value.data).tobytes()
        else:
            assert msg.current < 0.0 and msg.percentage == pytest.approx(value.percentage)


def test_scenario_bag_needs_its_datasets(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"data directory .*missing does not exist"):
        write_scenario(tmp_path / "bag", TINY, data_dir=tmp_path / "missing")
    assert list(tmp_path.iterdir()) == []


# Issue 16, defect 8: only a bag this writer made, holding nothing else, is ever replaced.


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root``'s parent (so staging leftovers show too) by relative path."""
    return {
        str(p.relative_to(root.parent)): p.read_bytes()
        for p in sorted(root.parent.rglob("*"))
        if p.is_file()
    }


def test_bags_carry_the_marker(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "bag", "mcap")
    assert metadata(path)["custom_data"] == {MARKER_KEY: MARKER_VALUE}
    assert replace_refusal(path) is None


def test_refuses_a_bag_directory_with_other_files(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "bag", "sqlite3")
    (path / "notes.txt").write_text("keep me")
    (path / "calib").mkdir()
    (path / "calib" / "camera.yaml").write_text("fx: 1")
    before = snapshot(path)
    with pytest.raises(
        BagError, match=r"bag holds files that are not part of its bag \(calib, notes\.txt\); not"
    ):
        BagWriter(path, "sqlite3")
    assert snapshot(path) == before


def test_refuses_a_bag_it_did_not_write(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "bag", "sqlite3")
    doc = yaml.safe_load((path / "metadata.yaml").read_text())
    doc["rosbag2_bagfile_information"]["custom_data"] = None  # as ros2 bag record writes it
    (path / "metadata.yaml").write_text(yaml.safe_dump(doc))
    before = snapshot(path)
    with pytest.raises(BagError, match=r"bag is not a bag this tool wrote; not overwriting it \("):
        BagWriter(path, "mcap")
    assert snapshot(path) == before


@pytest.mark.parametrize(
    "data", [b"not: [valid", b"- a list\n", b"rosbag2_bagfile_information: 3\n", b"\xff\xfe"]
)
def test_refuses_a_directory_with_a_foreign_metadata_file(tmp_path: Path, data: bytes) -> None:
    """The reproduction: a directory of someone's files that happens to hold a metadata.yaml."""
    path = tmp_path / "project"
    path.mkdir()
    (path / "metadata.yaml").write_bytes(data)
    (path / "data.csv").write_text("1,2\n")
    before = snapshot(path)
    with pytest.raises(BagError, match=r"project is not a bag this tool wrote; not overwriting"):
        BagWriter(path)
    assert snapshot(path) == before


def test_refuses_a_symbolic_link(tmp_path: Path) -> None:
    target = write_sample(tmp_path / "bag", "sqlite3")
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(BagError, match=r"link is a symbolic link; not overwriting it"):
        BagWriter(link)
    assert link.is_symlink() and replace_refusal(target) is None


def test_files_added_while_writing_are_kept(tmp_path: Path) -> None:
    """Checked again on close: what appeared in the old bag meanwhile is not deleted."""
    path = write_sample(tmp_path / "bag", "sqlite3")
    writer = BagWriter(path, "mcap").open()
    writer.write("/label", LABEL, Label(3, 4), 3)
    (path / "late.txt").write_text("written by someone else")
    with pytest.raises(BagError, match=r"not part of its bag \(late\.txt\)"):
        writer.close()
    assert (path / "late.txt").read_text() == "written by someone else"
    assert metadata(path)["storage_identifier"] == "sqlite3"
    assert siblings(path) == []

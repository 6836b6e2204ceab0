"""``replay``: a scenario bag through the nodes into a results bag and report, both storages;
partial runs and bad bags."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from recording_logger import RecordingLogger
from rosbags.highlevel import AnyReader

from topspark_ros.bags.reader import BagReader
from topspark_ros.bags.writer import BagWriter
from topspark_ros.errors import BagError
from topspark_ros.interfaces.convert import Converter
from topspark_ros.interfaces.typestore import build_typestore
from topspark_ros.messages import Classification, ImageFrame, TimestepCommand
from topspark_ros.nodes.config import OnlineLearnerConfig, PerceptionConfig
from topspark_ros.replay.records import INTERRUPTED
from topspark_ros.replay.run import RESULTS, ReplayOptions, replay
from topspark_ros.sim.bag import write_scenario
from topspark_ros.sim.render import render_frame
from topspark_ros.sim.scenario import ScenarioConfig

SMALL = ScenarioConfig(
    duration_s=4.0,
    rate_hz=10.0,
    width=48,
    height=40,
    scale=1,
    battery_rate_hz=2.0,
)
FRAMES = 40


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The small two-environment scenario in both storages."""
    root = tmp_path_factory.mktemp("scenario")
    return {
        storage: write_scenario(root / storage, SMALL, storage, embedded=True).path
        for storage in ("sqlite3", "mcap")
    }


def _options(bag: Path, out: Path, model: Path, **changes: object) -> ReplayOptions:
    options = ReplayOptions(bag=bag, out=out, perception=PerceptionConfig(model_path=str(model)))
    return dataclasses.replace(options, **changes)  # type: ignore[arg-type]


def _results(path: Path) -> list[tuple[str, int, object]]:
    """(topic, bag time, message) of a results bag, decoded from its own stored definitions."""
    with AnyReader([path]) as reader:
        return [
            (conn.topic, t, reader.deserialize(raw, conn.msgtype))
            for conn, t, raw in reader.messages()
        ]


def _float32(result: Classification) -> Classification:
    """``result`` as it reads back: the message's float fields are float32."""
    f32 = {
        "confidence": float(np.float32(result.confidence)),
        "scores": tuple(float(np.float32(s)) for s in result.scores),
        "latency_ms": float(np.float32(result.latency_ms)),
        "pipeline_ms": float(np.float32(result.pipeline_ms)),
        "energy_j": float(np.float32(result.energy_j)),
    }
    return dataclasses.replace(result, **f32)  # type: ignore[arg-type]


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_replay_round_trips_through_the_results_bag(
    scenario: dict[str, Path], trained_model: Path, tmp_path: Path, storage: str
) -> None:
    out = tmp_path / "out"
    log = replay(_options(scenario[storage], out, trained_model), RecordingLogger())
    assert log.complete and log.stopped == ""
    assert len(log.classifications) == FRAMES
    assert log.storage == storage
    assert [name for _, name in log.environments] == ["mnist", "fashion-mnist"]
    assert len(log.labels) == FRAMES and log.battery and log.commands
    # Every frame answered at the T in force when it arrived.
    for t, result in log.classifications:
        in_force = [c for tc, c in log.commands if tc <= t][-1]
        assert result.timesteps == in_force.timesteps
    with BagReader(out / RESULTS) as results:
        assert results.storage == storage
    messages = _results(out / RESULTS)
    store = build_typestore()
    convert = Converter(store, lambda name: store.types[name])
    back = [
        (t, convert.from_message(m, "topspark_ros/msg/Classification", Classification))
        for topic, t, m in messages
        if topic == "/classification"
    ]
    assert back == [(t, _float32(c)) for t, c in log.classifications]
    commands = [m for topic, _, m in messages if topic == "/timestep_command"]
    assert len(commands) == len(log.commands)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] is True
    assert set(summary["environments"]) == {"mnist", "fashion-mnist"}
    rows = (out / "classification.csv").read_text().splitlines()
    assert len(rows) == FRAMES + 1
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_results_storage_can_differ_from_the_input(
    scenario: dict[str, Path], trained_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    replay(_options(scenario["sqlite3"], out, trained_model, storage="mcap"), RecordingLogger())
    assert [p.suffix for p in (out / RESULTS).iterdir() if p.suffix in (".db3", ".mcap")] == [
        ".mcap"
    ]


def test_replay_is_deterministic(
    scenario: dict[str, Path], trained_model: Path, tmp_path: Path
) -> None:
    runs = [
        replay(_options(scenario["mcap"], tmp_path / str(i), trained_model), RecordingLogger())
        for i in range(2)
    ]
    first, second = ([(t, c.label, c.spike_count) for t, c in r.classifications] for r in runs)
    assert first == second


def test_ctrl_c_writes_what_it_has(
    scenario: dict[str, Path], trained_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    frames = 0

    def progress(n: int) -> None:
        nonlocal frames
        frames += n
        if frames == 12:
            raise KeyboardInterrupt

    log = replay(_options(scenario["sqlite3"], out, trained_model), RecordingLogger(), progress)
    assert not log.complete and log.stopped == INTERRUPTED
    assert len(log.classifications) == 12
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] is False and summary["stopped"] == INTERRUPTED
    results = [m for topic, _, m in _results(out / RESULTS) if topic == "/classification"]
    assert len(results) == 12
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_corruption_mid_bag_writes_what_it_has(trained_model: Path, tmp_path: Path) -> None:
    bag = tmp_path / "bag"
    cfg = dataclasses.replace(SMALL, width=160, height=120, scale=2, duration_s=6.0)
    write_scenario(bag, cfg, "sqlite3", embedded=True)
    data = next(bag.glob("*.db3"))
    with data.open("r+b") as fh:
        fh.seek(data.stat().st_size // 2)  # into the message pages, not the schema
        fh.write(b"\xff" * 4096)
    out = tmp_path / "out"
    log = replay(_options(bag, out, trained_model), RecordingLogger())
    assert not log.complete and "truncated or corrupt" in log.stopped
    assert 0 < len(log.classifications) < 60
    assert json.loads((out / "summary.json").read_text())["complete"] is False


def test_a_bad_bag_writes_nothing_and_keeps_earlier_outputs(
    trained_model: Path, tmp_path: Path
) -> None:
    bag = tmp_path / "bag"
    with BagWriter(bag) as writer:
        writer.write("/environment", "std_msgs/msg/String", "lab", 0)
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text('{"earlier": true}')
    with pytest.raises(BagError, match="no sensor_msgs/msg/Image topic"):
        replay(_options(bag, out, trained_model), RecordingLogger())
    assert sorted(p.name for p in out.iterdir()) == ["summary.json"]
    assert (out / "summary.json").read_text() == '{"earlier": true}'
    fresh = tmp_path / "fresh"
    with pytest.raises(BagError):
        replay(_options(bag, fresh, trained_model), RecordingLogger())
    assert not fresh.exists()


def _digit_frames(n: int) -> list[ImageFrame]:
    """``n`` 32x32 mono8 frames of a bar digit, 100 ms apart."""
    digit = np.zeros((28, 28), np.uint8)
    digit[6:22, 12:16] = 255
    return [render_frame(digit, i * 10**8, 32, 32, "mono8", scale=1) for i in range(n)]


def test_frames_of_an_unsupported_encoding_are_skipped_with_a_warning(
    trained_model: Path, tmp_path: Path
) -> None:
    bag = tmp_path / "bag"
    with BagWriter(bag, "mcap") as writer:
        for i, frame in enumerate(_digit_frames(10)):
            if i % 3 == 0:
                frame = dataclasses.replace(frame, encoding="yuv422", step=64, data=bytes(2048))
            writer.write("/camera", "sensor_msgs/msg/Image", frame, frame.stamp_ns)
    logger = RecordingLogger()
    log = replay(_options(bag, tmp_path / "out", trained_model), logger)
    assert log.complete
    assert len(log.classifications) == 6
    assert log.skipped == {"malformed image": 4}
    assert any("yuv422" in w for w in logger.warnings())
    assert len([w for w in logger.warnings() if "yuv422" in w]) == 1


def test_learn_checkpoints_and_perception_reloads(
    scenario: dict[str, Path], trained_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    learner = OnlineLearnerConfig(learn_samples=10, batch_size=5, checkpoint_every=5)
    options = _options(scenario["sqlite3"], out, trained_model, learn=True, online_learner=learner)
    log = replay(options, RecordingLogger())
    assert log.complete and log.learn
    assert log.updates and log.statuses
    assert all(Path(u.path).parent == out / "checkpoints" for _, u in log.updates)
    assert max(c.model_version for _, c in log.classifications) == log.updates[-1][1].version
    assert log.classifications[0][1].model_version == 0
    assert any(isinstance(c, TimestepCommand) for _, c in log.commands)
    assert isinstance(log.classifications[0][1], Classification)
    assert not isinstance(log.classifications[0][1], ImageFrame)


def test_environment_topic_read_from_a_deleted_definitions_bag(
    scenario: dict[str, Path], trained_model: Path, tmp_path: Path
) -> None:
    """A bag without stored definitions (recorded on Humble) decodes with our own types."""
    import shutil

    bag = tmp_path / "humble"
    shutil.copytree(scenario["sqlite3"], bag)
    with sqlite3.connect(next(bag.glob("*.db3"))) as db:
        db.execute("DELETE FROM message_definitions")
    log = replay(_options(bag, tmp_path / "out", trained_model), RecordingLogger())
    assert len(log.classifications) == FRAMES and len(log.labels) == FRAMES


def test_an_undecodable_message_is_a_warning_and_a_count(
    trained_model: Path, tmp_path: Path
) -> None:
    bag = tmp_path / "bag"
    with BagWriter(bag, "sqlite3") as writer:
        for i, frame in enumerate(_digit_frames(6)):
            writer.write("/camera", "sensor_msgs/msg/Image", frame, frame.stamp_ns)
            if i % 2:
                writer.write_cdr("/camera", "sensor_msgs/msg/Image", b"\x00\x01\x00\x00", i)
    logger = RecordingLogger()
    log = replay(_options(bag, tmp_path / "out", trained_model), logger)
    assert log.complete and len(log.classifications) == 6
    assert log.skipped == {"undecodable image message": 3}
    assert [w for w in logger.warnings() if "undecodable" in w] == [
        "skipping undecodable image message(s); the count is in summary.json"
    ]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["skipped"] == {"undecodable image message": 3}

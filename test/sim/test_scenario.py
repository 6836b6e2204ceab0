"""The scenario parts (schedule, frame source, battery) and the merged message stream, on tiny
frames of the embedded sample."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from topspark_ros import config
from topspark_ros.data import Dataset, load_sample
from topspark_ros.errors import ConfigError, DataError
from topspark_ros.messages import (
    STATUS_DISCHARGING,
    STRING_TYPE,
    BatteryReading,
    ImageFrame,
    Label,
)
from topspark_ros.sim.scenario import (
    BatteryModel,
    EnvironmentSchedule,
    FrameSource,
    Message,
    ScenarioConfig,
    battery_times,
    frame_times,
    message_counts,
    scenario_messages,
    tick_times,
)

S = 1_000_000_000
# 28x28 images, unscaled and centred in a 28x28 mono8 frame: the frame is the dataset image.
TINY = ScenarioConfig(
    duration_s=2.0,
    rate_hz=10.0,
    width=28,
    height=28,
    encoding="mono8",
    scale=1,
    random_position=False,
    battery_rate_hz=4.0,
)


@pytest.fixture(scope="module")
def samples() -> dict[str, Dataset]:
    """The embedded test sample of both datasets."""
    return {name: load_sample(name, "test") for name in ("mnist", "fashion-mnist")}


def messages(cfg: ScenarioConfig, datasets: dict[str, Dataset]) -> list[Message]:
    """The whole scenario as a list."""
    return list(scenario_messages(cfg, datasets))


def on(msgs: list[Message], topic: str) -> list[Any]:
    """The values on ``topic``."""
    return [value for _, t, _, value in msgs if t == topic]


def test_shipped_scenario_yaml_equals_defaults(repo_root: Path) -> None:
    path = repo_root / "config" / "scenario.yaml"
    assert config.load(ScenarioConfig, path, "scenario") == ScenarioConfig()
    section = config.read_yaml(path)["scenario"]
    assert list(section) == [f.name for f in dataclasses.fields(ScenarioConfig)]
    for f in dataclasses.fields(ScenarioConfig):
        assert type(section[f.name]) is type(f.default), f.name
        assert f.metadata["doc"], f.name


def test_defaults_are_a_robot_camera_for_five_minutes() -> None:
    cfg = ScenarioConfig()
    assert (cfg.width, cfg.height, cfg.encoding, cfg.rate_hz) == (640, 480, "bgr8", 30.0)
    assert cfg.environment_names == ("mnist", "fashion-mnist")
    assert cfg.start_ns == 1_700_000_000 * S and cfg.duration_ns == 300 * S
    counts = message_counts(cfg)
    assert counts == {
        "/environment": 2,
        "/camera/image_raw": 9000,
        "/label": 9000,
        "/battery_state": 600,
    }


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"environments": "mnist,cifar"}, r"environments must be a comma list of mnist"),
        ({"environments": " , "}, r"environments must be a comma list"),
        ({"scale": 20}, r"scale 20 makes the image 560x560, larger than the 640x480 frame"),
        ({"battery_start": 0.5, "battery_end": 0.6}, r"battery_end \(0\.6\) must be <="),
        ({"battery_voltage_empty": 13.0}, r"battery_voltage_empty \(13\.0\) must be <="),
        ({"label_topic": "label"}, r"topic 'label' must be an absolute ROS name"),
        ({"label_topic": "/camera/image_raw"}, r"topics must differ"),
        ({"encoding": "16UC1"}, r"encoding must be one of mono8"),
        ({"rate_hz": 0}, r"rate_hz = 0\.0 is outside"),
        ({"fps": 30}, r"unknown key\(s\) fps"),
    ],
)
def test_bad_config_is_one_config_error(changes: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=f"^scenario.yaml: .*{match}") as info:
        config.from_mapping(ScenarioConfig, changes, "scenario.yaml")
    assert "\n" not in str(info.value)


def test_tick_times_are_rounded_ns_before_the_end() -> None:
    assert tick_times(10.0, S) == [k * 100_000_000 for k in range(10)]
    assert tick_times(3.0, S) == [0, 333_333_333, 666_666_667]
    assert tick_times(3.0, S + 1) == [0, 333_333_333, 666_666_667, S]
    assert tick_times(0.5, S) == [0]
    assert len(frame_times(TINY)) == 20 and len(battery_times(TINY)) == 8


def test_schedule_gives_equal_shares_in_order() -> None:
    schedule = EnvironmentSchedule(("mnist", "fashion-mnist"), 10 * S)
    assert schedule.switches() == [(0, "mnist"), (5 * S, "fashion-mnist")]
    assert [schedule.at(t) for t in (-1, 0, 5 * S - 1)] == ["mnist"] * 3
    assert [schedule.at(t) for t in (5 * S, 10 * S - 1, 20 * S)] == ["fashion-mnist"] * 3


def test_schedule_starts_agree_with_index_when_shares_are_not_whole() -> None:
    schedule = EnvironmentSchedule(("a", "b", "c"), 10)
    assert [schedule.start_of(i) for i in range(3)] == [0, 4, 7]
    assert [schedule.index_at(t) for t in range(10)] == [0] * 4 + [1] * 3 + [2] * 3
    assert EnvironmentSchedule.from_config(TINY).names == ("mnist", "fashion-mnist")


def test_frame_source_cycles_through_a_permutation(samples: dict[str, Dataset]) -> None:
    small = samples["mnist"].subset(7)
    source = FrameSource(small, TINY)
    first = [source.next_index() for _ in range(7)]
    second = [source.next_index() for _ in range(7)]
    assert sorted(first) == sorted(second) == list(range(7))
    assert first != second
    again = FrameSource(small, TINY)
    assert [again.next_index() for _ in range(7)] == first


def test_frame_source_frames_show_the_labelled_image(samples: dict[str, Dataset]) -> None:
    data = samples["fashion-mnist"]
    source = FrameSource(data, TINY)
    for _ in range(5):
        frame, label = source.next(123, "fashion-mnist")
        image = np.asarray(frame.data).reshape(28, 28)
        matches = np.flatnonzero((data.images == image).all(axis=(1, 2)))
        assert matches.size >= 1 and label.label == data.labels[matches[0]]
        assert (label.stamp_ns, label.environment) == (123, "fashion-mnist")


def test_frame_source_places_images_at_random_inside_the_frame(
    samples: dict[str, Dataset],
) -> None:
    cfg = dataclasses.replace(TINY, width=64, height=48, random_position=True, encoding="bgr8")
    source = FrameSource(samples["mnist"], cfg)
    corners = set()
    for _ in range(10):
        frame, _ = source.next(0)
        assert (frame.width, frame.height, frame.step) == (64, 48, 64 * 3)
        gray = np.asarray(frame.data).reshape(48, 64, 3)[:, :, 0]
        rows, cols = np.nonzero(gray)
        corners.add((int(rows.min()), int(cols.min())))
    assert len(corners) > 1


def test_frame_source_rejects_an_empty_dataset(samples: dict[str, Dataset]) -> None:
    with pytest.raises(DataError, match="dataset mnist \\(test\\) has no images"):
        FrameSource(samples["mnist"].subset(0), TINY)


def test_battery_drains_linearly_with_negative_current() -> None:
    battery = BatteryModel(1.0, 0.2, 100.0, capacity_ah=2.0, voltage_full=12.6, voltage_empty=10.5)
    assert battery.fraction(0.0) == 1.0 and battery.fraction(50.0) == pytest.approx(0.6)
    assert battery.fraction(100.0) == pytest.approx(0.2)
    assert battery.fraction(125.0) == pytest.approx(0.0) and battery.fraction(1e6) == 0.0
    # 0.8 x 2 Ah over 100 s = 57.6 A, discharging: negative
    assert battery.current(10.0) == pytest.approx(-57.6)
    assert battery.current(200.0) == 0.0
    reading = battery.reading(50 * S, 7)
    assert reading.stamp_ns == 7 and reading.percentage == pytest.approx(0.6)
    assert reading.voltage == pytest.approx(10.5 + 2.1 * 0.6)
    assert reading.charge == pytest.approx(1.2) and reading.capacity == 2.0
    assert reading.power_supply_status == STATUS_DISCHARGING and reading.present


def test_battery_without_drain_is_not_charging() -> None:
    reading = BatteryModel(0.5, 0.5, 10.0).reading(S, 0)
    assert reading.current == 0.0 and reading.power_supply_status == 3
    assert reading.percentage == 0.5


def test_battery_noise_is_seeded_and_clipped() -> None:
    battery = BatteryModel(1.0, 0.0, 10.0, noise=0.2)
    values = [battery.reading(t, t, np.random.default_rng(1)).percentage for t in (0, 10 * S)]
    assert values[0] <= 1.0 and values[1] >= 0.0
    noisy = [battery.reading(S, 0, np.random.default_rng(s)).percentage for s in range(20)]
    assert len(set(noisy)) > 1 and all(0.0 <= v <= 1.0 for v in noisy)


def test_messages_are_in_time_order_with_stamps_equal_to_bag_times(
    samples: dict[str, Dataset],
) -> None:
    msgs = messages(TINY, samples)
    times = [t for t, *_ in msgs]
    assert times == sorted(times)
    assert times[0] == TINY.start_ns and times[-1] < TINY.start_ns + TINY.duration_ns
    for t, _, typename, value in msgs:
        if typename != STRING_TYPE:
            assert value.stamp_ns == t
    counts = {topic: len(on(msgs, topic)) for topic in TINY.topics}
    assert counts == message_counts(TINY)
    types = {topic: typename for _, topic, typename, _ in msgs}
    assert types == {
        "/environment": STRING_TYPE,
        "/camera/image_raw": "sensor_msgs/msg/Image",
        "/label": "topspark_ros/msg/Label",
        "/battery_state": "sensor_msgs/msg/BatteryState",
    }


def test_each_frame_is_followed_by_its_label(samples: dict[str, Dataset]) -> None:
    msgs = messages(TINY, samples)
    pairs = 0
    for (_, topic, _, value), (_, next_topic, _, label) in itertools.pairwise(msgs):
        if topic != TINY.camera_topic:
            continue
        assert next_topic == TINY.label_topic and isinstance(label, Label)
        assert isinstance(value, ImageFrame) and label.stamp_ns == value.stamp_ns
        data = samples[label.environment]
        image = np.asarray(value.data).reshape(28, 28)
        matches = np.flatnonzero((data.images == image).all(axis=(1, 2)))
        assert matches.size >= 1 and label.label in data.labels[matches]
        pairs += 1
    assert pairs == 20


def test_environment_switches_come_before_their_first_frame(
    samples: dict[str, Dataset],
) -> None:
    msgs = messages(TINY, samples)
    switch = TINY.start_ns + S
    assert [(t, v) for t, topic, _, v in msgs if topic == TINY.environment_topic] == [
        (TINY.start_ns, "mnist"),
        (switch, "fashion-mnist"),
    ]
    assert msgs[0][1] == TINY.environment_topic
    at_switch = [topic for t, topic, *_ in msgs if t == switch]
    assert at_switch[:3] == [TINY.environment_topic, TINY.camera_topic, TINY.label_topic]
    labels: list[Label] = on(msgs, TINY.label_topic)
    assert {lb.environment for lb in labels if lb.stamp_ns < switch} == {"mnist"}
    assert {lb.environment for lb in labels if lb.stamp_ns >= switch} == {"fashion-mnist"}


def test_battery_drains_over_the_scenario(samples: dict[str, Dataset]) -> None:
    cfg = dataclasses.replace(TINY, duration_s=10.0, rate_hz=1.0, battery_rate_hz=10.0)
    readings: list[BatteryReading] = on(messages(cfg, samples), cfg.battery_topic)
    assert len(readings) == 100
    fractions = np.array([r.percentage for r in readings])
    expected = 1.0 - 0.85 * np.arange(100) / 100
    assert np.all(np.abs(fractions - expected) < 5 * cfg.battery_noise)
    assert np.all((fractions >= 0.0) & (fractions <= 1.0))
    assert fractions[:10].mean() - fractions[-10:].mean() > 0.7
    assert all(r.current < 0.0 and r.power_supply_status == STATUS_DISCHARGING for r in readings)
    assert {r.frame_id for r in readings} == {"battery"}


def test_scenario_is_deterministic_for_a_seed(samples: dict[str, Dataset]) -> None:
    cfg = dataclasses.replace(TINY, width=64, height=48, random_position=True)

    def digest(c: ScenarioConfig) -> list[tuple[int, str, bytes | str]]:
        out: list[tuple[int, str, bytes | str]] = []
        for t, topic, _, value in scenario_messages(c, samples):
            if isinstance(value, ImageFrame):
                out.append((t, topic, np.asarray(value.data).tobytes()))
            else:
                out.append((t, topic, repr(value)))
        return out

    assert digest(cfg) == digest(cfg)
    assert digest(cfg) != digest(dataclasses.replace(cfg, seed=1))


def test_an_environment_may_come_back(samples: dict[str, Dataset]) -> None:
    cfg = dataclasses.replace(TINY, duration_s=3.0, environments="mnist,fashion-mnist,mnist")
    msgs = messages(cfg, samples)
    envs = on(msgs, cfg.environment_topic)
    assert envs == ["mnist", "fashion-mnist", "mnist"]


def test_missing_images_for_an_environment(samples: dict[str, Dataset]) -> None:
    with pytest.raises(DataError, match="no images given for environment\\(s\\) fashion-mnist"):
        next(scenario_messages(TINY, {"mnist": samples["mnist"]}))

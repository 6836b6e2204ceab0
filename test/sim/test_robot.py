"""The simulated robot: camera and labels at their rate, environment switches, the battery
account (base load and reported SNN energy), determinism, bad configs."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from recording_logger import RecordingLogger

from topspark_ros.config import config_fields, from_mapping
from topspark_ros.data.datasets import Dataset
from topspark_ros.errors import ConfigError, DataError
from topspark_ros.graph.wiring import SIM_ROBOT
from topspark_ros.messages import (
    OK,
    STATUS_DISCHARGING,
    WARN,
    BatteryReading,
    Classification,
    ImageFrame,
    Label,
)
from topspark_ros.nodes.battery import normalise
from topspark_ros.sim.config import SCENARIO_PARAMETERS, SIM_SCENARIO, SimRobotConfig
from topspark_ros.sim.robot import SimRobot, Ticker
from topspark_ros.sim.scenario import ScenarioConfig

MS = 1_000_000  # ns per millisecond
START = 1_700_000_000_000 * MS  # the node clock at the first tick: any epoch works
TWO = {"environments": "mnist,fashion-mnist"}

Messages = list[tuple[int, str, Any]]


def tiny(name: str) -> Dataset:
    """Ten 28x28 images, image i filled with gray 20 i + 5 and labelled i."""
    labels = np.arange(10, dtype=np.uint8)
    images = np.broadcast_to((20 * labels + 5)[:, None, None], (10, 28, 28))
    return Dataset(name, "test", np.ascontiguousarray(images, np.uint8), labels)


TINY = {"mnist": tiny("mnist"), "fashion-mnist": tiny("fashion-mnist")}


def make_robot(datasets: dict[str, Dataset] | None = TINY, **overrides: Any) -> SimRobot:
    """A robot with ``overrides`` (checked as a params file's) and a recording logger."""
    config = from_mapping(SimRobotConfig, overrides, "test")
    return SimRobot(config, RecordingLogger(), datasets)


def run(robot: SimRobot, from_ms: int, to_ms: int, step_ms: int = 10) -> Messages:
    """Tick every ``step_ms`` from ``from_ms`` to ``to_ms`` (inclusive): (ms, topic, data)."""
    out = []
    for ms in range(from_ms, to_ms + 1, step_ms):
        out += [(ms, topic, data) for topic, data in robot.tick(START + ms * MS)]
    return out


def on(messages: Messages, topic: str) -> list[tuple[int, Any]]:
    """(ms, data) of the messages on ``topic``."""
    return [(ms, data) for ms, t, data in messages if t == topic]


def result(energy_j: float) -> Classification:
    return Classification(0, "", 1, 0.9, (), 100, 100, 10, 100, 0.1, 1.0, energy_j, 1)


def test_frames_come_at_the_rate_each_followed_by_its_label() -> None:
    robot = make_robot(
        environments="mnist", width=28, height=28, scale=1, encoding="mono8",
        random_position=False, rate_hz=10.0,
    )  # fmt: skip
    messages = run(robot, 0, 2000)
    frames = on(messages, "image")
    assert [ms for ms, _ in frames] == list(range(0, 2001, 100))
    assert robot.frames == len(frames) == 21
    assert frames[0][1].stamp_ns == START  # stamped with the node clock at the tick
    for i, (_, topic, frame) in enumerate(messages):
        if topic != "image":
            continue
        _, label_topic, label = messages[i + 1]
        assert isinstance(frame, ImageFrame) and isinstance(label, Label)
        assert label_topic == "label" and label.stamp_ns == frame.stamp_ns
        assert label.environment == "mnist" and label.frame_id == frame.frame_id == "camera"
        assert (frame.width, frame.height, frame.encoding) == (28, 28, "mono8")
        pixels = np.frombuffer(bytes(frame.data), np.uint8)  # the image is its label's gray
        assert np.all(pixels == 20 * label.label + 5)


def test_a_late_tick_gives_one_frame_and_the_missed_ones_are_dropped() -> None:
    robot = make_robot(environments="mnist", rate_hz=10.0)
    topics = [[t for t, _ in robot.tick(START + ms * MS)] for ms in (0, 350, 360, 399, 400)]
    assert [t.count("image") for t in topics] == [1, 1, 0, 0, 1]


def test_ticker_is_due_once_per_slot_reached() -> None:
    ticker = Ticker(4.0)  # slots every 250 ms
    times = [0, 100, 250, 260, 900, 999, 1000, 1249, 1250]
    assert [ticker.due(ms * MS) for ms in times] == [1, 0, 1, 0, 1, 0, 1, 0, 1]


def test_environment_at_start_and_at_the_switch_before_the_new_frames() -> None:
    robot = make_robot(**TWO, environment_s=1.0, environment_period_s=0.0, rate_hz=10.0)
    assert robot.environment == "mnist" and not robot.done
    messages = run(robot, 0, 990)
    assert on(messages, "environment") == [(0, "mnist")]
    assert [t for _, t, _ in messages[:3]] == ["environment", "image", "label"]
    assert {label.environment for _, label in on(messages, "label")} == {"mnist"}
    messages = run(robot, 1000, 3000)
    assert on(messages, "environment") == [(1000, "fashion-mnist")]
    assert [t for _, t, _ in messages[:3]] == ["environment", "image", "label"]
    labels = [label for _, label in on(messages, "label")]
    assert len(labels) == 21 and {label.environment for label in labels} == {"fashion-mnist"}
    assert robot.done and robot.environment == "fashion-mnist"  # the last one is held


def test_switch_timing_and_done_follow_the_node_clock() -> None:
    robot = make_robot(**TWO, environment_s=1.0, environment_period_s=0.0)
    messages = run(robot, 0, 2500)
    assert on(messages, "environment") == [(0, "mnist"), (1000, "fashion-mnist")]
    robot = make_robot(**TWO, environment_s=1.0)
    run(robot, 0, 1990)
    assert not robot.done and robot.elapsed_s == pytest.approx(1.99)
    robot.tick(START + 2000 * MS)
    assert robot.done


def test_the_environment_name_repeats_for_late_subscribers() -> None:
    robot = make_robot(**TWO, environment_s=1.0, environment_period_s=0.4)
    names = on(run(robot, 0, 1500), "environment")
    assert names == [(0, "mnist"), (400, "mnist"), (800, "mnist"), (1000, "fashion-mnist"),
                     (1200, "fashion-mnist")]  # fmt: skip


def test_a_clock_jumping_back_pauses_the_simulation() -> None:
    robot = make_robot(**TWO, environment_s=1.0)
    run(robot, 0, 500)
    robot.tick(START - 10_000 * MS)
    assert robot.elapsed_s == pytest.approx(0.5)
    robot.tick(START - 9_900 * MS)
    assert robot.elapsed_s == pytest.approx(0.6)


def battery_run(robot: SimRobot, to_ms: int, energy_j: float = 0.0) -> list[BatteryReading]:
    """Tick every 10 ms to ``to_ms`` with a result reporting ``energy_j`` every 100 ms."""
    readings = []
    for ms in range(0, to_ms + 1, 10):
        if energy_j and ms % 100 == 50:
            robot.on_result(result(energy_j))
        readings += [d for t, d in robot.tick(START + ms * MS) if t == "battery_state"]
    return readings


BATTERY = {"battery_capacity_wh": 1.0, "base_load_w": 36.0, "battery_rate_hz": 1.0}


def test_the_base_load_alone_drains_the_battery() -> None:
    robot = make_robot(**BATTERY, snn_energy_scale=1e4)
    readings = battery_run(robot, 10_000)
    assert [r.stamp_ns for r in readings] == [START + s * 1000 * MS for s in range(11)]
    fractions = [r.percentage for r in readings]
    assert fractions == pytest.approx([1.0 - 36.0 * s / 3600.0 for s in range(11)])
    assert robot.charge_j == pytest.approx(3600.0 - 360.0)
    assert robot.base_energy_j == pytest.approx(360.0) and robot.snn_energy_j == 0.0
    last = readings[-1]
    assert last.voltage == pytest.approx(10.5 + 2.1 * 0.9)
    assert last.current == pytest.approx(-36.0 / last.voltage) and last.current < 0.0
    assert last.capacity == pytest.approx(1.0 / 11.55) == last.design_capacity
    assert last.charge == pytest.approx(0.9 * last.capacity)
    assert last.power_supply_status == STATUS_DISCHARGING and last.present
    assert last.frame_id == "battery"


def test_reported_snn_energy_drains_it_faster_scaled() -> None:
    base = make_robot(**BATTERY, snn_energy_scale=1e4)
    snn = make_robot(**BATTERY, snn_energy_scale=1e4)
    battery_run(base, 10_000)
    readings = battery_run(snn, 10_000, energy_j=1e-4)  # 1 J each after scaling, 10 per s
    assert snn.results == 100 and snn.snn_energy_j == pytest.approx(1e-2)
    assert snn.charge_j == pytest.approx(base.charge_j - 100.0)
    assert readings[-1].percentage < base.battery_fraction
    power = -readings[-1].current * readings[-1].voltage
    assert power == pytest.approx(36.0 + 10.0)  # base load + 1 J x 10 per s over the interval
    # The timestep manager reads the same charge and power back.
    level = normalise(readings[-1], capacity_wh=50.0)
    assert level.fraction == pytest.approx(snn.battery_fraction)
    assert level.discharge_w == pytest.approx(46.0)


def test_an_empty_battery_stops_at_zero_with_no_current() -> None:
    robot = make_robot(**{**BATTERY, "battery_capacity_wh": 0.001})  # 3.6 J: empty in 0.1 s
    readings = battery_run(robot, 2000)
    assert robot.charge_j == 0.0 and readings[-1].percentage == 0.0
    assert readings[-1].current == 0.0 and readings[-1].power_supply_status != STATUS_DISCHARGING
    status = robot.diagnostics()
    assert status.level == WARN and "battery empty" in status.message


def test_invalid_energy_is_ignored_with_a_warning() -> None:
    log = RecordingLogger()
    robot = SimRobot(from_mapping(SimRobotConfig, BATTERY, "test"), log, TINY)
    robot.on_result(result(float("nan")))
    robot.on_result(result(-1.0))
    assert robot.charge_j == 3600.0 and robot.ignored_results == 2 and robot.results == 0
    assert robot.diagnostics().level == WARN
    assert log.warnings() == ["ignoring a classification with energy nan J"]  # throttled


def test_diagnostics_report_the_environment_and_the_battery() -> None:
    robot = make_robot(**TWO, **BATTERY, environment_s=1.0)
    run(robot, 0, 2000)
    status = robot.diagnostics()
    assert status.level == OK and status.name == "topspark_ros: sim_robot"
    assert status.message.startswith("environment fashion-mnist (2/2), battery 98%")
    assert status.message.endswith("every environment shown")
    values = dict(status.values)
    assert values["done"] == "true" and values["frames"] == "21"
    assert float(values["base_energy_j"]) == pytest.approx(72.0)


def frame_bytes(robot: SimRobot) -> list[bytes]:
    return [bytes(f.data) for _, f in on(run(robot, 0, 3000, 50), "image")]


def test_the_same_seed_gives_the_same_frames() -> None:
    config = {**TWO, "environment_s": 1.0, "rate_hz": 20.0}
    first = frame_bytes(make_robot(None, **config, seed=3))  # the embedded sample
    assert first == frame_bytes(make_robot(None, **config, seed=3))
    assert first != frame_bytes(make_robot(None, **config, seed=4))
    assert len(first) == 61 and len(first[0]) == 320 * 240 * 3


def test_the_spec_runs_the_logic_and_names_every_topic_it_publishes() -> None:
    robot = SIM_ROBOT.build(SimRobotConfig(), RecordingLogger())
    outputs = SIM_ROBOT.work(robot, START)
    assert [topic for topic, _ in outputs] == ["environment", "image", "label", "battery_state"]
    types = {pub.topic: pub.msgtype for pub in SIM_ROBOT.publications}
    assert types == {
        "environment": "std_msgs/msg/String",
        "image": "sensor_msgs/msg/Image",
        "label": "topspark_ros/msg/Label",
        "battery_state": "sensor_msgs/msg/BatteryState",
    }
    assert isinstance(outputs[0][1], str)
    assert SIM_ROBOT.diagnostics(robot, START).message.startswith("environment mnist (1/2)")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"environments": "mnist,cifar"}, r"environments must be a comma list of mnist"),
        ({"environments": " , "}, r"environments must be a comma list"),
        ({"scale": 9}, r"scale 9 makes the image 252x252, larger than the 320x240 frame"),
        ({"battery_voltage_empty": 13.0}, r"battery_voltage_empty \(13.0\) must be <= battery"),
        ({"rate_hz": 0.0}, r"test: rate_hz = 0.0 is outside \[0.1, 100.0\]"),
        ({"encoding": "yuv"}, r"encoding must be one of mono8"),
        ({"snn_energy_scale": -1.0}, r"snn_energy_scale = -1.0 is outside"),
        ({"frame_rate": 30}, r"unknown key\(s\) frame_rate"),
    ],
)
def test_bad_config_raises_one_line(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        from_mapping(SimRobotConfig, overrides, "test")
    assert "\n" not in str(info.value)


def test_the_camera_and_battery_parameters_are_the_scenarios_fields() -> None:
    scenario = {f.name: f for f in dataclasses.fields(ScenarioConfig)}
    params = {f.name: f for f in config_fields(SimRobotConfig)}
    assert all(params[name] is scenario[name] for name in SCENARIO_PARAMETERS)  # declared once
    assert set(params) & set(scenario) == set(SCENARIO_PARAMETERS)
    cfg = from_mapping(SimRobotConfig, {"rate_hz": 30.0, "battery_capacity_wh": 2.0}, "test")
    assert cfg.scenario == replace(SIM_SCENARIO, rate_hz=30.0, battery_capacity_wh=2.0)
    assert cfg.scenario.battery_capacity_j == 7200.0


def test_a_missing_data_dir_raises_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        make_robot(None, data_dir=str(tmp_path / "nowhere"))

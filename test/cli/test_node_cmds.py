"""``topspark node``: configuration from parameter files and --set, transport choice, and one-line
errors for bad input before any DDS participant starts."""

from __future__ import annotations

import importlib.util
import signal
import threading
from pathlib import Path

import pytest
from recording_logger import RecordingLogger

from topspark_ros.cli.main import main
from topspark_ros.cli.node_cmds import choose_transport, node_config, rclpy_unavailable
from topspark_ros.errors import ConfigError
from topspark_ros.graph.wiring import PERCEPTION, SIM_ROBOT, TIMESTEP_MANAGER

HAS_RCLPY = importlib.util.find_spec("rclpy") is not None


def test_params_file_then_set_overrides(tmp_path: Path) -> None:
    params = tmp_path / "p.yaml"
    params.write_text("perception:\n  ros__parameters:\n    timesteps: 60\n    seed: 3\n")
    cfg = node_config(PERCEPTION, str(params), ["timesteps=40"], "")
    assert (cfg.timesteps, cfg.seed) == (40, 3)
    assert node_config(TIMESTEP_MANAGER, None, [], "").mission_time_s == 3600.0


def test_the_sim_robots_scenario_parameters_are_set_by_their_flat_names(tmp_path: Path) -> None:
    params = tmp_path / "p.yaml"
    params.write_text("sim_robot:\n  ros__parameters:\n    width: 640\n    seed: 3\n")
    cfg = node_config(SIM_ROBOT, str(params), ["rate_hz=30", "environment_s=5"], "")
    assert (cfg.scenario.rate_hz, cfg.scenario.width, cfg.scenario.seed) == (30.0, 640, 3)
    assert cfg.scenario.height == 240 and cfg.environment_s == 5.0
    with pytest.raises(ConfigError, match=r"sim_robot --set: battery_rate_hz = 200\.0 is outside"):
        node_config(SIM_ROBOT, None, ["battery_rate_hz=200"], "")


@pytest.mark.skipif(HAS_RCLPY, reason="rclpy present: 'auto' picks it")
def test_transport_auto_is_dds_without_rclpy_and_rclpy_cannot_be_forced(
    recorder: RecordingLogger,
) -> None:
    assert rclpy_unavailable() == "rclpy is not importable (source a ROS 2 setup)"
    assert choose_transport("auto", recorder) == "dds"
    assert recorder.lines == []  # no ROS 2 at all is the plain case: nothing to warn about
    assert choose_transport("dds") == "dds"
    with pytest.raises(ConfigError, match="--transport rclpy: rclpy is not importable"):
        choose_transport("rclpy")
    # With rclpy but without topspark_ros.msg, see test/ros2/test_node_cmd_rclpy.py.


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "timesteps=0"], "timesteps = 0 is outside"),
        (["--set", "speed=1"], "unknown key(s) speed"),
        (["--set", "model_path=/nonexistent/m.npz"], "/nonexistent/m.npz"),
        (["--params", "/nonexistent/p.yaml"], "cannot read parameter file"),
        (["--remap", "image=/camera"], "remap rule 'image=/camera' is not FROM:=TO"),
    ],
)
def test_bad_configuration_is_one_error_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["node", "perception", "--transport", "dds", "--domain-id", "201", *args]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ")
    assert message in err[-1], err[-1]


def test_node_runs_until_interrupted_and_exits_cleanly(
    trained_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    timer = threading.Timer(3.0, signal.raise_signal, (signal.SIGINT,))
    timer.start()
    try:
        code = main(
            [
                "node",
                "perception",
                "--transport",
                "dds",
                "--domain-id",
                "202",
                "--set",
                f"model_path={trained_model}",
            ]
        )
    finally:
        timer.cancel()
    assert code == 0

"""Which transport the demo and the latency benchmark use, and the environment their node
processes get: a choice made once in the CLI, checked by the adapters, no ROS 2 needed here."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from topspark_ros.cli.demo_cmds import demo_options
from topspark_ros.cli.main import build_parser, main
from topspark_ros.cli.node_cmds import rclpy_unavailable
from topspark_ros.demo.run import DemoOptions, run_demo
from topspark_ros.errors import ConfigError, TransportError
from topspark_ros.ros.fastdds import PROFILE_VARIABLES, fastdds_profile_path
from topspark_ros.system.latency import LatencySettings
from topspark_ros.system.processes import dds_environment, rclpy_environment, start_node

NO_ROS = rclpy_unavailable()
needs_no_ros = pytest.mark.skipif(not NO_ROS, reason="ROS 2 is sourced: the ROS tier covers it")


def options(*argv: str) -> DemoOptions:
    """The demo's options for ``topspark demo ARGV``."""
    return demo_options(build_parser().parse_args(["demo", *argv]))


@needs_no_ros
def test_auto_falls_back_to_dds_without_ros() -> None:
    assert options().transport == "dds" and options("--transport", "auto").transport == "dds"
    assert options("--transport", "dds", "--domain-id", "7").domain_id == 7
    with pytest.raises(ConfigError, match=r"^--transport rclpy: "):
        options("--transport", "rclpy")


@needs_no_ros
@pytest.mark.parametrize("command", ["demo", "latency"])
def test_rclpy_without_ros_is_one_error_line(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [command, "--transport", "rclpy"]
    argv += ["--out", str(tmp_path / "out")] if command == "demo" else ["--model", "none.npz"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [f"error: --transport rclpy: {NO_ROS}"]
    assert not (tmp_path / "out").exists()  # refused before anything started


def test_only_resolved_transports_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="transport must be dds or rclpy, got 'auto'"):
        run_demo(DemoOptions(transport="auto", out=tmp_path), io.StringIO())
    with pytest.raises(ConfigError, match="transport must be dds or rclpy, got 'zmq'"):
        start_node("perception", 0, tmp_path, transport="zmq")
    with pytest.raises(ConfigError, match="invalid transport 'auto'"):
        LatencySettings("m.npz", 40, transport="auto")
    with pytest.raises(TransportError, match=r"outside 0\.\.232"):
        run_demo(DemoOptions(domain_id=300, out=tmp_path), io.StringIO())


def test_rclpy_children_stay_on_this_host_with_the_fast_dds_profile() -> None:
    env = dds_environment(42, {"PATH": "/bin"}, transport="rclpy")
    assert env["ROS_DOMAIN_ID"] == "42" and env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"
    profile = str(fastdds_profile_path())
    assert all(env[name] == profile for name in PROFILE_VARIABLES)
    # An empty range is rcl's SUBNET: it is replaced; a user's own choices are kept.
    assert (
        rclpy_environment({"ROS_AUTOMATIC_DISCOVERY_RANGE": ""})["ROS_AUTOMATIC_DISCOVERY_RANGE"]
        == "LOCALHOST"
    )
    mine = {"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET", "FASTDDS_DEFAULT_PROFILES_FILE": "/my.xml"}
    kept = rclpy_environment(mine)
    assert kept["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "SUBNET"
    assert kept["FASTDDS_DEFAULT_PROFILES_FILE"] == "/my.xml"


def test_dds_children_keep_the_loopback_cyclone_setup_only() -> None:
    env = dds_environment(42, {"PATH": "/bin"})
    assert "lo" in env["CYCLONEDDS_URI"] and env["NUMBA_NUM_THREADS"] == "1"
    assert "ROS_AUTOMATIC_DISCOVERY_RANGE" not in env
    assert not set(PROFILE_VARIABLES) & set(env)

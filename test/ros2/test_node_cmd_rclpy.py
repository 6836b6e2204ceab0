"""``topspark node NAME`` where ROS 2 is installed: the transport choice when this package's
messages are not built, and ``--domain-id`` and ``--log-level`` under ``--transport rclpy``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lifecycle_msgs.msg import State
from lifecycle_msgs.srv import GetState
from node_system import wait_until
from rclpy_probe import Probe, Proc, node_environment

from topspark_ros.ros.dds.transport import loopback_config
from topspark_ros.system.processes import READY_MARK

SOURCE_TREE = Path(__file__).resolve().parents[2]  # has topspark_ros/ but no generated msg/


@pytest.fixture
def procs() -> Iterator[list[Any]]:
    """The processes a test starts; their groups are killed after it."""
    started: list[Any] = []
    try:
        yield started
    finally:
        for proc in started:
            proc.kill()


def _unbuilt_env(tmp_path: Path, domain_id: int) -> dict[str, str]:
    """rclpy importable, but topspark_ros from the source tree: no topspark_ros.msg."""
    env = node_environment(domain_id, tmp_path)
    env["PYTHONPATH"] = os.pathsep.join([str(SOURCE_TREE), env.get("PYTHONPATH", "")])
    env["CYCLONEDDS_URI"] = loopback_config()
    return env


def test_auto_falls_back_to_dds_when_the_messages_are_not_built(
    tmp_path: Path, domain_id: int, procs: list[Any]
) -> None:
    args = ["node", "timestep_manager", "--transport", "auto", "--domain-id", str(domain_id)]
    proc = Proc.cli("auto", args, _unbuilt_env(tmp_path, domain_id), tmp_path)
    procs.append(proc)
    assert wait_until(lambda: READY_MARK in proc.text() or not proc.alive(), 60.0, 0.1)
    assert proc.alive(), proc.text()
    why = [line for line in proc.text().splitlines() if "using DDS" in line]
    assert len(why) == 1 and "topspark_ros.msg" in why[0], proc.text()
    assert proc.interrupt() == 0, proc.text()
    assert "Traceback" not in proc.text()


def test_rclpy_without_the_messages_is_one_error_line(tmp_path: Path, domain_id: int) -> None:
    args = ["node", "timestep_manager", "--transport", "rclpy"]
    proc = Proc.cli("forced", args, _unbuilt_env(tmp_path, domain_id), tmp_path)
    try:
        assert proc.wait(60.0) == 1
        lines = proc.text().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: --transport rclpy:"), lines
        assert "topspark_ros.msg" in lines[0]
    finally:
        proc.kill()


def _names(probe: Any) -> list[str]:
    return [name for name, _ in probe.node.get_node_names_and_namespaces()]


def test_domain_id_and_log_level_reach_rclpy(tmp_path: Path, procs: list[Any]) -> None:
    env = node_environment(43, tmp_path)  # the domain the nodes would be on otherwise
    for domain, level in ((41, "warning"), (42, "debug")):
        args = ["node", "timestep_manager", "--transport", "rclpy", "--domain-id", str(domain)]
        procs.append(Proc.cli(f"d{domain}", [*args, "--log-level", level], env, tmp_path))
    probes = {domain: Probe(domain, f"probe{domain}") for domain in (41, 42, 43)}
    try:
        for domain in (41, 42):
            request = GetState.Request()
            state = probes[domain].call(GetState, "/timestep_manager/get_state", request)
            assert state.current_state.id == State.PRIMARY_STATE_ACTIVE
            assert wait_until(lambda d=domain: "timestep_manager" in _names(probes[d]), 10.0)
        assert not wait_until(lambda: "timestep_manager" in _names(probes[43]), 2.0)
        assert _names(probes[41]).count("timestep_manager") == 1
        assert _names(probes[42]).count("timestep_manager") == 1
    finally:
        for probe in probes.values():
            probe.close()
    quiet, chatty = procs
    assert [quiet.interrupt(), chatty.interrupt()] == [0, 0]
    assert "[INFO]" not in quiet.text() and "[DEBUG]" not in quiet.text(), quiet.text()[-2000:]
    assert "[DEBUG]" in chatty.text() and "[INFO]" in chatty.text()

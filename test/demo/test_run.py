"""The demo runner: settings derived from the options, a dead node named, and a short run of
the whole system over DDS writing its report."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from topspark_ros.demo.run import (
    DemoOptions,
    _dead,
    learner_samples,
    robot_settings,
    run_demo,
)
from topspark_ros.errors import ConfigError
from topspark_ros.system.processes import NodeProcess


def test_settings_follow_the_options() -> None:
    options = DemoOptions(duration_s=60.0, rate_hz=10.0, environments="mnist, fashion-mnist")
    robot = robot_settings(options)
    assert robot["environment_s"] == 30.0 and robot["environments"] == "mnist,fashion-mnist"
    assert robot["battery_capacity_wh"] > 3.0 * 60.0 / 3600.0  # more than the base load drains
    assert learner_samples(options) == 100


def test_a_dead_node_is_named_with_its_signal_and_last_line(tmp_path: Path) -> None:
    log_path = tmp_path / "perception.log"
    log = log_path.open("w", encoding="utf-8")
    code = "import os, signal; print('last words', flush=True); os.kill(os.getpid(), 9)"
    popen = subprocess.Popen([sys.executable, "-c", code], stdout=log, stderr=subprocess.STDOUT)
    popen.wait()
    proc = NodeProcess("perception", popen, log_path, log)
    assert _dead([proc]) == "node perception was killed by SIGKILL; its last log line: last words"
    log.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (DemoOptions(duration_s=0), "--duration must be positive"),
        (DemoOptions(environments=" , "), "--environments names no environment"),
    ],
)
def test_bad_options(options: DemoOptions, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        run_demo(options, io.StringIO())


def test_short_demo_runs_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "report"
    domain = 200 + os.getpid() % 30
    options = DemoOptions(duration_s=8.0, out=out, rate_hz=10.0, domain_id=domain, transport="dds")
    screen = io.StringIO()
    result = run_demo(options, screen)
    assert result.failed == "" and result.stopped == ""
    assert set(result.exit_codes) == {
        "perception",
        "timestep_manager",
        "online_learner",
        "perception_baseline",
        "sim_robot",
    }
    assert all(code == 0 for code in result.exit_codes.values()), result.exit_codes
    assert result.log.classifications and result.baseline and result.log.labels
    assert {c.timesteps for _, c in result.baseline} == {350}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] is True and summary["storage"] == "dds"
    assert (summary["demo"]["transport"], summary["demo"]["domain_id"]) == ("dds", domain)
    assert 0 < summary["demo"]["energy_ratio"] < 1
    memory = summary["demo"]["memory"]  # every process's RSS, sampled (the soak's evidence)
    assert set(memory) == {"demo", *result.exit_codes}
    assert all(entry["samples"] >= 1 and entry["last_mb"] > 10 for entry in memory.values())
    assert (out / "memory.csv").read_text().startswith("time_s,demo_mb,")
    assert (out / "energy_vs_fixed.png").is_file() and (out / "timesteps_battery.png").is_file()
    assert "environment mnist" in screen.getvalue()

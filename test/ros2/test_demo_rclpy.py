"""``topspark demo`` over rclpy: real ROS 2 node processes, seen in the ROS graph, the same report.

The demo runs as a user runs it (``python -m topspark_ros demo``, outside the checkout, so the
colcon install is what it imports); while it runs, the ROS graph is watched by an rclpy node and
read by ``ros2 node list`` where the ROS 2 CLI is installed (Jazzy here), with the discovery
settings the demo gives its nodes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from topspark_ros.cli.demo_cmds import demo_options
from topspark_ros.cli.main import build_parser
from topspark_ros.system.processes import rclpy_environment

NODES = {"/perception", "/timestep_manager", "/online_learner", "/baseline/perception"}
EXPECTED = NODES | {"/sim_robot", "/topspark_demo"}
# Watches the graph of domain argv[1] until every node of argv[2:] is in it (or 200 s), then
# prints the names seen, one a line.
GRAPH_WATCHER = """
import sys, time, rclpy
from rclpy.context import Context
ctx = Context()
rclpy.init(context=ctx, domain_id=int(sys.argv[1]))
node = rclpy.create_node("graph_reader", context=ctx)
seen, deadline = set(), time.monotonic() + 200
while not set(sys.argv[2:]) <= seen and time.monotonic() < deadline:
    time.sleep(0.5)
    seen |= {ns.rstrip("/") + "/" + n for n, ns in node.get_node_names_and_namespaces()}
print("\\n".join(sorted(seen)))
node.destroy_node()
ctx.try_shutdown()
"""


def graph_environment(domain: int) -> dict[str, str]:
    """The discovery settings the demo gives its nodes, in ``domain``."""
    return {**rclpy_environment(), "ROS_DOMAIN_ID": str(domain)}


def ros2_node_list(domain: int) -> set[str]:
    """What ``ros2 node list`` prints for ``domain``."""
    command = ["ros2", "node", "list", "--no-daemon", "--spin-time", "3"]
    env = graph_environment(domain)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    return {line.strip() for line in done.stdout.splitlines() if line.strip()}


def test_auto_prefers_rclpy_where_the_package_is_built() -> None:
    assert demo_options(build_parser().parse_args(["demo"])).transport == "rclpy"


def test_a_short_demo_over_rclpy_reports_and_its_nodes_are_in_the_graph(
    tmp_path: Path, domain_id: int
) -> None:
    out = tmp_path / "report"
    command = [sys.executable, "-m", "topspark_ros", "demo", "--transport", "rclpy"]
    command += ["--duration", "15", "--rate", "10", "--out", str(out)]
    command += ["--domain-id", str(domain_id)]
    watcher_command = [sys.executable, "-c", GRAPH_WATCHER, str(domain_id), *sorted(EXPECTED)]
    listed: set[str] = set()
    with (tmp_path / "demo.out").open("w") as log:
        demo = subprocess.Popen(command, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        try:
            watched = subprocess.run(
                watcher_command,
                env=graph_environment(domain_id),
                capture_output=True,
                text=True,
                timeout=240,
            )
            # The ROS 2 CLI too where it is installed (Jazzy), while the demo still runs.
            while shutil.which("ros2") and not NODES <= listed and demo.poll() is None:
                listed = ros2_node_list(domain_id)
            code = demo.wait(timeout=240)
        finally:
            if demo.poll() is None:
                demo.kill()
                demo.wait()
    seen = set(watched.stdout.split())
    text = (tmp_path / "demo.out").read_text()
    assert code == 0, text
    assert EXPECTED <= seen, (seen, watched.stderr, text)
    assert NODES <= listed or not shutil.which("ros2"), listed
    assert f"ROS 2 nodes over rclpy, domain {domain_id}" in text.splitlines()[0]
    summary = json.loads((out / "summary.json").read_text())
    demo_part = summary["demo"]
    assert summary["complete"] is True and summary["storage"] == "rclpy"
    assert (demo_part["transport"], demo_part["domain_id"]) == ("rclpy", domain_id)
    assert set(demo_part["exit_codes"].values()) == {0} and len(demo_part["exit_codes"]) == 5
    assert (
        summary["speed"]["frames"] > 0
        and demo_part["fixed_t"] == 350
        and demo_part["fixed_t_frames"]
    )
    assert 0 < demo_part["energy_ratio"] < 1
    assert (out / "energy_vs_fixed.png").is_file() and (out / "timesteps_battery.png").is_file()
    for name in ("perception", "perception_baseline", "sim_robot"):
        assert "]: active" in (out / "logs" / f"{name}.log").read_text()
    assert os.listdir(out / "logs" / "ros")  # the nodes' own ROS log files, beside theirs

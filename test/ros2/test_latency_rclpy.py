"""``topspark latency --transport rclpy``: the perception node a ROS 2 process, the benchmark an
rclpy node, 640x480 bgr8 frames through the packaged Fast DDS profile; and nothing of it leaves
loopback.

The second test runs the benchmark again in a network namespace of its own that also holds a veth
pair (both ends inside it, so nothing can leave the machine either way) with an IPv4 address and
a multicast route: a default-configured rclpy node sends its discovery out of that interface,
the benchmark's processes (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST, as the demo's) send nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from topspark_ros.system.processes import rclpy_environment

RUN_S = 2.0
RATE_HZ = 10.0
DEFAULT_NODE = """
import sys, time, rclpy
from rclpy.context import Context
ctx = Context()
rclpy.init(context=ctx, domain_id=int(sys.argv[1]))
node = rclpy.create_node("default_discovery", context=ctx)
time.sleep(3.0)
node.destroy_node()
ctx.try_shutdown()
"""
# Run inside the new namespace: veth d0 (10.251.0.1/24, multicast route) <-> d1, no IPv6 (its
# router solicitations would count); prints the packets d0 sent around each command. The kernel
# repeats the control's IGMP leave report for a second or two: the count settles before the
# benchmark starts.
NAMESPACE_SCRIPT = """
set -e
ip link set lo up
ip link set lo multicast on
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link add d0 type veth peer name d1
ip addr add 10.251.0.1/24 dev d0
ip link set d1 up
ip link set d0 up
ip link set d0 multicast on
ip route add 224.0.0.0/4 dev d0
set +e
sent() { awk -F'[: ]+' '/d0:/ {print $12}' /proc/net/dev; }
a=$(sent); "$PYTHON" -c "$DEFAULT_NODE" 3 >/dev/null 2>&1; b=$(sent)
echo "default $((b - a))"
for i in 1 2 3 4 5 6 7 8 9 10; do c=$(sent); sleep 2; [ "$(sent)" = "$c" ] && break; done
a=$(sent); "$PYTHON" -m topspark_ros "$@" >"$LOG" 2>&1; code=$?; b=$(sent)
echo "benchmark $((b - a)) exit $code"
"""


def latency_args(model: Path, domain: int, tmp_path: Path) -> list[str]:
    """A short ``topspark latency --transport rclpy`` run with 640x480 bgr8 frames."""
    args = ["latency", "--transport", "rclpy", "--model", str(model), "--domain-id", str(domain)]
    args += ["--duration", str(RUN_S), "--warmup", "1", "--rate", str(RATE_HZ)]
    return [*args, "--log-dir", str(tmp_path / "logs"), "--out", str(tmp_path / "latency.json")]


def test_a_short_run_over_rclpy(trained_model: Path, tmp_path: Path, domain_id: int) -> None:
    command = [
        sys.executable,
        "-m",
        "topspark_ros",
        *latency_args(trained_model, domain_id, tmp_path),
    ]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "latency.json").read_text())
    sent = round(RUN_S * RATE_HZ)
    settings = report["settings"]
    assert (settings["transport"], settings["width"], settings["encoding"]) == (
        "rclpy",
        640,
        "bgr8",
    )
    assert report["frames_sent"] == sent and report["results"] >= sent - 2
    assert report["lost"] == sent - report["results"] and report["unknown"] == 0
    assert 0 < report["latency_ms"]["median"] <= report["latency_ms"]["p99"] < 1000
    assert report["compute_ms"]["median"] < report["pipeline_ms"]["median"]
    assert report["accuracy"] > 0.3
    assert done.stdout.startswith("perception over rclpy: ")
    assert "]: active" in (tmp_path / "logs" / "perception.log").read_text()


def test_the_rclpy_benchmark_sends_nothing_off_loopback(
    trained_model: Path, tmp_path: Path
) -> None:
    unshare = ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-rn"]
    env = {
        **rclpy_environment(),
        "PYTHON": sys.executable,
        "DEFAULT_NODE": DEFAULT_NODE,
        "LOG": str(tmp_path / "latency.out"),
    }
    env.pop("ROS_AUTOMATIC_DISCOVERY_RANGE", None)  # the benchmark sets it for itself and its node
    command = [*unshare, "bash", "-c", NAMESPACE_SCRIPT, "netns"]
    command += latency_args(trained_model, 5, tmp_path)
    done = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    counts = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    log = (tmp_path / "latency.out").read_text() if (tmp_path / "latency.out").exists() else ""
    if "default" not in counts:
        pytest.fail(f"could not set up the namespace: {done.stderr.strip()}")
    assert int(counts["default"]) > 0, "the control sent nothing: the count cannot be trusted"
    assert counts["benchmark"] == "0 exit 0", log
    assert json.loads((tmp_path / "latency.json").read_text())["results"] > 0

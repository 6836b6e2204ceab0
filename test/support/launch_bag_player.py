"""A small bag player for the launch tests, standing in for ``ros2 bag play BAG --clock`` (which
the pip ROS 2 lacks): publishes a bag's messages as stored (serialized CDR) at their bag times and
/clock, and records what the launched nodes answer.

    python launch_bag_player.py BAG OUT.json [--subscribers TOPIC=N] [--linger S]

Waits until TOPIC has N subscribers (the nodes are active) before playing; then plays, publishing
/clock every 20 ms, and waits up to --linger seconds for a classification of every image. OUT.json
holds the bag's start time, the image stamps sent, and the /classification and /timestep_command
messages received. Not a test module; run by test_ros2_launch.py inside its network namespace.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import rclpy
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.time import Time
from rosbags.highlevel import AnyReader
from rosgraph_msgs.msg import Clock
from rosidl_runtime_py.utilities import get_message

from topspark_ros.msg import Classification, TimestepCommand

CLOCK_PERIOD_S = 0.02
IMAGE_TYPE = "sensor_msgs/msg/Image"


def stamp_ns(stamp: Any) -> int:
    """A builtin_interfaces/Time as integer nanoseconds."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def main() -> int:
    """Play the bag, record the answers, write OUT.json; 1 if the subscribers never came."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("bag", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--subscribers", default="", help="TOPIC=N to wait for before playing")
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for them")
    parser.add_argument("--linger", type=float, default=15.0, help="seconds to wait for answers")
    args = parser.parse_args()

    with AnyReader([args.bag]) as reader:
        connections = {c.topic: c.msgtype for c in reader.connections}
        messages = [(c.topic, t, bytes(raw)) for c, t, raw in reader.messages()]
    rclpy.init()
    node = rclpy.create_node("launch_bag_player")
    reliable = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
    latched = QoSProfile(
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    )
    pubs = {
        topic: node.create_publisher(get_message(msgtype), topic, reliable)
        for topic, msgtype in connections.items()
    }
    clock = node.create_publisher(Clock, "/clock", reliable)
    results: list[dict[str, Any]] = []
    commands: list[dict[str, Any]] = []
    node.create_subscription(
        Classification,
        "/classification",
        lambda m: results.append(
            {"stamp_ns": stamp_ns(m.header.stamp), "timesteps": m.timesteps, "label": m.label}
        ),
        reliable,
    )
    node.create_subscription(
        TimestepCommand,
        "/timestep_command",
        lambda m: commands.append(
            {"stamp_ns": stamp_ns(m.header.stamp), "timesteps": m.timesteps, "mode": m.mode}
        ),
        latched,
    )
    images = [t for topic, t, _ in messages if connections[topic] == IMAGE_TYPE]
    start_ns = messages[0][1]
    report: dict[str, Any] = {"start_ns": start_ns, "images": images, "played": False}

    def spin_for(seconds: float, bag_time: Any) -> None:
        """Spin for ``seconds``, publishing /clock at ``bag_time()`` every CLOCK_PERIOD_S."""
        end = time.monotonic() + seconds
        while True:
            clock.publish(Clock(clock=Time(nanoseconds=bag_time()).to_msg()))
            left = end - time.monotonic()
            if left <= 0:
                return
            rclpy.spin_once(node, timeout_sec=min(CLOCK_PERIOD_S, left))

    try:
        if args.subscribers:
            topic, count = args.subscribers.split("=")
            deadline = time.monotonic() + args.wait
            while pubs[topic].get_subscription_count() < int(count):
                if time.monotonic() > deadline:
                    return 1
                rclpy.spin_once(node, timeout_sec=0.1)
        spin_for(0.5, lambda: start_ns)  # /clock first: the nodes leave time 0
        wall0 = time.monotonic()
        end_ns = messages[-1][1]

        def now_ns() -> int:
            return min(end_ns, start_ns + int((time.monotonic() - wall0) * 1e9))

        for topic, t, raw in messages:
            spin_for((t - start_ns) / 1e9 - (time.monotonic() - wall0), now_ns)
            pubs[topic].publish(raw)
        report["played"] = True
        deadline = time.monotonic() + args.linger
        wanted = set(images)
        while time.monotonic() < deadline and not wanted <= {r["stamp_ns"] for r in results}:
            spin_for(0.1, now_ns)
        return 0
    finally:
        report.update(classifications=results, commands=commands)
        args.out.write_text(json.dumps(report), encoding="utf-8")
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    raise SystemExit(main())

"""``topspark demo``: the whole system on a simulated robot, over rclpy or DDS, with a report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from topspark_ros.cli import args as argtypes
from topspark_ros.cli.node_cmds import TRANSPORTS, choose_transport

if TYPE_CHECKING:
    from topspark_ros.demo.run import DemoOptions

MAX_DURATION_S = 1e6  # seconds; about 11.5 days
DEFAULTS_NOTE = "embedded sample images and the packaged model and profile; no ROS 2 needed"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` sub-command."""
    from topspark_ros.demo.run import DemoOptions
    from topspark_ros.sim.config import SimRobotConfig

    defaults = DemoOptions()
    p = sub.add_parser(
        "demo",
        help="simulated robot + perception, timestep manager and online learner as processes",
        description=(
            "Starts a simulated robot (camera, labels, draining battery, environment switches) "
            "and the perception, timestep_manager and online_learner nodes as separate processes "
            "(real ROS 2 nodes over rclpy where ROS 2 and this package's messages are built and "
            "sourced, else over DDS), plus a fixed-T perception node on the same camera for "
            f"comparison; shows a live view and writes a report ({DEFAULTS_NOTE}). Every "
            "process stays on this host (loopback DDS; ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST "
            "for the ROS 2 nodes unless set)."
        ),
    )
    p.add_argument(
        "--duration",
        type=argtypes.float_in(0.0, MAX_DURATION_S, open_lo=True),
        default=defaults.duration_s,
        help="seconds (default %(default)s)",
    )
    p.add_argument("--out", type=Path, default=defaults.out, help="report directory")
    p.add_argument("--environments", default=defaults.environments, help="comma list, in order")
    p.add_argument(
        "--rate",
        type=argtypes.config_float(SimRobotConfig, "rate_hz"),
        default=defaults.rate_hz,
        help="camera rate (Hz)",
    )
    p.add_argument(
        "--fixed-t",
        type=argtypes.timesteps,
        default=defaults.baseline_timesteps,
        help="T of the comparison run",
    )
    p.add_argument("--seed", type=argtypes.seed, default=defaults.seed)
    p.add_argument(
        "--transport",
        choices=TRANSPORTS,
        default="auto",
        help="auto (default): rclpy where ROS 2 and topspark_ros.msg import, else dds",
    )
    p.add_argument(
        "--domain-id",
        type=argtypes.domain_id,
        default=None,
        help="ROS 2/DDS domain (default: 100..199 by pid)",
    )
    p.set_defaults(func=cmd_demo)


def demo_options(args: argparse.Namespace) -> DemoOptions:
    """The demo's options from the command line, the transport resolved (auto: rclpy if it can
    run, else dds; rclpy where it cannot: ConfigError)."""
    from topspark_ros.demo.run import DemoOptions

    return DemoOptions(
        duration_s=args.duration,
        out=args.out,
        environments=args.environments,
        rate_hz=args.rate,
        baseline_timesteps=args.fixed_t,
        seed=args.seed,
        transport=choose_transport(args.transport),
        domain_id=-1 if args.domain_id is None else args.domain_id,
    )


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the demo; exit 0 when it ran to the end, 1 if a node died, 128 + the signal when
    Ctrl-C, SIGTERM or SIGHUP stopped it (the report is written in every case)."""
    from topspark_ros.demo.memory import render_memory
    from topspark_ros.demo.result import energy_ratio
    from topspark_ros.demo.run import run_demo
    from topspark_ros.replay.metrics import summarize
    from topspark_ros.replay.summary import render_summary

    options = demo_options(args)
    result = run_demo(options)
    print(render_summary(summarize(result.log)))
    mine, theirs, ratio = energy_ratio(result.energy, result.baseline_energy)
    if mine is not None and theirs is not None and ratio is not None:
        print(
            f"energy per frame {1e6 * mine:.0f} uJ against {1e6 * theirs:.0f} uJ at fixed "
            f"T={options.baseline_timesteps}: ratio {ratio:.2f}"
        )
    if result.memory is not None:
        memory = render_memory(result.memory.summary())
        if memory:
            print(memory)
    print(f"report in {options.out}")
    if result.failed:
        print(f"error: {result.failed}; the other nodes were stopped", file=sys.stderr)
        return 1
    if result.stopped:
        print(f"error: {result.stopped}; report written", file=sys.stderr)
        return result.stop_code
    return 0


__all__ = ["cmd_demo", "demo_options", "register"]

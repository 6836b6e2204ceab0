"""``topspark demo``: the whole system on a simulated robot, over DDS, with a report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULTS_NOTE = "embedded sample images and the packaged model and profile; no ROS 2 needed"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` sub-command."""
    from topspark_ros.demo.run import DemoOptions

    defaults = DemoOptions()
    p = sub.add_parser(
        "demo",
        help="simulated robot + perception, timestep manager and online learner over DDS",
        description=(
            "Starts a simulated robot (camera, labels, draining battery, environment switches) "
            "and the perception, timestep_manager and online_learner nodes as separate processes "
            "over DDS, plus a fixed-T perception node on the same camera for comparison; shows "
            f"a live view and writes a report ({DEFAULTS_NOTE})."
        ),
    )
    p.add_argument(
        "--duration", type=float, default=defaults.duration_s, help="seconds (default %(default)s)"
    )
    p.add_argument("--out", type=Path, default=defaults.out, help="report directory")
    p.add_argument("--environments", default=defaults.environments, help="comma list, in order")
    p.add_argument("--rate", type=float, default=defaults.rate_hz, help="camera rate (Hz)")
    p.add_argument(
        "--fixed-t", type=int, default=defaults.baseline_timesteps, help="T of the comparison run"
    )
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the demo; exit 0 when it ran to the end, 130 on Ctrl-C, 1 if a node died."""
    from topspark_ros.demo.run import DemoOptions, run_demo
    from topspark_ros.demo.view import energy_ratio
    from topspark_ros.replay.metrics import summarize
    from topspark_ros.replay.records import INTERRUPTED
    from topspark_ros.replay.report import render_summary

    options = DemoOptions(
        duration_s=args.duration,
        out=args.out,
        environments=args.environments,
        rate_hz=args.rate,
        baseline_timesteps=args.fixed_t,
        seed=args.seed,
    )
    result = run_demo(options)
    print(render_summary(summarize(result.log)))
    mine, theirs, ratio = energy_ratio(result.log, result.baseline)
    if mine is not None and theirs is not None and ratio is not None:
        print(
            f"energy per frame {1e6 * mine:.0f} uJ against {1e6 * theirs:.0f} uJ at fixed "
            f"T={options.baseline_timesteps}: ratio {ratio:.2f}"
        )
    print(f"report in {options.out}")
    if result.failed:
        print(f"error: {result.failed}; the other nodes were stopped", file=sys.stderr)
        return 1
    if result.stopped == INTERRUPTED:
        print(f"error: {INTERRUPTED}; report written", file=sys.stderr)
        return 130
    return 0


__all__ = ["cmd_demo", "register"]

"""``topspark replay BAG --out DIR``: evaluate perception offline on a recorded rosbag2 bag."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from topspark_ros.bags.reader import ROLES
from topspark_ros.bags.writer import STORAGES
from topspark_ros.cli.node_cmds import node_config
from topspark_ros.errors import ConfigError
from topspark_ros.graph.wiring import ROBOT_NODES

if TYPE_CHECKING:
    from topspark_ros.replay.records import ReplayLog
    from topspark_ros.replay.run import ReplayOptions


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``replay`` sub-command."""
    p = sub.add_parser(
        "replay",
        help="run perception + timestep manager (+ learner) over a rosbag2 bag and report",
        description=(
            "Replays a rosbag2 bag (sqlite3 or MCAP; a bag directory or its storage file) through "
            "the perception node, the timestep manager and, with --learn, the online learner, in "
            "bag time. Writes DIR/results (a bag of classifications, timestep commands and "
            "learning status), summary.json, a CSV per stream and PNG plots."
        ),
    )
    p.add_argument("bag", help="rosbag2 bag directory, or its .db3 / .mcap file")
    p.add_argument("--out", required=True, help="output directory (created; files replaced)")
    p.add_argument("--learn", action="store_true", help="also run the online learner")
    p.add_argument("--model", help="model file (.npz) for perception and the learner")
    p.add_argument("--profile", help="operating-point profile for the timestep manager")
    p.add_argument("--params", help="ROS 2 parameter YAML with sections for the nodes")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NODE.KEY=VALUE",
        help="override one node parameter, e.g. perception.timesteps=50 (repeatable)",
    )
    for role in ROLES:
        p.add_argument(
            f"--{role.name}-topic",
            help=f"the {role.typename} topic to use (default: found by type)",
        )
    p.add_argument(
        "--storage", choices=sorted(STORAGES), help="results bag storage (default: the input's)"
    )
    p.add_argument("--verbose", action="store_true", help="print the nodes' info messages too")
    p.set_defaults(func=cmd_replay)


class _Console:
    """Node log lines on stderr, kept clear of the progress bar."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose

    def info(self, msg: str) -> None:
        if self.verbose:
            tqdm.write(msg, file=sys.stderr)

    def warning(self, msg: str) -> None:
        tqdm.write(f"warning: {msg}", file=sys.stderr)

    def error(self, msg: str) -> None:
        tqdm.write(f"error: {msg}", file=sys.stderr)


def _split_overrides(items: list[str]) -> dict[str, list[str]]:
    """``NODE.KEY=VALUE`` items grouped by node as ``KEY=VALUE``."""
    grouped: dict[str, list[str]] = {name: [] for name in ROBOT_NODES}
    for item in items:
        node, dot, rest = item.partition(".")
        if not dot or node not in ROBOT_NODES:
            raise ConfigError(
                f"--set expects NODE.KEY=VALUE with NODE one of {', '.join(ROBOT_NODES)}, "
                f"got {item!r}"
            )
        grouped[node].append(rest)
    return grouped


def options_from_args(args: argparse.Namespace) -> ReplayOptions:
    """The replay's options: params file, then --set, then --model / --profile."""
    from topspark_ros.config import read_yaml
    from topspark_ros.replay.run import ReplayOptions
    from topspark_ros.ros.params_file import check_sections

    if args.params:  # a misspelt or missing node section would otherwise be ignored silently
        check_sections(read_yaml(args.params, "parameter file"), ROBOT_NODES, args.params)
    overrides = _split_overrides(args.overrides)
    configs: dict[str, Any] = {
        name: node_config(spec, args.params, overrides[name], "")
        for name, spec in ROBOT_NODES.items()
    }
    if args.model:
        for name in ("perception", "online_learner"):
            configs[name] = dataclasses.replace(configs[name], model_path=args.model)
    if args.profile:
        configs["timestep_manager"] = dataclasses.replace(
            configs["timestep_manager"], profile_path=args.profile
        )
    return ReplayOptions(
        bag=Path(args.bag),
        out=Path(args.out),
        learn=args.learn,
        topics={role.name: getattr(args, f"{role.name}_topic") for role in ROLES},
        storage=args.storage or "",
        perception=configs["perception"],
        timestep_manager=configs["timestep_manager"],
        online_learner=configs["online_learner"],
    )


def cmd_replay(args: argparse.Namespace) -> int:
    """Replay, print the summary; exit 1 if the bag broke off mid-way, 128 + the signal when
    Ctrl-C (130), SIGTERM or SIGHUP stopped it."""
    from topspark_ros.replay.metrics import summarize
    from topspark_ros.replay.run import replay
    from topspark_ros.replay.summary import render_summary

    options = options_from_args(args)
    bar: tqdm[Any] | None = None

    def start(log: ReplayLog, frames: int) -> None:
        nonlocal bar
        bar = tqdm(total=frames, desc="replay", unit="frame", disable=None, leave=False)

    def progress(n: int) -> None:
        if bar is not None:
            bar.update(n)

    try:
        log = replay(options, _Console(args.verbose), progress, start)
    finally:
        if bar is not None:
            bar.close()
    print(render_summary(summarize(log)))
    print(f"outputs in {options.out}")
    if log.complete:
        return 0
    if log.stop_code:  # Ctrl-C, SIGTERM or SIGHUP: 128 + the signal
        print(f"error: {log.stopped}; partial results written", file=sys.stderr)
        return log.stop_code
    print(f"error: {log.stopped}; partial results written", file=sys.stderr)
    return 1


__all__ = ["cmd_replay", "options_from_args", "register"]

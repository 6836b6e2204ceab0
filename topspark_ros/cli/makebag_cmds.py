"""``topspark make-bag``: write a scenario bag (camera, labels, battery, environment switches)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from topspark_ros import config
from topspark_ros.bags.writer import STORAGES, replace_refusal
from topspark_ros.cli.common import add_data_source_args, progress_bar
from topspark_ros.errors import BagError
from topspark_ros.io_utils import check_output_parent
from topspark_ros.sim.bag import write_scenario
from topspark_ros.sim.render import RENDER_ENCODINGS
from topspark_ros.sim.scenario import ScenarioConfig, message_counts

SECTION = "scenario"
# flag (argparse dest) -> ScenarioConfig field it overrides
OVERRIDES = {
    "duration": "duration_s",
    "rate": "rate_hz",
    "environments": "environments",
    "width": "width",
    "height": "height",
    "encoding": "encoding",
    "scale": "scale",
    "seed": "seed",
}
DEFAULTS = ScenarioConfig()
FIELDS = {f.name: f for f in config.config_fields(ScenarioConfig)}


def scenario_from_args(args: argparse.Namespace) -> ScenarioConfig:
    """The ScenarioConfig of --config (else the defaults) with the flags given applied over it."""
    base = config.load(ScenarioConfig, args.config, SECTION) if args.config else DEFAULTS
    changes: dict[str, Any] = {
        key: getattr(args, flag)
        for flag, key in OVERRIDES.items()
        if getattr(args, flag) is not None
    }
    if not changes:
        return base
    return config.updated(base, changes, "flags")


def human_size(size: int) -> str:
    """A byte count in KiB, MiB or GiB."""
    value = size / 1024.0
    for unit in ("KiB", "MiB"):
        if value < 1024.0:
            return f"{value:.1f} {unit}"
        value /= 1024.0
    return f"{value:.1f} GiB"


def cmd_make_bag(args: argparse.Namespace) -> int:
    """Write the scenario bag and print its path, messages per topic and size."""
    refusal = replace_refusal(Path(args.out))  # before any work; BagWriter checks again
    if refusal is not None:
        raise BagError(refusal)
    check_output_parent(args.out, "OUT")  # the bag is staged beside OUT and renamed into it
    cfg = scenario_from_args(args)
    total = message_counts(cfg)[cfg.camera_topic]
    with progress_bar(total, "frames") as progress:
        bag = write_scenario(
            args.out, cfg, args.storage, args.data_dir, args.embedded, progress, args.compress
        )
    counts = ", ".join(f"{topic} {n}" for topic, n in bag.counts.items())
    print(
        f"wrote {bag.path} ({args.storage}{', zstd' if args.compress else ''}, "
        f"{cfg.duration_s:g} s, {cfg.environments}, "
        f"{cfg.width}x{cfg.height} {cfg.encoding} at {cfg.rate_hz:g} Hz): {bag.messages} "
        f"messages ({counts}), {human_size(bag.size_bytes)}"
    )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``make-bag`` sub-command."""
    p = sub.add_parser(
        "make-bag",
        help="write a scenario rosbag2 bag: camera, labels, draining battery, environments",
        description=(
            "Write OUT, a rosbag2 bag of a scenario: dataset test images rendered as camera "
            "frames with their labels, each environment in turn, a draining battery and the "
            "environment's name. Flags override --config."
        ),
    )
    p.add_argument(
        "out",
        metavar="OUT",
        help="bag directory to write (a bag this command wrote is replaced; anything else kept)",
    )
    p.add_argument(
        "--config", help=f"YAML file with a '{SECTION}:' section (config/scenario.yaml)"
    )
    p.add_argument(
        "--storage", choices=tuple(STORAGES), default="sqlite3", help="default: sqlite3"
    )
    p.add_argument(
        "--compress",
        action="store_true",
        help="zstd as ros2 bag does: per message (sqlite3), MCAP chunks (mcap)",
    )
    for flag, key in OVERRIDES.items():
        p.add_argument(
            f"--{flag}",
            type=type(getattr(DEFAULTS, key)),
            choices=RENDER_ENCODINGS if key == "encoding" else None,
            help=f"{FIELDS[key].metadata['doc']} (default {getattr(DEFAULTS, key)})",
        )
    add_data_source_args(p)
    p.set_defaults(func=cmd_make_bag)


__all__ = ["OVERRIDES", "cmd_make_bag", "human_size", "register", "scenario_from_args"]

"""``topspark reproduce``: the four method steps end to end, then report.md."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from topspark_ros.cli import args as argtypes
from topspark_ros.cli.common import (
    add_config_args,
    add_execution_args,
    execution_from_args,
    params_from_args,
    runs_bar,
)
from topspark_ros.cli.method_cmds import SENSITIVITY_FILES, SWEEP_FILES
from topspark_ros.data import Dataset, load_data
from topspark_ros.energy import load_energy_model
from topspark_ros.errors import ConfigError
from topspark_ros.io_utils import check_output_dir
from topspark_ros.topspark.report import render
from topspark_ros.topspark.reproduce import Plan, run_all
from topspark_ros.topspark.runs import open_runner

# What reproduce writes in its --out directory (and its sweep/ and sensitivity/ folders).
REPORT_FILES = (
    "claims.csv",
    "claims.json",
    "claim_runs.csv",
    "claim_runs.json",
    "profile.yaml",
    "report.md",
)


def check_out(out: Path) -> None:
    """ConfigError before the work unless every output of a reproduction can be written."""
    check_output_dir(out, "--out", REPORT_FILES)
    check_output_dir(out / "sweep", "--out", SWEEP_FILES)
    check_output_dir(out / "sensitivity", "--out", SENSITIVITY_FILES)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``reproduce``."""
    p = sub.add_parser(
        "reproduce",
        help="run sweep, sensitivity, enhancement and profile; write report.md",
        description="Steps 1-4 of the TopSpark method and the paper's claims as tables. "
        "--quick: embedded samples, a small network, a few minutes; the full run needs the "
        "MNIST and Fashion-MNIST files (topspark download) and takes under an hour.",
    )
    p.add_argument("--quick", action="store_true", help="smoke run on the embedded samples")
    p.add_argument(
        "--data-dir",
        help="directory holding <dataset>/*-idx?-ubyte[.gz] (default: $TOPSPARK_DATA, user cache)",
    )
    add_config_args(p)
    p.add_argument(
        "--seeds",
        type=argtypes.seed,
        nargs="+",
        metavar="SEED",
        help="seeds the claims average over (default: 0 1 2; --quick: 0 1)",
    )
    p.add_argument("--energy", help="energy model YAML (an 'energy:' section)")
    p.add_argument("--out", type=Path, default=Path("runs/reproduce"), help="output directory")
    add_execution_args(p)
    p.set_defaults(func=cmd_reproduce)


def cmd_reproduce(args: argparse.Namespace) -> int:
    """Run the plan, print progress lines, write every step's files and report.md."""
    check_out(args.out)
    plan = Plan.quick() if args.quick else Plan.full()
    if args.seeds:
        try:
            plan = dataclasses.replace(plan, seeds=tuple(args.seeds))
        except ValueError as err:
            raise ConfigError(f"--seeds: {err}") from err
    base = params_from_args(args, enhanced=False)
    energy = load_energy_model(args.energy) if args.energy else None
    command = "topspark " + " ".join(sys.argv[1:]) if sys.argv[1:] else "topspark reproduce"
    start = time.perf_counter()

    def load(dataset: str, split: str, limit: int) -> Dataset:
        return load_data(dataset, split, args.data_dir, args.quick, limit)

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - start:7.1f} s] {message}", flush=True)

    with runs_bar("reproduce") as bar, open_runner(execution_from_args(args), bar) as runner:
        outcome = run_all(plan, base, load, args.out, energy, log, command, runner)
    report = render(args.out, outcome, base, command)
    log(f"reproduce done -> {report}")
    return 0


__all__ = ["cmd_reproduce", "register"]

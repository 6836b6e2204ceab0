"""TopSpark step 4 command ``profile``: a sweep's results -> profile YAML -> the chosen T."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from topspark_ros.cli import args as argtypes
from topspark_ros.io_utils import check_output_file
from topspark_ros.topspark.profile import (
    DEFAULT_BASELINE_TIMESTEPS,
    Profile,
    ProfileError,
    Series,
    default_baseline,
    profile_from_records,
    read_sweep_records,
    save_profile,
    sweep_series,
)
from topspark_ros.topspark.tradeoff import Constraints, Weights, profile_table, select

DEFAULT_OUT = Path("runs/profile/profile.yaml")
_FILTERS = "--dataset, --neurons, --rule or --enhanced/--no-enhanced"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``profile``."""
    p = sub.add_parser(
        "profile",
        help="operating-point profile YAML from sweep results, and the lowest-cost T",
        description=(
            "Build the operating-point profile (accuracy, latency, training and inference energy "
            "and memory per T) of one sweep series, write it as YAML, then choose the T of lowest "
            "cost that meets the constraints. cost = w_latency*latency/latency(base) + "
            "w_energy*infer_energy/infer_energy(base) + w_memory*memory/memory(base) + "
            "w_accuracy*(accuracy points lost vs base). The profile is written even when no T "
            "meets the constraints (then exit status 1)."
        ),
    )
    p.add_argument(
        "results",
        type=Path,
        help="sweep.json or sweep.csv written by 'topspark sweep', or its --out directory",
    )
    g = p.add_argument_group("series (needed when the sweep holds several)")
    g.add_argument("--dataset", help="dataset of the series, e.g. mnist")
    g.add_argument(
        "--neurons", type=argtypes.neurons, metavar="N", help="network size N of the series"
    )
    g.add_argument("--rule", help="learning rule of the series, e.g. pair")
    g.add_argument(
        "--enhanced",
        action=argparse.BooleanOptionalAction,
        help="the enhanced (or plain) series; an enhanced one borrows the plain baseline row",
    )
    g.add_argument(
        "--baseline",
        type=argtypes.timesteps,
        metavar="T",
        help=f"baseline T (default: {DEFAULT_BASELINE_TIMESTEPS} if measured, else the largest)",
    )
    c = p.add_argument_group("constraints")
    c.add_argument(
        "--max-accuracy-drop",
        type=argtypes.percent,
        default=2.0,
        metavar="POINTS",
        help="accuracy at most this many percentage points below the baseline's (default: 2)",
    )
    c.add_argument(
        "--min-accuracy",
        type=argtypes.percent,
        metavar="PERCENT",
        help="absolute accuracy floor in %%",
    )
    c.add_argument(
        "--deadline-ms",
        type=argtypes.positive_float,
        metavar="MS",
        help="mean inference latency per sample at most this many milliseconds",
    )
    c.add_argument(
        "--energy-budget-uj",
        type=argtypes.positive_float,
        metavar="UJ",
        help="modelled inference energy per sample at most this many microjoules",
    )
    w = p.add_argument_group("cost weights (>= 0)")
    defaults = Weights()
    for name, what in (
        ("latency", "latency relative to the baseline's"),
        ("energy", "inference energy relative to the baseline's"),
        ("memory", "memory relative to the baseline's"),
        ("accuracy", "each accuracy point lost against the baseline"),
    ):
        w.add_argument(
            f"--weight-{name}",
            type=argtypes.non_negative_float,
            default=getattr(defaults, name),
            metavar="W",
            help=f"weight of {what} (default: {getattr(defaults, name):g})",
        )
    p.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"profile YAML to write (default: {DEFAULT_OUT})",
    )
    p.add_argument(
        "--sweep-command",
        metavar="CMD",
        help="the command that produced the results, recorded in the profile's header so that "
        "the header's 'regenerate:' line remakes the file in one command",
    )
    p.add_argument(
        "--note",
        action="append",
        default=[],
        metavar="TEXT",
        help="a comment line for the profile's header (repeatable)",
    )
    p.set_defaults(func=cmd_profile)


def cmd_profile(args: argparse.Namespace) -> int:
    """Write the profile of the chosen series, print its table and the selected T."""
    check_output_file(args.out, "--out")
    source, records = read_sweep_records(args.results)
    series = _choose_series(source, records, args)
    baseline = default_baseline(records, series) if args.baseline is None else args.baseline
    try:
        profile = profile_from_records(
            records, series.dataset, series.n_neurons, series.rule, series.enhanced, baseline
        )
    except ProfileError as err:
        raise ProfileError(f"{source}: {err}") from err
    notes = _notes(args, source, records, profile, series)
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ProfileError(f"{args.out}: cannot write profile ({err.strerror or err})") from err
    save_profile(args.out, profile, notes)
    print(
        f"profile {series.label}: {len(profile.points)} points, baseline T={baseline} "
        f"-> {args.out}"
    )
    constraints = Constraints(
        max_accuracy_drop=args.max_accuracy_drop / 100.0,
        min_accuracy=None if args.min_accuracy is None else args.min_accuracy / 100.0,
        latency_deadline_ms=args.deadline_ms,
        energy_budget_j=None if args.energy_budget_uj is None else args.energy_budget_uj * 1e-6,
    )
    weights = Weights(
        latency=args.weight_latency,
        energy=args.weight_energy,
        memory=args.weight_memory,
        accuracy=args.weight_accuracy,
    )
    print("\n".join(profile_table(profile, constraints, weights)))
    chosen = select(profile, constraints, weights)
    print(f"chosen {chosen.reason}")
    return 0


def _choose_series(
    source: Path, records: Sequence[Mapping[str, Any]], args: argparse.Namespace
) -> Series:
    """The one series of ``records`` that the filter flags leave; ProfileError listing them."""
    try:
        present = sweep_series(records)
    except ProfileError as err:
        raise ProfileError(f"{source}: {err}") from err
    matches = [
        s
        for s in present
        if args.dataset in (None, s.dataset)
        and args.neurons in (None, s.n_neurons)
        and args.rule in (None, s.rule)
        and args.enhanced in (None, s.enhanced)
    ]
    if len(matches) == 1:
        return matches[0]
    listed = "; ".join(s.label for s in present)
    if not matches:
        raise ProfileError(f"{source}: no series matches the filters (series present: {listed})")
    found = "; ".join(s.label for s in matches)
    raise ProfileError(f"{source}: {len(matches)} series match ({found}); choose with {_FILTERS}")


def _notes(
    args: argparse.Namespace,
    source: Path,
    records: Sequence[Mapping[str, Any]],
    profile: Profile,
    series: Series,
) -> list[str]:
    """Header comments: where the numbers come from and the command that remakes the file.

    The sweep settings (samples, epochs, seed) are listed when all rows of the network agree.
    """
    rows = [r for r in records if _same_network(r, profile)]
    settings = [
        f"{key}={values.pop()}"
        for key in ("train_samples", "test_samples", "epochs", "seed")
        if len(values := {r.get(key) for r in rows}) == 1 and None not in values
    ]
    made_by = ["topspark", "profile", str(args.results)]
    made_by += ["--dataset", profile.dataset, "--neurons", str(profile.n_neurons)]
    made_by += ["--rule", profile.rule, "--enhanced" if series.enhanced else "--no-enhanced"]
    made_by += ["--baseline", str(profile.baseline_timesteps), "--out", str(args.out)]
    if args.sweep_command:
        made_by += ["--sweep-command", args.sweep_command]
    for note in args.note:
        made_by += ["--note", note]
    regenerate = shlex.join(made_by)
    if args.sweep_command:
        regenerate = f"{args.sweep_command} && {regenerate}"
    steps = ",".join(str(p.timesteps) for p in profile.points)
    source_line = f"source: {source}: {series.label}, T={steps}"
    return [
        *args.note,
        source_line + "".join(f", {s}" for s in settings),
        f"regenerate: {regenerate}",
    ]


def _same_network(row: Mapping[str, Any], profile: Profile) -> bool:
    """Whether a (validated) sweep row is of the profile's dataset, size and rule."""
    network = (profile.dataset, profile.n_neurons, profile.rule)
    return (row["dataset"], int(row["n_neurons"]), row["rule"]) == network


__all__ = ["cmd_profile", "register"]

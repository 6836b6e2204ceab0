"""TopSpark method commands: ``sweep`` (timestep impact), ``sensitivity`` (significance); their
runs go to Dask workers or run serially (``--workers``/``--scheduler``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from topspark_ros.cli import args as argtypes
from topspark_ros.cli.common import (
    add_config_args,
    add_data_args,
    add_execution_args,
    execution_from_args,
    load_split,
    params_from_args,
    runs_bar,
)
from topspark_ros.energy import load_energy_model
from topspark_ros.io_utils import check_output_dir
from topspark_ros.snn.params import RULES
from topspark_ros.topspark.experiment import PointResult
from topspark_ros.topspark.runs import open_runner
from topspark_ros.topspark.sensitivity import (
    PARAMETERS,
    Perturbation,
    ranking,
    run_sensitivity,
    write_sensitivity,
)
from topspark_ros.topspark.sweep import DEFAULT_TIMESTEPS, run_sweep, sweep_specs, write_results

# The files each command writes in its --out directory, checked before the work.
SWEEP_FILES = ("sweep.csv", "sweep.json", "accuracy_vs_t.png", "energy_vs_t.png")
SENSITIVITY_FILES = (
    "sensitivity.csv",
    "sensitivity.json",
    "ranking.md",
    "sensitivity.png",
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sweep`` and ``sensitivity``."""
    p = sub.add_parser("sweep", help="accuracy, latency and energy vs T (train and infer at T)")
    add_data_args(p)
    add_config_args(p)
    p.add_argument("--neurons", dest="sizes", type=argtypes.neurons, nargs="+", default=[100])
    p.add_argument("--rules", nargs="+", choices=RULES, default=["pair"])
    p.add_argument(
        "--timesteps",
        dest="steps",
        type=argtypes.timesteps,
        nargs="+",
        default=DEFAULT_TIMESTEPS,
    )
    p.add_argument("--train-samples", type=argtypes.positive_int, default=60000)
    p.add_argument("--test-samples", type=argtypes.positive_int, default=10000)
    p.add_argument("--epochs", type=argtypes.positive_int, default=1)
    p.add_argument("--seed", type=argtypes.seed, default=0)
    p.add_argument("--energy", help="energy model YAML (an 'energy:' section)")
    p.add_argument("--out", type=Path, default=Path("runs/sweep"), help="output directory")
    add_execution_args(p)
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("sensitivity", help="rank neuron/learning parameters by accuracy impact")
    add_data_args(p)
    add_config_args(p)
    p.add_argument("--neurons", "-n", type=argtypes.neurons, default=100)
    p.add_argument(
        "--timesteps", dest="steps", type=argtypes.timesteps, nargs="+", default=[350, 100, 40]
    )
    p.add_argument("--params", nargs="+", choices=PARAMETERS, default=list(PARAMETERS))
    p.add_argument("--scales", type=argtypes.positive_float, nargs="+", default=[0.5, 2.0])
    p.add_argument("--train-samples", type=argtypes.positive_int, default=10000)
    p.add_argument("--test-samples", type=argtypes.positive_int, default=2000)
    p.add_argument("--seed", type=argtypes.seed, default=0)
    p.add_argument("--out", type=Path, default=Path("runs/sensitivity"), help="output directory")
    add_execution_args(p)
    p.set_defaults(func=cmd_sensitivity)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Train and evaluate a fresh network per (N, rule, T); write CSV, JSON and plots."""
    check_output_dir(args.out, "--out", SWEEP_FILES)
    base = params_from_args(args, enhanced=False)
    train = load_split(args, "train", args.train_samples)
    test = load_split(args, "test", args.test_samples)
    energy = load_energy_model(args.energy) if args.energy else None
    specs = sweep_specs(
        base,
        args.dataset,
        args.sizes,
        args.rules,
        args.steps,
        len(train),
        len(test),
        args.epochs,
        args.seed,
        enhanced=args.enhance,
    )
    done: dict[int, PointResult] = {}

    def report(index: int, r: PointResult) -> None:
        done[index] = r
        print(
            f"[{len(done)}/{len(specs)}] N{r.n_neurons} {r.rule} T={r.timesteps}: "
            f"accuracy {100 * r.accuracy:.2f}%, latency {r.latency_ms:.3f} ms, "
            f"energy train {1e6 * r.train_energy_j:.1f} / infer {1e6 * r.infer_energy_j:.1f} uJ",
            flush=True,
        )

    try:
        with runs_bar("sweep") as bar, open_runner(execution_from_args(args), bar) as runner:
            run_sweep(specs, train, test, energy, on_result=report, runner=runner)
    finally:
        if done:  # the finished runs, in spec order, also when stopped early
            write_results(args.out, [done[i] for i in sorted(done)])
    print(f"sweep done: {len(done)} points on {args.dataset} -> {args.out}")
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Perturb each parameter one at a time at each T; write the ranked table and heat map."""
    check_output_dir(args.out, "--out", SENSITIVITY_FILES)
    base = params_from_args(args, enhanced=False).replace(n_neurons=args.neurons)
    train = load_split(args, "train", args.train_samples)
    test = load_split(args, "test", args.test_samples)
    done: dict[int, Perturbation] = {}

    def report(index: int, r: Perturbation) -> None:
        done[index] = r
        print(
            f"T={r.timesteps} {r.parameter} x{r.scale:g} ({r.value:g}): "
            f"accuracy {100 * r.accuracy:.2f}% ({100 * r.delta:+.2f})",
            flush=True,
        )

    try:
        with runs_bar("sensitivity") as bar, open_runner(execution_from_args(args), bar) as runner:
            run_sensitivity(
                base,
                args.dataset,
                train,
                test,
                args.steps,
                args.params,
                args.scales,
                args.seed,
                on_result=report,
                runner=runner,
            )
    finally:
        if done:  # the known rows, in order, also when stopped early
            write_sensitivity(args.out, [done[i] for i in sorted(done)])
    rows = [done[i] for i in sorted(done)]
    tops = ", ".join(f"T={t}: {ranking(rows, t)[0][0]}" for t in args.steps if ranking(rows, t))
    print(f"sensitivity done: {len(done)} runs; most significant {tops} -> {args.out}")
    return 0

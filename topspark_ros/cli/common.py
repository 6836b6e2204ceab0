"""Arguments and helpers shared by commands: data source, network parameters, where independent
runs go (serial, a local or an existing Dask cluster), progress bars."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any

import yaml
from tqdm import tqdm

from topspark_ros import config
from topspark_ros.cli.args import neurons, non_negative_int, timesteps
from topspark_ros.data import DATASETS, Dataset, load_data
from topspark_ros.errors import ConfigError
from topspark_ros.snn.network import Progress
from topspark_ros.snn.params import INHIBITIONS, PRESETS, RULES, NetworkParams, load_preset
from topspark_ros.topspark.retarget import Retarget
from topspark_ros.topspark.runs import Execution
from topspark_ros.topspark.runs import Progress as RunProgress


def add_data_args(parser: argparse.ArgumentParser) -> None:
    """--dataset, and where its files come from: --data-dir or the --embedded sample."""
    parser.add_argument("--dataset", choices=DATASETS, default="mnist", help="default: mnist")
    add_data_source_args(parser)


def add_data_source_args(parser: argparse.ArgumentParser) -> None:
    """Where dataset files come from: --data-dir or the --embedded sample."""
    src = parser.add_mutually_exclusive_group()
    src.add_argument(
        "--data-dir",
        help="directory holding <dataset>/*-idx?-ubyte[.gz] (default: $TOPSPARK_DATA, user cache)",
    )
    src.add_argument(
        "--embedded", action="store_true", help="use the small sample shipped with the package"
    )


def load_split(args: argparse.Namespace, split: str, limit: int | None) -> Dataset:
    """The requested split of the chosen dataset, truncated to ``limit`` samples if given."""
    return load_data(args.dataset, split, args.data_dir, args.embedded, limit)


def add_param_args(parser: argparse.ArgumentParser) -> None:
    """--config YAML, the common size/T/rule flags and free ``--set key=value`` overrides."""
    parser.add_argument("--neurons", "-n", type=neurons, help="excitatory neurons (N)")
    parser.add_argument("--timesteps", "-T", type=timesteps, help="simulation steps per sample")
    parser.add_argument("--rule", choices=RULES, help="STDP rule")
    parser.add_argument("--inhibition", choices=INHIBITIONS, help="lateral inhibition variant")
    add_config_args(parser)


def add_set_arg(parser: argparse.ArgumentParser) -> None:
    """Free ``--set key=value`` overrides of any network parameter."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any network parameter (repeatable), e.g. --set w_inh_exc=120",
    )


def add_config_args(parser: argparse.ArgumentParser) -> None:
    """--preset or --config YAML, and ``--set key=value`` parameter overrides."""
    src = parser.add_mutually_exclusive_group()
    src.add_argument(
        "--preset",
        choices=PRESETS,
        default="tuned",
        help="shipped parameter set: tuned (default), fashion (bright images), diehl-cook (paper)",
    )
    src.add_argument("--config", help="YAML file with a 'network:' section of parameters")
    add_set_arg(parser)
    add_enhance_arg(parser)


def add_enhance_arg(parser: argparse.ArgumentParser) -> None:
    """--enhance: the TopSpark enhancement rules at the T in force."""
    parser.add_argument(
        "--enhance",
        action="store_true",
        help="apply the TopSpark enhancement rules for T below 350 (docs/enhancement.md)",
    )


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` strings to a dict, values parsed as YAML scalars."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as err:
            raise ConfigError(f"--set {key}: cannot parse value {value!r}") from err
    return out


def retarget_from_args(args: argparse.Namespace, base: NetworkParams | None = None) -> Retarget:
    """The network the flags describe, at any T: parameters from ``base`` (else --config or
    --preset), then flags, then --set overrides; the enhancement rules on with --enhance."""
    if base is not None:
        params = base
    elif getattr(args, "config", None):
        params = config.load(NetworkParams, args.config, "network")
    else:
        params = load_preset(getattr(args, "preset", "tuned"))
    changes: dict[str, Any] = {}
    for flag, key in (
        ("neurons", "n_neurons"),
        ("timesteps", "timesteps"),
        ("rule", "rule"),
        ("inhibition", "inhibition"),
    ):
        value = getattr(args, flag, None)
        if value is not None:
            changes[key] = value
    changes.update(parse_overrides(getattr(args, "overrides", [])))
    params = params.replace(**changes) if changes else params
    return Retarget(params, enhanced=getattr(args, "enhance", False))


def params_from_args(
    args: argparse.Namespace, base: NetworkParams | None = None, enhanced: bool = True
) -> NetworkParams:
    """The parameters of ``retarget_from_args`` at the T they give: with ``enhanced`` (and
    --enhance) the enhancement rules applied, else as the flags set them."""
    retarget = retarget_from_args(args, base)
    return retarget.at() if enhanced else retarget.saved


def add_execution_args(parser: argparse.ArgumentParser) -> None:
    """--workers N (0: serial, no Dask) or --scheduler ADDRESS: where the independent runs go."""
    g = parser.add_argument_group(
        "execution",
        "runs are independent: they go to Dask workers (a local cluster on 127.0.0.1 unless a "
        "scheduler is given) and give the same results as a serial run (docs/cluster.md)",
    )
    where = g.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=non_negative_int,
        metavar="N",
        help="worker processes of a local Dask cluster, 1 thread each; 0: serially in this "
        "process, without Dask (default: the scheduler in DASK_SCHEDULER_ADDRESS if set, else "
        "one per core)",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 (its workers need "
        "topspark_ros installed)",
    )


def execution_from_args(args: argparse.Namespace) -> Execution:
    """Where the runs go, from --workers / --scheduler."""
    return Execution(workers=args.workers, scheduler=args.scheduler)


@contextlib.contextmanager
def runs_bar(desc: str) -> Iterator[RunProgress]:
    """A tqdm bar over runs on stderr (hidden when not a terminal), yielded as the runners'
    progress callback (runs finished, runs submitted)."""
    with tqdm(total=0, desc=desc, unit="run", disable=None, leave=False) as bar:

        def update(finished: int, submitted: int) -> None:
            bar.total = submitted
            bar.update(finished - bar.n)

        yield update


@contextlib.contextmanager
def progress_bar(total: int, desc: str) -> Iterator[Progress]:
    """A tqdm bar on stderr (hidden when not a terminal) yielded as a Progress callback."""
    with tqdm(total=total, desc=desc, unit="sample", disable=None, leave=False) as bar:

        def update(n: int) -> None:
            bar.update(n)

        yield update


__all__ = [
    "add_config_args",
    "add_data_args",
    "add_data_source_args",
    "add_enhance_arg",
    "add_execution_args",
    "add_param_args",
    "add_set_arg",
    "execution_from_args",
    "load_split",
    "params_from_args",
    "parse_overrides",
    "progress_bar",
    "retarget_from_args",
    "runs_bar",
]

"""SNN commands: ``train``, ``eval`` and ``bench``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numba
import numpy as np

from topspark_ros.cli import args as argtypes
from topspark_ros.cli.common import (
    add_config_args,
    add_data_args,
    add_enhance_arg,
    add_param_args,
    add_set_arg,
    load_split,
    params_from_args,
    parse_overrides,
    progress_bar,
    retarget_from_args,
)
from topspark_ros.data import load_sample
from topspark_ros.errors import ConfigError
from topspark_ros.io_utils import check_output_file
from topspark_ros.snn.floor import encode_batch, floor_batch
from topspark_ros.snn.model_check import check_fixed
from topspark_ros.snn.model_io import SUFFIX, load_model, save_model
from topspark_ros.snn.network import Network, flatten_images, pack_constants
from topspark_ros.snn.params import NetworkParams
from topspark_ros.snn.training import assign, evaluate, train_epochs
from topspark_ros.topspark.retarget import Retarget


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``train``, ``eval`` and ``bench``."""
    p = sub.add_parser("train", help="train a network with STDP, assign labels, evaluate, save")
    add_data_args(p)
    add_param_args(p)
    p.add_argument(
        "--epochs", type=argtypes.positive_int, default=1, help="passes over the training set"
    )
    p.add_argument(
        "--train-samples", type=argtypes.positive_int, help="use the first N training samples"
    )
    p.add_argument(
        "--assign-samples",
        type=argtypes.positive_int,
        default=10000,
        help="labelled training samples used to assign neuron labels (default 10000)",
    )
    p.add_argument(
        "--test-samples", type=argtypes.positive_int, help="evaluate on the first N test samples"
    )
    p.add_argument("--no-eval", action="store_true", help="skip the test-set evaluation")
    p.add_argument("--seed", type=argtypes.seed, default=0)
    p.add_argument("--out", type=Path, help="model file (.npz); default models/<name>.npz")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="evaluate a saved model on a test set, at any T")
    p.add_argument("model", type=Path, help="model file (.npz)")
    add_data_args(p)
    p.add_argument(
        "--timesteps",
        "-T",
        type=argtypes.timesteps,
        help="simulate at this T (default: the model's)",
    )
    add_set_arg(p)
    add_enhance_arg(p)
    p.add_argument(
        "--test-samples", type=argtypes.positive_int, help="evaluate on the first N test samples"
    )
    p.add_argument(
        "--reassign",
        type=argtypes.non_negative_int,
        metavar="N",
        help="re-assign neuron labels from N training samples at this T first",
    )
    p.add_argument("--seed", type=argtypes.seed, default=0)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "bench", help="training and inference samples/s on one core, inference on several"
    )
    add_data_args(p)
    add_config_args(p)
    p.add_argument("--neurons", dest="sizes", type=argtypes.neurons, nargs="+", default=[100, 400])
    p.add_argument(
        "--timesteps", dest="steps", type=argtypes.timesteps, nargs="+", default=[350, 50]
    )
    p.add_argument(
        "--samples", type=argtypes.positive_int, default=1000, help="samples per measurement"
    )
    p.add_argument(
        "--cores",
        type=argtypes.positive_int,
        default=None,
        help="threads for the parallel inference figure (default: all, NUMBA_NUM_THREADS)",
    )
    p.add_argument("--seed", type=argtypes.seed, default=0)
    p.set_defaults(func=cmd_bench, embedded=True)


def _default_model_path(args: argparse.Namespace, params: NetworkParams) -> Path:
    return Path("models") / (
        f"{args.dataset}-n{params.n_neurons}-t{params.timesteps}-{params.rule}.npz"
    )


def cmd_train(args: argparse.Namespace) -> int:
    """Train, assign labels on training data, optionally evaluate, and save the model.

    --out is checked first and written (atomically) last: a bad path costs no training, and a
    run stopped at any point, evaluation included, leaves the file that was there untouched.
    """
    if args.out is not None and args.out.suffix != SUFFIX:
        raise ConfigError(f"--out must end in {SUFFIX} (a model file), got {args.out}")
    retarget = retarget_from_args(args)
    params = retarget.at()
    path = check_output_file(args.out or _default_model_path(args, params), "--out")
    train = load_split(args, "train", args.train_samples)
    test = None if args.no_eval else load_split(args, "test", args.test_samples)
    net = Network.fresh(params, args.seed)
    net.state.dataset = args.dataset
    retarget.record(net.state.extra)
    with progress_bar(len(train) * args.epochs, "train") as bar:
        stats = train_epochs(net, train.images, args.epochs, bar)
    n_assign = min(args.assign_samples, len(train))
    with progress_bar(n_assign, "assign") as bar:
        assign(net, train.images[:n_assign], train.labels[:n_assign], bar)
    summary = (
        f"trained N{params.n_neurons} T={params.timesteps} {params.rule} on {args.dataset}: "
        f"{stats.samples} samples in {stats.seconds:.1f} s ({stats.samples_per_s:.0f}/s)"
    )
    if test is not None:
        with progress_bar(len(test), "eval") as bar:
            result = evaluate(net, test.images, test.labels, bar)
        summary += f"; test accuracy {100 * result.accuracy:.2f}% on {len(test)} samples"
    out = save_model(path, net.state)
    print(f"{summary}; model -> {out}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Evaluate a saved model, optionally at another T (with --enhance, the rules applied as the
    perception node does) and with labels re-assigned; --set overrides hold whatever the T."""
    state = load_model(args.model)
    overrides = parse_overrides(args.overrides)
    retarget = Retarget(state.params, state.extra, args.enhance, overrides)
    params = retarget.at(args.timesteps or state.params.timesteps)
    check_fixed(args.model, state.params, params)
    state.params = params
    net = Network(state, args.seed)
    if args.reassign:
        train = load_split(args, "train", args.reassign)
        with progress_bar(len(train), "assign") as bar:
            assign(net, train.images, train.labels, bar)
    test = load_split(args, "test", args.test_samples)
    with progress_bar(len(test), "eval") as bar:
        result = evaluate(net, test.images, test.labels, bar)
    s = result.stats
    print(
        f"{args.model}: accuracy {100 * result.accuracy:.2f}% on {len(test)} {args.dataset} "
        f"test samples at T={params.timesteps} ({s.samples_per_s:.0f} samples/s, "
        f"{s.exc_spikes:.1f} exc spikes/sample)"
    )
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Measure single-core training and inference throughput for each N and T, beside the floor
    kernel's (snn/floor.py: the least work of any simulation) on the same input and core, and
    inference on ``--cores`` threads (its speed-up, and whether it answered exactly the same)."""
    available: int = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
    cores = available if args.cores is None else args.cores
    if cores > available:
        raise ConfigError(
            f"--cores {cores}: Numba has {available} threads here (set NUMBA_NUM_THREADS)"
        )
    if args.data_dir:
        images = load_split(args, "train", None).images
    else:
        images = load_sample(args.dataset, "train").images
    reps = -(-(args.samples + 20) // len(images))
    images = np.concatenate([images] * reps)[: args.samples + 20]
    base = params_from_args(args)
    columns: tuple[str, ...] = (
        "train/s",
        "infer/s",
        "floor-train/s",
        "floor-infer/s",
        "train%",
        "infer%",
    )
    columns += (f"infer/s@{cores}", "speed-up")
    widths = [max(9, len(c)) for c in columns]
    head = " ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True))
    print(f"{'N':>5} {'T':>5} {head}  ({args.dataset}; one core but infer/s@{cores})")
    for n in args.sizes:
        for t in args.steps:
            params = base.replace(n_neurons=n, timesteps=t)
            numba.set_num_threads(1)
            net = Network.fresh(params, args.seed)
            net.train(images[:20])
            floor_w = net.state.weights.copy()
            start = time.perf_counter()
            _, learnt = net.train(images[20:])
            train_rate = args.samples / (time.perf_counter() - start)
            trained = net.state.copy()
            start = time.perf_counter()
            answers, answered = net.respond(images[20:])
            infer_rate = args.samples / (time.perf_counter() - start)
            # The floor kernel on the same images, presented as often as the network did and
            # encoded beforehand (not timed).
            k = pack_constants(params)
            flat = flatten_images(images[20:], params.n_inputs)
            rates = []
            for learn, stats, first in ((True, learnt, 20), (False, answered, 20 + args.samples)):
                encoded = encode_batch(flat, stats.presentations, k, t, args.seed, first)
                floor_batch(floor_w.copy(), encoded[0][:1], *encoded[1:], learn, k)  # compile
                start = time.perf_counter()
                floor_batch(floor_w, *encoded, learn, k)
                rates.append(args.samples / (time.perf_counter() - start))
            # The same inference (same samples, same streams) on ``cores`` threads.
            numba.set_num_threads(cores)
            Network(trained, args.seed).respond(images[:20])  # compile
            again = Network(trained, args.seed, first_sample=20 + args.samples)
            start = time.perf_counter()
            parallel, _ = again.respond(images[20:])
            parallel_rate = args.samples / (time.perf_counter() - start)
            if not np.array_equal(parallel, answers):
                raise RuntimeError(f"N={n} T={t}: inference on {cores} threads answered otherwise")
            ratios = (100.0 * train_rate / rates[0], 100.0 * infer_rate / rates[1])
            values = (train_rate, infer_rate, *rates, *ratios, parallel_rate)
            cells = " ".join(f"{v:>{w}.0f}" for v, w in zip(values, widths[:-1], strict=True))
            print(f"{n:>5} {t:>5} {cells} {parallel_rate / infer_rate:>{widths[-1]}.2f}")
    print(f"bench done: {len(args.sizes) * len(args.steps)} configurations")
    return 0

"""``topspark latency``: end-to-end latency image -> result of the perception node.

The node runs as a separate process on this host, over DDS (Cyclone, loopback) or rclpy (a ROS 2
node; ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST unless set, the packaged Fast DDS profile); this
process, on the same transport, sends camera frames rendered from the embedded MNIST test
sample at a steady rate and times each result. ``--transport auto`` picks rclpy where ROS 2 and
this package's messages import, else DDS. Without
``--model`` it first trains one (N from ``--neurons``, tuned preset, enhanced at T) on the
embedded training sample; without ``-T`` it runs at the profile's operating T.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from topspark_ros.cli import args as argtypes
from topspark_ros.cli.node_cmds import TRANSPORTS, choose_transport
from topspark_ros.data import load_sample
from topspark_ros.io_utils import atomic_write_bytes, check_output_dir, check_output_file
from topspark_ros.packaged import default_profile_path
from topspark_ros.ros.qos import RELIABILITIES
from topspark_ros.sim.render import RENDER_ENCODINGS
from topspark_ros.sim.scenario import ScenarioConfig
from topspark_ros.snn.model_io import save_model
from topspark_ros.snn.network import Network
from topspark_ros.snn.params import load_preset
from topspark_ros.snn.training import assign, train_epochs
from topspark_ros.system.latency import (
    LatencySettings,
    default_domain_id,
    run_latency,
)
from topspark_ros.topspark.profile import load_profile
from topspark_ros.topspark.retarget import Retarget
from topspark_ros.topspark.tradeoff import select


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``latency`` sub-command."""
    p = sub.add_parser(
        "latency",
        help="end-to-end latency image -> result of the perception node over DDS or rclpy",
        description=__doc__,
    )
    p.add_argument("--model", type=Path, help="model file (.npz); default: train one first")
    p.add_argument(
        "--neurons", "-n", type=argtypes.neurons, default=400, help="N of a trained model (400)"
    )
    p.add_argument("--profile", type=Path, help="operating-point profile (default: packaged)")
    p.add_argument(
        "--timesteps", "-T", type=argtypes.timesteps, help="T (default: the profile's operating T)"
    )
    p.add_argument(
        "--rate",
        type=argtypes.float_in(0.0, 1e4, open_lo=True),
        default=30.0,
        help="input frames per second (30)",
    )
    p.add_argument(
        "--duration",
        type=argtypes.float_in(0.0, 1e6, open_lo=True),
        default=20.0,
        help="measured seconds (20)",
    )
    p.add_argument(
        "--warmup",
        type=argtypes.float_in(0.0, 1e6),
        default=3.0,
        help="seconds sent first, not counted",
    )
    p.add_argument(
        "--width",
        type=argtypes.config_int(ScenarioConfig, "width"),
        default=640,
        help="frame width (px)",
    )
    p.add_argument(
        "--height",
        type=argtypes.config_int(ScenarioConfig, "height"),
        default=480,
        help="frame height (px)",
    )
    p.add_argument("--encoding", choices=RENDER_ENCODINGS, default="bgr8", help="default: bgr8")
    p.add_argument(
        "--scale",
        type=argtypes.config_int(ScenarioConfig, "scale"),
        default=8,
        help="digit enlargement in the frame (8)",
    )
    p.add_argument(
        "--reliability",
        choices=RELIABILITIES,
        default="best_effort",
        help="image QoS reliability (default best_effort, as a robot camera)",
    )
    p.add_argument("--early-exit", action="store_true", help="per-input early exit in the node")
    p.add_argument(
        "--transport", choices=TRANSPORTS, default="auto", help="auto (default), dds or rclpy"
    )
    p.add_argument(
        "--domain-id", type=argtypes.domain_id, help="DDS domain (default: 10..99 from the pid)"
    )
    p.add_argument(
        "--seed", type=argtypes.seed, default=0, help="training and frame placement seed"
    )
    p.add_argument("--log-dir", type=Path, help="keep the node log (default: a temporary dir)")
    p.add_argument("--out", type=Path, help="write the report as JSON")
    p.set_defaults(func=cmd_latency)


def train_model(n_neurons: int, timesteps: int, path: Path, seed: int = 0) -> Path:
    """Train an N-neuron model (tuned preset, enhanced at T) on the embedded MNIST sample."""
    train = load_sample("mnist", "train")
    base = load_preset("tuned").replace(n_neurons=n_neurons, timesteps=timesteps)
    retarget = Retarget(base, enhanced=True)
    net = Network.fresh(retarget.at(), seed)
    net.state.dataset = "mnist"
    retarget.record(net.state.extra)
    train_epochs(net, train.images)
    assign(net, train.images, train.labels)
    return save_model(path, net.state)


def cmd_latency(args: argparse.Namespace) -> int:
    """Run the benchmark, print a table and a summary line, optionally write JSON."""
    if args.out is not None:  # checked before the run: a bad path must not cost the results
        check_output_file(args.out, "--out")
    if args.log_dir is not None:
        check_output_dir(args.log_dir, "--log-dir")
    record: dict[str, object] = {}
    transport = choose_transport(args.transport)
    timesteps = args.timesteps
    if timesteps is None:
        profile_path = args.profile or default_profile_path()
        selection = select(load_profile(profile_path))
        timesteps = selection.point.timesteps
        record.update(profile=str(profile_path), selection=selection.reason)
        print(f"operating T={timesteps} from {profile_path}: {selection.reason}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="topspark-latency-") as tmp:
        work = args.log_dir or Path(tmp)
        model = args.model
        if model is None:
            start = time.perf_counter()
            model = train_model(args.neurons, timesteps, work / "model.npz", args.seed)
            seconds = time.perf_counter() - start
            record["trained"] = {"neurons": args.neurons, "seconds": round(seconds, 2)}
            print(f"trained N{args.neurons} at T={timesteps} in {seconds:.1f} s", file=sys.stderr)
        settings = LatencySettings(
            model_path=str(Path(model).resolve()),
            timesteps=timesteps,
            rate_hz=args.rate,
            duration_s=args.duration,
            warmup_s=args.warmup,
            width=args.width,
            height=args.height,
            encoding=args.encoding,
            scale=args.scale,
            reliability=args.reliability,
            early_exit=args.early_exit,
            domain_id=default_domain_id() if args.domain_id is None else args.domain_id,
            seed=args.seed,
            transport=transport,
        )
        report = run_latency(settings, work, lambda text: print(text, file=sys.stderr))
    print(report.table())
    print(report.summary())
    if args.out is not None:
        record.update(report.to_mapping())
        atomic_write_bytes(args.out, (json.dumps(record, indent=2) + "\n").encode())
        print(f"report -> {args.out}", file=sys.stderr)
    return 0


__all__ = ["cmd_latency", "register", "train_model"]

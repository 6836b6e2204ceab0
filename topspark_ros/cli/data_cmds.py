"""Data commands (``make-sample``, ``download``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from topspark_ros.cli import args as argtypes
from topspark_ros.data.datasets import DATASETS, ENV_VAR, user_cache_dir
from topspark_ros.data.download import MIRRORS, download_dataset
from topspark_ros.data.sample import default_sample_dir, make_sample
from topspark_ros.io_utils import check_output_dir


def _size(paths: list[Path]) -> str:
    """The total size of ``paths`` in KiB or MiB."""
    total = sum(p.stat().st_size for p in paths)
    return f"{total / 1024:.0f} KiB" if total < 1 << 20 else f"{total / (1 << 20):.1f} MiB"


def default_download_dir() -> Path:
    """Where ``download`` writes by default: ``$TOPSPARK_DATA`` if set, else the user cache."""
    env = os.environ.get(ENV_VAR, "")
    return Path(env).expanduser() if env else user_cache_dir()


def cmd_make_sample(args: argparse.Namespace) -> int:
    """Write the embedded sample (one .npz per dataset) and print a one-line summary."""
    out = Path(args.out) if args.out else default_sample_dir()
    check_output_dir(out, "--out", [f"{name}.npz" for name in DATASETS])
    paths = make_sample(out, args.data_dir, args.train, args.test, args.seed)
    names = ", ".join(p.name for p in paths)
    print(
        f"wrote {names} to {out} ({args.train} train + {args.test} test per dataset, "
        f"seed {args.seed}, {_size(paths)})"
    )
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    """Download one dataset's four IDX files and print a one-line summary."""
    dest = Path(args.dest) if args.dest else default_download_dir()
    check_output_dir(dest / args.name, "--dest")
    target = download_dataset(args.name, dest, args.base_url, args.timeout)
    files = sorted(target.glob("*-ubyte.gz"))
    print(f"downloaded {args.name} to {target} ({len(files)} files, {_size(files)})")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the data sub-commands."""
    p = sub.add_parser(
        "make-sample",
        help="write the embedded sample of each dataset (seeded, class-balanced subset)",
        description="Write OUT/NAME.npz for each dataset from a seeded, class-balanced subset.",
    )
    p.add_argument("--data-dir", help=f"dataset directory (default: ${ENV_VAR}, cache, share)")
    p.add_argument("--out", help="output directory (default: the package's data/sample)")
    p.add_argument(
        "--train", type=argtypes.positive_int, default=2000, help="training samples (default 2000)"
    )
    p.add_argument(
        "--test", type=argtypes.positive_int, default=500, help="test samples (default 500)"
    )
    p.add_argument("--seed", type=argtypes.seed, default=0, help="random seed (default 0)")
    p.set_defaults(func=cmd_make_sample)

    p = sub.add_parser(
        "download",
        help="download a full dataset's IDX files from a mirror",
        description="Download NAME's four IDX .gz files into DEST/NAME/, validating each.",
    )
    p.add_argument("name", choices=DATASETS, metavar="NAME", help=" or ".join(DATASETS))
    p.add_argument("--dest", help=f"data directory (default: ${ENV_VAR} or the user cache)")
    p.add_argument(
        "--base-url",
        help="mirror URL (default: " + ", ".join(f"{k}: {v}" for k, v in MIRRORS.items()) + ")",
    )
    p.add_argument(
        "--timeout",
        type=argtypes.positive_float,
        default=30.0,
        help="seconds per request (default 30)",
    )
    p.set_defaults(func=cmd_download)

"""Tiny random IDX datasets (gzip by default) in the layout ``load_dataset`` reads, for the data
and data-command tests (test/data/, test/cli/test_data_cmds.py).

Not a test module: test/support is on the test path (pyproject.toml's ``pythonpath``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from topspark_ros.data.idx import write_idx

N_TRAIN = 30
N_TEST = 20


def write_split(directory: Path, split: str, n: int, seed: int, suffix: str = ".gz") -> None:
    """Write ``n`` random 28x28 images with labels cycling 0..9 as one split of a dataset."""
    prefix = {"train": "train", "test": "t10k"}[split]
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    directory.mkdir(parents=True, exist_ok=True)
    write_idx(directory / f"{prefix}-images-idx3-ubyte{suffix}", images)
    write_idx(directory / f"{prefix}-labels-idx1-ubyte{suffix}", labels)


def write_dataset(root: Path, name: str, suffix: str = ".gz") -> Path:
    """Write a tiny dataset ``name`` (``N_TRAIN`` train, ``N_TEST`` test) under ``root``; return
    its directory."""
    directory = root / name
    write_split(directory, "train", N_TRAIN, seed=1, suffix=suffix)
    write_split(directory, "test", N_TEST, seed=2, suffix=suffix)
    return directory


def write_data_root(root: Path) -> Path:
    """A data directory ``root`` holding tiny ``mnist`` and ``fashion-mnist`` datasets."""
    for name in ("mnist", "fashion-mnist"):
        write_dataset(root, name)
    return root

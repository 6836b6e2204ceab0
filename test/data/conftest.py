"""Fixtures for the data tests: a hermetic environment and tiny IDX datasets in tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

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
    """Write a tiny dataset ``name`` (train 30, test 20) under ``root``; return its directory."""
    directory = root / name
    write_split(directory, "train", N_TRAIN, seed=1, suffix=suffix)
    write_split(directory, "test", N_TEST, seed=2, suffix=suffix)
    return directory


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No $TOPSPARK_DATA, an empty user cache, and no proxies for the loopback server."""
    monkeypatch.delenv("TOPSPARK_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")


@pytest.fixture
def split_writer() -> Callable[..., None]:
    """The ``write_split(directory, split, n, seed, suffix='.gz')`` helper."""
    return write_split


@pytest.fixture
def dataset_writer() -> Callable[..., Path]:
    """The ``write_dataset(root, name, suffix='.gz')`` helper."""
    return write_dataset


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """A data directory holding tiny ``mnist`` and ``fashion-mnist`` datasets (gzip IDX)."""
    root = tmp_path / "datasets"
    write_dataset(root, "mnist")
    write_dataset(root, "fashion-mnist")
    return root

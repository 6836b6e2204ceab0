"""MNIST-style datasets on disk: finding the data directory and loading one split of a dataset.

A data directory holds one sub-directory per dataset (``<dir>/mnist/``, ``<dir>/fashion-mnist/``)
with the four standard IDX files, plain or ``.gz``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from topspark_ros.data.idx import read_idx
from topspark_ros.errors import DataError

DATASETS = ("mnist", "fashion-mnist")
SPLITS = ("train", "test")
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
ENV_VAR = "TOPSPARK_DATA"

_PREFIX = {"train": "train", "test": "t10k"}


@dataclass(frozen=True, eq=False)
class Dataset:
    """One split of a dataset: ``images`` uint8 [n, 28, 28] (0..255), ``labels`` uint8 [n]."""

    name: str
    split: str
    images: npt.NDArray[np.uint8] = field(repr=False)
    labels: npt.NDArray[np.uint8] = field(repr=False)

    def __post_init__(self) -> None:
        """Reject arrays of the wrong dtype or shape (a programming error, not bad input)."""
        if self.images.dtype != np.uint8 or self.labels.dtype != np.uint8:
            raise ValueError("Dataset images and labels must be uint8")
        if self.images.ndim != 3 or self.labels.shape != self.images.shape[:1]:
            raise ValueError(
                f"Dataset needs images [n, h, w] and labels [n], got {self.images.shape} "
                f"and {self.labels.shape}"
            )

    def __len__(self) -> int:
        """The number of samples n."""
        return int(self.labels.shape[0])

    def subset(self, n: int) -> Dataset:
        """The first ``n`` samples (all of them when ``n`` exceeds the length)."""
        if n < 0:
            raise ValueError(f"subset size must be >= 0, got {n}")
        return Dataset(self.name, self.split, self.images[:n], self.labels[:n])


def check_name(name: str) -> str:
    """Return ``name`` if it is a known dataset, else raise DataError listing the known ones."""
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    return name


def check_split(split: str) -> str:
    """Return ``split`` if it is ``train`` or ``test``, else raise DataError."""
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    return split


def file_names(split: str) -> tuple[str, str]:
    """The standard (images, labels) IDX file names of a split, without ``.gz``."""
    prefix = _PREFIX[check_split(split)]
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/topspark_ros/datasets``, or ``~/.cache/topspark_ros/datasets``."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "topspark_ros" / "datasets"


def developer_data_dir() -> Path:
    """``<repo root>/../shared/datasets``, where a developer checkout finds the shared datasets."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """The data directory: the argument, ``$TOPSPARK_DATA``, the user cache or the dev share."""
    if data_dir is not None and str(data_dir) != "":
        path = Path(data_dir).expanduser()
        if not path.is_dir():
            raise DataError(f"data directory {path} does not exist")
        return path
    env = os.environ.get(ENV_VAR, "")
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise DataError(f"data directory {path} (from ${ENV_VAR}) does not exist")
        return path
    candidates = [user_cache_dir(), developer_data_dir()]
    for path in candidates:
        if path.is_dir():
            return path
    looked = ", ".join([f"${ENV_VAR} (unset)", *map(str, candidates)])
    raise DataError(
        f"no data directory found (looked in {looked}); pass --data-dir DIR or run "
        "'topspark download NAME'"
    )


def _find_file(directory: Path, stem: str) -> Path:
    """The plain or ``.gz`` file ``stem`` in ``directory``; DataError if neither exists."""
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise DataError(f"{directory / stem}[.gz]: no such file")


def load_dataset(
    name: str, split: str, data_dir: str | Path | None = None, limit: int | None = None
) -> Dataset:
    """Load ``split`` ('train' or 'test') of dataset ``name``, optionally the first ``limit``."""
    check_name(name)
    images_stem, labels_stem = file_names(split)
    if limit is not None and limit < 0:
        raise DataError(f"limit must be >= 0, got {limit}")
    directory = resolve_data_dir(data_dir) / name
    if not directory.is_dir():
        raise DataError(
            f"dataset directory {directory} does not exist; run 'topspark download {name}'"
        )
    images_path = _find_file(directory, images_stem)
    labels_path = _find_file(directory, labels_stem)
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise DataError(f"{images_path}: expected images of shape [n, 28, 28], got {images.shape}")
    if labels.ndim != 1:
        raise DataError(f"{labels_path}: expected labels of shape [n], got {labels.shape}")
    if labels.shape[0] != images.shape[0]:
        raise DataError(
            f"{labels_path}: {labels.shape[0]} labels for {images.shape[0]} images in "
            f"{images_path.name}"
        )
    if labels.size and int(labels.max()) >= NUM_CLASSES:
        raise DataError(f"{labels_path}: label {int(labels.max())} out of range 0..9")
    dataset = Dataset(name, split, images, labels)
    return dataset if limit is None else dataset.subset(limit)


__all__ = [
    "DATASETS",
    "ENV_VAR",
    "IMAGE_SHAPE",
    "NUM_CLASSES",
    "SPLITS",
    "Dataset",
    "check_name",
    "check_split",
    "developer_data_dir",
    "file_names",
    "load_dataset",
    "resolve_data_dir",
    "user_cache_dir",
]

"""The embedded sample: a small, seeded, class-balanced subset of each dataset, as package data.

Each ``topspark_ros/data/sample/<name>.npz`` holds uint8 arrays ``train_images`` [n, 28, 28],
``train_labels`` [n], ``test_images`` [m, 28, 28], ``test_labels`` [m] and a ``meta`` JSON string.
The files are byte-reproducible: fixed zip timestamps and a seeded selection.
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from topspark_ros.data.datasets import (
    DATASETS,
    IMAGE_SHAPE,
    NUM_CLASSES,
    Dataset,
    check_name,
    check_split,
    load_dataset,
    resolve_data_dir,
)
from topspark_ros.errors import DataError
from topspark_ros.io_utils import atomic_path

SAMPLE_PACKAGE = "topspark_ros.data"
SAMPLE_DIR = "sample"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def default_sample_dir() -> Path:
    """The source-tree directory of the embedded sample (``topspark_ros/data/sample``)."""
    return Path(__file__).resolve().parent / SAMPLE_DIR


def balanced_indices(
    labels: npt.NDArray[np.uint8], n: int, rng: np.random.Generator
) -> npt.NDArray[np.intp]:
    """``n`` indices into ``labels`` drawn without replacement, as equal per class as possible.

    They are ordered in shuffled rounds of one sample per class, so every prefix of ``10 k``
    indices holds exactly ``k`` of each class and ``Dataset.subset`` stays balanced.
    """
    per_class = [n // NUM_CLASSES + (1 if c < n % NUM_CLASSES else 0) for c in range(NUM_CLASSES)]
    chosen = []
    for cls, count in enumerate(per_class):
        pool = np.flatnonzero(labels == cls)
        if count > pool.size:
            raise DataError(f"class {cls} has only {pool.size} samples, {count} requested")
        chosen.append(rng.choice(pool, size=count, replace=False))
    order: list[int] = []
    for r in range(max(per_class, default=0)):
        block = [int(picks[r]) for picks in chosen if r < picks.size]
        order.extend(int(i) for i in rng.permutation(block))
    return np.asarray(order, dtype=np.intp)


def _npz_bytes(arrays: dict[str, npt.NDArray[Any]]) -> bytes:
    """``arrays`` as the bytes of a compressed .npz with fixed timestamps (byte-reproducible)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for key, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arr, order="C"), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue(), compresslevel=9)
    return out.getvalue()


def _sample_arrays(
    name: str, root: Path, n_train: int, n_test: int, seed: int
) -> dict[str, npt.NDArray[Any]]:
    """The arrays of one sample file: a balanced subset of each split of ``name``, and meta."""
    rng = np.random.default_rng(seed)
    arrays: dict[str, npt.NDArray[Any]] = {}
    for split, count in (("train", n_train), ("test", n_test)):
        full = load_dataset(name, split, root)
        try:
            idx = balanced_indices(full.labels, count, rng)
        except DataError as err:
            raise DataError(f"{root / name} {split} split: {err}") from err
        arrays[f"{split}_images"] = full.images[idx]
        arrays[f"{split}_labels"] = full.labels[idx]
    meta = {
        "source": name,
        "seed": seed,
        "n_train": n_train,
        "n_test": n_test,
        "balanced": True,
        "made_by": "topspark make-sample",
    }
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    return arrays


def _prepare_out_dir(out_dir: Path, targets: Sequence[Path]) -> None:
    """Create ``out_dir``; DataError if it cannot be, or if a target is a directory."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(f"{out_dir}: cannot create output directory ({err.strerror})") from err
    for target in targets:
        if target.is_dir():
            raise DataError(f"{target} is a directory; not replacing it with a sample file")


def _write_all(out_dir: Path, files: dict[Path, bytes]) -> None:
    """Write every file atomically; none replaces its target until all are written and synced."""
    try:
        with contextlib.ExitStack() as stack:
            for path, data in files.items():
                stack.enter_context(atomic_path(path)).write_bytes(data)
    except OSError as err:
        raise DataError(f"{out_dir}: cannot write sample ({err.strerror or err})") from err


def make_sample(
    out_dir: Path,
    data_dir: str | Path | None = None,
    n_train: int = 2000,
    n_test: int = 500,
    seed: int = 0,
    names: Sequence[str] = DATASETS,
) -> list[Path]:
    """Write ``<out_dir>/<name>.npz`` for each dataset from a seeded, class-balanced subset.

    Every argument is checked and every input read before anything is written, and the files are
    replaced together, so a failed run leaves the files that were there as they were.
    """
    if n_train < 1 or n_test < 1:
        raise DataError(f"sample sizes must be >= 1, got train={n_train} test={n_test}")
    if not names:
        raise DataError("no dataset to sample")
    for name in names:
        check_name(name)
    root = resolve_data_dir(data_dir)
    out_dir = Path(out_dir)
    targets = [out_dir / f"{name}.npz" for name in names]
    _prepare_out_dir(out_dir, targets)
    files = {
        path: _npz_bytes(_sample_arrays(name, root, n_train, n_test, seed))
        for name, path in zip(names, targets, strict=True)
    }
    _write_all(out_dir, files)
    return targets


def _check_arrays(source: str, images: Any, labels: Any) -> None:
    """Raise DataError unless images are uint8 [n, 28, 28] and labels uint8 [n] in 0..9."""
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise DataError(
            f"{source}: images must be uint8 [n, 28, 28], got {images.dtype} {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.shape != images.shape[:1]:
        raise DataError(
            f"{source}: labels must be uint8 [{images.shape[0]}], got {labels.dtype} "
            f"{labels.shape}"
        )
    if labels.size and int(labels.max()) >= NUM_CLASSES:
        raise DataError(f"{source}: label {int(labels.max())} out of range 0..9")


def read_sample(source: str, data: bytes, name: str, split: str) -> Dataset:
    """Parse the bytes of a sample .npz (``source`` names it in errors) into one split."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            images, labels = npz[f"{split}_images"], npz[f"{split}_labels"]
    except KeyError as err:
        raise DataError(f"{source}: corrupt sample: missing array {err}") from err
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(f"{source}: corrupt sample ({err})") from err
    _check_arrays(source, images, labels)
    return Dataset(name, split, images, labels)


def _sample_bytes(name: str) -> tuple[str, bytes]:
    """A description and the bytes of the embedded sample file of ``name``."""
    check_name(name)
    source = f"embedded sample {SAMPLE_PACKAGE}/{SAMPLE_DIR}/{name}.npz"
    resource = resources.files(SAMPLE_PACKAGE).joinpath(SAMPLE_DIR).joinpath(f"{name}.npz")
    try:
        return source, resource.read_bytes()
    except (FileNotFoundError, NotADirectoryError) as err:
        raise DataError(f"{source} is missing; regenerate it with 'topspark make-sample'") from err
    except OSError as err:
        raise DataError(f"{source}: cannot read ({err.strerror or err})") from err


def load_sample(name: str, split: str) -> Dataset:
    """One split of the embedded sample of ``name``, from package data (works in a wheel)."""
    check_split(split)
    source, data = _sample_bytes(name)
    return read_sample(source, data, name, split)


def load_data(
    dataset: str, split: str, data_dir: str | Path | None, embedded: bool, limit: int | None
) -> Dataset:
    """A split of ``dataset`` from the embedded sample or ``data_dir``, first ``limit`` samples."""
    if embedded:
        data = load_sample(dataset, split)
        return data.subset(limit) if limit is not None else data
    return load_dataset(dataset, split, data_dir, limit=limit)


def sample_meta(name: str) -> dict[str, Any]:
    """The ``meta`` record (source, seed, counts) of the embedded sample of ``name``."""
    source, data = _sample_bytes(name)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            meta: dict[str, Any] = json.loads(str(npz["meta"].item()))
    except KeyError as err:
        raise DataError(f"{source}: corrupt sample: missing array {err}") from err
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(f"{source}: corrupt sample ({err})") from err
    return meta


__all__ = [
    "balanced_indices",
    "default_sample_dir",
    "load_data",
    "load_sample",
    "make_sample",
    "read_sample",
    "sample_meta",
]

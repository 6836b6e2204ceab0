"""Data-directory resolution and loading of dataset splits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from idx_datasets import N_TEST, N_TRAIN, write_dataset, write_split

from topspark_ros.data import datasets
from topspark_ros.data.datasets import Dataset, load_dataset, resolve_data_dir, user_cache_dir
from topspark_ros.data.idx import write_idx
from topspark_ros.errors import DataError

SHARED = datasets.developer_data_dir()


@pytest.fixture
def no_dev_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Point the developer fallback at a directory that does not exist."""
    missing = tmp_path / "no-shared"
    monkeypatch.setattr(datasets, "developer_data_dir", lambda: missing)
    return missing


def test_explicit_argument_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env_dir, arg_dir = tmp_path / "env", tmp_path / "arg"
    env_dir.mkdir()
    arg_dir.mkdir()
    monkeypatch.setenv("TOPSPARK_DATA", str(env_dir))
    assert resolve_data_dir(arg_dir) == arg_dir
    assert resolve_data_dir(str(arg_dir)) == arg_dir
    assert resolve_data_dir(None) == env_dir


def test_explicit_missing_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOPSPARK_DATA", str(tmp_path))
    with pytest.raises(DataError, match=rf"^data directory {tmp_path / 'x'} does not exist$"):
        resolve_data_dir(tmp_path / "x")


def test_env_missing_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOPSPARK_DATA", str(tmp_path / "gone"))
    (tmp_path / "xdg-cache" / "topspark_ros" / "datasets").mkdir(parents=True)
    with pytest.raises(DataError, match=r"data directory .*gone \(from \$TOPSPARK_DATA\) does"):
        resolve_data_dir(None)


def test_user_cache_then_developer_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_dev_dir: Path
) -> None:
    cache = tmp_path / "xdg-cache" / "topspark_ros" / "datasets"
    assert user_cache_dir() == cache
    no_dev_dir.mkdir()
    assert resolve_data_dir(None) == no_dev_dir
    cache.mkdir(parents=True)
    assert resolve_data_dir(None) == cache


def test_user_cache_defaults_to_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert user_cache_dir() == tmp_path / ".cache" / "topspark_ros" / "datasets"


def test_nothing_found(no_dev_dir: Path) -> None:
    with pytest.raises(DataError, match=r"no data directory found \(looked in .*") as info:
        resolve_data_dir(None)
    text = str(info.value)
    assert "\n" not in text
    assert str(user_cache_dir()) in text and str(no_dev_dir) in text
    assert "--data-dir" in text and "topspark download" in text


def test_developer_dir_is_beside_the_checkout() -> None:
    repo_root = Path(datasets.__file__).resolve().parents[2]
    assert SHARED == repo_root.parent / "shared" / "datasets"


@pytest.mark.parametrize(("split", "n"), [("train", N_TRAIN), ("test", N_TEST)])
def test_load_split(data_root: Path, split: str, n: int) -> None:
    data = load_dataset("mnist", split, data_root)
    assert (data.name, data.split, len(data)) == ("mnist", split, n)
    assert data.images.shape == (n, 28, 28) and data.images.dtype == np.uint8
    assert data.labels.shape == (n,) and data.labels.dtype == np.uint8
    np.testing.assert_array_equal(data.labels, np.arange(n) % 10)


def test_load_plain_files_and_limit(tmp_path: Path) -> None:
    write_dataset(tmp_path, "fashion-mnist", suffix="")
    data = load_dataset("fashion-mnist", "train", tmp_path, limit=7)
    assert len(data) == 7
    full = load_dataset("fashion-mnist", "train", tmp_path)
    np.testing.assert_array_equal(data.images, full.images[:7])
    assert len(load_dataset("fashion-mnist", "test", tmp_path, limit=1000)) == N_TEST


def test_load_via_env(monkeypatch: pytest.MonkeyPatch, data_root: Path) -> None:
    monkeypatch.setenv("TOPSPARK_DATA", str(data_root))
    assert len(load_dataset("fashion-mnist", "test")) == N_TEST


def test_subset_and_len(data_root: Path) -> None:
    data = load_dataset("mnist", "test", data_root)
    sub = data.subset(5)
    assert isinstance(sub, Dataset) and len(sub) == 5 and sub.split == "test"
    assert len(data.subset(0)) == 0
    with pytest.raises(ValueError, match=">= 0"):
        data.subset(-1)


def test_dataset_rejects_bad_arrays() -> None:
    floats: Any = np.zeros((2, 28, 28))
    with pytest.raises(ValueError, match="uint8"):
        Dataset("mnist", "train", floats, np.zeros(2, dtype=np.uint8))
    with pytest.raises(ValueError, match="labels"):
        Dataset("mnist", "train", np.zeros((2, 28, 28), np.uint8), np.zeros(3, np.uint8))


def test_unknown_name_and_split(data_root: Path) -> None:
    with pytest.raises(
        DataError, match=r"unknown dataset 'cifar'; known datasets: mnist, fashion"
    ):
        load_dataset("cifar", "train", data_root)
    with pytest.raises(DataError, match=r"unknown split 'val'; expected one of train, test"):
        load_dataset("mnist", "val", data_root)


def test_missing_data_dir(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"data directory .*absent does not exist"):
        load_dataset("mnist", "train", tmp_path / "absent")


def test_missing_dataset_dir(tmp_path: Path) -> None:
    with pytest.raises(
        DataError, match=r"dataset directory .*mnist does not exist.*download mnist"
    ):
        load_dataset("mnist", "train", tmp_path)


def test_missing_file(tmp_path: Path) -> None:
    write_split(tmp_path / "mnist", "train", 10, seed=0)
    with pytest.raises(DataError, match=r"mnist/t10k-images-idx3-ubyte\[\.gz\]: no such file"):
        load_dataset("mnist", "test", tmp_path)


def test_wrong_image_shape(tmp_path: Path) -> None:
    write_split(tmp_path / "mnist", "train", 10, seed=0)
    write_idx(tmp_path / "mnist" / "train-images-idx3-ubyte.gz", np.zeros((10, 28, 27), np.uint8))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: expected images of shape"):
        load_dataset("mnist", "train", tmp_path)


def test_wrong_label_shape(tmp_path: Path) -> None:
    write_split(tmp_path / "mnist", "train", 10, seed=0)
    write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", np.zeros((10, 1), np.uint8))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte.gz: expected labels of shape"):
        load_dataset("mnist", "train", tmp_path)


def test_count_mismatch(tmp_path: Path) -> None:
    write_split(tmp_path / "mnist", "train", 10, seed=0)
    write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", np.zeros(9, np.uint8))
    with pytest.raises(DataError, match=r"labels-idx1-ubyte.gz: 9 labels for 10 images"):
        load_dataset("mnist", "train", tmp_path)


def test_label_out_of_range(tmp_path: Path) -> None:
    write_split(tmp_path / "mnist", "test", 10, seed=0)
    write_idx(tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz", np.full(10, 10, np.uint8))
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz: label 10 out of range 0..9"):
        load_dataset("mnist", "test", tmp_path)


def test_negative_limit(data_root: Path) -> None:
    with pytest.raises(DataError, match="limit must be >= 0"):
        load_dataset("mnist", "train", data_root, limit=-1)


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"no shared datasets at {SHARED}")
@pytest.mark.parametrize("name", datasets.DATASETS)
def test_real_data_via_developer_fallback(name: str) -> None:
    data = load_dataset(name, "test", limit=5)
    assert resolve_data_dir(None) == SHARED
    assert data.images.shape == (5, 28, 28) and data.images.dtype == np.uint8
    assert int(data.labels.max()) <= 9 and int(data.images.max()) > 0

"""The embedded sample: the shipped files, regenerating them, and reading them from a zip."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from idx_datasets import write_split
from sample_files import files_in, write_stand_in_samples

import topspark_ros
from topspark_ros.data import sample
from topspark_ros.data.datasets import DATASETS, load_dataset
from topspark_ros.data.sample import load_sample, make_sample, read_sample, sample_meta
from topspark_ros.errors import DataError


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize(("split", "n"), [("train", 2000), ("test", 500)])
def test_shipped_sample(name: str, split: str, n: int) -> None:
    data = load_sample(name, split)
    assert (data.name, data.split, len(data)) == (name, split, n)
    assert data.images.shape == (n, 28, 28) and data.images.dtype == np.uint8
    assert data.labels.shape == (n,) and data.labels.dtype == np.uint8
    assert np.bincount(data.labels, minlength=10).tolist() == [n // 10] * 10
    assert np.bincount(data.subset(50).labels, minlength=10).tolist() == [5] * 10
    assert int(data.images.max()) == 255 and data.images.mean() > 10


@pytest.mark.parametrize("name", DATASETS)
def test_shipped_meta(name: str) -> None:
    meta = sample_meta(name)
    assert meta["source"] == name and meta["seed"] == 0
    assert (meta["n_train"], meta["n_test"]) == (2000, 500)


def test_shipped_files_are_small() -> None:
    total = sum(p.stat().st_size for p in sample.default_sample_dir().glob("*.npz"))
    assert 0 < total < 4 << 20


def test_make_sample(data_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    paths = make_sample(out, data_root, n_train=20, n_test=10, seed=3)
    assert paths == [out / "mnist.npz", out / "fashion-mnist.npz"]
    assert sorted(p.name for p in out.iterdir()) == ["fashion-mnist.npz", "mnist.npz"]
    full = load_dataset("mnist", "train", data_root)
    part = read_sample("x", paths[0].read_bytes(), "mnist", "train")
    assert len(part) == 20
    assert np.bincount(part.labels).tolist() == [2] * 10
    assert np.bincount(part.subset(10).labels).tolist() == [1] * 10
    # every sampled image is one of the originals, with its label, and none twice
    matches = [np.flatnonzero((full.images == img).all(axis=(1, 2))) for img in part.images]
    assert all(m.size == 1 for m in matches)
    rows = [int(m[0]) for m in matches]
    assert len(set(rows)) == 20
    np.testing.assert_array_equal(full.labels[rows], part.labels)
    with np.load(paths[0]) as npz:
        assert sorted(npz.files) == [
            "meta", "test_images", "test_labels", "train_images", "train_labels"
        ]  # fmt: skip
        meta = json.loads(str(npz["meta"].item()))
    assert meta == {
        "balanced": True, "made_by": "topspark make-sample", "n_test": 10, "n_train": 20,
        "seed": 3, "source": "mnist",
    }  # fmt: skip


def test_make_sample_is_reproducible(data_root: Path, tmp_path: Path) -> None:
    first = make_sample(tmp_path / "a", data_root, n_train=13, n_test=7, seed=5)
    second = make_sample(tmp_path / "b", data_root, n_train=13, n_test=7, seed=5)
    other = make_sample(tmp_path / "c", data_root, n_train=13, n_test=7, seed=6)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert first[0].read_bytes() != other[0].read_bytes()
    counts = np.bincount(read_sample("x", first[0].read_bytes(), "mnist", "train").labels)
    assert counts.tolist() == [2, 2, 2, 1, 1, 1, 1, 1, 1, 1]


def test_make_sample_too_few_per_class(data_root: Path, tmp_path: Path) -> None:
    with pytest.raises(
        DataError, match=r"datasets/mnist train split: class 0 has only 3 samples, 4 requested"
    ):
        make_sample(tmp_path / "out", data_root, n_train=40, n_test=10)
    assert list((tmp_path / "out").iterdir()) == []


def test_make_sample_missing_data(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"data directory .*nowhere does not exist"):
        make_sample(tmp_path / "out", tmp_path / "nowhere")


def test_make_sample_replaces_atomically(data_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mnist.npz").write_bytes(b"old")
    make_sample(out, data_root, n_train=10, n_test=10, names=("mnist",))
    assert [p.name for p in out.iterdir()] == ["mnist.npz"]
    assert (out / "mnist.npz").read_bytes()[:2] == b"PK"


def test_load_sample_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sample, "SAMPLE_DIR", "no-such-dir")
    with pytest.raises(DataError, match=r"embedded sample .*mnist.npz is missing; .*make-sample"):
        load_sample("mnist", "train")


def test_load_sample_bad_arguments() -> None:
    with pytest.raises(DataError, match="unknown dataset 'emnist'"):
        load_sample("emnist", "train")
    with pytest.raises(DataError, match="unknown split 'dev'"):
        load_sample("mnist", "dev")


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a zip at all", r"s.npz: corrupt sample"),
        (_npz(test_images=np.zeros((2, 28, 28), np.uint8)), r"missing array 'test_labels"),
        (
            _npz(test_images=np.zeros((2, 28, 28)), test_labels=np.zeros(2, np.uint8)),
            r"images must be uint8 \[n, 28, 28\], got float64",
        ),
        (
            _npz(test_images=np.zeros((2, 28, 28), np.uint8), test_labels=np.zeros(3, np.uint8)),
            r"labels must be uint8 \[2\]",
        ),
        (
            _npz(
                test_images=np.zeros((1, 28, 28), np.uint8), test_labels=np.full(1, 12, np.uint8)
            ),
            r"label 12 out of range",
        ),
        (
            _npz(test_images=np.zeros(1, object), test_labels=np.zeros(1, np.uint8)),
            r"s.npz: corrupt sample",
        ),
    ],
)
def test_read_sample_corrupt(data: bytes, message: str) -> None:
    with pytest.raises(DataError, match=message):
        read_sample("s.npz", data, "mnist", "test")


def test_load_sample_from_a_zip(tmp_path: Path) -> None:
    """Package data is read through importlib.resources, so it also works from a zipped install."""
    pkg = Path(topspark_ros.__file__).parent
    archive = tmp_path / "topspark.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in [
            *pkg.glob("*.py"),
            *(pkg / "data").rglob("*.py"),
            *(pkg / "data").rglob("*.npz"),
        ]:
            zf.write(path, path.relative_to(pkg.parent).as_posix())
    code = (
        "import topspark_ros.data as d, numpy as np; "
        "s = d.load_sample('fashion-mnist', 'test'); "
        f"assert d.__file__.startswith({str(archive)!r}), d.__file__; "
        "print(len(s), s.images.dtype, np.bincount(s.labels).min())"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(archive), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["500", "uint8", "50"]


# Issue 16, defect 4: everything is checked and read before anything is written.


@pytest.mark.parametrize(("n_train", "n_test"), [(0, 10), (10, 0), (-1, 10)])
def test_make_sample_needs_samples(
    data_root: Path, tmp_path: Path, n_train: int, n_test: int
) -> None:
    old = write_stand_in_samples(tmp_path / "out")
    with pytest.raises(DataError, match=r"^sample sizes must be >= 1, got train="):
        make_sample(tmp_path / "out", data_root, n_train=n_train, n_test=n_test)
    assert files_in(tmp_path / "out") == old


def test_make_sample_reads_every_dataset_first(data_root: Path, tmp_path: Path) -> None:
    """fashion-mnist has too few of a class: mnist.npz, which could be made, is not replaced."""
    write_split(data_root / "fashion-mnist", "test", 5, seed=9)
    old = write_stand_in_samples(tmp_path / "out")
    with pytest.raises(DataError, match=r"fashion-mnist test split: class 5 has only 0 samples"):
        make_sample(tmp_path / "out", data_root, n_train=10, n_test=10)
    assert files_in(tmp_path / "out") == old


def test_make_sample_missing_second_dataset(data_root: Path, tmp_path: Path) -> None:
    for path in (data_root / "fashion-mnist").iterdir():
        path.unlink()
    old = write_stand_in_samples(tmp_path / "out")
    with pytest.raises(DataError, match="fashion-mnist"):
        make_sample(tmp_path / "out", data_root, n_train=10, n_test=10)
    assert files_in(tmp_path / "out") == old


def test_make_sample_failed_write_replaces_nothing(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second file cannot be written (disk full): the first is not replaced either."""
    real = sample.atomic_path

    @contextlib.contextmanager
    def disk_full_for_fashion(path: Path) -> Iterator[Path]:
        if path.name == "fashion-mnist.npz":
            raise OSError(errno.ENOSPC, "No space left on device")
        with real(path) as tmp:
            yield tmp

    monkeypatch.setattr(sample, "atomic_path", disk_full_for_fashion)
    old = write_stand_in_samples(tmp_path / "out")
    with pytest.raises(DataError, match=r"out: cannot write sample \(No space left on device\)$"):
        make_sample(tmp_path / "out", data_root, n_train=10, n_test=10)
    assert files_in(tmp_path / "out") == old


def test_make_sample_refuses_a_directory_target(data_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "fashion-mnist.npz").mkdir(parents=True)
    (out / "mnist.npz").write_bytes(b"old")
    with pytest.raises(DataError, match=r"fashion-mnist\.npz is a directory; not replacing it"):
        make_sample(out, data_root, n_train=10, n_test=10)
    assert (out / "mnist.npz").read_bytes() == b"old"
    assert sorted(p.name for p in out.iterdir()) == ["fashion-mnist.npz", "mnist.npz"]


def test_make_sample_unknown_name_writes_nothing(data_root: Path, tmp_path: Path) -> None:
    old = write_stand_in_samples(tmp_path / "out")
    with pytest.raises(DataError, match="unknown dataset 'emnist'"):
        make_sample(tmp_path / "out", data_root, n_train=10, n_test=10, names=("mnist", "emnist"))
    assert files_in(tmp_path / "out") == old

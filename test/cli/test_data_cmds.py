"""The ``make-sample`` and ``download`` commands, run through ``main`` with tmp directories."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from idx_datasets import write_data_root
from sample_files import files_in, write_stand_in_samples

from topspark_ros.cli.main import main
from topspark_ros.data.sample import read_sample


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No $TOPSPARK_DATA and an empty user cache."""
    monkeypatch.delenv("TOPSPARK_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """Tiny ``mnist`` and ``fashion-mnist`` datasets (30 train, 20 test, gzip IDX)."""
    return write_data_root(tmp_path / "datasets")


def test_make_sample(data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    argv = ["make-sample", "--data-dir", str(data_root), "--out", str(out)]
    assert main([*argv, "--train", "20", "--test", "10", "--seed", "4"]) == 0
    stdout = capsys.readouterr().out
    assert stdout.count("\n") == 1
    assert stdout.startswith(f"wrote mnist.npz, fashion-mnist.npz to {out} (20 train + 10 test")
    assert "seed 4" in stdout
    data = read_sample("x", (out / "fashion-mnist.npz").read_bytes(), "fashion-mnist", "test")
    assert len(data) == 10 and np.bincount(data.labels).tolist() == [1] * 10


def test_make_sample_missing_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing"
    assert main(["make-sample", "--data-dir", str(missing), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert err == f"error: data directory {missing} does not exist\n"


def test_make_sample_rejects_negative_counts(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["make-sample", "--train", "-5"])
    assert info.value.code == 2
    assert "must be a positive integer, got -5" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--train", "0"], 2, "error: argument --train: must be a positive integer, got 0"),
        (["--test", "0"], 2, "error: argument --test: must be a positive integer, got 0"),
        (["--train", "40"], 1, "error: "),  # 3 per class in the data: too few, found first
    ],
)
def test_make_sample_failure_keeps_the_files(
    data_root: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    code: int,
    message: str,
) -> None:
    """Issue 16, defect 4: a failed make-sample leaves every sample file byte-identical."""
    out = tmp_path / "sample"
    before = write_stand_in_samples(out)
    argv = ["make-sample", "--data-dir", str(data_root), "--out", str(out), *extra]
    if code == 2:
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
    else:
        assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith(message) and "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("error:")] == err.splitlines()[:1]
    assert files_in(out) == before


def test_make_sample_with_one_dataset_missing_writes_nothing(
    data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """mnist is there, fashion-mnist is not: mnist.npz must not be replaced either."""
    for path in (data_root / "fashion-mnist").iterdir():
        path.unlink()
    out = tmp_path / "sample"
    before = write_stand_in_samples(out)
    argv = ["make-sample", "--data-dir", str(data_root), "--out", str(out), "--train", "10"]
    assert main([*argv, "--test", "10"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "fashion-mnist" in err and err.count("\n") == 1
    assert files_in(out) == before


def test_download(data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "dest"
    mirror = (data_root / "mnist").as_uri()
    assert main(["download", "mnist", "--dest", str(dest), "--base-url", mirror]) == 0
    stdout = capsys.readouterr().out
    assert stdout.startswith(f"downloaded mnist to {dest / 'mnist'} (4 files, ")
    assert stdout.count("\n") == 1
    assert len(list((dest / "mnist").glob("*.gz"))) == 4


def test_download_defaults_to_env_dir(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "env-data"
    monkeypatch.setenv("TOPSPARK_DATA", str(target))
    mirror = (data_root / "fashion-mnist").as_uri()
    assert main(["download", "fashion-mnist", "--base-url", mirror]) == 0
    assert len(list((target / "fashion-mnist").glob("*.gz"))) == 4


def test_download_defaults_to_user_cache(data_root: Path, tmp_path: Path) -> None:
    mirror = (data_root / "mnist").as_uri()
    assert main(["download", "mnist", "--base-url", mirror]) == 0
    cache = tmp_path / "xdg-cache" / "topspark_ros" / "datasets" / "mnist"
    assert len(list(cache.glob("*.gz"))) == 4


def test_download_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mirror = (tmp_path / "empty").as_uri()
    assert main(["download", "mnist", "--dest", str(tmp_path / "d"), "--base-url", mirror]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {mirror}/train-images-idx3-ubyte.gz: cannot download")
    assert err.count("\n") == 1


def test_download_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["download", "cifar10"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["make-sample", "download"])
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert command in capsys.readouterr().out

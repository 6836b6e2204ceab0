"""Issue 16, one rule for outputs: every command that writes checks its output paths before the
work (one ``error:`` line, exit 1, nothing that was there touched), ``train`` writes its model
last, and a staging directory that a killed run left behind is removed by the next run."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from topspark_ros.cli import snn_cmds
from topspark_ros.cli.main import main
from topspark_ros.io_utils import STAGING_MARKER
from topspark_ros.sim.bag import write_scenario
from topspark_ros.sim.scenario import ScenarioConfig
from topspark_ros.topspark.experiment import PointResult
from topspark_ros.topspark.outputs import write_rows

TINY_NET = ["--embedded", "--neurons", "5", "--timesteps", "10"]
TINY_SAMPLES = ["--train-samples", "20", "--test-samples", "10"]
TRAIN = ["train", *TINY_NET, "--train-samples", "20", "--test-samples", "10"]
SWEEP = ["sweep", *TINY_NET, *TINY_SAMPLES]
SENSITIVITY = ["sensitivity", *TINY_NET, *TINY_SAMPLES, "--params", "theta_plus", "--scales", "2"]
TINY_BAG = ["--duration", "1", "--rate", "5", "--width", "40", "--height", "32", "--scale", "1"]
SMALL_SCENARIO = ScenarioConfig(duration_s=1.0, rate_hz=10.0, width=40, height=32, scale=1)


@pytest.fixture(scope="module")
def bag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small scenario bag (MCAP) to replay."""
    root = tmp_path_factory.mktemp("bag")
    return write_scenario(root / "bag", SMALL_SCENARIO, "mcap", embedded=True).path


@pytest.fixture
def sweep_json(tmp_path: Path, point_result: Callable[..., PointResult]) -> Path:
    """A hand-made sweep.json (three T of one series), outside the test's work directory."""
    rows = [point_result(t, 0.9, t / 100).as_dict() for t in (350, 100, 40)]
    names = [f.name for f in dataclasses.fields(PointResult)]
    return write_rows(tmp_path / "results", "sweep", names, rows)[1]


def _snapshot(root: Path) -> dict[str, str]:
    """Every entry under ``root`` by relative path: a file's SHA-256, a directory's mode."""
    entries = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            entries[key] = f"link {os.readlink(path)}"
        elif path.is_dir():
            entries[key] = f"dir {path.stat().st_mode:o}"
        else:
            entries[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return entries


@pytest.fixture
def work(tmp_path: Path) -> Iterator[Path]:
    """A work directory holding a file ``f``, directories ``d`` and ``d.npz`` and a read-only
    directory ``ro`` (mode 0o555, refused even for root); each with some content to keep."""
    root = tmp_path / "work"
    root.mkdir()
    (root / "f").write_text("precious file\n")
    (root / "d").mkdir()
    (root / "d" / "keep.txt").write_text("precious, in a directory\n")
    (root / "d.npz").mkdir()
    (root / "d.npz" / "keep.txt").write_text("precious, in a directory named like a model\n")
    (root / "ro").mkdir()
    (root / "ro" / "keep.txt").write_text("precious, read-only\n")
    (root / "ro").chmod(0o555)
    yield root
    (root / "ro").chmod(0o755)


@dataclass(frozen=True)
class Case:
    """One reproduction: the arguments (``{w}`` is the work directory, ``{bag}`` a bag,
    ``{results}`` a sweep.json) and what the error line must say."""

    argv: tuple[str, ...]
    message: str

    def args(self, work: Path, bag: Path, results: Path) -> list[str]:
        """The command line with the placeholders filled in."""
        return [a.format(w=work, bag=bag, results=results) for a in self.argv]


# What the error line says about --out, by what is wrong with the path.
IS_A_FILE = "error: --out is an existing file, expected a directory"
IS_A_DIRECTORY = "error: --out is an existing directory, expected a file"
READ_ONLY = "error: --out cannot be written: the directory is read-only"
IN_READ_ONLY = "error: --out cannot be written: directory"
UNDER_A_FILE = "error: --out cannot be created:"

CASES = {
    # sweep and sensitivity wrote their results into a file path after all the training
    "sweep-out-file": Case((*SWEEP, "--out", "{w}/f"), IS_A_FILE),
    "sweep-out-in-read-only": Case((*SWEEP, "--out", "{w}/ro/sweep"), IN_READ_ONLY),
    "sensitivity-out-file": Case((*SENSITIVITY, "--out", "{w}/f"), IS_A_FILE),
    "sensitivity-out-under-a-file": Case((*SENSITIVITY, "--out", "{w}/f/sens"), UNDER_A_FILE),
    "reproduce-out-file": Case(("reproduce", "--quick", "--out", "{w}/f"), IS_A_FILE),
    "reproduce-out-read-only": Case(("reproduce", "--quick", "--out", "{w}/ro"), READ_ONLY),
    "latency-out-directory": Case(
        ("latency", "--neurons", "10", "--out", "{w}/d"), IS_A_DIRECTORY
    ),
    "latency-log-dir-file": Case(
        ("latency", "--neurons", "10", "--log-dir", "{w}/f"),
        "error: --log-dir is an existing file, expected a directory",
    ),
    "replay-out-read-only": Case(("replay", "{bag}", "--out", "{w}/ro"), READ_ONLY),
    "replay-out-in-read-only": Case(("replay", "{bag}", "--out", "{w}/ro/replay"), IN_READ_ONLY),
    "replay-out-file": Case(("replay", "{bag}", "--out", "{w}/f"), IS_A_FILE),
    "train-out-directory": Case((*TRAIN, "--out", "{w}/d.npz"), IS_A_DIRECTORY),
    "train-out-under-a-file": Case((*TRAIN, "--out", "{w}/f/model.npz"), UNDER_A_FILE),
    "train-out-read-only": Case((*TRAIN, "--out", "{w}/ro/model.npz"), IN_READ_ONLY),
    "profile-out-read-only": Case(
        ("profile", "{results}", "--out", "{w}/ro/profile.yaml"), IN_READ_ONLY
    ),
    "profile-out-directory": Case(("profile", "{results}", "--out", "{w}/d"), IS_A_DIRECTORY),
    "make-bag-in-read-only": Case(
        ("make-bag", "{w}/ro/bag", *TINY_BAG, "--embedded"),
        "error: OUT cannot be written: directory",
    ),
    "make-sample-out-read-only": Case(
        ("make-sample", "--out", "{w}/ro", "--train", "10", "--test", "10"), READ_ONLY
    ),
    "make-sample-out-file": Case(
        ("make-sample", "--out", "{w}/f", "--train", "10", "--test", "10"), IS_A_FILE
    ),
    "download-dest-file": Case(
        ("download", "mnist", "--dest", "{w}/f", "--base-url", "http://127.0.0.1:9/"),
        "error: --dest cannot be created:",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_output_path_is_one_error_line_before_the_work(
    case: Case,
    work: Path,
    bag: Path,
    sweep_json: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(work)
    before = _snapshot(work)
    argv = case.args(work, bag, sweep_json)
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 1, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    assert case.message in lines[0], lines[0]
    assert lines[0].endswith(")"), "the path the error is about ends the line"
    assert out == "", "nothing was computed before the error"
    assert _snapshot(work) == before


def test_sweep_refuses_a_result_file_name_taken_by_a_directory(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = work / "d"
    (out / "sweep.csv").mkdir()
    before = _snapshot(work)
    assert main([*SWEEP, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err == (
        "error: --out cannot be written: sweep.csv in it is a directory, expected a file "
        f"({out / 'sweep.csv'})\n"
    )
    assert _snapshot(work) == before


def test_reproduce_refuses_a_step_folder_taken_by_a_file(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = work / "d"
    (out / "sweep").write_text("not a folder\n")
    before = _snapshot(work)
    assert main(["reproduce", "--quick", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err == f"error: --out is an existing file, expected a directory ({out / 'sweep'})\n"
    assert _snapshot(work) == before


def test_ctrl_c_during_training_evaluation_keeps_the_old_model(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model is written after the evaluation: stopped there, the old --out is untouched."""
    old = work / "d" / "model.npz"
    old.write_bytes(b"the previous model, byte for byte")
    before = _snapshot(work)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(snn_cmds, "evaluate", interrupted)
    assert main([*TRAIN, "--out", str(old)]) == 130
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: interrupted"), err
    assert "Traceback" not in err and out == ""
    assert _snapshot(work) == before  # no temporary file left beside it either


def test_train_writes_the_model_after_evaluating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "model.npz"
    seen: list[bool] = []
    real = snn_cmds.evaluate

    def evaluate(*args: object, **kwargs: object) -> object:
        seen.append(out.exists())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(snn_cmds, "evaluate", evaluate)
    assert main([*TRAIN, "--out", str(out)]) == 0
    assert seen == [False] and out.is_file()


def _staging(parent: Path, name: str) -> list[Path]:
    """The staging directories of ``parent/name`` present now."""
    return sorted(parent.glob(f".{name}.partial-*"))


def test_make_bag_removes_the_staging_of_a_killed_run(tmp_path: Path) -> None:
    """SIGKILL mid-write leaves ``.bag.partial-*``; the next run on the same bag removes it,
    and nothing of another bag's or a live run's."""
    out = tmp_path / "bag"
    argv = ["make-bag", str(out), "--duration", "3600", "--rate", "30", "--embedded"]
    argv += ["--width", "40", "--height", "32", "--scale", "1"]
    child = subprocess.Popen(
        [sys.executable, "-m", "topspark_ros", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 120
        while not [p for p in _staging(tmp_path, "bag") if (p / "bag").exists()]:
            assert child.poll() is None, "make-bag ended before it was killed"
            assert time.monotonic() < deadline, "no staging directory appeared"
            time.sleep(0.1)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    (left,) = _staging(tmp_path, "bag")
    assert (left / STAGING_MARKER).read_text().split()[0] == str(child.pid)
    other = tmp_path / ".other.partial-0123abcd"  # another target's: not ours to judge
    other.mkdir()
    (other / STAGING_MARKER).write_text(f"{child.pid} {socket.gethostname()}\n")
    live = tmp_path / ".bag.partial-89abcdef"  # this process is alive: kept
    live.mkdir()
    (live / STAGING_MARKER).write_text(f"{os.getpid()} {socket.gethostname()}\n")
    assert main(["make-bag", str(out), *TINY_BAG, "--embedded"]) == 0
    assert _staging(tmp_path, "bag") == [live]
    assert other.is_dir() and (out / "metadata.yaml").is_file()


def test_replay_removes_the_results_staging_of_a_killed_run(
    bag: Path, trained_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "replay"
    stale = out / ".results.partial-deadbeef"
    stale.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (stale / STAGING_MARKER).write_text(f"{dead.pid} {socket.gethostname()}\n")
    (stale / "results").mkdir()
    assert main(["replay", str(bag), "--out", str(out), "--model", str(trained_model)]) == 0
    assert not stale.exists()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []

"""The ``profile`` command on hand-made sweep results: files, choice, constraints and errors."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from topspark_ros.cli.main import main
from topspark_ros.topspark.experiment import PointResult
from topspark_ros.topspark.outputs import write_rows
from topspark_ros.topspark.profile import load_profile

# T, accuracy, inference latency (ms); inference energy is latency x 1 uJ/ms, training twice that.
TABLE = [(350, 0.90, 3.5), (200, 0.895, 2.0), (100, 0.885, 1.0), (60, 0.85, 0.6)]


Result = Callable[..., dict[str, Any]]


@pytest.fixture
def result(point_result: Callable[..., PointResult]) -> Result:
    """Builder of one sweep row exactly as ``topspark sweep`` writes it (PointResult.as_dict)."""
    return lambda *args, **changes: point_result(*args, **changes).as_dict()


def write_sweep(directory: Path, rows: list[dict[str, Any]]) -> Path:
    """Write sweep.csv and sweep.json as the sweep command does; return the directory."""
    names = [f.name for f in dataclasses.fields(PointResult)]
    write_rows(directory, "sweep", names, rows)
    return directory


@pytest.fixture
def sweep(tmp_path: Path, result: Result) -> Path:
    """A one-series sweep directory (mnist N100 pair) of TABLE."""
    return write_sweep(tmp_path / "sweep", [result(*row) for row in TABLE])


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    """``main(argv)``'s exit code, stdout lines and stderr."""
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


@pytest.mark.parametrize("source", ["sweep", "sweep/sweep.json", "sweep/sweep.csv"])
def test_profile_writes_yaml_and_chooses(
    tmp_path: Path, sweep: Path, capsys: pytest.CaptureFixture[str], source: str
) -> None:
    out = tmp_path / "deep" / "profile.yaml"
    code, lines, err = run(["profile", str(tmp_path / source), "--out", str(out)], capsys)
    assert (code, err) == (0, "")
    assert lines[0] == f"profile mnist N100 pair: 4 points, baseline T=350 -> {out}"
    assert lines[1].split() == [
        "T",
        "enh",
        "acc",
        "%",
        "vs",
        "base",
        "lat",
        "ms",
        "train",
        "uJ",
        "infer",
        "uJ",
        "mem",
        "KiB",
        "cost",
        "ok",
    ]
    table = {int(line.split()[0]): line.split() for line in lines[2:6]}
    assert [table[t][-1] for t in (350, 200, 100, 60)] == ["yes", "yes", "yes", "-"]
    assert table[100][2:4] == ["88.50", "-1.50"]
    assert lines[6].startswith("chosen T=100: lowest cost 0.571 of 3 feasible point(s)")
    assert len(lines) == 7
    prof = load_profile(out)
    assert [(p.timesteps, p.accuracy) for p in prof.points] == [row[:2] for row in TABLE]
    assert prof.point(200).infer_energy_j == pytest.approx(2e-6)
    assert (prof.dataset, prof.n_neurons, prof.rule, prof.baseline_timesteps) == (
        "mnist",
        100,
        "pair",
        350,
    )


def test_default_out_and_header(
    tmp_path: Path,
    sweep: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    cmd = "topspark sweep --neurons 100 --out sweep"
    argv = ["profile", "sweep", "--sweep-command", cmd, "--note", "default profile"]
    code, _, _ = run(argv, capsys)
    assert code == 0
    path = Path("runs/profile/profile.yaml")
    head = [line for line in path.read_text().splitlines() if line.startswith("#")]
    source = (
        "# source: sweep/sweep.json: mnist N100 pair, T=350,200,100,60, train_samples=500, "
        "test_samples=200, epochs=1, seed=0"
    )
    regenerate = (
        f"# regenerate: {cmd} && topspark profile sweep --dataset mnist --neurons 100 --rule pair"
        f" --no-enhanced --baseline 350 --out runs/profile/profile.yaml --sweep-command '{cmd}'"
        " --note 'default profile'"
    )
    assert head[3:] == ["# default profile", source, regenerate]
    assert load_profile(path).baseline.timesteps == 350


@pytest.mark.parametrize(
    ("flags", "chosen"),
    [
        ([], 100),
        (["--max-accuracy-drop", "1"], 200),
        (["--min-accuracy", "89.6"], 350),
        (["--max-accuracy-drop", "5"], 60),
        (["--weight-accuracy", "1"], 200),
        (["--weight-accuracy", "1", "--energy-budget-uj", "1.5"], 100),
        (["--deadline-ms", "2.5", "--weight-latency", "0", "--weight-energy", "0"], 200),
        (["--baseline", "200", "--max-accuracy-drop", "1"], 100),
    ],
)
def test_constraints_and_weights_choose(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], chosen: int
) -> None:
    argv = ["profile", str(sweep), "--out", str(tmp_path / "p.yaml"), *flags]
    code, lines, _ = run(argv, capsys)
    assert code == 0
    assert lines[-1].startswith(f"chosen T={chosen}: ")


def test_infeasible_exits_nonzero_and_still_writes(
    sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "p.yaml"
    argv = ["profile", str(sweep), "--out", str(out), "--deadline-ms", "0.8"]
    code, lines, err = run(argv, capsys)
    assert code == 1
    assert err == (
        "error: mnist N100 pair: no operating point meets accuracy >= 0.8800 and latency "
        "<= 0.8 ms (the closest, T=100 with accuracy 0.8850, has latency 1 ms)\n"
    )
    assert not any(line.startswith("chosen") for line in lines)
    assert all(line.split()[-1] == "-" for line in lines[2:])
    assert len(load_profile(out).points) == 4


def test_enhanced_series(
    tmp_path: Path, result: Result, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [result(*row) for row in TABLE]
    rows += [result(100, 0.9, 0.9, enhanced=True), result(60, 0.895, 0.5, enhanced=True)]
    sweep = write_sweep(tmp_path / "sweep", rows)
    out = tmp_path / "p.yaml"
    code, _, err = run(["profile", str(sweep), "--out", str(out)], capsys)
    assert code == 1
    assert err == (
        f"error: {sweep / 'sweep.json'}: 2 series match (mnist N100 pair; mnist N100 pair "
        "(enhanced)); choose with --dataset, --neurons, --rule or --enhanced/--no-enhanced\n"
    )
    assert not out.exists()
    code, lines, _ = run(["profile", str(sweep), "--enhanced", "--out", str(out)], capsys)
    assert code == 0
    assert lines[0].startswith("profile mnist N100 pair (enhanced): 3 points, baseline T=350")
    assert lines[-1].startswith("chosen T=60: ")
    assert [(p.timesteps, p.enhanced) for p in load_profile(out).points] == [
        (350, False),
        (100, True),
        (60, True),
    ]
    assert "--enhanced --baseline 350" in out.read_text()
    code, lines, _ = run(["profile", str(sweep), "--no-enhanced", "--out", str(out)], capsys)
    assert code == 0
    assert lines[-1].startswith("chosen T=100: ")


def test_several_networks_and_filters(
    tmp_path: Path, result: Result, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [result(*row) for row in TABLE]
    rows += [result(t, acc + 0.05, 4 * lat, n_neurons=400) for t, acc, lat in TABLE[:2]]
    sweep = write_sweep(tmp_path / "sweep", rows)
    out = tmp_path / "p.yaml"
    code, _, err = run(["profile", str(sweep / "sweep.csv"), "--out", str(out)], capsys)
    assert code == 1
    assert "2 series match (mnist N100 pair; mnist N400 pair); choose with --dataset" in err
    code, lines, _ = run(["profile", str(sweep), "--neurons", "400", "--out", str(out)], capsys)
    assert code == 0
    assert lines[0].startswith("profile mnist N400 pair: 2 points")
    assert load_profile(out).n_neurons == 400
    code, _, err = run(["profile", str(sweep), "--rule", "triplet", "--out", str(out)], capsys)
    assert code == 1
    assert err == (
        f"error: {sweep / 'sweep.json'}: no series matches the filters "
        "(series present: mnist N100 pair; mnist N400 pair)\n"
    )


def test_largest_timestep_is_the_default_baseline(
    tmp_path: Path, result: Result, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep = write_sweep(tmp_path / "sweep", [result(*row) for row in TABLE[1:]])
    code, lines, _ = run(["profile", str(sweep), "--out", str(tmp_path / "p.yaml")], capsys)
    assert code == 0
    assert lines[0].endswith(f"3 points, baseline T=200 -> {tmp_path / 'p.yaml'}")
    argv = ["profile", str(sweep), "--baseline", "350", "--out", str(tmp_path / "q.yaml")]
    code, _, err = run(argv, capsys)
    assert code == 1
    assert err.startswith(
        f"error: {sweep / 'sweep.json'}: sweep records: no baseline row for mnist N100 pair"
    )


def test_bad_results_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    broken_json = tmp_path / "broken.json"
    broken_json.write_text('{"results": [{"dataset": "mnist",')
    short_csv = tmp_path / "short.csv"
    short_csv.write_text("dataset,n_neurons,rule,timesteps\nmnist,100,pair,350\nmnist,100\n")
    wrong_csv = tmp_path / "wrong.csv"
    wrong_csv.write_text("a,b\n1,2\n")
    header_only = tmp_path / "header.csv"
    header_only.write_text("dataset,n_neurons,rule\n")
    odd = tmp_path / "sweep.txt"
    odd.write_text("x")
    cases = [
        (tmp_path / "absent", "no such sweep results file or directory"),
        (empty, "no sweep.json or sweep.csv in this directory"),
        (broken_json, "malformed JSON at line 1 (Expecting"),
        (short_csv, "line 3 does not have 4 fields"),
        (wrong_csv, r"sweep record 0: missing key(s) dataset, n_neurons, rule"),
        (header_only, "no sweep records"),
        (odd, "expected a .json or .csv sweep results file"),
    ]
    for path, message in cases:
        code, lines, err = run(["profile", str(path), "--out", str(tmp_path / "p.yaml")], capsys)
        assert (code, lines) == (1, [])
        assert err.startswith(f"error: {path}: {message}")
        assert err.count("\n") == 1
    assert not (tmp_path / "p.yaml").exists()


def test_bad_record_values(
    tmp_path: Path, result: Result, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [result(*row) for row in TABLE]
    rows[2]["accuracy"] = 1.5
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps({"results": rows}))
    code, _, err = run(["profile", str(path), "--out", str(tmp_path / "p.yaml")], capsys)
    assert code == 1
    assert err == (
        f"error: {path}: sweep record 2: accuracy must be in [0, 1], got 1.5 at T=100\n"
    )


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--deadline-ms", "0"),
        ("--energy-budget-uj", "-1"),
        ("--max-accuracy-drop", "101"),
        ("--weight-energy", "nan"),
        ("--min-accuracy", "high"),
    ],
)
def test_bad_flag_values_are_usage_errors(
    sweep: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["profile", str(sweep), flag, value])
    assert info.value.code == 2
    assert f"argument {flag}:" in capsys.readouterr().err


def test_unwritable_out(sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run(["profile", str(sweep), "--out", str(blocker / "p.yaml")], capsys)
    assert code == 1
    # found before the work (io_utils.check_output_file), in one line
    reason = f"{blocker} is not a directory ({blocker / 'p.yaml'})"
    assert err == f"error: --out cannot be created: {reason}\n"
    assert blocker.read_text() == ""

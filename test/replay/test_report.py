"""The replay's report directory: which files are written, their CSV columns and rows, empty and
partial logs, and that a failure while writing leaves no half-written file."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from topspark_ros.errors import TopsparkError
from topspark_ros.messages import BatteryReading, Classification, Label
from topspark_ros.replay import report
from topspark_ros.replay.metrics import summarize
from topspark_ros.replay.records import ReplayLog

S = 1_000_000_000
CSVS = [
    "classification.csv",
    "timestep_command.csv",
    "learning_status.csv",
    "model_update.csv",
    "battery.csv",
    "environment.csv",
]
PLOTS = ["timesteps_battery.png", "latency.png", "energy.png", "accuracy.png"]

Result = Callable[..., Classification]
NewLog = Callable[..., ReplayLog]


def _read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file as dicts."""
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _header(path: Path) -> list[str]:
    """The first line of a CSV file, split."""
    return path.read_text().splitlines()[0].split(",")


def _assert_no_temporary_files(out: Path) -> None:
    """No ``.name.<hex>.tmp`` left beside the report files."""
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_full_report(scenario_log: ReplayLog, tmp_path: Path) -> None:
    out = tmp_path / "out"
    paths = report.write_report(scenario_log, out)
    assert [p.name for p in paths] == [report.SUMMARY, *CSVS, *PLOTS]
    assert all(p.stat().st_size > 0 for p in paths)
    assert json.loads((out / report.SUMMARY).read_text()) == summarize(scenario_log)
    assert ",".join(_header(out / "classification.csv")) == (
        "bag_time_s,stamp_ns,predicted,true_label,correct,environment,confidence,timesteps,"
        "timesteps_used,spike_count,input_spikes,latency_ms,pipeline_ms,energy_j,model_version"
    )
    rows = _read_csv(out / "classification.csv")
    assert len(rows) == 600
    assert rows[301]["bag_time_s"] == "30.1"
    assert rows[301]["environment"] == "field"
    assert all(r["correct"] == str(int(r["predicted"] == r["true_label"])) for r in rows)
    commands = _read_csv(out / "timestep_command.csv")
    assert [(r["bag_time_s"], r["timesteps"], r["mode_name"]) for r in commands] == [
        ("0.0", "100", "nominal"),
        ("20.0", "60", "saving"),
        ("45.0", "30", "critical"),
    ]
    battery = _read_csv(out / "battery.csv")
    assert (battery[0]["percentage"], battery[0]["fraction"]) == ("80.0", "0.8")
    assert _read_csv(out / "learning_status.csv")[0]["state_name"] == "learning"
    assert _read_csv(out / "model_update.csv")[0]["version"] == "1"
    assert _read_csv(out / "environment.csv") == [
        {"bag_time_s": "0.0", "environment": "lab"},
        {"bag_time_s": "30.0", "environment": "field"},
    ]
    _assert_no_temporary_files(out)


def test_unlabelled_frames_and_nan_leave_cells_blank(
    result: Result, new_log: NewLog, tmp_path: Path
) -> None:
    log = new_log(start_ns=S, end_ns=2 * S)
    log.classifications = [(S, result(7, 1, latency_ms=math.nan)), (2 * S, result(8, 2))]
    log.labels = {8: Label(8, 3, "dusk")}
    report.write_report(log, tmp_path)
    first, second = _read_csv(tmp_path / "classification.csv")
    assert (first["true_label"], first["correct"], first["latency_ms"]) == ("", "", "")
    assert (first["environment"], first["stamp_ns"]) == ("default", "7")
    assert (second["true_label"], second["correct"], second["environment"]) == ("3", "0", "dusk")


def test_empty_log_writes_summary_and_headers_only(new_log: NewLog, tmp_path: Path) -> None:
    paths = report.write_report(new_log(), tmp_path)
    assert [p.name for p in paths] == [report.SUMMARY, *CSVS]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([report.SUMMARY, *CSVS])
    for name in CSVS:
        assert len((tmp_path / name).read_text().splitlines()) == 1
    assert _header(tmp_path / "battery.csv")[-1] == "fraction"
    assert _header(tmp_path / "timestep_command.csv")[-1] == "mode_name"
    assert json.loads((tmp_path / report.SUMMARY).read_text())["speed"]["frames"] == 0


def test_partial_log_without_labels_draws_what_it_has(
    result: Result, new_log: NewLog, tmp_path: Path
) -> None:
    log = new_log(start_ns=0, end_ns=3 * S, complete=False, stopped="interrupted")
    log.classifications = [(k * S, result(k, 0, timesteps=40 + k)) for k in range(3)]
    (tmp_path / "accuracy.png").write_bytes(b"from an earlier run")
    names = [p.name for p in report.write_report(log, tmp_path)]
    assert names == [report.SUMMARY, *CSVS, "timesteps_battery.png", "latency.png", "energy.png"]
    assert not (tmp_path / "accuracy.png").exists()


def test_battery_alone_gets_its_plot(new_log: NewLog, tmp_path: Path) -> None:
    log = new_log(end_ns=2 * S, battery=[(0, BatteryReading(0, 0.9)), (S, BatteryReading(0, 0.8))])
    names = [p.name for p in report.write_report(log, tmp_path)]
    assert names == [report.SUMMARY, *CSVS, "timesteps_battery.png"]


def test_a_failed_write_leaves_the_old_file_whole(
    scenario_log: ReplayLog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / report.SUMMARY).write_text("old")

    def half_then_fail(self: Path, data: bytes) -> int:
        with self.open("wb") as f:
            f.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", half_then_fail)
    with pytest.raises(TopsparkError, match=r"cannot write the replay report in .*No space"):
        report.write_report(scenario_log, tmp_path)
    assert (tmp_path / report.SUMMARY).read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == [report.SUMMARY]


def test_a_failing_plot_leaves_complete_files(
    scenario_log: ReplayLog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Path:
        raise RuntimeError("plot bug")

    monkeypatch.setattr(report, "plot_energy", broken)
    with pytest.raises(RuntimeError, match="plot bug"):
        report.write_report(scenario_log, tmp_path)
    assert json.loads((tmp_path / report.SUMMARY).read_text()) == summarize(scenario_log)
    assert len(_read_csv(tmp_path / "classification.csv")) == 600
    assert not (tmp_path / "energy.png").exists()
    _assert_no_temporary_files(tmp_path)

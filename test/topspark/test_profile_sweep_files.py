"""Reading sweep result files, their series and default baseline; notes in saved profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from topspark_ros.topspark.profile import (
    OperatingPoint,
    Profile,
    ProfileError,
    Series,
    default_baseline,
    load_profile,
    read_sweep_records,
    save_profile,
    sweep_series,
)

CSV = (
    "dataset,n_neurons,rule,enhanced,timesteps,accuracy,latency_ms,train_energy_j,"
    "infer_energy_j,memory_bytes\n"
    "mnist,100,pair,False,350,0.9,3.5,7e-06,3.5e-06,335016\n"
    "mnist,100,pair,True,100,0.89,1.0,2e-06,1e-06,335016\n"
)


def row(t: int, **changes: Any) -> dict[str, Any]:
    """A minimal sweep row at T=``t`` (mnist N100 pair, not enhanced)."""
    values: dict[str, Any] = {"dataset": "mnist", "n_neurons": 100, "rule": "pair", "timesteps": t}
    return {**values, **changes}


def test_csv_values_are_parsed(tmp_path: Path) -> None:
    path = tmp_path / "sweep.csv"
    path.write_text(CSV)
    source, rows = read_sweep_records(path)
    assert source == path
    assert rows[1] == {
        "dataset": "mnist",
        "n_neurons": 100,
        "rule": "pair",
        "enhanced": True,
        "timesteps": 100,
        "accuracy": 0.89,
        "latency_ms": 1.0,
        "train_energy_j": 2e-06,
        "infer_energy_j": 1e-06,
        "memory_bytes": 335016,
    }


def test_directory_prefers_json(tmp_path: Path) -> None:
    (tmp_path / "sweep.csv").write_text(CSV)
    assert read_sweep_records(tmp_path)[0] == tmp_path / "sweep.csv"
    (tmp_path / "sweep.json").write_text('[{"dataset": "mnist"}]')
    assert read_sweep_records(tmp_path) == (tmp_path / "sweep.json", [{"dataset": "mnist"}])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"results": 3}', r"expected a 'results' list of sweep records$"),
        ('{"other": []}', r"expected a 'results' list of sweep records$"),
        ('{"results": [1]}', r"sweep record 0 must be a mapping, got int$"),
        ('{"results": []}', r"no sweep records$"),
        ("[1, 2", r"malformed JSON at line 1 \("),
    ],
)
def test_bad_json(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(text)
    with pytest.raises(ProfileError, match=rf"^{path}: {match}"):
        read_sweep_records(path)


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ProfileError, match=r"s\.csv: cannot read sweep results \("):
        read_sweep_records(path)


def test_series_are_distinct_and_sorted() -> None:
    rows = [
        row(350, n_neurons=400),
        row(350),
        row(100, enhanced=True),
        row(60, enhanced=True),
        row(350, rule="weight_dependent"),
    ]
    assert sweep_series(rows) == [
        Series("mnist", 100, "pair", False),
        Series("mnist", 100, "pair", True),
        Series("mnist", 100, "weight_dependent", False),
        Series("mnist", 400, "pair", False),
    ]
    assert Series("mnist", 100, "pair", True).label == "mnist N100 pair (enhanced)"


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"dataset": ""}, r"^sweep record 1: dataset must be a non-empty string, got ''$"),
        ({"n_neurons": "x"}, r"^sweep record 1: n_neurons must be an integer, got 'x'$"),
        ({"enhanced": "yes"}, r"^sweep record 1: enhanced must be true or false, got 'yes'$"),
    ],
)
def test_series_errors(bad: dict[str, Any], match: str) -> None:
    with pytest.raises(ProfileError, match=match):
        sweep_series([row(350), row(100, **bad)])


def test_default_baseline() -> None:
    plain = Series("mnist", 100, "pair", False)
    enhanced = Series("mnist", 100, "pair", True)
    rows = [row(350), row(200), row(100, enhanced=True), row(400, n_neurons=400)]
    assert default_baseline(rows, plain) == 350
    assert default_baseline(rows, enhanced) == 350  # borrowed from the plain rows
    assert default_baseline(rows[1:], plain) == 200
    assert default_baseline(rows[2:], enhanced) == 100
    with pytest.raises(ProfileError, match=r"^sweep records: none for mnist N100 pair$"):
        default_baseline(rows[2:], plain)
    with pytest.raises(ProfileError, match=r"^sweep record 0: missing key\(s\) timesteps$"):
        default_baseline([{"dataset": "mnist", "n_neurons": 100, "rule": "pair"}], plain)


def test_save_profile_notes(tmp_path: Path) -> None:
    prof = Profile("mnist", 100, "pair", (OperatingPoint(350, 0.9, 3.5, 7e-6, 3.5e-6, 10),))
    path = save_profile(tmp_path / "p.yaml", prof, ["made by: a\nand b ", "x"])
    lines = path.read_text().splitlines()
    assert lines[3:7] == ["# made by: a", "# and b", "# x", "profile:"]
    assert load_profile(path) == prof

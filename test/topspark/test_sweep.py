"""A quick sweep on a tiny subset writes well-formed CSV, JSON and PNG files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from topspark_ros.cli.main import main
from topspark_ros.topspark.experiment import PointResult


def test_quick_sweep_writes_well_formed_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep"
    argv = ["sweep", "--embedded", "--neurons", "8", "--rules", "pair", "weight_dependent"]
    argv += ["--timesteps", "40", "10", "--train-samples", "60", "--test-samples", "30"]
    argv += ["--workers", "0"]  # serial (test_dask_runs.py runs it on Dask)
    assert main([*argv, "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == f"sweep done: 4 points on mnist -> {out}"
    with (out / "sweep.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["rule"], int(r["timesteps"])) for r in rows] == [
        ("pair", 40),
        ("pair", 10),
        ("weight_dependent", 40),
        ("weight_dependent", 10),
    ]
    assert set(rows[0]) == set(PointResult.__dataclass_fields__)
    for r in rows:
        assert 0.0 <= float(r["accuracy"]) <= 1.0
        assert float(r["latency_ms"]) > 0 and float(r["infer_energy_j"]) > 0
        assert int(r["train_samples"]) == 60 and int(r["test_samples"]) == 30
    # Fewer timesteps: less modelled inference energy and fewer simulated steps.
    assert float(rows[1]["infer_energy_j"]) < float(rows[0]["infer_energy_j"])
    assert float(rows[1]["infer_steps"]) < float(rows[0]["infer_steps"])
    data = json.loads((out / "sweep.json").read_text())
    assert len(data["results"]) == 4 and data["results"][0]["n_neurons"] == 8
    for name in ("accuracy_vs_t.png", "energy_vs_t.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.glob("*.tmp*"))

"""Parameter significance: perturbation helpers, ranking, and a tiny end-to-end run."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from topspark_ros.cli.main import main
from topspark_ros.snn.params import NetworkParams
from topspark_ros.topspark.sensitivity import Perturbation, perturbed, ranking


def test_perturbed_scales_one_field_and_thresholds_from_rest() -> None:
    p = NetworkParams()
    assert perturbed(p, "theta_plus", 2.0).theta_plus == pytest.approx(0.1)
    assert perturbed(p, "min_spikes", 0.5).min_spikes == 2  # round(2.5) -> 2 (banker's)
    # -52 is 13 mV above rest -65: halving gives 6.5 mV above rest.
    assert perturbed(p, "v_thresh_exc", 0.5).v_thresh_exc == pytest.approx(-58.5)
    # The reset (-65) is 13 mV below the threshold: x0.5 -> 6.5 mV below, x2 -> 26 mV below.
    assert perturbed(p, "v_reset_exc", 0.5).v_reset_exc == pytest.approx(-58.5)
    assert perturbed(p, "v_reset_exc", 2.0).v_reset_exc == pytest.approx(-78.0)
    assert perturbed(p, "tau_exc", 0.5).replace(tau_exc=100.0) == p


def test_ranking_orders_by_largest_absolute_change() -> None:
    rows = [
        Perturbation(60, "a", 0.5, 0.0, 0.80, -0.05),
        Perturbation(60, "a", 2.0, 0.0, 0.86, 0.01),
        Perturbation(60, "b", 0.5, 0.0, 0.95, 0.10),
        Perturbation(60, "c", 2.0, 0.0, 0.84, -0.01),
        Perturbation(350, "c", 2.0, 0.0, 0.50, -0.40),
    ]
    assert ranking(rows, 60) == [("b", 0.10), ("a", 0.05), ("c", 0.01)]
    assert ranking(rows, 350) == [("c", 0.40)]
    assert ranking(rows, 20) == []


def test_sensitivity_command_writes_table_and_heatmap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sens"
    argv = ["sensitivity", "--embedded", "-n", "8", "--timesteps", "30", "10"]
    argv += ["--params", "theta_plus", "input_rate", "--scales", "0.5", "2"]
    argv += ["--train-samples", "40", "--test-samples", "20", "--out", str(out), "--workers", "0"]
    assert main(argv) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("sensitivity done: 8 runs; most significant T=30: ")
    with (out / "sensitivity.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8
    assert {r["parameter"] for r in rows} == {"theta_plus", "input_rate"}
    assert {float(r["value"]) for r in rows if r["parameter"] == "input_rate"} == {
        63.75 / 2,
        63.75 * 2,
    }
    ranking_md = (out / "ranking.md").read_text()
    assert "## T=30" in ranking_md and "## T=10" in ranking_md
    assert (out / "sensitivity.png").read_bytes()[:4] == b"\x89PNG"

"""``topspark reproduce --quick``: the CI smoke run of all four steps and the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from topspark_ros.cli.main import main
from topspark_ros.topspark.profile import load_profile
from topspark_ros.topspark.reproduce import CLAIM_FIELDS, Plan
from topspark_ros.topspark.tradeoff import Constraints, InfeasibleError, select


def test_plans_meet_the_issue() -> None:
    full, quick = Plan.full(), Plan.quick()
    assert full.reference_t == 350 and full.short_t <= 90
    assert 350 / full.short_t >= 3.88
    assert set(full.datasets) == {"mnist", "fashion-mnist"} and set(full.sizes) == {100, 400}
    assert set(full.rules) == {"pair", "weight_dependent"}
    assert quick.claim_train < full.claim_train


def test_quick_reproduce_writes_every_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rep"
    assert main(["reproduce", "--quick", "--out", str(out)]) == 0
    for name in (
        "report.md",
        "claims.csv",
        "claims.json",
        "profile.yaml",
        "sweep/sweep.csv",
        "sweep/sweep.json",
        "sweep/accuracy_vs_t.png",
        "sweep/energy_vs_t.png",
        "sensitivity/sensitivity.csv",
        "sensitivity/ranking.md",
        "sensitivity/sensitivity.png",
    ):
        assert (out / name).stat().st_size > 0, name
    claims = json.loads((out / "claims.json").read_text())["results"]
    plan = Plan.quick()
    assert len(claims) == len(plan.datasets) * len(plan.sizes) * len(plan.rules)
    for row in claims:
        assert tuple(row) == CLAIM_FIELDS
        assert row["short_t"] == plan.short_t and row["reference_t"] == 350
        assert 0.0 <= row["enhanced_accuracy"] <= 1.0
        assert row["train_energy_saving"] > 1.0 and row["infer_energy_saving"] > 1.0
    sweep = json.loads((out / "sweep/sweep.json").read_text())["results"]
    assert {r["enhanced"] for r in sweep} == {False, True}
    assert {r["timesteps"] for r in sweep} == set(plan.sweep_timesteps)
    profile = load_profile(out / "profile.yaml")
    assert {p.timesteps for p in profile.points} == set(plan.sweep_timesteps)
    report = (out / "report.md").read_text()
    assert report.count("| mnist |") == len(plan.sizes) * len(plan.rules)
    for heading in ("## Claims", "## Step 1", "## Step 2", "## Step 3", "## Step 4"):
        assert heading in report
    # Step 4's verdict in the report is the selection rule applied to the saved profile.
    try:
        verdict = f"Selected: T={select(profile, Constraints()).point.timesteps}:"
    except InfeasibleError:
        verdict = "No feasible point:"
    assert verdict in report.split("## Step 4")[1]
    assert "reproduce done" in capsys.readouterr().out

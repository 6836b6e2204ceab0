"""``topspark reproduce --quick``: the CI smoke run of all four steps and the report."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from topspark_ros.cli.main import main
from topspark_ros.topspark.experiment import PointResult
from topspark_ros.topspark.profile import load_profile
from topspark_ros.topspark.reproduce import CLAIM_FIELDS, RUN_FIELDS, Claim, Plan
from topspark_ros.topspark.tradeoff import Constraints, InfeasibleError, select


def test_plans_meet_the_issue() -> None:
    full, quick = Plan.full(), Plan.quick()
    assert full.reference_t == 350 and full.short_t <= 90
    assert 350 / full.short_t >= 3.88
    assert set(full.datasets) == {"mnist", "fashion-mnist"} and set(full.sizes) == {100, 400}
    assert set(full.rules) == {"pair", "weight_dependent"}
    assert quick.claim_train < full.claim_train
    assert len(full.seeds) >= 3 and len(quick.seeds) >= 2  # claims are means over seeds


def test_quick_reproduce_writes_every_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rep"
    assert main(["reproduce", "--quick", "--workers", "0", "--out", str(out)]) == 0
    for name in (
        "report.md",
        "claims.csv",
        "claims.json",
        "claim_runs.csv",
        "claim_runs.json",
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
        assert row["seeds"] == " ".join(str(s) for s in plan.seeds)
        assert row["worst_seed_drop_points"] >= row["accuracy_drop_points"] - 1e-9
    runs = json.loads((out / "claim_runs.json").read_text())["results"]
    assert len(runs) == 3 * len(plan.seeds) * len(claims)
    for row in claims:  # each claim row is the mean of its runs
        mine = [
            r
            for r in runs
            if (r["dataset"], r["n_neurons"], r["rule"])
            == (row["dataset"], row["n_neurons"], row["rule"])
        ]
        base = [r["accuracy"] for r in mine if r["kind"] == "baseline"]
        assert sorted(r["seed"] for r in mine if r["kind"] == "enhanced") == list(plan.seeds)
        assert row["baseline_accuracy"] == pytest.approx(sum(base) / len(base))
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


def test_claim_averages_over_seeds_and_reports_the_worst(
    point_result: Callable[..., PointResult],
) -> None:
    def seeded(t: int, *seeds: tuple[float, float]) -> tuple[PointResult, ...]:
        return tuple(point_result(t, a, lat, seed=s) for s, (a, lat) in enumerate(seeds))

    claim = Claim(
        baseline=seeded(350, (0.80, 4.0), (0.84, 6.0)),
        enhanced=seeded(90, (0.77, 1.0), (0.84, 1.5)),
        plain=seeded(90, (0.70, 2.0), (0.72, 2.0)),
    )
    assert claim.seeds == (0, 1)
    assert claim.baseline_accuracy == pytest.approx(0.82)
    assert claim.enhanced_accuracy == pytest.approx(0.805)
    assert claim.accuracy_drop == pytest.approx(1.5)  # the mean drop decides
    assert claim.seed_drops == pytest.approx((3.0, 0.0))
    assert claim.plain_drop == pytest.approx(11.0)
    assert claim.latency_saving == pytest.approx(5.0 / 1.25)  # ratio of the mean latencies
    assert claim.infer_energy_saving == pytest.approx(5e-6 / 1.25e-6)
    assert claim.train_energy_saving == pytest.approx(1e-5 / 2.5e-6)
    assert claim.plain_drop == pytest.approx(11.0)
    row = claim.row()
    assert tuple(row) == CLAIM_FIELDS
    assert row["seeds"] == "0 1" and row["worst_seed_drop_points"] == pytest.approx(3.0)
    runs = claim.runs()
    assert [r["kind"] for r in runs] == ["baseline"] * 2 + ["enhanced"] * 2 + ["plain"] * 2
    assert all(tuple(r) == RUN_FIELDS for r in runs)


@pytest.mark.parametrize("seeds", [(), (1, 1), (-1,)])
def test_plan_needs_distinct_seeds(seeds: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="distinct non-negative"):
        dataclasses.replace(Plan.quick(), seeds=seeds)


def test_claim_needs_matching_runs(point_result: Callable[..., PointResult]) -> None:
    one = point_result(350, 0.8, 1.0)
    with pytest.raises(ValueError, match="same non-zero number"):
        Claim(baseline=(one,), enhanced=(), plain=(one,))
    with pytest.raises(ValueError, match="same non-zero number"):
        Claim(baseline=(), enhanced=(), plain=())


def test_reproduce_rejects_bad_seeds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rep"
    assert main(["reproduce", "--quick", "--seeds", "1", "1", "--out", str(out)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--seeds: seeds must be distinct" in err[0]
    assert not out.exists()

"""The enhancement rules: identity at the reference T, explicit values below it, CLI wiring."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from topspark_ros.cli.common import add_config_args, params_from_args
from topspark_ros.cli.main import main
from topspark_ros.config import to_mapping
from topspark_ros.snn.model_io import load_model
from topspark_ros.snn.params import PRESETS, NetworkParams, load_preset
from topspark_ros.topspark.enhance import (
    REFERENCE_TIMESTEPS,
    RULES,
    enhance,
    enhanced_values,
    reduction,
)
from topspark_ros.topspark.retarget import Retarget


@pytest.mark.parametrize("preset", PRESETS)
def test_values_at_the_reference_equal_the_defaults(preset: str) -> None:
    base = load_preset(preset)
    assert base.timesteps == REFERENCE_TIMESTEPS
    assert enhance(base) == base
    assert enhanced_values(base, 350) == {r.parameter: getattr(base, r.parameter) for r in RULES}


def test_dataclass_defaults_unchanged_at_and_above_the_reference() -> None:
    base = NetworkParams()
    for t in (350, 500, 1000):
        enhanced = enhance(base, t)
        assert to_mapping(enhanced) == to_mapping(base.replace(timesteps=t))


def test_values_below_the_reference_follow_the_formulas() -> None:
    base = NetworkParams()
    assert reduction(90) == pytest.approx(350 / 90)
    assert reduction(700) == 1.0
    at90 = enhance(base, 90)
    assert at90.timesteps == 90
    assert at90.min_spikes == 1  # round(5 / 3.89)
    assert at90.nu_pre == pytest.approx(1e-4 * (350 / 90) ** 2)
    assert at90.theta_plus == pytest.approx(0.05 * 350 / 90)
    assert enhance(base, 175).min_spikes == 2  # round(5 / 2) rounds half to even
    assert enhance(base, 150).min_spikes == 2
    assert enhance(base, 1).nu_pre == 1.0  # capped at the parameter's bound
    assert enhance(base.replace(min_spikes=0), 60).min_spikes == 0  # no floor stays no floor
    for t in (20, 40, 60, 90, 150, 250):
        p = enhance(base, t)
        assert p.min_spikes >= 1 and math.isfinite(p.nu_pre)
        assert p.nu_pre >= base.nu_pre
        assert base.theta_plus <= p.theta_plus <= 100.0


def test_other_parameters_untouched() -> None:
    base = load_preset("tuned")
    changed = {r.parameter for r in RULES} | {"timesteps"}
    before, after = to_mapping(base), to_mapping(enhance(base, 60))
    assert {k for k in before if before[k] != after[k]} == changed


def test_bad_timesteps() -> None:
    with pytest.raises(ValueError, match="timesteps"):
        reduction(0)


def test_enhance_flag_applies_at_the_requested_t() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", "-T", type=int)
    add_config_args(parser)
    args = parser.parse_args(["-T", "60", "--enhance"])
    assert params_from_args(args) == enhance(load_preset("tuned").replace(timesteps=60))
    assert params_from_args(args, enhanced=False).nu_pre == load_preset("tuned").nu_pre
    plain = parser.parse_args(["-T", "60"])
    assert params_from_args(plain).min_spikes == load_preset("tuned").min_spikes


def test_train_records_the_base_and_eval_retargets_from_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m.npz"
    small = ["--embedded", "-n", "10", "-T", "30", "--train-samples", "60", "--no-eval"]
    assert main(["train", *small, "--enhance", "--out", str(out)]) == 0
    state = load_model(out)
    base = load_preset("tuned").replace(n_neurons=10, timesteps=30)
    assert state.params == enhance(base)
    assert Retarget(state.params, state.extra, enhanced=True).at(20) == enhance(base, 20)
    capsys.readouterr()
    argv = ["eval", str(out), "--embedded", "-T", "20", "--enhance", "--test-samples", "20"]
    assert main(argv) == 0
    assert "on 20 mnist test samples at T=20" in capsys.readouterr().out

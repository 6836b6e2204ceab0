"""The network at T: parameters re-targeted from a model's saved ones, the base record, the
per-T cache, overrides, and the nodes' out-of-range policy."""

from __future__ import annotations

import pytest

from topspark_ros.errors import ConfigError, ModelError
from topspark_ros.snn.params import MAX_TIMESTEPS, MIN_TIMESTEPS, NetworkParams
from topspark_ros.topspark.enhance import BASE_PARAMS_KEY, REFERENCE_TIMESTEPS, enhance
from topspark_ros.topspark.retarget import Retarget, accept_timesteps, in_range

BASE = NetworkParams(n_neurons=20, timesteps=REFERENCE_TIMESTEPS)


def trained_at(t: int) -> tuple[NetworkParams, dict[str, str]]:
    """What a model trained with the rules at ``t`` saves: its parameters and its extra."""
    retarget = Retarget(BASE, enhanced=True)
    extra: dict[str, str] = {}
    retarget.record(extra)
    return retarget.at(t), extra


def test_without_the_rules_only_t_changes() -> None:
    saved, extra = trained_at(60)
    retarget = Retarget(saved, extra, enhanced=False)
    assert retarget.at(200) == saved.replace(timesteps=200)
    assert retarget.base == saved
    assert retarget.at() == saved


def test_the_rules_start_from_the_recorded_base() -> None:
    saved, extra = trained_at(60)
    assert saved == enhance(BASE, 60)
    retarget = Retarget(saved, extra, enhanced=True)
    assert retarget.base == BASE
    assert retarget.at(REFERENCE_TIMESTEPS) == BASE  # the rules are the identity there
    assert retarget.at(60) == saved
    assert retarget.at(30) == enhance(BASE, 30)  # not the rules applied twice


def test_without_a_record_the_rules_start_from_the_saved_parameters() -> None:
    retarget = Retarget(BASE, {}, enhanced=True)
    assert retarget.at(40) == enhance(BASE, 40)


def test_the_record_is_sized_as_the_model() -> None:
    saved, extra = trained_at(60)
    resized = saved.replace(n_inputs=100, n_neurons=7)
    base = Retarget(resized, extra, enhanced=True).base
    assert (base.n_inputs, base.n_neurons) == (100, 7)


def test_only_an_enhancing_target_records_its_base() -> None:
    extra: dict[str, str] = {}
    Retarget(BASE, enhanced=False).record(extra)
    assert extra == {}
    Retarget(BASE, enhanced=True).record(extra)
    assert set(extra) == {BASE_PARAMS_KEY}


def test_overrides_hold_at_every_t() -> None:
    saved, extra = trained_at(60)
    for enhanced in (False, True):
        retarget = Retarget(saved, extra, enhanced, {"early_exit_margin": 3})
        assert {retarget.at(t).early_exit_margin for t in (20, 60, 350)} == {3}
        assert retarget.at(20).timesteps == 20


def test_each_t_is_computed_once() -> None:
    retarget = Retarget(BASE, enhanced=True)
    assert retarget.at(40) is retarget.at(40)
    assert retarget.at(40) is not retarget.at(41)


def test_a_bad_record_fails_at_construction_only_when_enhancing() -> None:
    extra = {BASE_PARAMS_KEY: "{not json"}
    with pytest.raises(ModelError, match=f"model extra '{BASE_PARAMS_KEY}' is not JSON"):
        Retarget(BASE, extra, enhanced=True)
    assert Retarget(BASE, extra, enhanced=False).at(40).timesteps == 40


@pytest.mark.parametrize("t", [MIN_TIMESTEPS - 1, MAX_TIMESTEPS + 1])
@pytest.mark.parametrize("enhanced", [False, True])
def test_t_out_of_range_is_refused(t: int, enhanced: bool) -> None:
    with pytest.raises(ConfigError, match=rf"^T={t} not in 1\.\.1000$"):
        Retarget(BASE, enhanced=enhanced).at(t)


@pytest.mark.parametrize("t", [MIN_TIMESTEPS, 100, MAX_TIMESTEPS])
def test_a_commanded_t_in_range_is_taken_silently(t: int) -> None:
    warnings: list[tuple[str, str]] = []
    assert in_range(t)
    assert accept_timesteps(t, lambda kind, msg: warnings.append((kind, msg)))
    assert warnings == []


@pytest.mark.parametrize("t", [-5, 0, MAX_TIMESTEPS + 1])
def test_a_commanded_t_out_of_range_is_ignored_with_one_warning(t: int) -> None:
    warnings: list[str] = []
    assert not in_range(t)
    assert not accept_timesteps(t, lambda kind, msg: warnings.append(msg), "training T")
    assert warnings == [f"timestep command ignored: training T={t} not in 1..1000"]

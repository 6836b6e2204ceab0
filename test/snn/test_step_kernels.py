"""Tests for the per-step kernels of a presentation (snn/neurons.py, early_exit.py, the step
helpers of stdp.py and normalisation.py) against NumPy references."""

from __future__ import annotations

import numpy as np
import pytest

from topspark_ros.snn import early_exit, layout, neurons, stdp
from topspark_ros.snn.kernels import start_presentation
from topspark_ros.snn.network import pack_constants
from topspark_ros.snn.normalisation import commit_delta
from topspark_ros.snn.params import NetworkParams

F32 = np.float32


def rand32(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    """float32 uniform on [-scale, scale)."""
    return (scale * (2.0 * rng.random(shape) - 1.0)).astype(F32)


def spikes(*indices: int) -> np.ndarray:
    """Spike list (int32 indices) for the kernels that take one."""
    return np.array(indices, np.int32)


# --------------------------------------------------------------------------- neurons


def test_add_rows_sums_the_rows_of_a_steps_spikes() -> None:
    rng = np.random.default_rng(0)
    w = rand32(rng, 6, 4)
    syn = rand32(rng, 4)
    expected = syn + w[[5, 1, 5]].sum(axis=0)
    neurons.add_rows(w, spikes(0, 5, 1, 5, 2), 1, 4, syn)
    np.testing.assert_allclose(syn, expected, rtol=1e-6)


def leak(v: np.ndarray, rest: float, dec: float) -> np.ndarray:
    """NumPy reference of one float32 leak step towards ``rest``."""
    return F32(rest) + (v - F32(rest)) * F32(dec)


@pytest.mark.parametrize("scaled", [False, True])
def test_integrate_matches_reference(scaled: bool) -> None:
    rng = np.random.default_rng(1)
    n, rest, dec = 7, -65.0, 0.95
    v = rand32(rng, n, scale=10.0) + F32(rest)
    ref = np.array([0, 2, 1, 0, 0, 3, 0], np.int32)
    current = rand32(rng, n)
    lazy = np.zeros((layout.L_SIZE, n), F32)
    syn, scale = lazy[layout.L_SYN], lazy[layout.L_SCALE]
    syn[:] = rand32(rng, n)
    scale[:] = rng.uniform(0.5, 2.0, n)
    drive = current + syn * scale if scaled else current
    expected_v = np.where(ref > 0, leak(v, rest, dec), leak(v, rest, dec) + drive)
    expected_ref = np.maximum(ref - 1, 0)
    if scaled:
        neurons.integrate_scaled(v, ref, current, lazy, F32(rest), F32(dec))
        np.testing.assert_array_equal(syn, 0.0)
    else:
        neurons.integrate(v, ref, current, F32(rest), F32(dec))
    np.testing.assert_allclose(v, expected_v, rtol=1e-6)
    np.testing.assert_array_equal(ref, expected_ref)
    np.testing.assert_array_equal(current, 0.0)


def test_fire_resets_counts_and_lists_the_neurons_above_threshold() -> None:
    v = np.array([-50.0, -60.0, -52.0, -40.0, -52.5], F32)
    v_th = np.full(5, -52.0, F32)
    ref = np.zeros(5, np.int32)
    counts = np.array([1, 0, 0, 2, 0], np.int32)
    out = np.full(5, -1, np.int32)
    above = v > v_th
    n_spikes = neurons.fire(v, v_th, ref, F32(-65.0), 5, counts, out)
    assert n_spikes == 2
    np.testing.assert_array_equal(out[:n_spikes], np.flatnonzero(above))
    np.testing.assert_array_equal(v[above], -65.0)
    np.testing.assert_array_equal(v[~above], [-60.0, -52.0, -52.5])  # at threshold: no spike
    np.testing.assert_array_equal(ref, np.where(above, 5, 0))
    np.testing.assert_array_equal(counts, [2, 0, 0, 3, 0])


def test_raise_thresholds_of_the_neurons_that_fired() -> None:
    theta = np.array([0.0, 0.5, 1.0, 0.25], F32)
    v_th = np.zeros(4, F32)
    neurons.raise_thresholds(theta, v_th, spikes(3, 1, 0), 2, F32(0.125), F32(-52.0))
    np.testing.assert_array_equal(theta, [0.0, 0.625, 1.0, 0.375])
    np.testing.assert_array_equal(v_th, [0.0, -51.375, 0.0, -51.625])


def test_inhibit_others_spares_each_spiking_neuron() -> None:
    current = np.zeros(5, F32)
    neurons.inhibit_others(current, spikes(1, 3, 0), 2, F32(2.0))
    np.testing.assert_array_equal(current, [-4.0, -2.0, -4.0, -2.0, -4.0])
    neurons.inhibit_others(current, spikes(), 0, F32(2.0))
    np.testing.assert_array_equal(current, [-4.0, -2.0, -4.0, -2.0, -4.0])


def inhibitory_reference(
    v: np.ndarray, ref: np.ndarray, exc: list[int], p: NetworkParams
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """NumPy reference of one inhibitory-layer step: (v, refractory counts, spikes)."""
    k = pack_constants(p)
    v = leak(v, p.v_rest_inh, k[layout.K_DEC_INH])
    drive = np.zeros(v.size, bool)
    drive[exc] = True
    v = np.where(drive & (ref <= 0), v + F32(p.w_exc_inh), v)
    fire = (ref <= 0) & (v > F32(p.v_thresh_inh))
    v = np.where(fire, F32(p.v_reset_inh), v)
    ref = np.where(ref > 0, ref - 1, np.where(fire, int(k[layout.K_REF_I]), 0))
    return v, ref, list(np.flatnonzero(fire))


def test_inhibitory_layer_matches_reference() -> None:
    p = NetworkParams(n_neurons=8, w_exc_inh=6.0, refrac_inh=2.0)
    v = np.array([-41.0, -39.0, -45.0, -30.0, -47.0, -60.0, -35.0, -50.0], F32)
    ref = np.array([0, 0, 1, 2, 0, 0, 1, 0], np.int32)  # refractory ones neither take nor fire
    exc = [0, 1, 2, 5, 7]
    expected_v, expected_ref, expected_spikes = inhibitory_reference(v, ref, exc, p)
    inh = np.full(8, -1, np.int32)
    n_inh = neurons.inhibitory_layer(v, ref, spikes(*exc, 1), len(exc), inh, pack_constants(p))
    assert expected_spikes == [0, 1]
    assert inh[:n_inh].tolist() == expected_spikes
    np.testing.assert_allclose(v, expected_v, rtol=1e-6)
    np.testing.assert_array_equal(ref, expected_ref)


# --------------------------------------------------------------------------- early exit


def lead_reference(counts: np.ndarray) -> tuple[int, int]:
    """The largest count and the runner-up's (0 with a single neuron)."""
    ranked = np.sort(counts)
    return int(ranked[-1]), int(ranked[-2]) if ranked.size > 1 else 0


def test_track_lead_follows_the_counts_step_by_step() -> None:
    rng = np.random.default_rng(3)
    counts = np.zeros(6, np.int32)
    leader, top, runner = -1, 0, 0
    for _ in range(200):
        fired = np.flatnonzero(rng.random(6) < [0.5, 0.4, 0.3, 0.3, 0.1, 0.05]).astype(np.int32)
        counts[fired] += 1
        leader, top, runner = early_exit.track_lead(counts, fired, fired.size, leader, top, runner)
        assert (top, runner) == lead_reference(counts)
        if top > 0:
            assert counts[leader] == top


@pytest.mark.parametrize(
    ("top", "runner", "margin", "total", "expected"),
    [
        (5, 2, 3, 5, True),
        (5, 3, 3, 8, False),  # lead 2 < margin
        (5, 2, 3, 4, False),  # fewer than min_spikes (5) fired
        (5, 2, 0, 7, False),  # margin 0: never
        (1, 0, 1, 5, True),
    ],
)
def test_exit_now(top: int, runner: int, margin: int, total: int, expected: bool) -> None:
    assert early_exit.exit_now(top, runner, margin, total, 5) is expected


def test_force_spike_lifts_the_neuron_nearest_threshold() -> None:
    v = np.array([-60.0, -55.0, -58.0], F32)
    v_th = np.array([-52.0, -50.0, -57.0], F32)  # margins -8, -5, -1
    assert early_exit.nearest_threshold(v, v_th) == int(np.argmax(v - v_th))
    early_exit.force_spike(v, v_th)
    np.testing.assert_array_equal(v, [-60.0, -55.0, -56.0])
    assert np.count_nonzero(v > v_th) == 1


# --------------------------------------------------------------------------- STDP and sums


def test_decay_traces() -> None:
    x = np.array([1.0, 0.5, 0.0], F32)
    stdp.decay_traces(x, F32(0.9))
    np.testing.assert_array_equal(x, np.array([1.0, 0.5, 0.0], F32) * F32(0.9))


def test_mark_inputs_stamps_steps_and_lists_first_spikes() -> None:
    last_pre = np.full(6, -1, np.int32)
    active = np.full(6, -9, np.int32)
    n_active = stdp.mark_inputs(spikes(4, 1), 0, 2, 0, last_pre, active, 0)
    n_active = stdp.mark_inputs(spikes(9, 1, 3, 9), 1, 3, 2, last_pre, active, n_active)
    assert n_active == 3
    assert active[:n_active].tolist() == [4, 1, 3]  # in order of each input's first spike
    assert last_pre.tolist() == [-1, 2, -1, 2, 0, -1]


def test_start_traces_sets_the_post_trace_of_spiking_neurons() -> None:
    x_post = np.array([0.1, 0.2, 0.3, 0.4], F32)
    lazy = np.zeros((layout.L_SIZE, 4), F32)
    lazy[layout.L_AMP_PRE] = [1.0, 2.0, 3.0, 4.0]
    stdp.start_traces(x_post, lazy, spikes(2, 0, 1), 2)
    np.testing.assert_array_equal(x_post, np.array([1.0, 0.2, 3.0, 0.4], F32))


def test_commit_delta_moves_the_float32_changes_to_the_float64_sums() -> None:
    colsum = np.array([1e9, 2.0, -3.0])
    lazy = np.zeros((layout.L_SIZE, 3), F32)
    delta = lazy[layout.L_DELTA]
    delta[:] = [0.25, -0.5, 1e-3]
    expected = colsum + delta.astype(np.float64)
    commit_delta(colsum, lazy)
    np.testing.assert_array_equal(colsum, expected)
    np.testing.assert_array_equal(delta, 0.0)


# --------------------------------------------------------------------------- start of a run


def test_start_presentation_rests_every_neuron_and_input() -> None:
    p = NetworkParams(n_inputs=5, n_neurons=3)
    theta = np.array([0.0, 1.5, 3.0], F32)
    work_f = np.full((layout.F_SIZE, 3), np.nan, F32)
    work_i = np.full((layout.I_SIZE, 5), 7, np.int32)
    syn = np.full(3, np.nan, F32)
    counts = np.full(3, 4, np.int32)
    start_presentation(work_f, work_i, syn, theta, counts, 5, pack_constants(p))
    np.testing.assert_array_equal(work_f[layout.F_V_EXC], p.v_rest_exc)
    np.testing.assert_array_equal(work_f[layout.F_V_INH], p.v_rest_inh)
    np.testing.assert_array_equal(work_f[layout.F_CURRENT], 0.0)
    np.testing.assert_array_equal(work_f[layout.F_X_POST], 0.0)
    np.testing.assert_array_equal(work_f[layout.F_V_TH], F32(p.v_thresh_exc) + theta)
    np.testing.assert_array_equal(work_i[[layout.I_REF_EXC, layout.I_REF_INH], :3], 0)
    np.testing.assert_array_equal(work_i[layout.I_LAST_PRE], -1)
    np.testing.assert_array_equal(syn, 0.0)
    np.testing.assert_array_equal(counts, 0)

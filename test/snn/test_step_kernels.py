"""Tests for the per-step kernels of a presentation (snn/neurons.py, early_exit.py, the step
helpers of stdp.py and normalisation.py) against NumPy references."""

from __future__ import annotations

import numpy as np
import pytest

from topspark_ros.snn import early_exit, layout, neurons, stdp
from topspark_ros.snn.kernels import start_presentation
from topspark_ros.snn.network import pack_constants
from topspark_ros.snn.normalisation import commit_delta, commit_fired
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


def test_add_rows_of_an_odd_and_an_even_number_of_spikes() -> None:
    rng = np.random.default_rng(5)
    w = rand32(rng, 9, 5)
    rows = spikes(8, 0, 3, 3, 7, 1, 2)
    for start, stop in [(0, 0), (0, 1), (1, 3), (0, 4), (1, 6), (0, 7)]:
        syn = rand32(rng, 5)
        expected = syn.copy()
        for i in rows[start:stop]:  # one row at a time, in order: the same float32 sums
            expected += w[i]
        neurons.add_rows(w, rows, start, stop, syn)
        np.testing.assert_array_equal(syn, expected)


def leak(v: np.ndarray, rest: float, dec: float) -> np.ndarray:
    """NumPy reference of one float32 leak step towards ``rest``."""
    return F32(rest) + (v - F32(rest)) * F32(dec)


@pytest.mark.parametrize("scaled", [False, True])
def test_integrate_matches_reference(scaled: bool) -> None:
    rng = np.random.default_rng(1)
    n, rest, dec = 7, -65.0, 0.95
    v = rand32(rng, n, scale=10.0) + F32(rest)
    v_th = np.full(n, F32(1e6))
    current = rand32(rng, n)
    syn, scale = rand32(rng, n), rng.uniform(0.5, 2.0, n).astype(F32)
    drive = current + syn * scale if scaled else current
    expected = leak(v, rest, dec) + drive
    if scaled:
        above = neurons.integrate_scaled(v, v_th, current, syn, scale, F32(rest), F32(dec))
        np.testing.assert_array_equal(syn, 0.0)
    else:
        above = neurons.integrate(v, v_th, current, F32(rest), F32(dec))
    np.testing.assert_array_equal(v, expected)
    np.testing.assert_array_equal(current, 0.0)
    assert not above


@pytest.mark.parametrize("scaled", [False, True])
def test_integrate_tells_whether_a_neuron_crossed(scaled: bool) -> None:
    v = np.array([-60.0, -53.0, -60.0], F32)
    v_th = np.array([-52.0, -52.0, -52.0], F32)
    zero = np.zeros(3, F32)
    for drive, expected in [
        ([0.0, 0.5, 0.0], False),
        ([0.0, 0.0, 0.0], False),
        ([9.0, 0, 0], True),
    ]:
        current = np.array(drive, F32)
        probe = v.copy()
        if scaled:
            above = neurons.integrate_scaled(
                probe, v_th, current, zero.copy(), zero + 1, F32(-65.0), F32(1.0)
            )
        else:
            above = neurons.integrate(probe, v_th, current, F32(-65.0), F32(1.0))
        assert above is expected
        assert above == bool(np.any(probe > v_th))


def refractory_reference(
    v: np.ndarray, ref: np.ndarray, current: np.ndarray, rest: float, dec: float
) -> tuple[np.ndarray, np.ndarray]:
    """NumPy reference of an exc step with refractory neurons: (v, refractory counts)."""
    leaked = leak(v, rest, dec)
    return np.where(ref > 0, leaked, leaked + current), np.maximum(ref - 1, 0)


def test_refractory_neurons_ignore_their_input_around_integrate() -> None:
    rng = np.random.default_rng(2)
    n, rest, dec = 9, -65.0, 0.95
    v = rand32(rng, n, scale=10.0) + F32(rest)
    v_th = np.full(n, F32(-52.0))
    ref = np.array([0, 2, 1, 0, 3, 0, 0, 1, 0], np.int32)
    current = rand32(rng, n, scale=30.0)
    current[[1, 4]] = 40.0  # refractory neurons with input that would take them over
    expected_v, expected_ref = refractory_reference(v, ref, current, rest, dec)
    refr = np.full(n, -1, np.int32)
    n_refr = int(np.count_nonzero(ref))
    refr[:n_refr] = np.flatnonzero(ref)[::-1]  # any order
    held = np.full(n, np.nan, F32)
    neurons.hold_refractory(v, current, refr, n_refr, held)
    above = neurons.integrate(v, v_th, current, F32(rest), F32(dec))
    assert above == bool(np.any((expected_v > v_th) & (ref <= 0)))
    n_refr, above_r = neurons.release_refractory(
        v, v_th, ref, refr, n_refr, held, F32(rest), F32(dec)
    )
    np.testing.assert_array_equal(v, expected_v)
    np.testing.assert_array_equal(ref, expected_ref)
    np.testing.assert_array_equal(current, 0.0)
    assert sorted(refr[:n_refr].tolist()) == [1, 4]  # the neurons still refractory
    assert not above_r


def test_release_refractory_tells_when_a_refractory_neuron_is_above_threshold() -> None:
    # Rest above threshold: a refractory neuron leaks over it (and fires, as in the reference).
    v = np.array([-40.0, -65.0], F32)
    v_th = np.array([-52.0, -52.0], F32)
    ref = np.array([2, 0], np.int32)
    held = np.array([-40.0, 0.0], F32)
    n_refr, above = neurons.release_refractory(
        v, v_th, ref, spikes(0), 1, held, F32(-45.0), F32(0.5)
    )
    assert (n_refr, above) == (1, True)
    assert v[0] == F32(-45.0) + (F32(-40.0) - F32(-45.0)) * F32(0.5)


def test_fire_resets_counts_and_lists_the_neurons_above_threshold() -> None:
    v = np.array([-50.0, -60.0, -52.0, -40.0, -52.5], F32)
    v_th = np.full(5, -52.0, F32)
    ref = np.array([0, 0, 0, 2, 0], np.int32)  # neuron 3 is already refractory (and listed)
    counts = np.array([1, 0, 0, 2, 0], np.int32)
    out = np.full(5, -1, np.int32)
    refr = spikes(3, -1, -1, -1, -1)
    above = v > v_th
    n_spikes, n_refr = neurons.fire(v, v_th, ref, F32(-65.0), 5, counts, out, refr, 1)
    assert n_spikes == 2
    np.testing.assert_array_equal(out[:n_spikes], np.flatnonzero(above))
    np.testing.assert_array_equal(v[above], -65.0)
    np.testing.assert_array_equal(v[~above], [-60.0, -52.0, -52.5])  # at threshold: no spike
    np.testing.assert_array_equal(ref, np.where(above, 5, 0))
    np.testing.assert_array_equal(counts, [2, 0, 0, 3, 0])
    assert refr[:n_refr].tolist() == [3, 0]  # listed once each
    # No refractory period: nobody is listed.
    n_spikes, n_refr = neurons.fire(v + 20, v_th, ref * 0, F32(-65.0), 0, counts, out, refr, 0)
    assert (n_spikes, n_refr) == (5, 0)


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


@pytest.mark.parametrize(
    ("changes", "relay"),
    [
        ({}, True),  # BindsNET's current-based layer: w_ei 22.5 lifts -60 over -40
        ({"w_exc_inh": 20.5}, True),
        ({"w_exc_inh": 19.9}, False),  # -60 + 19.9 stays below -40: input need not fire it
        ({"w_exc_inh": 10.4}, False),
        ({"v_reset_inh": -39.0}, False),  # after a reset above threshold it fires on its own
        ({"refrac_inh": 6.0}, False),  # still refractory when its exc partner fires again
        ({"refrac_exc": 2.0, "refrac_inh": 2.0}, True),
        ({"v_rest_exc": -50.0}, False),  # exc leaks over threshold: may fire while refractory
    ],
)
def test_inhibition_is_relay_for_layers_that_only_delay(
    changes: dict[str, float], relay: bool
) -> None:
    p = NetworkParams(**changes)  # type: ignore[arg-type]
    v_th = np.full(4, F32(p.v_thresh_exc))
    assert neurons.inhibition_is_relay(pack_constants(p), v_th) is relay


def test_inhibition_is_relay_needs_every_threshold_above_rest() -> None:
    k = pack_constants(NetworkParams())
    assert not neurons.inhibition_is_relay(k, np.array([-52.0, -70.0], F32))  # theta -18 mV


def test_relay_is_the_inhibitory_layer_when_it_holds() -> None:
    # Random exc spike trains with refractory periods: the layer's spikes are last step's exc.
    p = NetworkParams(n_neurons=12)
    k = pack_constants(p)
    assert neurons.inhibition_is_relay(k, np.full(12, F32(p.v_thresh_exc)))
    rng = np.random.default_rng(6)
    v = np.full(12, F32(p.v_rest_inh))
    ref = np.zeros(12, np.int32)
    last = np.full(12, -100)
    previous: list[int] = []
    for t in range(300):
        inh = np.full(12, -1, np.int32)
        n_inh = neurons.inhibitory_layer(v, ref, spikes(*previous, 0), len(previous), inh, k)
        relayed = np.full(12, -1, np.int32)
        n_relay = neurons.relay_spikes(spikes(*previous, 0), len(previous), relayed)
        assert inh[:n_inh].tolist() == relayed[:n_relay].tolist() == previous
        # exc neurons fire at random, but never within their refractory period (5 steps)
        free = t - last > int(k[layout.K_REF_E])
        previous = np.flatnonzero(free & (rng.random(12) < 0.3)).tolist()
        last[previous] = t


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


def test_depression_is_sparse_only_for_weights_at_or_above_a_zero_bound() -> None:
    k = pack_constants(NetworkParams())
    w = np.array([[0.0, 0.5], [1.0, 0.25]], F32)
    assert stdp.depression_is_sparse(w, k)
    assert not stdp.depression_is_sparse(w - F32(0.01), k)  # below the bound: would be lifted
    assert not stdp.depression_is_sparse(np.array([[np.nan, 0.5]], F32), k)
    assert not stdp.depression_is_sparse(w, pack_constants(NetworkParams(w_min=-0.5)))


@pytest.mark.parametrize("rule", [layout.RULE_PAIR, layout.RULE_WEIGHT_DEPENDENT])
def test_depress_fired_is_depress_rows_where_the_others_traces_are_zero(rule: int) -> None:
    rng = np.random.default_rng(8)
    n_in, n = 10, 7
    w = rng.random((n_in, n)).astype(F32)
    w[2, 3] = 0.0  # at the bound
    fired = spikes(5, 1, 3)
    trace = np.zeros(n, F32)
    trace[fired] = rng.uniform(0.01, 0.6, 3).astype(F32)
    lazy = np.zeros((layout.L_SIZE, n), F32)
    lazy[layout.L_DELTA] = rand32(rng, n, scale=0.1)
    lazy[layout.L_SYN] = rand32(rng, n)
    rows = spikes(9, 2, 4, 0, 7)
    dense_w, dense_lazy = w.copy(), lazy.copy()
    stdp.depress_rows(dense_w, rows, 1, 5, trace, dense_lazy, rule)
    stdp.depress_fired(w, rows, 1, 5, trace, lazy, rule, fired, 3)
    np.testing.assert_array_equal(w, dense_w)
    np.testing.assert_array_equal(lazy[layout.L_DELTA], dense_lazy[layout.L_DELTA])
    # depress_rows also sums the rows it reads (add_rows does that where depress_fired is used)
    syn = lazy[layout.L_SYN].copy()
    neurons.add_rows(w, rows, 1, 5, syn)  # rows already depressed: only the unfired columns
    unfired = np.setdiff1d(np.arange(n), fired)
    np.testing.assert_array_equal(syn[unfired], dense_lazy[layout.L_SYN][unfired])


def test_decay_fired_list_first_spikes_and_commit_fired() -> None:
    x = np.array([0.5, 0.0, 0.25, 0.0], F32)
    stdp.decay_fired(x, F32(0.5), spikes(2, 0), 2)
    np.testing.assert_array_equal(x, [0.25, 0.0, 0.125, 0.0])
    counts = np.array([1, 3, 1, 0], np.int32)
    fired = spikes(1, -1, -1, -1)
    n_fired = stdp.list_first_spikes(counts, spikes(0, 1, 2), 3, fired, 1)
    assert fired[:n_fired].tolist() == [1, 0, 2]  # neuron 1 had fired before: listed once
    colsum = np.array([1e9, 2.0, -3.0, 4.0])
    lazy = np.zeros((layout.L_SIZE, 4), F32)
    lazy[layout.L_DELTA] = [0.25, 0.0, 1e-3, 0.0]
    expected = colsum + lazy[layout.L_DELTA].astype(np.float64)
    commit_fired(colsum, lazy, spikes(2, 0), 2)
    np.testing.assert_array_equal(colsum, expected)
    np.testing.assert_array_equal(lazy[layout.L_DELTA], 0.0)


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

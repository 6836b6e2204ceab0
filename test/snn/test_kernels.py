"""Tests for the Numba kernels (snn/kernels.py) against hand computations and NumPy references."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from topspark_ros.snn import kernels as kn
from topspark_ros.snn.encoding import poisson_encode, spike_probability_scale
from topspark_ros.snn.network import pack_constants
from topspark_ros.snn.params import NetworkParams
from topspark_ros.snn.rng import rng_new

RULE_CODES = [kn.RULE_PAIR, kn.RULE_WEIGHT_DEPENDENT]
RULE_NAMES = {kn.RULE_PAIR: "pair", kn.RULE_WEIGHT_DEPENDENT: "weight_dependent"}


@dataclass
class Presented:
    """What one call of ``kernels.present`` left behind."""

    fired: int
    v: np.ndarray  # excitatory membrane potentials at the end (work_f[0])
    x_post: np.ndarray  # postsynaptic traces at the end (work_f[3])
    counts: np.ndarray
    stats: np.ndarray
    w: np.ndarray
    theta: np.ndarray


def csr(steps: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """step_ptr / spike_idx for input spikes given as one list of input indices per step."""
    step_ptr = np.zeros(len(steps) + 1, np.int32)
    step_ptr[1:] = np.cumsum([len(s) for s in steps])
    spike_idx = np.array([i for s in steps for i in s], np.int32)
    return step_ptr, spike_idx


def present(
    params: NetworkParams,
    w: np.ndarray,
    steps: list[list[int]],
    learn: bool = False,
    theta: np.ndarray | None = None,
) -> Presented:
    """Run one presentation of hand-made input spikes on copies of ``w`` and ``theta``."""
    w = np.array(w, np.float32)
    n_in, n = w.shape
    theta = np.zeros(n, np.float32) if theta is None else np.array(theta, np.float32)
    k = pack_constants(params)
    timesteps = len(steps)
    step_ptr, spike_idx = csr(steps)
    counts = np.full(n, -3, np.int32)
    work_f = np.full((5, n), np.nan, np.float32)
    work_i = np.full((6, max(n, n_in)), -9, np.int32)
    pre_decay_pow = (k[kn.K_DEC_PRE] ** np.arange(timesteps + 1)).astype(np.float32)
    stats = np.zeros(kn.STAT_SIZE, np.int64)
    fired = kn.present(
        w, theta, k, timesteps, learn, step_ptr, spike_idx, counts, work_f, work_i,
        pre_decay_pow, stats,
    )
    return Presented(fired, work_f[0].copy(), work_f[3].copy(), counts, stats, w, theta)


# --------------------------------------------------------------------------- LIF dynamics


def test_one_step_below_threshold_matches_hand_computation() -> None:
    p = NetworkParams(n_inputs=2, n_neurons=2, timesteps=1)
    w = np.array([[3.0, 0.5], [7.0, 9.0]], np.float32)
    out = present(p, w, [[0]])
    dec = math.exp(-p.dt / p.tau_exc)
    expected = p.v_rest_exc + (p.v_rest_exc - p.v_rest_exc) * dec + w[0]
    np.testing.assert_allclose(out.v, expected, atol=1e-5)
    assert out.fired == 0
    np.testing.assert_array_equal(out.counts, [0, 0])
    np.testing.assert_array_equal(out.theta, [0.0, 0.0])
    np.testing.assert_array_equal(out.w, w)
    # input, exc, inh, steps, presentations, depressions, potentiations, normalised
    assert out.stats.tolist() == [1, 0, 0, 1, 1, 0, 0, 0]


def test_two_inputs_in_one_step_add() -> None:
    p = NetworkParams(n_inputs=2, n_neurons=2, timesteps=1)
    w = np.array([[3.0, 0.5], [7.0, 2.0]], np.float32)
    out = present(p, w, [[0, 1]])
    np.testing.assert_allclose(out.v, p.v_rest_exc + w.sum(axis=0), atol=1e-5)
    assert out.stats[kn.STAT_INPUT_SPIKES] == 2


def spike_params(**changes: object) -> NetworkParams:
    """2 x 2 network with a 5 mV gap to threshold and a distinct reset potential."""
    base = NetworkParams(
        n_inputs=2, n_neurons=2, timesteps=1, v_thresh_exc=-60.0, v_reset_exc=-70.0,
        w_max=10.0, theta_plus=0.25,
    )
    return base.replace(**changes)


@pytest.mark.parametrize("learn", [False, True])
def test_threshold_crossing_spikes_and_resets(learn: bool) -> None:
    p = spike_params()
    # theta 0.5 raises the threshold to -59.5: neuron 0 (w 6 -> -59.0) crosses it, neuron 1
    # (w 5.2 -> -59.8) would cross the bare threshold -60 but not threshold + theta.
    w = np.array([[6.0, 5.2], [0.0, 0.0]], np.float32)
    theta = np.array([0.5, 0.5], np.float32)
    out = present(p, w, [[0]], learn=learn, theta=theta)
    assert out.fired == 1
    np.testing.assert_array_equal(out.counts, [1, 0])
    assert out.v[0] == pytest.approx(p.v_reset_exc)
    assert out.v[1] == pytest.approx(p.v_rest_exc + 5.2, abs=1e-5)
    assert out.stats[kn.STAT_EXC_SPIKES] == 1
    if learn:
        np.testing.assert_allclose(out.theta, [0.5 + p.theta_plus, 0.5], atol=1e-6)
        # The spike potentiates neuron 0's synapse from the input that just fired (trace 1).
        assert out.w[0, 0] == pytest.approx(6.0 + p.nu_post, abs=1e-6)
        np.testing.assert_array_equal(out.w[:, 1], w[:, 1])
        np.testing.assert_array_equal(out.w[1], w[1])  # input 1 never fired
    else:
        np.testing.assert_array_equal(out.theta, theta)
        np.testing.assert_array_equal(out.w, w)


def test_exactly_at_threshold_does_not_spike() -> None:
    p = spike_params()
    out = present(p, np.array([[5.0, 4.0], [0.0, 0.0]], np.float32), [[0]])
    assert out.fired == 0
    assert out.v[0] == pytest.approx(-60.0)


@pytest.mark.parametrize(("dt", "tau", "k"), [(1.0, 100.0, 5), (1.0, 10.0, 8), (0.5, 20.0, 12)])
def test_leak_decays_exponentially_to_rest(dt: float, tau: float, k: int) -> None:
    p = NetworkParams(n_inputs=2, n_neurons=2, timesteps=k + 1, dt=dt, tau_exc=tau)
    w = np.array([[3.0, 1.0], [0.0, 0.0]], np.float32)
    out = present(p, w, [[0]] + [[] for _ in range(k)])
    np.testing.assert_allclose(out.v - p.v_rest_exc, w[0] * np.exp(-k * dt / tau), atol=5e-5)
    assert out.stats[kn.STAT_STEPS] == k + 1


def test_state_resets_at_each_presentation() -> None:
    # Same input twice through fresh work buffers and reused ones: identical end states.
    p = NetworkParams(n_inputs=2, n_neurons=2, timesteps=3)
    w = np.array([[3.0, 1.0], [2.0, 4.0]], np.float32)
    a = present(p, w, [[0], [1], []])
    b = present(p, w, [[0], [1], []])
    np.testing.assert_array_equal(a.v, b.v)
    dec = np.float32(math.exp(-1 / p.tau_exc))
    np.testing.assert_allclose(a.v - p.v_rest_exc, (w[0] * dec + w[1]) * dec, atol=1e-5)


@pytest.mark.parametrize(
    ("refrac", "dt", "ref_steps"), [(3.0, 1.0, 3), (1.0, 0.5, 2), (2.5, 1.0, 3), (0.0, 1.0, 0)]
)
def test_refractory_steps_ignore_input(refrac: float, dt: float, ref_steps: int) -> None:
    p = NetworkParams(
        n_inputs=2, n_neurons=1, timesteps=1, dt=dt, refrac_exc=refrac, v_thresh_exc=-60.0,
        w_max=10.0,
    )
    w = np.array([[6.0], [1.0]], np.float32)
    # Input 0 makes the neuron spike at step 0; input 1 arrives during the refractory steps.
    during = present(p, w, [[0]] + [[1]] * ref_steps)
    assert during.counts[0] == 1
    assert during.v[0] == pytest.approx(p.v_reset_exc)
    # One step later the same input is integrated again.
    after = present(p, w, [[0]] + [[1]] * (ref_steps + 1))
    assert after.v[0] == pytest.approx(p.v_reset_exc + 1.0, abs=1e-5)


def test_refractory_neuron_can_fire_again_after_period() -> None:
    p = NetworkParams(
        n_inputs=1, n_neurons=1, timesteps=1, refrac_exc=2.0, v_thresh_exc=-60.0, w_max=10.0
    )
    # Driven every step: spikes at steps 0, 3, 6, 9 (2 refractory steps after each).
    out = present(p, np.array([[6.0]], np.float32), [[0]] * 10)
    assert out.counts[0] == 4


@pytest.mark.parametrize("inhibition", ["layer", "direct"])
def test_lateral_inhibition_timing(inhibition: str) -> None:
    # No refractory period, so a self-inhibition of the spiking neuron would show in its v.
    p = NetworkParams(
        n_inputs=2, n_neurons=2, timesteps=1, v_thresh_exc=-60.0, w_max=10.0, refrac_exc=0.0,
        inhibition=inhibition,
    )
    w = np.array([[6.0, 0.0], [0.0, 0.0]], np.float32)
    delay = 1 if inhibition == "direct" else 2  # steps from exc spike to inhibition of others
    before = present(p, w, [[0]] + [[]] * (delay - 1))
    assert before.counts.tolist() == [1, 0]
    assert before.v[1] == pytest.approx(p.v_rest_exc)
    hit = present(p, w, [[0]] + [[]] * delay)
    assert hit.v[1] == pytest.approx(p.v_rest_exc - p.w_inh_exc, abs=1e-5)
    assert hit.v[0] == pytest.approx(p.v_reset_exc)  # a neuron does not inhibit itself
    assert hit.stats[kn.STAT_INH_SPIKES] == (1 if inhibition == "layer" else 0)


# --------------------------------------------------------------------------- STDP rules


def depress_reference(
    w: np.ndarray, i: int, x_post: np.ndarray, nu: float, w_min: float, rule: int
) -> np.ndarray:
    """NumPy version of depress_row."""
    out = w.copy()
    nu32, wmin32 = np.float32(nu), np.float32(w_min)
    if rule == kn.RULE_PAIR:
        new = w[i] - nu32 * x_post
    else:
        new = w[i] - nu32 * x_post * (w[i] - wmin32)
    out[i] = np.maximum(new, wmin32)
    return out


def potentiate_reference(
    w: np.ndarray, j: int, active: list[int], last_pre: np.ndarray, t: int,
    pre_decay_pow: np.ndarray, nu: float, w_max: float, rule: int,
) -> np.ndarray:
    """NumPy version of potentiate_column."""
    out = w.copy()
    nu32, wmax32 = np.float32(nu), np.float32(w_max)
    for i in active:
        x_pre = pre_decay_pow[t - last_pre[i]]
        if rule == kn.RULE_PAIR:
            new = w[i, j] + nu32 * x_pre
        else:
            new = w[i, j] + nu32 * x_pre * (wmax32 - w[i, j])
        out[i, j] = min(new, wmax32)
    return out


@pytest.mark.parametrize("rule", RULE_CODES)
@pytest.mark.parametrize(("nu", "w_min"), [(0.01, 0.0), (0.6, 0.0), (0.6, -0.25)])
def test_depress_row_matches_reference(rule: int, nu: float, w_min: float) -> None:
    rng = np.random.default_rng(rule * 10 + int(nu * 10))
    n_in, n = 6, 5
    w = (w_min + (1.0 - w_min) * rng.random((n_in, n))).astype(np.float32)
    w[2, 0] = w_min  # already at the bound
    x_post = rng.random(n).astype(np.float32)
    x_post[1] = 0.0  # a neuron that has not fired: no depression
    x_post[3] = 1.0
    current = rng.random(n).astype(np.float32)
    expected_current = current + w[2]
    expected = depress_reference(w, 2, x_post, nu, w_min, rule)
    before = w.copy()
    kn.depress_row(w, 2, x_post, current, np.float32(nu), np.float32(w_min), rule)
    np.testing.assert_allclose(w, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(current, expected_current, rtol=1e-6)  # pre-update weights
    np.testing.assert_array_equal(np.delete(w, 2, axis=0), np.delete(before, 2, axis=0))
    assert np.all(w[2] <= before[2])  # depression never raises a weight
    assert np.all(w[2] >= np.float32(w_min))
    assert w[2, 1] == before[2, 1]
    moved = (x_post > 0) & (before[2] > np.float32(w_min))
    assert moved.sum() >= 3
    assert np.all(w[2][moved] < before[2][moved])


def test_depress_row_rule_amounts() -> None:
    w = np.array([[0.8, 0.2]], np.float32)
    x_post = np.array([0.5, 0.5], np.float32)
    for rule, expected in [
        (kn.RULE_PAIR, [0.8 - 0.1 * 0.5, 0.2 - 0.1 * 0.5]),
        (kn.RULE_WEIGHT_DEPENDENT, [0.8 - 0.1 * 0.5 * 0.8, 0.2 - 0.1 * 0.5 * 0.2]),
    ]:
        ww = w.copy()
        kn.depress_row(
            ww, 0, x_post, np.zeros(2, np.float32), np.float32(0.1), np.float32(0.0), rule
        )
        np.testing.assert_allclose(ww[0], expected, rtol=1e-6)
    # The pair rule clamps at w_min; the weight-dependent rule only approaches it.
    ww = w.copy()
    big = np.ones(2, np.float32)
    kn.depress_row(ww, 0, big, np.zeros(2, np.float32), np.float32(0.5), np.float32(0.0), 0)
    np.testing.assert_allclose(ww[0], [0.3, 0.0], atol=1e-7)


@pytest.mark.parametrize("rule", RULE_CODES)
@pytest.mark.parametrize(("nu", "w_max"), [(0.01, 1.0), (0.9, 1.0), (0.5, 0.4)])
def test_potentiate_column_matches_reference(rule: int, nu: float, w_max: float) -> None:
    rng = np.random.default_rng(rule * 7 + int(nu * 10))
    n_in, n, t = 8, 3, 6
    w = (w_max * rng.random((n_in, n))).astype(np.float32)
    w[5, 1] = w_max  # already at the bound
    active = [5, 1, 3, 6]
    last_pre = np.full(n_in, -1, np.int32)
    last_pre[active] = [0, 6, 2, 5]  # spike ages 6, 0, 4, 1 steps at t = 6
    last_pre[0] = 4  # fired but (deliberately) not in the active list: must be skipped
    active_arr = np.zeros(n_in, np.int32)
    active_arr[: len(active)] = active
    active_arr[len(active)] = 0  # beyond n_active: ignored
    pre_decay_pow = (math.exp(-1 / 20.0) ** np.arange(t + 1)).astype(np.float32)
    expected = potentiate_reference(
        w, 1, active, last_pre, t, pre_decay_pow, nu, w_max, rule
    )
    before = w.copy()
    kn.potentiate_column(
        w, 1, active_arr, len(active), last_pre, t, pre_decay_pow, np.float32(nu),
        np.float32(w_max), rule,
    )
    np.testing.assert_allclose(w, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(w[:, [0, 2]], before[:, [0, 2]])  # other neurons untouched
    inactive = np.setdiff1d(np.arange(n_in), active)
    np.testing.assert_array_equal(w[inactive, 1], before[inactive, 1])
    assert np.all(w[active, 1] >= before[active, 1])  # potentiation never lowers (w <= w_max)
    assert np.all(w[:, 1] <= np.float32(w_max))
    assert np.all(w[[1, 3, 6], 1] > before[[1, 3, 6], 1])


def test_potentiate_column_rule_amounts() -> None:
    pre_decay_pow = np.array([1.0, 0.5, 0.25], np.float32)
    last_pre = np.array([2, 1, -1], np.int32)  # ages 0 and 1 at t = 2; input 2 never fired
    active = np.array([0, 1, 0], np.int32)
    for rule, expected in [
        (kn.RULE_PAIR, [0.2 + 0.1, 0.6 + 0.1 * 0.5, 0.4]),
        (kn.RULE_WEIGHT_DEPENDENT, [0.2 + 0.1 * 0.8, 0.6 + 0.1 * 0.5 * 0.4, 0.4]),
    ]:
        w = np.array([[0.2], [0.6], [0.4]], np.float32)
        kn.potentiate_column(
            w, 0, active, 2, last_pre, 2, pre_decay_pow, np.float32(0.1), np.float32(1.0), rule
        )
        np.testing.assert_allclose(w[:, 0], expected, rtol=1e-6)


@pytest.mark.parametrize("rule", ["pair", "weight_dependent"])
def test_learning_presentation_keeps_weights_in_bounds(rule: str) -> None:
    # Strong learning rates so both clamps are reached during one long presentation.
    p = NetworkParams(
        n_inputs=12, n_neurons=3, timesteps=150, rule=rule, nu_pre=0.05, nu_post=0.5,
        input_rate=600.0, v_thresh_exc=-62.0, tau_theta=1e12,
    )
    rng = np.random.default_rng(4)
    w0 = rng.random((12, 3)).astype(np.float32)
    pixels = rng.integers(50, 256, 12, dtype=np.uint8)
    size = 12 * p.timesteps
    st, si, idx = (np.empty(size, np.int32) for _ in range(3))
    step_ptr = np.empty(p.timesteps + 1, np.int32)
    n = poisson_encode(
        pixels, spike_probability_scale(p.input_rate, p.dt), p.timesteps, rng_new(1), st, si,
        step_ptr, idx,
    )
    steps = [idx[step_ptr[t] : step_ptr[t + 1]].tolist() for t in range(p.timesteps)]
    assert n > 0
    learnt = present(p, w0, steps, learn=True)
    assert learnt.fired > 0
    assert learnt.w.min() >= p.w_min
    assert learnt.w.max() <= p.w_max
    assert not np.array_equal(learnt.w, w0)
    np.testing.assert_allclose(learnt.theta, p.theta_plus * learnt.counts, rtol=1e-5)
    # Learning off: the same input leaves weights and theta alone and gives the same counts
    # as a learning run would before its weights changed.
    frozen = present(p, w0, steps, learn=False)
    np.testing.assert_array_equal(frozen.w, w0)
    np.testing.assert_array_equal(frozen.theta, np.zeros(3, np.float32))


def test_pre_trace_decays_between_pre_and_post_spike() -> None:
    # Input 1 fires at step 0, input 0 drives a post spike at step k: w[1] += nu_post * dec^k.
    p = spike_params(n_neurons=1, nu_pre=0.0, nu_post=0.1, tau_pre_trace=4.0)
    for k in (1, 3):
        out = present(p, np.array([[6.0], [1.0]], np.float32), [[1]] + [[]] * (k - 1) + [[0]],
                      learn=True)
        assert out.counts[0] == 1
        assert out.w[1, 0] == pytest.approx(1.0 + 0.1 * math.exp(-k / 4.0), rel=1e-5)


@pytest.mark.parametrize("k", [1, 3])
def test_post_trace_decays_between_post_and_pre_spike(k: int) -> None:
    # Input 0 drives a post spike at step 0; input 1 fires k steps later: w[1] -= nu_pre * dec^k.
    p = spike_params(n_neurons=1, nu_pre=0.1, nu_post=0.0, tau_post_trace=4.0)
    out = present(p, np.array([[6.0], [1.0]], np.float32), [[0]] + [[]] * (k - 1) + [[1]],
                  learn=True)
    assert out.counts[0] == 1
    assert out.w[1, 0] == pytest.approx(1.0 - 0.1 * math.exp(-k / 4.0), rel=1e-5)


# --------------------------------------------------------------------------- normalisation


def test_normalise_columns_matches_reference() -> None:
    rng = np.random.default_rng(8)
    w = rng.random((7, 4)).astype(np.float32)
    w[:, 2] = 0.0  # a zero column: left as is
    w[:, 3] = [0.5, -0.5, 0.25, -0.25, 0.0, 1.0, -1.0]  # sums to zero: left as is
    expected = w.copy()
    sums = expected.sum(axis=0)
    expected[:, sums > 0] *= 3.5 / sums[sums > 0]
    before = w.copy()
    kn.normalise_columns(w, 3.5)
    np.testing.assert_allclose(w, expected, rtol=1e-5)
    np.testing.assert_allclose(w.sum(axis=0)[[0, 1]], 3.5, rtol=1e-5)
    np.testing.assert_array_equal(w[:, 2], 0.0)
    np.testing.assert_array_equal(w[:, 3], before[:, 3])


def test_normalise_columns_keeps_ratios_and_is_idempotent() -> None:
    w = np.array([[1.0, 0.0], [3.0, 2.0], [4.0, 6.0]], np.float32)
    kn.normalise_columns(w, 78.0)
    np.testing.assert_allclose(w[:, 0], [9.75, 29.25, 39.0], rtol=1e-6)
    np.testing.assert_allclose(w[:, 1], [0.0, 19.5, 58.5], rtol=1e-6)
    again = w.copy()
    kn.normalise_columns(again, 78.0)
    np.testing.assert_allclose(again, w, rtol=1e-6)


# --------------------------------------------------------------------------- batches


def run(
    p: NetworkParams, images: np.ndarray, w: np.ndarray, learn: bool, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """run_batch on copies; return (w, theta, counts, stats)."""
    w = np.array(w, np.float32)
    theta = np.zeros(p.n_neurons, np.float32)
    counts = np.zeros((images.shape[0], p.n_neurons), np.int32)
    stats = np.zeros((images.shape[0], kn.STAT_SIZE), np.int64)
    kn.run_batch(
        images, w, theta, pack_constants(p), p.timesteps, learn, rng_new(seed), counts, stats
    )
    return w, theta, counts, stats


@pytest.mark.parametrize("rule", ["pair", "weight_dependent"])
def test_run_batch_learning_normalises_each_sample(rule: str) -> None:
    p = NetworkParams(
        n_inputs=16, n_neurons=4, timesteps=60, rule=rule, norm_total=3.0, input_rate=400.0,
        v_thresh_exc=-62.0,
    )
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 16), dtype=np.uint8)
    w0 = (0.3 * rng.random((16, 4))).astype(np.float32)
    w, theta, counts, stats = run(p, images, w0, learn=True)
    np.testing.assert_allclose(w.sum(axis=0), p.norm_total, rtol=1e-5)
    assert w.min() >= p.w_min
    assert np.all(theta >= 0)
    assert np.all(stats[:, kn.STAT_STEPS] == p.timesteps * stats[:, kn.STAT_PRESENTATIONS])
    assert np.all(stats[:, kn.STAT_EXC_SPIKES] >= counts.sum(axis=1))
    assert counts.sum() > 0
    w_inf, theta_inf, _, _ = run(p, images, w0, learn=False)
    np.testing.assert_array_equal(w_inf, w0)
    np.testing.assert_array_equal(theta_inf, 0.0)


def test_run_batch_theta_decays_once_per_sample() -> None:
    # No input at all: theta only decays, by exp(-T dt / tau_theta) per learning sample.
    p = NetworkParams(n_inputs=4, n_neurons=2, timesteps=10, tau_theta=50.0, min_spikes=0)
    images = np.zeros((3, 4), np.uint8)
    w = np.full((4, 2), 0.25, np.float32)
    theta = np.array([2.0, 4.0], np.float32)
    counts = np.zeros((3, 2), np.int32)
    stats = np.zeros((3, kn.STAT_SIZE), np.int64)
    kn.run_batch(images, w, theta, pack_constants(p), 10, True, rng_new(0), counts, stats)
    np.testing.assert_allclose(theta, np.array([2.0, 4.0]) * math.exp(-3 * 10 / 50.0), rtol=1e-5)
    assert stats[:, kn.STAT_INPUT_SPIKES].sum() == 0
    kn.run_batch(images, w, theta, pack_constants(p), 10, False, rng_new(0), counts, stats)
    np.testing.assert_allclose(theta, np.array([2.0, 4.0]) * math.exp(-3 * 10 / 50.0), rtol=1e-5)


def test_stdp_update_counts_are_recorded() -> None:
    # Input 0 drives a post spike at step 0 (potentiation over the 1 input that fired), then
    # input 1 fires at step 1 (depression of its row: n_neurons synapses).
    p = spike_params(n_neurons=1, nu_pre=0.1, nu_post=0.1)
    out = present(p, np.array([[6.0], [1.0]], np.float32), [[0], [1]], learn=True)
    assert out.stats[kn.STAT_POTENTIATIONS] == 1
    assert out.stats[kn.STAT_DEPRESSIONS] == 1
    quiet = present(p, np.array([[6.0], [1.0]], np.float32), [[0], [1]], learn=False)
    assert quiet.stats[kn.STAT_POTENTIATIONS] == quiet.stats[kn.STAT_DEPRESSIONS] == 0

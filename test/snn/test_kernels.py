"""Tests for the Numba kernels (snn/kernels.py, stdp.py, normalisation.py) against hand
computations and NumPy references."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numba
import numpy as np
import pytest

from topspark_ros.data import load_sample
from topspark_ros.snn import kernels as kn
from topspark_ros.snn import layout, stdp
from topspark_ros.snn import normalisation as nm
from topspark_ros.snn.encoding import poisson_encode, spike_probability_scale
from topspark_ros.snn.network import Network, pack_constants
from topspark_ros.snn.params import NetworkParams, load_preset
from topspark_ros.snn.rng import rng_new, seed_sample
from topspark_ros.snn.run_stats import COLUMNS, SampleStats
from topspark_ros.snn.state import ModelState

RULE_CODES = [layout.RULE_PAIR, layout.RULE_WEIGHT_DEPENDENT]
RULE_NAMES = {layout.RULE_PAIR: "pair", layout.RULE_WEIGHT_DEPENDENT: "weight_dependent"}


@dataclass
class Presented:
    """What one call of ``kernels.present`` left behind."""

    fired: int
    v: np.ndarray  # excitatory membrane potentials at the end (row F_V_EXC)
    x_post: np.ndarray  # postsynaptic traces at the end (row F_X_POST)
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
    """Run one presentation of hand-made input spikes on copies of ``w`` and ``theta``.

    Where depression may be sparse (``stdp.depression_is_sparse``) the presentation runs both
    ways and must come out the same, bit for bit.
    """
    k = pack_constants(params)
    w32 = np.array(w, np.float32)
    dense = present_once(params, w32, steps, learn, theta, sparse_ltd=False)
    if learn and stdp.depression_is_sparse(w32, k):
        sparse = present_once(params, w32, steps, learn, theta, sparse_ltd=True)
        for name in ("fired", "v", "x_post", "counts", "stats", "w", "theta"):
            np.testing.assert_array_equal(getattr(sparse, name), getattr(dense, name))
    return dense


def present_once(
    params: NetworkParams,
    w: np.ndarray,
    steps: list[list[int]],
    learn: bool,
    theta: np.ndarray | None,
    sparse_ltd: bool,
) -> Presented:
    """``present`` with depression sparse or not."""
    w = np.array(w, np.float32)
    n_in, n = w.shape
    theta = np.zeros(n, np.float32) if theta is None else np.array(theta, np.float32)
    k = pack_constants(params)
    timesteps = len(steps)
    step_ptr, spike_idx = csr(steps)
    counts = np.full(n, -3, np.int32)
    ws = kn.Workspace(
        work_f=np.full((layout.F_SIZE, n), np.nan, np.float32),
        work_i=np.full((layout.I_SIZE, max(n, n_in)), -9, np.int32),
        pre_decay_pow=(k[layout.K_DEC_PRE] ** np.arange(timesteps + 1)).astype(np.float32),
        lazy=unit_lazy(k, n),
        colsum=w.sum(axis=0, dtype=np.float64),
    )
    stats = np.zeros(layout.STAT_SIZE, np.int64)
    fired = kn.present(w, theta, k, learn, sparse_ltd, step_ptr, spike_idx, counts, ws, stats)
    # The running column sums follow every STDP update.
    np.testing.assert_allclose(ws.colsum, w.sum(axis=0, dtype=np.float64), rtol=1e-7, atol=1e-7)
    np.testing.assert_array_equal(ws.lazy[layout.L_DELTA], 0.0)
    v = ws.work_f[layout.F_V_EXC].copy()
    return Presented(fired, v, ws.work_f[layout.F_X_POST].copy(), counts, stats, w, theta)


def lazy_state(k: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The lazy normalisation state (float32 [L_SIZE, N]) for per-column ``scale``."""
    lazy = np.zeros((layout.L_SIZE, len(scale)), np.float32)
    lazy[layout.L_SCALE] = scale
    nm.scale_constants(lazy, k)
    return lazy


def unit_lazy(k: np.ndarray, n: int) -> np.ndarray:
    """Lazy normalisation state with every scale 1: raw weights are the effective ones."""
    return lazy_state(k, np.ones(n, np.float32))


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
    # input, exc, inh, steps, presentations, depressions, potentiations, normalised, folded,
    # summed, deadline
    assert out.stats.tolist() == [1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]


def test_two_inputs_in_one_step_add() -> None:
    p = NetworkParams(n_inputs=2, n_neurons=2, timesteps=1)
    w = np.array([[3.0, 0.5], [7.0, 2.0]], np.float32)
    out = present(p, w, [[0, 1]])
    np.testing.assert_allclose(out.v, p.v_rest_exc + w.sum(axis=0), atol=1e-5)
    assert out.stats[layout.STAT_INPUT_SPIKES] == 2


def spike_params(**changes: object) -> NetworkParams:
    """2 x 2 network with a 5 mV gap to threshold and a distinct reset potential."""
    base = NetworkParams(
        n_inputs=2,
        n_neurons=2,
        timesteps=1,
        v_thresh_exc=-60.0,
        v_reset_exc=-70.0,
        w_max=10.0,
        theta_plus=0.25,
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
    assert out.stats[layout.STAT_EXC_SPIKES] == 1
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
    assert out.stats[layout.STAT_STEPS] == k + 1


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
        n_inputs=2,
        n_neurons=1,
        timesteps=1,
        dt=dt,
        refrac_exc=refrac,
        v_thresh_exc=-60.0,
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
        n_inputs=2,
        n_neurons=2,
        timesteps=1,
        v_thresh_exc=-60.0,
        w_max=10.0,
        refrac_exc=0.0,
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
    assert hit.stats[layout.STAT_INH_SPIKES] == (1 if inhibition == "layer" else 0)


def inference_reference(
    p: NetworkParams, w: np.ndarray, steps: list[list[int]]
) -> tuple[np.ndarray, np.ndarray, int]:
    """NumPy reference of an inference presentation, the inhibitory layer simulated in full,
    in the kernels' float32 operation order: (counts, final exc potentials, inh spikes)."""
    k = pack_constants(p)
    f = np.float32
    n = w.shape[1]
    rest_e, reset_e, dec_e = f(p.v_rest_exc), f(p.v_reset_exc), f(k[layout.K_DEC_EXC])
    rest_i, reset_i, dec_i = f(p.v_rest_inh), f(p.v_reset_inh), f(k[layout.K_DEC_INH])
    ref_e_steps, ref_i_steps = int(k[layout.K_REF_E]), int(k[layout.K_REF_I])
    v_th = np.full(n, f(p.v_thresh_exc))
    v_e, v_i = np.full(n, rest_e), np.full(n, rest_i)
    ref_e, ref_i = np.zeros(n, int), np.zeros(n, int)
    counts = np.zeros(n, np.int32)
    exc: list[int] = []
    inh: list[int] = []
    n_inh = 0
    for t, rows in enumerate(steps):
        source = exc if p.inhibition == "direct" else inh
        current = np.zeros(n, f)
        if source:  # float32 weight times a count is float64 in Numba, as here
            current = (current - np.float64(f(p.w_inh_exc)) * len(source)).astype(f)
            current[source] += f(p.w_inh_exc)
        if p.inhibition == "layer":
            v_i = rest_i + (v_i - rest_i) * dec_i
            hit = np.zeros(n, bool)
            hit[exc] = True
            v_i = np.where(hit & (ref_i <= 0), v_i + f(p.w_exc_inh), v_i)
            spike = (ref_i <= 0) & (v_i > f(p.v_thresh_inh))
            v_i = np.where(spike, reset_i, v_i)
            ref_i = np.where(ref_i > 0, ref_i - 1, np.where(spike, ref_i_steps, 0))
            inh = np.flatnonzero(spike).tolist()
            n_inh += len(inh)
        for i in rows:
            current += w[i]
        leaked = rest_e + (v_e - rest_e) * dec_e
        v_e = np.where(ref_e > 0, leaked, leaked + current)
        ref_e = np.maximum(ref_e - 1, 0)
        if p.deadline_spike and t == len(steps) - 1 and counts.sum() == 0:
            j = int(np.argmax(v_e - v_th))
            v_e[j] = max(v_e[j], v_th[j] + f(1.0))
        spike = v_e > v_th
        v_e = np.where(spike, reset_e, v_e)
        ref_e = np.where(spike, ref_e_steps, ref_e)
        counts += spike
        exc = np.flatnonzero(spike).tolist()
    return counts, v_e, n_inh


@pytest.mark.parametrize(
    "changes",
    [
        {},  # the inhibitory layer is a relay (neurons.inhibition_is_relay)
        {"refrac_inh": 7.0},  # it is not: inh neurons still refractory drop exc spikes
        {"w_exc_inh": 12.0, "tau_inh": 3.0},  # it is not: one exc spike may not fire it
        {"inhibition": "direct"},
        {"refrac_exc": 0.0, "refrac_inh": 0.0},
        {"v_rest_exc": -50.0},  # rest above threshold: neurons fire while refractory
        {"deadline_spike": True, "input_rate": 5.0},
    ],
)
def test_inference_matches_the_full_reference(changes: dict[str, object]) -> None:
    p = NetworkParams(
        n_inputs=30,
        n_neurons=12,
        w_inh_exc=6.0,
        v_thresh_exc=-58.0,
        **changes,  # type: ignore[arg-type]
    )
    rng = np.random.default_rng(11)
    w = (2.0 * rng.random((30, 12))).astype(np.float32)
    rate = p.input_rate / 1000.0 * 8.0
    steps = [np.flatnonzero(rng.random(30) < rate).tolist() for _ in range(120)]
    counts, v, n_inh = inference_reference(p, w, steps)
    out = present(p, w, steps)
    assert counts.sum() > 0
    np.testing.assert_array_equal(out.counts, counts)
    np.testing.assert_array_equal(out.v, v)
    assert out.stats[layout.STAT_INH_SPIKES] == n_inh


@pytest.mark.parametrize("rule", ["pair", "weight_dependent"])
def test_sparse_depression_learns_like_dense_depression(rule: str) -> None:
    # Digits presented in turn with learning, depression sparse in one run and dense in the
    # other: the same spikes, weights, traces and column sums, bit for bit.
    p = load_preset("tuned").replace(n_neurons=15, timesteps=80, rule=rule)
    k = pack_constants(p)
    images = load_sample("mnist", "train").images[:25].reshape(25, -1)
    w0 = ModelState.initial(p, seed=2).weights
    assert stdp.depression_is_sparse(w0, k)
    size = 784 * p.timesteps
    runs = []
    for sparse in (True, False):
        w = w0.copy()
        theta = np.zeros(15, np.float32)
        ws = kn.Workspace(
            np.empty((layout.F_SIZE, 15), np.float32),
            np.empty((layout.I_SIZE, 784), np.int32),
            (k[layout.K_DEC_PRE] ** np.arange(p.timesteps + 1)).astype(np.float32),
            unit_lazy(k, 15),
            w.sum(axis=0, dtype=np.float64),
        )
        counts = np.zeros((25, 15), np.int32)
        stats = np.zeros(layout.STAT_SIZE, np.int64)
        state = rng_new(4)
        st, si, idx = (np.empty(size, np.int32) for _ in range(3))
        step_ptr = np.empty(p.timesteps + 1, np.int32)
        for b, image in enumerate(images):
            poisson_encode(
                image, 3 * k[layout.K_P_SCALE], p.timesteps, state, st, si, step_ptr, idx
            )
            kn.present(w, theta, k, True, sparse, step_ptr, idx, counts[b], ws, stats)
        runs.append((w, theta, counts, stats, ws.colsum, ws.work_f))
    assert runs[0][2].sum() > 100
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- STDP rules


def depress_reference(
    w: np.ndarray, i: int, x_post: np.ndarray, nu: float, w_min: float, rule: int
) -> np.ndarray:
    """NumPy version of depress_rows for the one input spike ``i``."""
    out = w.copy()
    nu32, wmin32 = np.float32(nu), np.float32(w_min)
    if rule == layout.RULE_PAIR:
        new = w[i] - nu32 * x_post
    else:
        new = w[i] - nu32 * x_post * (w[i] - wmin32)
    out[i] = np.maximum(new, wmin32)
    return out


def potentiate_reference(
    w: np.ndarray,
    j: int,
    active: list[int],
    last_pre: np.ndarray,
    t: int,
    pre_decay_pow: np.ndarray,
    nu: float,
    w_max: float,
    rule: int,
) -> np.ndarray:
    """NumPy version of potentiate_columns for the one exc spike ``j``."""
    out = w.copy()
    nu32, wmax32 = np.float32(nu), np.float32(w_max)
    for i in active:
        x_pre = pre_decay_pow[t - last_pre[i]]
        if rule == layout.RULE_PAIR:
            new = w[i, j] + nu32 * x_pre
        else:
            new = w[i, j] + nu32 * x_pre * (wmax32 - w[i, j])
        out[i, j] = min(new, wmax32)
    return out


def spikes(*indices: int) -> np.ndarray:
    """Spike list (int32 indices) for the kernels that take one."""
    return np.array(indices, np.int32)


def stdp_constants(rule: int, **changes: float) -> np.ndarray:
    """Kernel constants of a network with STDP ``rule`` and parameter ``changes``."""
    return pack_constants(NetworkParams(rule=RULE_NAMES[rule]).replace(**changes))


SCALES = {"unit": None, "scaled": (0.5, 2.0)}  # scale 1, or scales drawn from [0.5, 2]


def draw_scale(rng: np.random.Generator, n: int, kind: str) -> np.ndarray:
    """Per-column scales: all 1 for 'unit', else uniform in SCALES[kind]."""
    bounds = SCALES[kind]
    if bounds is None:
        return np.ones(n, np.float32)
    return rng.uniform(*bounds, n).astype(np.float32)


@pytest.mark.parametrize("scaled", list(SCALES))
@pytest.mark.parametrize("rule", RULE_CODES)
@pytest.mark.parametrize(("nu", "w_min"), [(0.01, 0.0), (0.6, 0.0), (0.6, -0.25)])
def test_depress_rows_matches_reference(rule: int, nu: float, w_min: float, scaled: str) -> None:
    # Raw weights under per-column scales, updated in raw units, give the effective weights
    # the rule gives on effective weights.
    rng = np.random.default_rng(rule * 10 + int(nu * 10))
    n_in, n = 6, 5
    k = stdp_constants(rule, nu_pre=nu, w_min=w_min)
    scale = draw_scale(rng, n, scaled)
    lazy = lazy_state(k, scale)
    w_eff = (w_min + (1.0 - w_min) * rng.random((n_in, n))).astype(np.float32)
    w = (w_eff / scale).astype(np.float32)
    w[2, 0] = lazy[layout.L_LO, 0]  # already at the bound
    x_post = rng.random(n).astype(np.float32)
    x_post[1] = 0.0  # a neuron that has not fired: no depression
    x_post[3] = 1.0
    trace = (x_post * lazy[layout.L_AMP_PRE]).astype(np.float32)
    syn, delta = lazy[layout.L_SYN], lazy[layout.L_DELTA]  # views: the kernel adds to both
    syn[:] = rng.random(n)
    delta[:] = 0.5
    expected_syn = syn + w[2]
    expected = depress_reference(w * scale, 2, x_post, nu, w_min, rule)
    before = w.copy()
    stdp.depress_rows(w, spikes(2), 0, 1, trace, lazy, rule)
    np.testing.assert_allclose(w * scale, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(syn, expected_syn, rtol=1e-6)  # pre-update raw weights
    np.testing.assert_allclose(delta, 0.5 + (w[2] - before[2]), rtol=1e-6)
    np.testing.assert_array_equal(np.delete(w, 2, axis=0), np.delete(before, 2, axis=0))
    assert np.all(w[2] <= before[2])  # depression never raises a weight
    assert np.all(w[2] >= lazy[layout.L_LO])
    assert w[2, 1] == before[2, 1]
    moved = (x_post > 0) & (before[2] > lazy[layout.L_LO])
    assert moved.sum() >= 3
    assert np.all(w[2][moved] < before[2][moved])


def test_depress_rows_rule_amounts() -> None:
    x_post = np.array([0.5, 0.5], np.float32)
    for rule, expected in [
        (layout.RULE_PAIR, [0.8 - 0.1 * 0.5, 0.2 - 0.1 * 0.5]),
        (layout.RULE_WEIGHT_DEPENDENT, [0.8 - 0.1 * 0.5 * 0.8, 0.2 - 0.1 * 0.5 * 0.2]),
    ]:
        # Column 0 unscaled, column 1 at scale 2 (raw 0.1 is the effective 0.2).
        scale = np.array([1.0, 2.0], np.float32)
        lazy = lazy_state(stdp_constants(rule, nu_pre=0.1), scale)
        ww = np.array([[0.8, 0.1]], np.float32)
        before = ww[0].copy()
        trace = x_post * lazy[layout.L_AMP_PRE]
        delta = lazy[layout.L_DELTA]
        stdp.depress_rows(ww, spikes(0), 0, 1, trace, lazy, rule)
        np.testing.assert_allclose(ww[0] * scale, expected, rtol=1e-6)
        np.testing.assert_array_equal(delta, ww[0] - before)
    # The pair rule clamps at w_min; the weight-dependent rule only approaches it.
    ww = np.array([[0.8, 0.2]], np.float32)
    lazy = unit_lazy(stdp_constants(layout.RULE_PAIR, nu_pre=0.5), 2)
    stdp.depress_rows(ww, spikes(0), 0, 1, lazy[layout.L_AMP_PRE].copy(), lazy, layout.RULE_PAIR)
    np.testing.assert_allclose(ww[0], [0.3, 0.0], atol=1e-7)


@pytest.mark.parametrize("scaled", list(SCALES))
@pytest.mark.parametrize("rule", RULE_CODES)
@pytest.mark.parametrize(("nu", "w_max"), [(0.01, 1.0), (0.9, 1.0), (0.5, 0.4)])
def test_potentiate_columns_matches_reference(
    rule: int, nu: float, w_max: float, scaled: str
) -> None:
    rng = np.random.default_rng(rule * 7 + int(nu * 10))
    n_in, n, t = 8, 3, 6
    k = stdp_constants(rule, nu_post=nu, w_max=w_max)
    scale = draw_scale(rng, n, scaled)
    lazy = lazy_state(k, scale)
    w = (w_max * rng.random((n_in, n)) / scale).astype(np.float32)
    w[5, 1] = lazy[layout.L_HI, 1]  # already at the bound
    active = [5, 1, 3, 6]
    last_pre = np.full(n_in, -1, np.int32)
    last_pre[active] = [0, 6, 2, 5]  # spike ages 6, 0, 4, 1 steps at t = 6
    last_pre[0] = 4  # fired but (deliberately) not in the active list: must be skipped
    active_arr = np.zeros(n_in, np.int32)
    active_arr[: len(active)] = active
    active_arr[len(active)] = 0  # beyond n_active: ignored
    pre_decay_pow = (math.exp(-1 / 20.0) ** np.arange(t + 1)).astype(np.float32)
    expected = potentiate_reference(
        w * scale, 1, active, last_pre, t, pre_decay_pow, nu, w_max, rule
    )
    before = w.copy()
    delta = lazy[layout.L_DELTA]
    delta[:] = 0.5
    stdp.potentiate_columns(
        w, spikes(1), 1, active_arr, len(active), last_pre, t, pre_decay_pow, lazy, rule
    )
    np.testing.assert_allclose(w * scale, expected, rtol=1e-5, atol=1e-6)
    change = (w[:, 1] - before[:, 1]).sum(dtype=np.float64)
    np.testing.assert_allclose(delta, [0.5, 0.5 + change, 0.5], rtol=1e-6)
    np.testing.assert_array_equal(w[:, [0, 2]], before[:, [0, 2]])  # other neurons untouched
    inactive = np.setdiff1d(np.arange(n_in), active)
    np.testing.assert_array_equal(w[inactive, 1], before[inactive, 1])
    assert np.all(w[active, 1] >= before[active, 1])  # potentiation never lowers (w <= w_max)
    assert np.all(w[:, 1] <= lazy[layout.L_HI, 1])
    assert np.all(w[[1, 3, 6], 1] > before[[1, 3, 6], 1])


def test_potentiate_columns_rule_amounts() -> None:
    pre_decay_pow = np.array([1.0, 0.5, 0.25], np.float32)
    last_pre = np.array([2, 1, -1], np.int32)  # ages 0 and 1 at t = 2; input 2 never fired
    active = np.array([0, 1, 0], np.int32)
    for rule, expected in [
        (layout.RULE_PAIR, [0.2 + 0.1, 0.6 + 0.1 * 0.5, 0.4]),
        (layout.RULE_WEIGHT_DEPENDENT, [0.2 + 0.1 * 0.8, 0.6 + 0.1 * 0.5 * 0.4, 0.4]),
    ]:
        for scale in (1.0, 4.0):  # raw = effective / scale
            lazy = lazy_state(stdp_constants(rule, nu_post=0.1), np.array([scale], np.float32))
            w = np.array([[0.2], [0.6], [0.4]], np.float32) / np.float32(scale)
            delta = lazy[layout.L_DELTA]
            stdp.potentiate_columns(
                w, spikes(0), 1, active, 2, last_pre, 2, pre_decay_pow, lazy, rule
            )
            np.testing.assert_allclose(w[:, 0] * scale, expected, rtol=1e-6)
            change = (np.array(expected) - [0.2, 0.6, 0.4]).sum() / scale
            assert delta[0] == pytest.approx(change, rel=1e-5)


@pytest.mark.parametrize("rule", RULE_CODES)
def test_depress_rows_of_several_spikes_match_reference(rule: int) -> None:
    # Several input spikes in one step: each row is added to syn before it is depressed.
    rng = np.random.default_rng(11 + rule)
    n_in, n = 7, 4
    k = stdp_constants(rule, nu_pre=0.3, w_min=0.05)
    scale = draw_scale(rng, n, "scaled")
    lazy = lazy_state(k, scale)
    w = (rng.random((n_in, n)) / scale).astype(np.float32)
    x_post = rng.random(n).astype(np.float32)
    trace = (x_post * lazy[layout.L_AMP_PRE]).astype(np.float32)
    fired = [9, 5, 0, 3, 9]  # spike_idx[1:4] are this step's spikes
    expected_w = w * scale
    for i in fired[1:4]:
        expected_w = depress_reference(expected_w, i, x_post, 0.3, 0.05, rule)
    expected_syn = w[fired[1:4]].sum(axis=0)
    before = w.copy()
    stdp.depress_rows(w, spikes(*fired), 1, 4, trace, lazy, rule)
    np.testing.assert_allclose(w * scale, expected_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(lazy[layout.L_SYN], expected_syn, rtol=1e-6)
    change = (w - before).sum(axis=0)
    np.testing.assert_allclose(lazy[layout.L_DELTA], change, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("rule", RULE_CODES)
def test_potentiate_columns_of_several_spikes_match_reference(rule: int) -> None:
    rng = np.random.default_rng(21 + rule)
    n_in, n, t = 6, 5, 4
    k = stdp_constants(rule, nu_post=0.2, w_max=0.9)
    scale = draw_scale(rng, n, "scaled")
    lazy = lazy_state(k, scale)
    w = (0.9 * rng.random((n_in, n)) / scale).astype(np.float32)
    active = [4, 0, 2]
    last_pre = np.full(n_in, -1, np.int32)
    last_pre[active] = [1, 3, 4]
    pre_decay_pow = (0.8 ** np.arange(t + 1)).astype(np.float32)
    expected = w * scale
    for j in (3, 0, 4):
        expected = potentiate_reference(
            expected, j, active, last_pre, t, pre_decay_pow, 0.2, 0.9, rule
        )
    before = w.copy()
    fired = spikes(3, 0, 4, 1)  # the first three fired
    stdp.potentiate_columns(
        w, fired, 3, spikes(*active), 3, last_pre, t, pre_decay_pow, lazy, rule
    )
    np.testing.assert_allclose(w * scale, expected, rtol=1e-5, atol=1e-6)
    change = (w - before).sum(axis=0)
    np.testing.assert_allclose(lazy[layout.L_DELTA], change, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(w[:, [1, 2]], before[:, [1, 2]])


@pytest.mark.parametrize("rule", ["pair", "weight_dependent"])
def test_learning_presentation_keeps_weights_in_bounds(rule: str) -> None:
    # Strong learning rates so both clamps are reached during one long presentation.
    p = NetworkParams(
        n_inputs=12,
        n_neurons=3,
        timesteps=150,
        rule=rule,
        nu_pre=0.05,
        nu_post=0.5,
        input_rate=600.0,
        v_thresh_exc=-62.0,
        tau_theta=1e12,
    )
    rng = np.random.default_rng(4)
    w0 = rng.random((12, 3)).astype(np.float32)
    pixels = rng.integers(50, 256, 12, dtype=np.uint8)
    size = 12 * p.timesteps
    st, si, idx = (np.empty(size, np.int32) for _ in range(3))
    step_ptr = np.empty(p.timesteps + 1, np.int32)
    n = poisson_encode(
        pixels,
        spike_probability_scale(p.input_rate, p.dt),
        p.timesteps,
        rng_new(1),
        st,
        si,
        step_ptr,
        idx,
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
        out = present(
            p, np.array([[6.0], [1.0]], np.float32), [[1]] + [[]] * (k - 1) + [[0]], learn=True
        )
        assert out.counts[0] == 1
        assert out.w[1, 0] == pytest.approx(1.0 + 0.1 * math.exp(-k / 4.0), rel=1e-5)


@pytest.mark.parametrize("k", [1, 3])
def test_post_trace_decays_between_post_and_pre_spike(k: int) -> None:
    # Input 0 drives a post spike at step 0; input 1 fires k steps later: w[1] -= nu_pre * dec^k.
    p = spike_params(n_neurons=1, nu_pre=0.1, nu_post=0.0, tau_post_trace=4.0)
    out = present(
        p, np.array([[6.0], [1.0]], np.float32), [[0]] + [[]] * (k - 1) + [[1]], learn=True
    )
    assert out.counts[0] == 1
    assert out.w[1, 0] == pytest.approx(1.0 - 0.1 * math.exp(-k / 4.0), rel=1e-5)


# --------------------------------------------------------------------------- normalisation


def test_column_sums_accumulate_in_float64() -> None:
    w = np.array([[1.0, 0.0, 1e8], [3.0, -2.0, 1.0], [4.0, 6.0, -1e8]], np.float32)
    colsum = np.full(3, np.nan)
    nm.column_sums(w, colsum)
    assert colsum.tolist() == [8.0, 4.0, 1.0]  # float32 accumulation would lose the 1


@pytest.mark.parametrize("rule", RULE_CODES)
def test_scale_constants_are_bounds_and_rates_in_raw_units(rule: int) -> None:
    k = stdp_constants(rule, nu_pre=0.01, nu_post=0.1, w_min=-0.5, w_max=2.0)
    lazy = lazy_state(k, np.array([1.0, 2.0, 0.25], np.float32))
    np.testing.assert_allclose(lazy[layout.L_LO], [-0.5, -0.25, -2.0], rtol=1e-6)
    np.testing.assert_allclose(lazy[layout.L_HI], [2.0, 1.0, 8.0], rtol=1e-6)
    if rule == layout.RULE_PAIR:  # fixed effective steps: divided by the scale
        np.testing.assert_allclose(lazy[layout.L_AMP_PRE], [0.01, 0.005, 0.04], rtol=1e-6)
        np.testing.assert_allclose(lazy[layout.L_AMP_POST], [0.1, 0.05, 0.4], rtol=1e-6)
    else:  # relative steps: scale-free
        np.testing.assert_allclose(lazy[layout.L_AMP_PRE], 0.01, rtol=1e-6)
        np.testing.assert_allclose(lazy[layout.L_AMP_POST], 0.1, rtol=1e-6)


def test_rescale_columns_sets_each_effective_sum() -> None:
    lazy = np.zeros((layout.L_SIZE, 4), np.float32)
    lazy[layout.L_SCALE] = [1.0, 3.0, 0.5, 1.0]
    colsum = np.array([39.0, 0.0, -2.0, 156.0])  # raw sums
    assert not nm.rescale_columns(lazy, colsum, 78.0)
    # Positive sums get scale total / sum; zero and negative sums keep their scale.
    np.testing.assert_allclose(lazy[layout.L_SCALE], [2.0, 3.0, 0.5, 0.5], rtol=1e-7)
    colsum[0] = 78.0 / 2000.0  # scale 2000 > SCALE_MAX: the caller must fold
    assert nm.rescale_columns(lazy, colsum, 78.0)
    assert lazy[layout.L_SCALE, 0] == pytest.approx(2000.0)
    colsum[0] = 78.0 / 5e-4  # scale below SCALE_MIN
    assert nm.rescale_columns(lazy, colsum, 78.0)


def test_fold_scales_keeps_effective_weights_and_resets_scale() -> None:
    rng = np.random.default_rng(8)
    w = rng.random((7, 4)).astype(np.float32)
    lazy = lazy_state(pack_constants(NetworkParams()), np.array([2.0, 0.5, 1.0, 3.0], np.float32))
    lazy[layout.L_DELTA] = 0.25
    effective = w * lazy[layout.L_SCALE]
    colsum = np.full(4, np.nan)
    nm.fold_scales(w, lazy, colsum)
    np.testing.assert_array_equal(w, effective)
    np.testing.assert_allclose(colsum, w.sum(axis=0, dtype=np.float64), rtol=1e-12)
    np.testing.assert_array_equal(lazy[layout.L_SCALE], 1.0)
    np.testing.assert_array_equal(lazy[layout.L_DELTA], 0.0)


# --------------------------------------------------------------------------- batches


def run(
    p: NetworkParams, images: np.ndarray, w: np.ndarray, learn: bool, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """run_batch on copies; return (w, theta, counts, stats)."""
    w = np.array(w, np.float32)
    theta = np.zeros(p.n_neurons, np.float32)
    counts = np.zeros((images.shape[0], p.n_neurons), np.int32)
    stats = np.zeros((images.shape[0], layout.STAT_SIZE), np.int64)
    kn.run_batch(images, w, theta, pack_constants(p), p.timesteps, learn, seed, 0, counts, stats)
    return w, theta, counts, stats


@pytest.mark.parametrize("rule", ["pair", "weight_dependent"])
def test_run_batch_learning_normalises_each_sample(rule: str) -> None:
    p = NetworkParams(
        n_inputs=16,
        n_neurons=4,
        timesteps=60,
        rule=rule,
        norm_total=3.0,
        input_rate=400.0,
        v_thresh_exc=-62.0,
    )
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 16), dtype=np.uint8)
    w0 = (0.3 * rng.random((16, 4))).astype(np.float32)
    w, theta, counts, stats = run(p, images, w0, learn=True)
    np.testing.assert_allclose(w.sum(axis=0), p.norm_total, rtol=1e-5)
    assert w.min() >= p.w_min
    assert np.all(theta >= 0)
    assert np.all(stats[:, layout.STAT_STEPS] == p.timesteps * stats[:, layout.STAT_PRESENTATIONS])
    assert np.all(stats[:, layout.STAT_EXC_SPIKES] >= counts.sum(axis=1))
    assert counts.sum() > 0
    # Normalisation work: the column sums at batch start, N column rescales per sample and
    # one fold at batch end.
    n_w = 16 * 4
    assert stats[:, layout.STAT_SUMMED].tolist() == [n_w, 0, 0]
    assert stats[:, layout.STAT_FOLDED].tolist() == [0, 0, n_w]
    assert stats[:, layout.STAT_NORMALISED].tolist() == [4, 4, 4]
    w_inf, theta_inf, _, stats_inf = run(p, images, w0, learn=False)
    np.testing.assert_array_equal(w_inf, w0)
    np.testing.assert_array_equal(theta_inf, 0.0)
    assert not stats_inf[:, layout.STAT_NORMALISED :].any()


def per_sample_reference(
    p: NetworkParams, images: np.ndarray, w: np.ndarray, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training as run_batch did before lazy normalisation: STDP on effective weights (all
    scales 1), then every column rescaled to norm_total after each sample. (w, theta, counts)."""
    w = np.array(w, np.float32)
    n_in, n = w.shape
    k = pack_constants(p)
    state = np.ones(1, np.uint64)
    theta = np.zeros(n, np.float32)
    counts = np.zeros((images.shape[0], n), np.int32)
    size = n_in * p.timesteps
    spike_t, spike_i, spike_idx = (np.empty(size, np.int32) for _ in range(3))
    step_ptr = np.empty(p.timesteps + 1, np.int32)
    ws = kn.Workspace(
        work_f=np.empty((layout.F_SIZE, n), np.float32),
        work_i=np.empty((layout.I_SIZE, max(n, n_in)), np.int32),
        pre_decay_pow=(k[layout.K_DEC_PRE] ** np.arange(p.timesteps + 1)).astype(np.float32),
        lazy=unit_lazy(k, n),
        colsum=np.zeros(n),
    )
    stats = np.zeros(layout.STAT_SIZE, np.int64)
    for b, image in enumerate(images):
        seed_sample(state, seed, b)
        theta *= np.float32(k[layout.K_DEC_THETA])
        p_scale = k[layout.K_P_SCALE]
        for _ in range(p.max_retries + 1):
            poisson_encode(
                image, p_scale, p.timesteps, state, spike_t, spike_i, step_ptr, spike_idx
            )
            fired = kn.present(w, theta, k, True, False, step_ptr, spike_idx, counts[b], ws, stats)
            if fired >= p.min_spikes:
                break
            p_scale += k[layout.K_P_RETRY]
        sums = w.sum(axis=0, dtype=np.float64)
        positive = sums > 0
        w[:, positive] *= (p.norm_total / sums[positive]).astype(np.float32)
    return w, theta, counts


@pytest.mark.parametrize("rule", ["pair", "weight_dependent"])
def test_lazy_normalisation_matches_per_sample_normalisation(rule: str) -> None:
    # N=20 on 784 inputs, 200 embedded MNIST images in one batch: the lazy scales give the same
    # spikes as rescaling all weights after every sample, and weights equal up to rounding.
    p = NetworkParams(n_neurons=20, timesteps=100, rule=rule, w_inh_exc=120.0)
    images = load_sample("mnist", "train").images[:200].reshape(200, -1)
    w0 = ModelState.initial(p, seed=5).weights
    w_ref, theta_ref, counts_ref = per_sample_reference(p, images, w0)
    w, theta, counts, stats = run(p, images, w0, learn=True)
    assert counts_ref.sum() > 1000
    np.testing.assert_array_equal(counts, counts_ref)
    np.testing.assert_allclose(theta, theta_ref, rtol=1e-6)
    np.testing.assert_allclose(w, w_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w.sum(axis=0, dtype=np.float64), p.norm_total, rtol=1e-6)
    assert stats[:, layout.STAT_FOLDED].sum() == 784 * 20  # one fold, at the end
    assert stats[:, layout.STAT_NORMALISED].sum() == 200 * 20


def test_scale_out_of_range_folds_at_once() -> None:
    # Tiny initial weights: the first rescale multiplies them by ~1e4 > SCALE_MAX.
    p = NetworkParams(n_inputs=16, n_neurons=4, timesteps=30, input_rate=400.0, w_init=1e-5)
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (3, 16), dtype=np.uint8)
    w0 = (1e-5 * (1.0 + rng.random((16, 4)))).astype(np.float32)
    w, _, _, stats = run(p, images, w0, learn=True)
    assert stats[:, layout.STAT_FOLDED].tolist() == [64, 0, 64]
    np.testing.assert_allclose(w.sum(axis=0, dtype=np.float64), p.norm_total, rtol=1e-6)


@pytest.mark.parametrize("rule", ["pair", "weight_dependent"])
def test_column_sums_are_norm_total_after_every_batch(rule: str) -> None:
    p = NetworkParams(n_neurons=20, timesteps=60, rule=rule, w_inh_exc=120.0)
    net = Network.fresh(p, seed=1)
    images = load_sample("mnist", "train").images[:300]
    sums: list[np.ndarray] = []
    net.train(images, batch=40, progress=lambda _: sums.append(net.state.weights.sum(axis=0)))
    assert len(sums) == 8
    np.testing.assert_allclose(np.array(sums), p.norm_total, rtol=1e-5)


def test_run_batch_theta_decays_once_per_sample() -> None:
    # No input at all: theta only decays, by exp(-T dt / tau_theta) per learning sample.
    p = NetworkParams(n_inputs=4, n_neurons=2, timesteps=10, tau_theta=50.0, min_spikes=0)
    images = np.zeros((3, 4), np.uint8)
    w = np.full((4, 2), 0.25, np.float32)
    theta = np.array([2.0, 4.0], np.float32)
    counts = np.zeros((3, 2), np.int32)
    stats = np.zeros((3, layout.STAT_SIZE), np.int64)
    kn.run_batch(images, w, theta, pack_constants(p), 10, True, 0, 0, counts, stats)
    np.testing.assert_allclose(theta, np.array([2.0, 4.0]) * math.exp(-3 * 10 / 50.0), rtol=1e-5)
    assert stats[:, layout.STAT_INPUT_SPIKES].sum() == 0
    kn.run_batch(images, w, theta, pack_constants(p), 10, False, 0, 0, counts, stats)
    np.testing.assert_allclose(theta, np.array([2.0, 4.0]) * math.exp(-3 * 10 / 50.0), rtol=1e-5)


def test_stdp_update_counts_are_recorded() -> None:
    # Input 0 drives a post spike at step 0 (potentiation over the 1 input that fired), then
    # input 1 fires at step 1 (depression of its row: n_neurons synapses).
    p = spike_params(n_neurons=1, nu_pre=0.1, nu_post=0.1)
    out = present(p, np.array([[6.0], [1.0]], np.float32), [[0], [1]], learn=True)
    assert out.stats[layout.STAT_POTENTIATIONS] == 1
    assert out.stats[layout.STAT_DEPRESSIONS] == 1
    quiet = present(p, np.array([[6.0], [1.0]], np.float32), [[0], [1]], learn=False)
    assert quiet.stats[layout.STAT_POTENTIATIONS] == quiet.stats[layout.STAT_DEPRESSIONS] == 0


# --------------------------------------------------------------------------- deadline and gain


def test_deadline_spike_fires_the_neuron_nearest_threshold_once() -> None:
    # Two steps of input that leave both neurons below threshold; neuron 1 gets more drive.
    p = NetworkParams(n_inputs=2, n_neurons=2, theta_plus=0.5, deadline_spike=True)
    w = np.array([[0.3, 0.4], [0.1, 0.2]], np.float32)
    quiet = present(p.replace(deadline_spike=False), w, [[0, 1], [0]], learn=True)
    assert quiet.fired == 0
    assert quiet.stats[layout.STAT_DEADLINE] == 0
    out = present(p, w, [[0, 1], [0]], learn=True)
    assert out.fired == 1
    np.testing.assert_array_equal(out.counts, [0, 1])
    np.testing.assert_array_equal(out.theta, [0.0, 0.5])
    assert out.stats[layout.STAT_DEADLINE] == 1
    assert out.stats[layout.STAT_EXC_SPIKES] == 1
    # The forced spike potentiates like any other: neuron 1's weights from active inputs grow.
    assert out.w[0, 1] > w[0, 1] and out.w[1, 1] > w[1, 1]


def test_deadline_spike_leaves_a_presentation_with_spikes_alone() -> None:
    p = NetworkParams(n_inputs=1, n_neurons=2, deadline_spike=True)
    w = np.array([[20.0, 1.0]], np.float32)  # neuron 0 crosses threshold on the first step
    out = present(p, w, [[0], [], []])
    assert out.counts.tolist() == [1, 0]
    assert out.stats[layout.STAT_DEADLINE] == 0


def test_input_gain_scales_to_the_target_mean() -> None:
    pixels = np.array([0, 10, 30, 40], np.uint8)  # mean 20
    assert kn.input_gain(pixels, 0.0) == 1.0
    assert kn.input_gain(pixels, 50.0) == pytest.approx(2.5)
    assert kn.input_gain(np.zeros(4, np.uint8), 50.0) == 1.0


def test_input_mean_is_the_same_as_scaling_the_rate() -> None:
    # Pixels of mean 16 brought to mean 32 (gain 2 exactly) draw the same spikes as the raw image
    # at twice the rate, re-presentations included.
    p = NetworkParams(n_inputs=16, n_neurons=3, timesteps=30, min_spikes=3, max_retries=2)
    images = np.full((2, 16), 16, np.uint8)
    w0 = np.full((16, 3), 0.2, np.float32)
    normalised = run(p.replace(input_mean=32.0), images, w0, learn=True)
    doubled = run(
        p.replace(input_rate=2 * p.input_rate, retry_rate_step=2 * p.retry_rate_step),
        images,
        w0,
        learn=True,
    )
    for a, b in zip(normalised, doubled, strict=True):
        np.testing.assert_array_equal(a, b)
    assert normalised[3][:, layout.STAT_INPUT_SPIKES].sum() > 0


# --------------------------------------------------------------------------- early exit

# sha256 of a fixed train + respond run (tuned preset, N20, T60, both inhibitions) made with the
# kernels before the early exit existed (remade when each sample got its own random stream, issue
# 19): margin 0 must reproduce it bit for bit.
GOLDEN_SHA256 = "371375fc5e6c434ec5f9db6548dc2ed3172c7e022bced8c3310e57dad115baa6"


def stats_array(stats: SampleStats) -> np.ndarray:
    """The kernels' int64 [B, STAT_SIZE] array that ``stats`` names the columns of."""
    array = np.zeros((len(stats), layout.STAT_SIZE), np.int64)
    for name, column in COLUMNS.items():
        array[:, column] = getattr(stats, name)
    return array


def golden_digest(**changes: object) -> str:
    """sha256 over counts, stats, weights and theta of the fixed run behind GOLDEN_SHA256."""
    images = load_sample("mnist", "train").images[:60]
    digest = hashlib.sha256()
    for inhibition in ("layer", "direct"):
        p = load_preset("tuned").replace(
            n_neurons=20, timesteps=60, inhibition=inhibition, **changes
        )
        net = Network.fresh(p, seed=3)
        learnt = net.train(images[:40])
        answered = net.respond(images[40:])
        arrays = (learnt[0], stats_array(learnt[1]), answered[0], stats_array(answered[1]))
        for array in (*arrays, net.state.weights, net.state.theta):
            digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def test_margin_zero_is_bit_identical_to_the_kernels_before_early_exit() -> None:
    assert golden_digest() == GOLDEN_SHA256


def test_unreachable_margin_changes_nothing() -> None:
    # Tracking the leader must not disturb the run when the margin is never reached.
    assert golden_digest(early_exit_margin=1000) == GOLDEN_SHA256


def test_learning_ignores_the_margin() -> None:
    images = load_sample("mnist", "train").images[:20].reshape(20, -1)
    p = load_preset("tuned").replace(n_neurons=10, timesteps=60)
    w0 = ModelState.initial(p, seed=1).weights
    plain = run(p, images, w0, learn=True)
    margin = run(p.replace(early_exit_margin=1), images, w0, learn=True)
    for a, b in zip(plain, margin, strict=True):
        np.testing.assert_array_equal(a, b)


def test_early_exit_hand_example() -> None:
    # Neuron 0 fires on every step (no refractory period, no inhibition), neuron 1 never does.
    p = NetworkParams(
        n_inputs=1,
        n_neurons=2,
        refrac_exc=0.0,
        w_exc_inh=0.0,
        min_spikes=0,
        early_exit_margin=3,
    )
    w = np.array([[20.0, 0.0]], np.float32)
    steps = [[0]] * 10
    out = present(p, w, steps)
    assert out.counts.tolist() == [3, 0]
    assert out.stats[layout.STAT_STEPS] == 3
    assert out.stats[layout.STAT_INPUT_SPIKES] == 3  # the input spikes actually presented
    # Ending before min_spikes would only cause a re-presentation: it waits for them.
    out = present(p.replace(min_spikes=5), w, steps)
    assert out.counts.tolist() == [5, 0]
    assert out.stats[layout.STAT_STEPS] == 5
    # Learning always runs the full T.
    out = present(p, w, steps, learn=True)
    assert out.stats[layout.STAT_STEPS] == 10


def test_early_exit_needs_a_lead_not_a_count() -> None:
    # Both neurons fire on every step: a tie never ends the presentation.
    p = NetworkParams(
        n_inputs=1, n_neurons=2, refrac_exc=0.0, w_exc_inh=0.0, min_spikes=0, early_exit_margin=1
    )
    out = present(p, np.array([[20.0, 20.0]], np.float32), [[0]] * 8)
    assert out.counts.tolist() == [8, 8]
    assert out.stats[layout.STAT_STEPS] == 8


def first_exit(counts_by_step: list[np.ndarray], margin: int, min_spikes: int) -> int:
    """NumPy reference: the first step count at which the leader leads by ``margin``; else T."""
    for t, counts in enumerate(counts_by_step, start=1):
        ranked = np.sort(counts)
        runner = ranked[-2] if ranked.size > 1 else 0
        if ranked[-1] - runner >= margin and counts.sum() >= min_spikes:
            return t
    return len(counts_by_step)


@pytest.mark.parametrize("seed", [0, 2, 5])
@pytest.mark.parametrize("margin", [1, 2, 4])
@pytest.mark.parametrize("inhibition", ["layer", "direct"])
def test_early_exit_matches_prefix_reference(seed: int, margin: int, inhibition: str) -> None:
    # The early-exit run equals the full run cut at the first step where the lead (from the
    # cumulative counts of each prefix of the input) reaches the margin.
    rng = np.random.default_rng(seed)
    n_in, n, t_max = 8, 5, 40
    p = NetworkParams(
        n_inputs=n_in,
        n_neurons=n,
        min_spikes=2,
        refrac_exc=1.0,
        w_inh_exc=2.0,
        inhibition=inhibition,
    )
    # Columns of unequal strength, so that leads of several spikes build up at various steps.
    strength = rng.permutation([8.0, 3.0, 2.0, 1.5, 1.0])
    w = (rng.random((n_in, n)) * strength).astype(np.float32)
    steps = [list(np.flatnonzero(rng.random(n_in) < 0.4)) for _ in range(t_max)]
    prefixes = [present(p, w, steps[:t]).counts for t in range(1, t_max + 1)]
    expected_steps = first_exit(prefixes, margin, p.min_spikes)
    out = present(p.replace(early_exit_margin=margin), w, steps)
    assert out.stats[layout.STAT_STEPS] == expected_steps
    np.testing.assert_array_equal(out.counts, prefixes[expected_steps - 1])
    assert out.stats[layout.STAT_INPUT_SPIKES] == sum(len(s) for s in steps[:expected_steps])


def test_early_exit_shortens_inference_on_digits() -> None:
    images = load_sample("mnist", "train").images[:40].reshape(40, -1)
    p = load_preset("tuned").replace(n_neurons=20, timesteps=100)
    net = Network.fresh(p, seed=0)
    net.train(images)
    w = net.state.weights
    _, _, full, full_stats = run(p, images, w, learn=False)
    _, _, short, short_stats = run(p.replace(early_exit_margin=2), images, w, learn=False)
    assert short_stats[:, layout.STAT_STEPS].mean() < 0.8 * full_stats[:, layout.STAT_STEPS].mean()
    assert (short_stats[:, layout.STAT_STEPS] <= full_stats[:, layout.STAT_STEPS]).all()
    leader = short.argmax(axis=1)
    ranked = np.sort(short, axis=1)
    exited = (
        short_stats[:, layout.STAT_STEPS] < p.timesteps * short_stats[:, layout.STAT_PRESENTATIONS]
    )
    assert ((ranked[:, -1] - ranked[:, -2])[exited] >= 2).all()
    assert (leader == full.argmax(axis=1)).mean() > 0.5


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("margin", [0, 3])
def test_infer_batch_is_run_batch_on_threads(threads: int, margin: int) -> None:
    # Digits shared out over threads (more threads than cores too), with and without early
    # exit, some presented again for firing too little: counts and statistics of run_batch.
    p = load_preset("tuned").replace(
        n_neurons=20, timesteps=50, early_exit_margin=margin, min_spikes=10
    )
    images = load_sample("mnist", "train").images[:23].reshape(23, -1)
    w = ModelState.initial(p, seed=1).weights
    theta = np.zeros(20, np.float32)
    k = pack_constants(p)
    expected = run(p, images, w, learn=False, seed=7)
    counts = np.full((23, 20), -1, np.int32)
    stats = np.zeros((23, layout.STAT_SIZE), np.int64)
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        kn.infer_batch(images, w, theta, k, 50, 7, 0, counts, stats, threads)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    np.testing.assert_array_equal(counts, expected[2])
    np.testing.assert_array_equal(stats, expected[3])
    assert (stats[:, layout.STAT_PRESENTATIONS] > 1).sum() >= 3

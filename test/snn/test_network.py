"""Tests for the Network class (snn/network.py): determinism, invariants, retries, any T."""

from __future__ import annotations

import dataclasses
import math

import numba
import numpy as np
import pytest

from topspark_ros.snn import layout
from topspark_ros.snn.network import Network, flatten_images, pack_constants
from topspark_ros.snn.params import NetworkParams
from topspark_ros.snn.run_stats import COLUMNS
from topspark_ros.snn.state import ModelState


def tiny(**changes: object) -> NetworkParams:
    """A 16-input, 4-neuron network that fires readily within 40 steps."""
    base = NetworkParams(
        n_inputs=16,
        n_neurons=4,
        timesteps=40,
        input_rate=400.0,
        norm_total=4.0,
        v_thresh_exc=-60.0,
        w_init=1.0,
    )
    return base.replace(**changes)


def images(n: int, seed: int = 0, n_inputs: int = 16) -> np.ndarray:
    """``n`` random uint8 images of ``n_inputs`` pixels."""
    return np.random.default_rng(seed).integers(0, 256, (n, n_inputs), dtype=np.uint8)


def test_pack_constants() -> None:
    p = NetworkParams(
        dt=0.5,
        tau_exc=50.0,
        refrac_exc=5.2,
        refrac_inh=0.75,
        rule="weight_dependent",
        inhibition="direct",
        timesteps=200,
        tau_theta=1e4,
    )
    k = pack_constants(p)
    assert k.shape == (layout.K_SIZE,)
    assert k[layout.K_DEC_EXC] == pytest.approx(math.exp(-0.01))
    assert k[layout.K_DEC_THETA] == pytest.approx(math.exp(-100.0 / 1e4))
    assert k[layout.K_REF_E] == 11  # 5.2 ms at 0.5 ms steps rounds up
    assert k[layout.K_REF_I] == 2  # 0.75 ms at 0.5 ms steps rounds up
    assert k[layout.K_RULE] == layout.RULE_WEIGHT_DEPENDENT
    assert k[layout.K_INHIB] == layout.INHIB_DIRECT
    assert k[layout.K_P_SCALE] == pytest.approx(p.input_rate * 0.5 / 1000 / 255)
    assert k[layout.K_MIN_SPIKES] == p.min_spikes
    assert k[layout.K_MAX_RETRIES] == p.max_retries
    assert k[layout.K_EXIT_MARGIN] == 0
    assert pack_constants(p.replace(early_exit_margin=4))[layout.K_EXIT_MARGIN] == 4


def test_flatten_images() -> None:
    square = np.zeros((2, 4, 4), np.uint8)
    flat = flatten_images(square, 16)
    assert flat.shape == (2, 16)
    assert flat.flags.c_contiguous
    with pytest.raises(ValueError, match="must be uint8, got float64"):
        flatten_images(np.zeros((2, 16)), 16)
    with pytest.raises(ValueError, match="images have 9 pixels, the network expects 16"):
        flatten_images(np.zeros((2, 3, 3), np.uint8), 16)


def test_fresh_state() -> None:
    p = tiny(w_init=0.3)
    net = Network.fresh(p, seed=1)
    assert net.state.weights.shape == (16, 4)
    assert net.state.weights.dtype == np.float32
    assert 0.0 <= net.state.weights.min() and net.state.weights.max() <= 0.3
    np.testing.assert_array_equal(net.state.theta, 0.0)
    np.testing.assert_array_equal(net.state.assignments, -1)
    assert net.params is p


@pytest.mark.parametrize("rule", ["pair", "weight_dependent"])
def test_same_seed_is_bit_identical(rule: str) -> None:
    p = tiny(rule=rule)
    data = images(6)
    a, b = Network.fresh(p, seed=3), Network.fresh(p, seed=3)
    counts_a, stats_a = a.train(data)
    counts_b, stats_b = b.train(data)
    np.testing.assert_array_equal(a.state.weights, b.state.weights)
    np.testing.assert_array_equal(a.state.theta, b.state.theta)
    np.testing.assert_array_equal(counts_a, counts_b)
    np.testing.assert_array_equal(dataclasses.astuple(stats_a), dataclasses.astuple(stats_b))
    np.testing.assert_array_equal(a.respond(data)[0], b.respond(data)[0])
    assert counts_a.sum() > 0


def test_different_seeds_differ() -> None:
    p = tiny()
    data = images(6)
    a, b = Network.fresh(p, seed=3), Network.fresh(p, seed=4)
    assert not np.array_equal(a.state.weights, b.state.weights)
    # Same initial weights, different encoding seed: the runs still differ.
    c = Network(a.state.copy(), seed=3)
    d = Network(a.state.copy(), seed=4)
    counts_c, _ = c.train(data)
    counts_d, _ = d.train(data)
    assert not np.array_equal(c.state.weights, d.state.weights)
    assert not np.array_equal(counts_c, counts_d)


def test_batch_size_changes_results_only_by_rounding() -> None:
    # The lazy normalisation folds its scales into the weights at each batch end, so batch
    # sizes differ only in float rounding.
    p = tiny()
    data = images(7)
    a, b = Network.fresh(p, seed=2), Network.fresh(p, seed=2)
    seen: list[int] = []
    counts_a, _ = a.train(data, batch=2, progress=seen.append)
    counts_b, _ = b.train(data, batch=250)
    assert seen == [2, 2, 2, 1]
    np.testing.assert_array_equal(counts_a, counts_b)
    np.testing.assert_allclose(a.state.weights, b.state.weights, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(a.state.theta, b.state.theta, rtol=1e-6)


def test_respond_does_not_learn() -> None:
    net = Network.fresh(tiny(), seed=5)
    net.train(images(3, seed=1))
    weights, theta = net.state.weights.copy(), net.state.theta.copy()
    assert theta.max() > 0
    counts, stats = net.respond(images(5, seed=2))
    np.testing.assert_array_equal(net.state.weights, weights)
    np.testing.assert_array_equal(net.state.theta, theta)
    assert net.state.samples_seen == 3
    assert counts.shape == (5, 4)
    assert counts.dtype == np.int32
    assert len(stats) == 5
    assert counts.sum() > 0


@pytest.mark.parametrize("rule", ["pair", "weight_dependent"])
@pytest.mark.parametrize("inhibition", ["layer", "direct"])
def test_training_invariants(rule: str, inhibition: str) -> None:
    # Documented invariants after each training sample: columns sum to norm_total, weights
    # never fall below w_min (normalisation may scale some above w_max).
    p = tiny(rule=rule, inhibition=inhibition, tau_theta=1e12)
    net = Network.fresh(p, seed=0)
    for sample in images(4, seed=9):
        counts, stats = net.train(sample[None])
        np.testing.assert_allclose(net.state.weights.sum(axis=0), p.norm_total, rtol=1e-5)
        assert net.state.weights.min() >= p.w_min
        assert np.isfinite(net.state.weights).all()
        assert stats.steps[0] == p.timesteps * stats.presentations[0]
        assert counts.sum() >= p.min_spikes or stats.presentations[0] == 11
    assert net.state.samples_seen == 4


def test_theta_grows_by_theta_plus_per_spike() -> None:
    # One presentation (min_spikes 0) and no theta decay: theta = theta_plus x spikes.
    p = tiny(min_spikes=0, tau_theta=1e12, theta_plus=0.125)
    net = Network.fresh(p, seed=6)
    counts, stats = net.train(images(1, seed=3))
    assert counts.sum() > 0
    np.testing.assert_allclose(net.state.theta, 0.125 * counts[0], rtol=1e-6)
    assert stats.exc_spikes[0] == counts.sum()


def test_faint_image_is_presented_again_up_to_max_retries() -> None:
    p = tiny(input_rate=10.0, retry_rate_step=0.0, min_spikes=5, max_retries=3, w_init=0.3)
    faint = np.ones((2, 16), np.uint8)
    for method in ("train", "respond"):
        net = Network.fresh(p, seed=0)
        counts, stats = getattr(net, method)(faint)
        assert counts.sum() < 5
        np.testing.assert_array_equal(stats.presentations, 4)
        np.testing.assert_array_equal(stats.steps, 4 * p.timesteps)


def test_no_retry_with_min_spikes_zero() -> None:
    p = tiny(input_rate=10.0, retry_rate_step=0.0, min_spikes=0, max_retries=3)
    _, stats = Network.fresh(p, seed=0).train(np.ones((2, 16), np.uint8))
    np.testing.assert_array_equal(stats.presentations, 1)
    np.testing.assert_array_equal(stats.steps, p.timesteps)


def test_retry_raises_rate_until_enough_spikes() -> None:
    # First presentation: almost no input; each retry adds 600 Hz, so a later one succeeds.
    p = tiny(input_rate=1.0, retry_rate_step=600.0, min_spikes=5, max_retries=10)
    state = ModelState(
        params=p,
        weights=np.full((16, 4), 1.0, np.float32),
        theta=np.zeros(4, np.float32),
        assignments=np.full(4, -1, np.int16),
    )
    net = Network(state, seed=1)
    counts, stats = net.respond(np.full((3, 16), 255, np.uint8))
    presentations = stats.presentations
    assert np.all(presentations >= 2) and np.all(presentations <= 11)
    assert np.all(counts.sum(axis=1) >= 5)  # counts are those of the final presentation
    np.testing.assert_array_equal(stats.steps, presentations * p.timesteps)
    assert np.all(stats.input_spikes > 0)


@pytest.mark.parametrize("timesteps", [1, 2, 1000])
def test_any_timesteps(timesteps: int) -> None:
    p = tiny(n_neurons=3, timesteps=timesteps, max_retries=2)
    net = Network.fresh(p, seed=7)
    data = images(3, seed=timesteps)
    counts, stats = net.train(data)
    assert counts.shape == (3, 3)
    np.testing.assert_array_equal(stats.steps, timesteps * stats.presentations)
    assert np.all(stats.presentations >= 1)
    assert np.all(stats.presentations <= 3)
    np.testing.assert_allclose(net.state.weights.sum(axis=0), p.norm_total, rtol=1e-5)
    counts, stats = net.respond(data)
    np.testing.assert_array_equal(stats.steps, timesteps * stats.presentations)
    # An input fires at most once per step.
    assert np.all(stats.input_spikes <= 16 * stats.steps)
    # Exc neurons fire at most once per step each.
    assert np.all(stats.exc_spikes <= 3 * stats.steps)


def test_set_params_changes_timesteps_keeps_weights() -> None:
    net = Network.fresh(tiny(), seed=0)
    weights = net.state.weights.copy()
    net.set_params(tiny(timesteps=7))
    assert net.params.timesteps == 7
    np.testing.assert_array_equal(net.state.weights, weights)
    _, stats = net.respond(images(2))
    np.testing.assert_array_equal(stats.steps, 7 * stats.presentations)
    with pytest.raises(ValueError, match="cannot change the network size"):
        net.set_params(tiny(n_neurons=5))


@pytest.mark.parametrize("threads", [1, 2])
def test_respond_is_the_same_on_any_threads_and_batches(threads: int) -> None:
    # Each sample draws from its own stream (seed, index over the network's life): one thread
    # or two, one call or several, the counts and statistics are those of one serial pass.
    p = tiny()
    trained = Network.fresh(p, seed=6)
    trained.train(images(5, seed=3))
    data = images(9, seed=4)
    serial = Network(trained.state.copy(), seed=8)
    numba.set_num_threads(1)
    expected, expected_stats = serial.respond(data, batch=100)
    numba.set_num_threads(threads)
    try:
        net = Network(trained.state.copy(), seed=8)
        parts = [net.respond(data[:4], batch=3), net.respond(data[4:], batch=2)]
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    np.testing.assert_array_equal(np.concatenate([c for c, _ in parts]), expected)
    for name in COLUMNS:
        got = np.concatenate([getattr(s, name) for _, s in parts])
        np.testing.assert_array_equal(got, getattr(expected_stats, name))
    assert expected.sum() > 0


def test_first_sample_continues_a_run() -> None:
    # A network told where a run stands answers the rest of it as the run itself would.
    p = tiny()
    data = images(6, seed=5)
    whole = Network.fresh(p, seed=2)
    counts, _ = whole.respond(data)
    later = Network(Network.fresh(p, seed=2).state, seed=2, first_sample=4)
    np.testing.assert_array_equal(later.respond(data[4:])[0], counts[4:])
    assert not np.array_equal(Network.fresh(p, seed=2).respond(data[4:])[0], counts[4:])

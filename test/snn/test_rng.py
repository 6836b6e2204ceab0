"""Tests for the explicit-state xorshift64* generator (snn/rng.py)."""

from __future__ import annotations

import numpy as np

from topspark_ros.snn.rng import rng_new, rng_next, rng_uniform, seed_sample


def draw(seed: int, n: int) -> np.ndarray:
    """``n`` uniforms from a generator seeded with ``seed``."""
    state = rng_new(seed)
    return np.array([rng_uniform(state) for _ in range(n)])


def test_state_is_one_nonzero_word() -> None:
    for seed in (0, 1, 2**40, 12345):
        state = rng_new(seed)
        assert state.dtype == np.uint64
        assert state.shape == (1,)
        assert state[0] != 0


def test_uniform_range_and_moments() -> None:
    u = draw(7, 20_000)
    assert u.min() >= 0.0
    assert u.max() < 1.0
    # Mean of U(0,1): 0.5 with standard error sqrt(1/12/n) ~ 0.002.
    assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / u.size)
    assert abs(u.var() - 1 / 12) < 0.005
    # Deciles roughly equally filled.
    hist, _ = np.histogram(u, bins=10, range=(0.0, 1.0))
    assert np.all(np.abs(hist - u.size / 10) < 5 * np.sqrt(u.size / 10))


def test_successive_uniforms_uncorrelated() -> None:
    u = draw(11, 20_000)
    corr = np.corrcoef(u[:-1], u[1:])[0, 1]
    assert abs(corr) < 4 / np.sqrt(u.size)


def test_same_seed_same_stream_different_seed_differs() -> None:
    np.testing.assert_array_equal(draw(3, 50), draw(3, 50))
    assert not np.array_equal(draw(3, 50), draw(4, 50))


def test_next_advances_state() -> None:
    state = rng_new(5)
    before = int(state[0])
    first = rng_next(state)
    assert int(state[0]) != before
    assert rng_next(state) != first


def sample_draws(seed: int, index: int, n: int) -> np.ndarray:
    """``n`` uniforms of sample ``index``'s stream in the run seeded ``seed``."""
    state = np.zeros(1, np.uint64)
    seed_sample(state, seed, index)
    return np.array([rng_uniform(state) for _ in range(n)])


def test_each_sample_has_its_own_stream() -> None:
    # Reproducible from (seed, index) alone, whatever was drawn before, and apart from its
    # neighbours, from the same index of another seed, and from the plain seeded stream.
    first = sample_draws(3, 10, 2_000)
    np.testing.assert_array_equal(first, sample_draws(3, 10, 2_000))
    others = [sample_draws(3, 11, 2_000), sample_draws(4, 10, 2_000), draw(3, 2_000)]
    for other in others:
        assert abs(np.corrcoef(first, other)[0, 1]) < 4 / np.sqrt(first.size)
    assert abs(first.mean() - 0.5) < 4 * np.sqrt(1 / 12 / first.size)


def test_sample_states_are_nonzero_and_distinct() -> None:
    state = np.zeros(1, np.uint64)
    seen = set()
    for seed in (0, 1, 2**62):
        for index in range(500):
            seed_sample(state, seed, index)
            assert state[0] != 0
            seen.add(int(state[0]))
    assert len(seen) == 1500

"""Tests for the explicit-state xorshift64* generator (snn/rng.py)."""

from __future__ import annotations

import numpy as np

from topspark_ros.snn.rng import rng_new, rng_next, rng_uniform


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

"""A tiny explicit-state random generator for Numba kernels (xorshift64*), seeded by splitmix64.

Kernels take the state array as an argument, so a run is reproducible from its seed and no
generator state is global. Each sample of a run draws from its own stream (``seed_sample``), so
a sample's spikes depend on the run's seed and its index only: samples can run in any order, on
any number of threads, and give the same results.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

RngState = npt.NDArray[np.uint64]

_TWO_POW_53 = 9007199254740992.0


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True)
def splitmix64(x: np.uint64) -> np.uint64:
    """One splitmix64 output for input ``x``: a well-mixed 64-bit word."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    out: np.uint64 = z ^ (z >> np.uint64(31))
    return out


@njit(cache=True)
def rng_new(seed: int) -> RngState:
    """A one-word state from ``seed`` via splitmix64 (never zero)."""
    z = splitmix64(np.uint64(seed))
    state = np.empty(1, np.uint64)
    state[0] = z if z != np.uint64(0) else np.uint64(1)
    return state


@njit(cache=True)
def seed_sample(state: RngState, seed: int, index: int) -> None:
    """Set ``state`` to the stream of sample ``index`` of the run seeded ``seed`` (never zero)."""
    z = splitmix64(splitmix64(np.uint64(seed)) ^ (np.uint64(index) * _GOLDEN))
    state[0] = z if z != np.uint64(0) else np.uint64(1)


@njit(cache=True)
def rng_next(state: RngState) -> np.uint64:
    """Advance the state; return 64 random bits."""
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    out: np.uint64 = x * np.uint64(0x2545F4914F6CDD1D)
    return out


@njit(cache=True)
def rng_uniform(state: RngState) -> float:
    """A float64 uniform on [0, 1) with 53 random bits."""
    return float(rng_next(state) >> np.uint64(11)) / _TWO_POW_53


__all__ = ["RngState", "rng_new", "rng_next", "rng_uniform", "seed_sample", "splitmix64"]

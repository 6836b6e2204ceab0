"""Numba kernels that end a presentation: the early exit on a clear leader, the deadline spike.

Inference may stop once one neuron has ``margin`` more spikes than any other (the answer can no
longer change much); a presentation that reaches its last step silent may be forced to answer
with a spike from the neuron nearest its threshold.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from topspark_ros.snn.layout import F32, I32


@njit(cache=True)
def track_lead(
    counts: I32, spikes: I32, n_spikes: int, leader: int, top: int, runner: int
) -> tuple[int, int, int]:
    """Update (leader, its count, the runner-up's count) after the spikes of one step.

    Only a neuron that just fired can change the lead, so only spikes[:n_spikes] are visited,
    in order; start a presentation from (-1, 0, 0).
    """
    for s in range(n_spikes):
        j = spikes[s]
        c = counts[j]
        if j == leader:
            top = c
        elif c > top:
            runner = top
            leader = j
            top = c
        elif c > runner:
            runner = c
    return leader, top, runner


@njit(cache=True)
def exit_now(top: int, runner: int, margin: int, total: int, min_spikes: int) -> bool:
    """Whether to end inference here: a lead of ``margin`` (> 0) and ``min_spikes`` fired.

    An earlier end would only make the caller present the image again.
    """
    return margin > 0 and top - runner >= margin and total >= min_spikes


@njit(cache=True)
def nearest_threshold(v: F32, v_th: F32) -> int:
    """Index of the neuron with the largest v - threshold: the deadline spike's neuron."""
    best = 0
    margin = v[0] - v_th[0]
    for j in range(1, v.shape[0]):
        m = v[j] - v_th[j]
        if m > margin:
            margin = m
            best = j
    return best


@njit(cache=True)
def force_spike(v: F32, v_th: F32) -> None:
    """Lift the neuron nearest its threshold over it, so that it fires like any other."""
    forced = nearest_threshold(v, v_th)
    v[forced] = max(v[forced], v_th[forced] + np.float32(1.0))


__all__ = ["exit_now", "force_spike", "nearest_threshold", "track_lead"]

"""Numba kernels of the lazy per-sample weight normalisation (training only).

Training normalises each neuron's input weights to ``norm_total`` after every sample, lazily:
within a batch the effective weight is w[i, j] * scale[j], STDP works on the raw w in units of
that scale, and a new scale per column (from a running column sum) replaces the O(n_in x N)
rescale. ``fold_scales`` multiplies the scales into w at the end of each batch, so between
calls w holds the plain effective weights. The state lives in ``lazy`` (rows ``layout.L_*``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from topspark_ros.snn import layout
from topspark_ros.snn.layout import F32, F64, I32


@njit(cache=True)
def column_sums(w: F32, colsum: F64) -> None:
    """colsum[j] = sum of column j of w [n_in, N], accumulated in float64."""
    n_in, n = w.shape
    for j in range(n):
        colsum[j] = 0.0
    for i in range(n_in):
        for j in range(n):
            colsum[j] += w[i, j]


@njit(cache=True)
def scale_constants(lazy: F32, k: F64) -> None:
    """Derive the raw-unit STDP bounds and rates of each column from its scale (row L_SCALE).

    The pair rule's steps are fixed in effective units, so in raw units they divide by the
    scale; the weight-dependent rule's rates are relative and need no scaling.
    """
    pair = int(k[layout.K_RULE]) == layout.RULE_PAIR
    w_min = np.float32(k[layout.K_W_MIN])
    w_max = np.float32(k[layout.K_W_MAX])
    nu_pre = np.float32(k[layout.K_NU_PRE])
    nu_post = np.float32(k[layout.K_NU_POST])
    for j in range(lazy.shape[1]):
        inv = np.float32(1.0) / lazy[layout.L_SCALE, j]
        lazy[layout.L_LO, j] = w_min * inv
        lazy[layout.L_HI, j] = w_max * inv
        lazy[layout.L_AMP_PRE, j] = nu_pre * inv if pair else nu_pre
        lazy[layout.L_AMP_POST, j] = nu_post * inv if pair else nu_post


@njit(cache=True)
def commit_delta(colsum: F64, lazy: F32) -> None:
    """Add a step's float32 column-sum changes (row L_DELTA) to the float64 sums; clear them.

    A step's changes are small, so they are summed in float32 and only then added.
    """
    for j in range(colsum.shape[0]):
        colsum[j] += lazy[layout.L_DELTA, j]
        lazy[layout.L_DELTA, j] = 0.0


@njit(cache=True)
def commit_fired(colsum: F64, lazy: F32, fired: I32, n_fired: int) -> None:
    """``commit_delta`` of only the columns fired[:n_fired], where no other column changed."""
    for a in range(n_fired):
        j = fired[a]
        colsum[j] += lazy[layout.L_DELTA, j]
        lazy[layout.L_DELTA, j] = 0.0


@njit(cache=True)
def rescale_columns(lazy: F32, colsum: F64, total: float) -> bool:
    """Set each column's scale so that its effective weights sum to ``total``; O(N).

    colsum holds the raw column sums; a column whose sum is not positive keeps its scale.
    Returns whether a scale left [SCALE_MIN, SCALE_MAX] (then fold before going on).
    """
    out_of_range = False
    for j in range(lazy.shape[1]):
        if colsum[j] > 0.0:
            s = np.float32(total / colsum[j])
            lazy[layout.L_SCALE, j] = s
            if not layout.SCALE_MIN <= s <= layout.SCALE_MAX:
                out_of_range = True
    return out_of_range


@njit(cache=True)
def fold_scales(w: F32, lazy: F32, colsum: F64) -> None:
    """Multiply the scales into w (w becomes the effective weights), recompute colsum, scale 1."""
    n_in, n = w.shape
    scale = lazy[layout.L_SCALE]
    for j in range(n):
        colsum[j] = 0.0
        lazy[layout.L_DELTA, j] = 0.0
    for i in range(n_in):
        for j in range(n):
            v = w[i, j] * scale[j]
            w[i, j] = v
            colsum[j] += v
    for j in range(n):
        scale[j] = 1.0


__all__ = [
    "column_sums",
    "commit_delta",
    "commit_fired",
    "fold_scales",
    "rescale_columns",
    "scale_constants",
]

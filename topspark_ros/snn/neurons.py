"""Numba kernels of one step of the LIF neurons: synaptic input, leak, firing, inhibition.

Membrane potentials and inputs are float32 [N], refractory counters int32 [N]; a step's spikes
are written as neuron indices to an int32 list whose length the kernels return. Constants come
from the packed float64 array ``k`` (``layout.K_*``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from topspark_ros.snn import layout
from topspark_ros.snn.layout import F32, F64, I32


@njit(cache=True)
def add_rows(w: F32, rows: I32, start: int, stop: int, syn: F32) -> None:
    """syn += w[rows[s]] for s in [start, stop): the synaptic input of a step's input spikes."""
    n = w.shape[1]
    for s in range(start, stop):
        i = rows[s]
        for j in range(n):
            syn[j] += w[i, j]


@njit(cache=True)
def integrate(
    v_e: F32, ref_cnt_e: I32, current: F32, rest_e: np.float32, dec_e: np.float32
) -> None:
    """Inference's exc step: leak, integrate ``current`` unless refractory, clear it."""
    for j in range(v_e.shape[0]):
        v = rest_e + (v_e[j] - rest_e) * dec_e
        r = ref_cnt_e[j]
        v_e[j] = v + current[j] if r <= 0 else v
        ref_cnt_e[j] = r - 1 if r > 0 else 0
        current[j] = 0.0


@njit(cache=True)
def integrate_scaled(
    v_e: F32, ref_cnt_e: I32, current: F32, lazy: F32, rest_e: np.float32, dec_e: np.float32
) -> None:
    """Learning's exc step: like ``integrate`` with current + L_SYN x L_SCALE; clear L_SYN too.

    The raw synaptic input (row L_SYN of the lazy state) is scaled once per neuron here, not
    once per synapse.
    """
    for j in range(v_e.shape[0]):
        v = rest_e + (v_e[j] - rest_e) * dec_e
        r = ref_cnt_e[j]
        drive = current[j] + lazy[layout.L_SYN, j] * lazy[layout.L_SCALE, j]
        v_e[j] = v + drive if r <= 0 else v
        ref_cnt_e[j] = r - 1 if r > 0 else 0
        current[j] = 0.0
        lazy[layout.L_SYN, j] = 0.0


@njit(cache=True)
def fire(
    v: F32, v_th: F32, ref_cnt: I32, reset: np.float32, refrac: int, counts: I32, spikes: I32
) -> int:
    """Fire every neuron above its threshold: reset, refractory, count; return how many fired.

    The indices of the neurons that fired go to ``spikes`` in ascending order.
    """
    n_spikes = 0
    for j in range(v.shape[0]):
        if v[j] > v_th[j]:
            v[j] = reset
            ref_cnt[j] = refrac
            counts[j] += 1
            spikes[n_spikes] = j
            n_spikes += 1
    return n_spikes


@njit(cache=True)
def raise_thresholds(
    theta: F32, v_th: F32, spikes: I32, n_spikes: int, theta_plus: np.float32, thresh: np.float32
) -> None:
    """Adaptive thresholds (learning): theta += theta_plus for each neuron that fired."""
    for s in range(n_spikes):
        j = spikes[s]
        theta[j] += theta_plus
        v_th[j] = thresh + theta[j]


@njit(cache=True)
def inhibit_others(current: F32, spikes: I32, n_spikes: int, weight: np.float32) -> None:
    """Each of the first ``n_spikes`` neurons in ``spikes`` inhibits every other neuron."""
    if n_spikes == 0:
        return
    amount = weight * n_spikes
    for j in range(current.shape[0]):
        current[j] -= amount
    for s in range(n_spikes):
        current[spikes[s]] += weight


@njit(cache=True)
def inhibitory_layer(
    v_i: F32, ref_cnt_i: I32, exc_spk: I32, n_exc: int, inh_spk: I32, k: F64
) -> int:
    """One step of the inhibitory layer, driven by last step's exc spikes; return its spikes.

    Inhibitory neuron j leaks, takes w_ei from exc neuron j's spike unless refractory, and
    fires above its threshold; the indices of those that fired go to ``inh_spk``.
    """
    ref_i = int(k[layout.K_REF_I])
    rest_i = np.float32(k[layout.K_REST_I])
    dec_i = np.float32(k[layout.K_DEC_INH])
    w_ei = np.float32(k[layout.K_W_EI])
    thresh_i = np.float32(k[layout.K_THRESH_I])
    reset_i = np.float32(k[layout.K_RESET_I])
    for j in range(v_i.shape[0]):
        v_i[j] = rest_i + (v_i[j] - rest_i) * dec_i
    for s in range(n_exc):
        j = exc_spk[s]
        if ref_cnt_i[j] <= 0:
            v_i[j] += w_ei
    n_inh = 0
    for j in range(v_i.shape[0]):
        if ref_cnt_i[j] > 0:
            ref_cnt_i[j] -= 1
        elif v_i[j] > thresh_i:
            v_i[j] = reset_i
            ref_cnt_i[j] = ref_i
            inh_spk[n_inh] = j
            n_inh += 1
    return n_inh


__all__ = [
    "add_rows",
    "fire",
    "inhibit_others",
    "inhibitory_layer",
    "integrate",
    "integrate_scaled",
    "raise_thresholds",
]

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
    """syn += w[rows[s]] for s in [start, stop): the synaptic input of a step's input spikes.

    Two rows per pass over syn, added in order, so the sums are those of one row at a time.
    """
    n = w.shape[1]
    s = start
    while s + 1 < stop:
        a = w[rows[s]]
        b = w[rows[s + 1]]
        for j in range(n):
            syn[j] = syn[j] + a[j] + b[j]
        s += 2
    if s < stop:
        a = w[rows[s]]
        for j in range(n):
            syn[j] += a[j]


@njit(cache=True)
def integrate(v_e: F32, v_th: F32, current: F32, rest_e: np.float32, dec_e: np.float32) -> bool:
    """Inference's exc step as if no neuron were refractory: leak, add ``current``, clear it.

    Returns whether any neuron is now above its threshold (only then can one fire). One pass
    without branches, so it vectorises; ``hold_refractory`` and ``release_refractory`` put the
    few refractory neurons right around it (their -inf input keeps them out of the answer).
    """
    above = False
    for j in range(v_e.shape[0]):
        v = rest_e + (v_e[j] - rest_e) * dec_e + current[j]
        v_e[j] = v
        current[j] = 0.0
        above |= v > v_th[j]
    return above


@njit(cache=True)
def integrate_scaled(
    v_e: F32,
    v_th: F32,
    current: F32,
    syn: F32,
    scale: F32,
    rest_e: np.float32,
    dec_e: np.float32,
) -> bool:
    """Learning's exc step: like ``integrate`` with current + syn x scale; clear ``syn`` too.

    ``syn`` and ``scale`` are rows L_SYN and L_SCALE of the lazy state: the raw synaptic input
    is scaled once per neuron here, not once per synapse.
    """
    above = False
    for j in range(v_e.shape[0]):
        v = rest_e + (v_e[j] - rest_e) * dec_e + (current[j] + syn[j] * scale[j])
        v_e[j] = v
        current[j] = 0.0
        syn[j] = 0.0
        above |= v > v_th[j]
    return above


@njit(cache=True)
def hold_refractory(v_e: F32, current: F32, refr: I32, n_refr: int, held: F32) -> None:
    """Before ``integrate``: keep the potential of each refractory neuron refr[:n_refr] and set
    its input to -inf, so that the pass does not see it above threshold."""
    for a in range(n_refr):
        j = refr[a]
        held[a] = v_e[j]
        current[j] = -np.inf


@njit(cache=True)
def release_refractory(
    v_e: F32,
    v_th: F32,
    ref_cnt: I32,
    refr: I32,
    n_refr: int,
    held: F32,
    rest: np.float32,
    dec: np.float32,
) -> tuple[int, bool]:
    """After ``integrate``: a refractory neuron only leaks from its held potential, its input
    ignored; count its refractory steps down and drop it from refr[:n_refr] at 0. Returns the
    new count and whether one of them is above its threshold."""
    kept = 0
    above = False
    for a in range(n_refr):
        j = refr[a]
        v = rest + (held[a] - rest) * dec
        v_e[j] = v
        above |= v > v_th[j]
        r = ref_cnt[j] - 1
        ref_cnt[j] = r
        if r > 0:
            refr[kept] = j
            kept += 1
    return kept, above


@njit(cache=True)
def fire(
    v: F32,
    v_th: F32,
    ref_cnt: I32,
    reset: np.float32,
    refrac: int,
    counts: I32,
    spikes: I32,
    refr: I32,
    n_refr: int,
) -> tuple[int, int]:
    """Fire every neuron above its threshold: reset, refractory, count; return how many fired
    and the new number of refractory neurons.

    The indices of the neurons that fired go to ``spikes`` in ascending order; those that were
    not yet refractory (ref_cnt 0) are appended to refr[:n_refr] when ``refrac`` > 0.
    """
    n_spikes = 0
    for j in range(v.shape[0]):
        if v[j] > v_th[j]:
            v[j] = reset
            if ref_cnt[j] <= 0 and refrac > 0:
                refr[n_refr] = j
                n_refr += 1
            ref_cnt[j] = refrac
            counts[j] += 1
            spikes[n_spikes] = j
            n_spikes += 1
    return n_spikes, n_refr


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


@njit(cache=True)
def inhibition_is_relay(k: F64, v_th: F32) -> bool:
    """Whether the inhibitory layer only delays the exc spikes by one step, for these constants.

    It does when (1) an inhibitory neuron that takes its exc input always fires (w_ei lifts the
    lowest potential it can have, min(rest, reset), over threshold), (2) it never fires without
    input (max(rest, reset) is below threshold), (3) it is never refractory when its exc partner
    fires again: the exc neuron cannot fire while refractory (max(rest, reset) below every
    threshold ``v_th``, which only rises within a presentation) and its refractory period is no
    shorter. Then inh spikes of step t are exactly the exc spikes of step t - 1. The margins
    (1e-3 mV) cover float32 rounding of the leak.
    """
    margin = 1e-3
    rest_i, reset_i = k[layout.K_REST_I], k[layout.K_RESET_I]
    thresh_i = k[layout.K_THRESH_I]
    always = min(rest_i, reset_i) - margin + k[layout.K_W_EI] > thresh_i + margin
    never = max(rest_i, reset_i) + margin < thresh_i
    lowest = np.inf
    for j in range(v_th.shape[0]):
        lowest = min(lowest, v_th[j])
    quiet = max(k[layout.K_REST_E], k[layout.K_RESET_E]) + margin < lowest
    return bool(always and never and quiet and k[layout.K_REF_E] >= k[layout.K_REF_I])


@njit(cache=True)
def relay_spikes(exc_spk: I32, n_exc: int, inh_spk: I32) -> int:
    """The inhibitory layer's step where it is a relay (``inhibition_is_relay``): its spikes are
    last step's exc spikes exc_spk[:n_exc], copied to ``inh_spk``; return their number."""
    for s in range(n_exc):
        inh_spk[s] = exc_spk[s]
    return n_exc


__all__ = [
    "add_rows",
    "fire",
    "hold_refractory",
    "inhibit_others",
    "inhibition_is_relay",
    "inhibitory_layer",
    "integrate",
    "integrate_scaled",
    "raise_thresholds",
    "relay_spikes",
    "release_refractory",
]

"""Numba kernels of STDP learning: depression on input spikes, potentiation on exc spikes.

Weights are raw, in units of each column's lazy normalisation scale (see ``normalisation``):
the bounds and rates of column j are rows ``L_LO``, ``L_HI``, ``L_AMP_PRE``, ``L_AMP_POST`` of
``lazy``, and every weight change is added to row ``L_DELTA`` to keep the column sums current.
Presynaptic traces are implicit: input i's is pre_decay_pow[t - last_pre[i]]. The kernels read
``lazy`` by row index rather than take its rows, which keeps their per-step calls cheap.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from topspark_ros.snn import layout
from topspark_ros.snn.layout import F32, F64, I32


@njit(cache=True)
def decay_traces(x_post: F32, dec_post: np.float32) -> None:
    """One step of postsynaptic trace decay."""
    for j in range(x_post.shape[0]):
        x_post[j] *= dec_post


@njit(cache=True)
def mark_inputs(
    spike_idx: I32, start: int, stop: int, t: int, last_pre: I32, active: I32, n_active: int
) -> int:
    """Stamp step t on the inputs spike_idx[start:stop]; return the new active-input count.

    last_pre[i] = t resets input i's presynaptic trace to 1; an input's first spike of the
    presentation (last_pre[i] < 0) appends it to ``active``, the inputs potentiation visits.
    """
    for s in range(start, stop):
        i = spike_idx[s]
        if last_pre[i] < 0:
            active[n_active] = i
            n_active += 1
        last_pre[i] = t
    return n_active


@njit(cache=True)
def depress_rows(
    w: F32, spike_idx: I32, start: int, stop: int, trace: F32, lazy: F32, rule: int
) -> None:
    """Input spikes spike_idx[start:stop]: add each row of raw weights to row L_SYN, depress it.

    trace[j] is neuron j's post trace times its depression rate (``L_AMP_PRE``), in raw units
    like the lower bound ``L_LO``; each change is added to row ``L_DELTA``.
    """
    n = w.shape[1]
    pair = rule == layout.RULE_PAIR
    for s in range(start, stop):
        i = spike_idx[s]
        for j in range(n):
            wij = w[i, j]
            lo = lazy[layout.L_LO, j]
            lazy[layout.L_SYN, j] += wij
            nw = wij - trace[j] if pair else wij - trace[j] * (wij - lo)
            nw = nw if nw > lo else lo
            w[i, j] = nw
            lazy[layout.L_DELTA, j] += nw - wij


@njit(cache=True)
def depression_is_sparse(w: F32, k: F64) -> bool:
    """Whether depression may skip the neurons that have not fired this presentation.

    Their post trace is 0, so depression leaves their weights alone, unless a weight lies below
    the lower bound, which it would lift. With w_min = 0 the raw lower bound is 0 in every
    column and no update takes a weight that is >= 0 below it, so a check of w [n_in, N] at the
    start of a batch holds for all of it.
    """
    if k[layout.K_W_MIN] != 0.0:
        return False
    n_in, n = w.shape
    below = 0  # NaN counts as below: depression would set it to the bound
    for i in range(n_in):
        for j in range(n):
            below += 0 if w[i, j] >= 0.0 else 1
    return below == 0


@njit(cache=True)
def depress_fired(
    w: F32,
    spike_idx: I32,
    start: int,
    stop: int,
    trace: F32,
    lazy: F32,
    rule: int,
    fired: I32,
    n_fired: int,
) -> None:
    """``depress_rows`` of only the columns fired[:n_fired], without adding the rows to L_SYN.

    Where ``depression_is_sparse`` holds, it changes w and L_DELTA exactly as ``depress_rows``
    does: the other columns' post traces are 0. It costs n_fired updates per input spike
    instead of N.
    """
    pair = rule == layout.RULE_PAIR
    for a in range(n_fired):  # column by column: each column's updates in row order, as there
        j = fired[a]
        tr = trace[j]
        lo = lazy[layout.L_LO, j]
        delta = lazy[layout.L_DELTA, j]
        for s in range(start, stop):
            i = spike_idx[s]
            wij = w[i, j]
            nw = wij - tr if pair else wij - tr * (wij - lo)
            nw = nw if nw > lo else lo
            w[i, j] = nw
            delta += nw - wij
        lazy[layout.L_DELTA, j] = delta


@njit(cache=True)
def decay_fired(x_post: F32, dec_post: np.float32, fired: I32, n_fired: int) -> None:
    """``decay_traces`` of only the neurons fired[:n_fired], the others' traces being 0."""
    for a in range(n_fired):
        x_post[fired[a]] *= dec_post


@njit(cache=True)
def list_first_spikes(counts: I32, spikes: I32, n_spikes: int, fired: I32, n_fired: int) -> int:
    """Append to ``fired`` each neuron of spikes[:n_spikes] whose count is 1 (its first spike of
    the presentation, counts being set by ``fire``); return the new length."""
    for s in range(n_spikes):
        j = spikes[s]
        if counts[j] == 1:
            fired[n_fired] = j
            n_fired += 1
    return n_fired


@njit(cache=True)
def start_traces(x_post: F32, lazy: F32, spikes: I32, n_spikes: int) -> None:
    """Set the post trace of each neuron in spikes[:n_spikes] to its depression rate."""
    for s in range(n_spikes):
        j = spikes[s]
        x_post[j] = lazy[layout.L_AMP_PRE, j]


@njit(cache=True)
def potentiate_columns(
    w: F32,
    spikes: I32,
    n_spikes: int,
    active: I32,
    n_active: int,
    last_pre: I32,
    t: int,
    pre_decay_pow: F32,
    lazy: F32,
    rule: int,
) -> None:
    """Exc spikes spikes[:n_spikes] at step t: potentiate each one's synapses from active inputs.

    The presynaptic trace of input i is pre_decay_pow[t - last_pre[i]] (set to 1 on a spike);
    inputs that never fired this presentation have a zero trace and are skipped. Column j's rate
    and upper bound are ``L_AMP_POST`` and ``L_HI`` in raw units; its change is added to
    ``L_DELTA``.
    """
    pair = rule == layout.RULE_PAIR
    for s in range(n_spikes):
        j = spikes[s]
        amp = lazy[layout.L_AMP_POST, j]
        hi = lazy[layout.L_HI, j]
        change = np.float32(0.0)
        for a in range(n_active):
            i = active[a]
            x_pre = pre_decay_pow[t - last_pre[i]]
            wij = w[i, j]
            nw = wij + amp * x_pre if pair else wij + amp * x_pre * (hi - wij)
            nw = nw if nw < hi else hi
            w[i, j] = nw
            change += nw - wij
        lazy[layout.L_DELTA, j] += change


__all__ = [
    "decay_fired",
    "decay_traces",
    "depress_fired",
    "depress_rows",
    "depression_is_sparse",
    "list_first_spikes",
    "mark_inputs",
    "potentiate_columns",
    "start_traces",
]

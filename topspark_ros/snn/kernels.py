"""Numba kernels of the Diehl & Cook network: one presentation, STDP, normalisation, batches.

Only ``@njit(cache=True)`` functions over arrays and scalars live here. Constants arrive packed in
a float64 array indexed by the ``K_*`` names below (built by ``network.pack_constants``), so the
kernels' signatures stay short. State is float32; the work of a step is driven by input spikes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from topspark_ros.snn.encoding import poisson_encode
from topspark_ros.snn.rng import RngState

F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]

K_DEC_EXC = 0  # per-step membrane decay factor, excitatory
K_DEC_INH = 1  # per-step membrane decay factor, inhibitory
K_DEC_PRE = 2  # per-step presynaptic trace decay
K_DEC_POST = 3  # per-step postsynaptic trace decay
K_DEC_THETA = 4  # theta decay over one presentation (learning only)
K_REST_E = 5
K_RESET_E = 6
K_THRESH_E = 7
K_REST_I = 8
K_RESET_I = 9
K_THRESH_I = 10
K_REF_E = 11  # refractory period in steps
K_REF_I = 12
K_THETA_PLUS = 13
K_W_EI = 14
K_W_IE = 15
K_NU_PRE = 16
K_NU_POST = 17
K_W_MIN = 18
K_W_MAX = 19
K_NORM = 20
K_P_SCALE = 21  # spike probability per step per unit pixel value
K_P_RETRY = 22  # added to K_P_SCALE per re-presentation
K_MIN_SPIKES = 23
K_MAX_RETRIES = 24
K_RULE = 25  # 0 pair STDP, 1 weight-dependent STDP
K_INHIB = 26  # 0 inhibitory layer, 1 direct lateral inhibition
K_SIZE = 27

RULE_PAIR = 0
RULE_WEIGHT_DEPENDENT = 1
INHIB_LAYER = 0
INHIB_DIRECT = 1

STAT_INPUT_SPIKES = 0
STAT_EXC_SPIKES = 1
STAT_INH_SPIKES = 2
STAT_STEPS = 3
STAT_PRESENTATIONS = 4
STAT_DEPRESSIONS = 5  # synapse updates by presynaptic (depression) STDP
STAT_POTENTIATIONS = 6  # synapse updates by postsynaptic (potentiation) STDP
STAT_NORMALISED = 7  # synapses rescaled by normalisation
STAT_SIZE = 8


@njit(cache=True)
def normalise_columns(w: F32, total: float) -> None:
    """Scale each neuron's input weights (a column of w [n_in, N]) to sum to ``total``."""
    n_in, n = w.shape
    sums = np.zeros(n, np.float32)
    for i in range(n_in):
        for j in range(n):
            sums[j] += w[i, j]
    factor = np.empty(n, np.float32)
    for j in range(n):
        factor[j] = np.float32(total) / sums[j] if sums[j] > 0 else np.float32(1.0)
    for i in range(n_in):
        for j in range(n):
            w[i, j] *= factor[j]


@njit(cache=True)
def depress_row(
    w: F32, i: int, x_post: F32, current: F32, nu: np.float32, w_min: np.float32, rule: int
) -> None:
    """Presynaptic spike of input i: add its weights to ``current`` and depress them by x_post."""
    n = w.shape[1]
    if rule == RULE_PAIR:
        for j in range(n):
            wij = w[i, j]
            current[j] += wij
            nw = wij - nu * x_post[j]
            w[i, j] = nw if nw > w_min else w_min
    else:
        for j in range(n):
            wij = w[i, j]
            current[j] += wij
            nw = wij - nu * x_post[j] * (wij - w_min)
            w[i, j] = nw if nw > w_min else w_min


@njit(cache=True)
def potentiate_column(
    w: F32,
    j: int,
    active: I32,
    n_active: int,
    last_pre: I32,
    t: int,
    pre_decay_pow: F32,
    nu: np.float32,
    w_max: np.float32,
    rule: int,
) -> None:
    """Postsynaptic spike of neuron j at step t: potentiate its synapses from inputs that fired.

    The presynaptic trace of input i is pre_decay_pow[t - last_pre[i]] (set to 1 on a spike);
    inputs that never fired this presentation have a zero trace and are skipped.
    """
    for a in range(n_active):
        i = active[a]
        x_pre = pre_decay_pow[t - last_pre[i]]
        wij = w[i, j]
        if rule == RULE_PAIR:
            nw = wij + nu * x_pre
        else:
            nw = wij + nu * x_pre * (w_max - wij)
        w[i, j] = nw if nw < w_max else w_max


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
def present(
    w: F32,
    theta: F32,
    k: npt.NDArray[np.float64],
    timesteps: int,
    learn: bool,
    step_ptr: I32,
    spike_idx: I32,
    counts: I32,
    work_f: F32,
    work_i: I32,
    pre_decay_pow: F32,
    stats: I64,
) -> int:
    """Simulate one presentation of encoded input; return the excitatory spike count.

    Excitatory spikes per neuron go to ``counts``; with ``learn`` STDP updates w in place and theta
    grows by theta_plus per spike. Exc spikes reach the inhibitory layer one step later and its
    spikes inhibit all other exc neurons the step after (or, 'direct', exc inhibit exc next step).
    work_f: float32 [5, N] scratch; work_i: int32 [6, max(N, n_in)] scratch.
    """
    n_in, n = w.shape
    dec_e = np.float32(k[K_DEC_EXC])
    dec_i = np.float32(k[K_DEC_INH])
    dec_post = np.float32(k[K_DEC_POST])
    rest_e = np.float32(k[K_REST_E])
    reset_e = np.float32(k[K_RESET_E])
    thresh_e = np.float32(k[K_THRESH_E])
    rest_i = np.float32(k[K_REST_I])
    reset_i = np.float32(k[K_RESET_I])
    thresh_i = np.float32(k[K_THRESH_I])
    ref_e = int(k[K_REF_E])
    ref_i = int(k[K_REF_I])
    theta_plus = np.float32(k[K_THETA_PLUS])
    w_ei = np.float32(k[K_W_EI])
    w_ie = np.float32(k[K_W_IE])
    nu_pre = np.float32(k[K_NU_PRE])
    nu_post = np.float32(k[K_NU_POST])
    w_min = np.float32(k[K_W_MIN])
    w_max = np.float32(k[K_W_MAX])
    rule = int(k[K_RULE])
    direct = int(k[K_INHIB]) == INHIB_DIRECT

    v_e = work_f[0]
    v_i = work_f[1]
    current = work_f[2]
    x_post = work_f[3]
    v_th = work_f[4]
    ref_cnt_e = work_i[0]
    ref_cnt_i = work_i[1]
    exc_spk = work_i[2]  # exc spikes of the previous step
    inh_spk = work_i[3]  # inh spikes of the previous step
    last_pre = work_i[4]
    active = work_i[5]
    for j in range(n):
        v_e[j] = rest_e
        v_i[j] = rest_i
        current[j] = 0.0
        x_post[j] = 0.0
        v_th[j] = thresh_e + theta[j]
        ref_cnt_e[j] = 0
        ref_cnt_i[j] = 0
        counts[j] = 0
    for i in range(n_in):
        last_pre[i] = -1
    n_active = 0
    n_exc_prev = 0
    n_inh_prev = 0
    any_post = False
    total = 0
    n_inh_total = 0
    n_depress = 0
    n_potentiate = 0
    for t in range(timesteps):
        if learn and any_post:
            for j in range(n):
                x_post[j] *= dec_post
        # Inhibition from the previous step's spikes.
        if direct:
            inhibit_others(current, exc_spk, n_exc_prev, w_ie)
        else:
            inhibit_others(current, inh_spk, n_inh_prev, w_ie)
            # Inhibitory layer: decay, drive from last step's exc spikes, fire.
            for j in range(n):
                v_i[j] = rest_i + (v_i[j] - rest_i) * dec_i
            for s in range(n_exc_prev):
                j = exc_spk[s]
                if ref_cnt_i[j] <= 0:
                    v_i[j] += w_ei
            n_inh_prev = 0
            for j in range(n):
                if ref_cnt_i[j] > 0:
                    ref_cnt_i[j] -= 1
                elif v_i[j] > thresh_i:
                    v_i[j] = reset_i
                    ref_cnt_i[j] = ref_i
                    inh_spk[n_inh_prev] = j
                    n_inh_prev += 1
            n_inh_total += n_inh_prev
        # Input spikes of this step (event-driven): synaptic input and presynaptic STDP.
        for s in range(step_ptr[t], step_ptr[t + 1]):
            i = spike_idx[s]
            if learn:
                if last_pre[i] < 0:
                    active[n_active] = i
                    n_active += 1
                last_pre[i] = t
                if any_post:
                    depress_row(w, i, x_post, current, nu_pre, w_min, rule)
                    n_depress += n
                    continue
            for j in range(n):
                current[j] += w[i, j]
        # Excitatory neurons: leak, integrate unless refractory, fire.
        for j in range(n):
            v = rest_e + (v_e[j] - rest_e) * dec_e
            r = ref_cnt_e[j]
            v_e[j] = v + current[j] if r <= 0 else v
            ref_cnt_e[j] = r - 1 if r > 0 else 0
            current[j] = 0.0
        n_exc_prev = 0
        for j in range(n):
            if v_e[j] > v_th[j]:
                v_e[j] = reset_e
                ref_cnt_e[j] = ref_e
                counts[j] += 1
                exc_spk[n_exc_prev] = j
                n_exc_prev += 1
                if learn:
                    theta[j] += theta_plus
                    v_th[j] = thresh_e + theta[j]
                    x_post[j] = 1.0
                    any_post = True
                    n_potentiate += n_active
                    potentiate_column(
                        w, j, active, n_active, last_pre, t, pre_decay_pow, nu_post, w_max, rule
                    )
        total += n_exc_prev
    stats[STAT_INPUT_SPIKES] += step_ptr[timesteps]
    stats[STAT_EXC_SPIKES] += total
    stats[STAT_INH_SPIKES] += n_inh_total
    stats[STAT_STEPS] += timesteps
    stats[STAT_PRESENTATIONS] += 1
    stats[STAT_DEPRESSIONS] += n_depress
    stats[STAT_POTENTIATIONS] += n_potentiate
    return total


@njit(cache=True)
def run_batch(
    images: npt.NDArray[np.uint8],
    w: F32,
    theta: F32,
    k: npt.NDArray[np.float64],
    timesteps: int,
    learn: bool,
    state: RngState,
    counts: I32,
    stats: I64,
) -> None:
    """Present each image [B, n_in] in turn: encode, simulate, re-present while too quiet.

    With ``learn``: STDP, theta decay and per-sample weight normalisation. counts: int32 [B, N]
    spikes of the final presentation; stats: int64 [B, STAT_SIZE] totals over all presentations.
    """
    n_in, n = w.shape
    size = n_in * timesteps
    spike_t = np.empty(size, np.int32)
    spike_i = np.empty(size, np.int32)
    spike_idx = np.empty(size, np.int32)
    step_ptr = np.empty(timesteps + 1, np.int32)
    work_f = np.empty((5, n), np.float32)
    work_i = np.empty((6, max(n, n_in)), np.int32)
    pre_decay_pow = np.empty(timesteps + 1, np.float32)
    dec_pre = k[K_DEC_PRE]
    for t in range(timesteps + 1):
        pre_decay_pow[t] = np.float32(dec_pre**t)
    dec_theta = np.float32(k[K_DEC_THETA])
    min_spikes = int(k[K_MIN_SPIKES])
    max_retries = int(k[K_MAX_RETRIES])
    for b in range(images.shape[0]):
        if learn:
            for j in range(n):
                theta[j] *= dec_theta
        p_scale = k[K_P_SCALE]
        for _attempt in range(max_retries + 1):
            poisson_encode(
                images[b], p_scale, timesteps, state, spike_t, spike_i, step_ptr, spike_idx
            )
            fired = present(
                w,
                theta,
                k,
                timesteps,
                learn,
                step_ptr,
                spike_idx,
                counts[b],
                work_f,
                work_i,
                pre_decay_pow,
                stats[b],
            )
            if fired >= min_spikes:
                break
            p_scale += k[K_P_RETRY]
        if learn:
            normalise_columns(w, k[K_NORM])
            stats[b, STAT_NORMALISED] += n_in * n


__all__ = [
    "K_SIZE",
    "STAT_SIZE",
    "depress_row",
    "inhibit_others",
    "normalise_columns",
    "potentiate_column",
    "present",
    "run_batch",
]

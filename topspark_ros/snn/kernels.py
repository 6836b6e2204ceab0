"""Numba kernels of the Diehl & Cook network: one presentation, STDP, normalisation, batches.

Only ``@njit(cache=True)`` functions over arrays and scalars live here. Constants arrive packed in
a float64 array indexed by the ``K_*`` names below (built by ``network.pack_constants``), so the
kernels' signatures stay short. State is float32; the work of a step is driven by input spikes.

Training normalises each neuron's input weights to ``norm_total`` after every sample, lazily:
within a batch the effective weight is w[i, j] * scale[j], STDP works on the raw w in units of
that scale, and a new scale per column (from a running column sum) replaces the O(n_in x N)
rescale. ``fold_scales`` multiplies the scales into w at the end of each batch, so between
calls w holds the plain effective weights.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from topspark_ros.snn.encoding import poisson_encode
from topspark_ros.snn.rng import RngState

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
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
K_DEADLINE = 27  # 1: a silent presentation ends with a spike from the neuron nearest threshold
K_INPUT_MEAN = 28  # > 0: each image's drive is scaled to this mean pixel value
K_EXIT_MARGIN = (
    29  # > 0, inference only: stop once one neuron leads all others by this many spikes
)
K_SIZE = 30

RULE_PAIR = 0
RULE_WEIGHT_DEPENDENT = 1
INHIB_LAYER = 0
INHIB_DIRECT = 1

STAT_INPUT_SPIKES = 0
STAT_EXC_SPIKES = 1
STAT_INH_SPIKES = 2
STAT_STEPS = 3  # steps simulated (fewer than T x presentations after an early exit)
STAT_PRESENTATIONS = 4
STAT_DEPRESSIONS = 5  # synapse updates by presynaptic (depression) STDP
STAT_POTENTIATIONS = 6  # synapse updates by postsynaptic (potentiation) STDP
STAT_NORMALISED = 7  # column rescales of the lazy normalisation (N per learning sample)
STAT_FOLDED = 8  # weights rescaled in place by fold_scales (read, multiply, write, add to sum)
STAT_SUMMED = 9  # weights read into the column sums at the start of a learning batch
STAT_DEADLINE = 10  # presentations that reached their last step silent (one argmax over N)
STAT_SIZE = 11

# Rows of the per-column lazy normalisation state, float32 [L_SIZE, N] (learning only).
L_SCALE = 0  # effective weight = raw weight x scale
L_LO = 1  # w_min / scale: the lower bound in raw units
L_HI = 2  # w_max / scale: the upper bound in raw units
L_AMP_PRE = 3  # post trace on a spike: nu_pre / scale (pair) or nu_pre (weight-dependent)
L_AMP_POST = 4  # potentiation rate: nu_post / scale (pair) or nu_post (weight-dependent)
L_SYN = 5  # scratch: this step's raw synaptic input, times scale when integrated
L_DELTA = 6  # this step's change of the raw column sums (moved to colsum after the step)
L_SIZE = 7

SCALE_MIN = 1e-3  # a scale outside [SCALE_MIN, SCALE_MAX] is folded into w at once
SCALE_MAX = 1e3


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
def scale_constants(lazy: F32, k: npt.NDArray[np.float64]) -> None:
    """Derive the raw-unit STDP bounds and rates of each column from its scale (row L_SCALE).

    The pair rule's steps are fixed in effective units, so in raw units they divide by the
    scale; the weight-dependent rule's rates are relative and need no scaling.
    """
    pair = int(k[K_RULE]) == RULE_PAIR
    w_min = np.float32(k[K_W_MIN])
    w_max = np.float32(k[K_W_MAX])
    nu_pre = np.float32(k[K_NU_PRE])
    nu_post = np.float32(k[K_NU_POST])
    for j in range(lazy.shape[1]):
        inv = np.float32(1.0) / lazy[L_SCALE, j]
        lazy[L_LO, j] = w_min * inv
        lazy[L_HI, j] = w_max * inv
        lazy[L_AMP_PRE, j] = nu_pre * inv if pair else nu_pre
        lazy[L_AMP_POST, j] = nu_post * inv if pair else nu_post


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
            lazy[L_SCALE, j] = s
            if not SCALE_MIN <= s <= SCALE_MAX:
                out_of_range = True
    return out_of_range


@njit(cache=True)
def fold_scales(w: F32, lazy: F32, colsum: F64) -> None:
    """Multiply the scales into w (w becomes the effective weights), recompute colsum, scale 1."""
    n_in, n = w.shape
    scale = lazy[L_SCALE]
    for j in range(n):
        colsum[j] = 0.0
        lazy[L_DELTA, j] = 0.0
    for i in range(n_in):
        for j in range(n):
            v = w[i, j] * scale[j]
            w[i, j] = v
            colsum[j] += v
    for j in range(n):
        scale[j] = 1.0


@njit(cache=True)
def depress_row(w: F32, i: int, trace: F32, syn: F32, lo: F32, delta: F32, rule: int) -> None:
    """Presynaptic spike of input i: add its raw weights to ``syn`` and depress them.

    trace[j] is neuron j's post trace times its depression rate (``L_AMP_PRE``); lo[j] the lower
    bound, both in raw units. Each change is added to delta[j] (row ``L_DELTA``).
    """
    n = w.shape[1]
    if rule == RULE_PAIR:
        for j in range(n):
            wij = w[i, j]
            syn[j] += wij
            nw = wij - trace[j]
            nw = nw if nw > lo[j] else lo[j]
            w[i, j] = nw
            delta[j] += nw - wij
    else:
        for j in range(n):
            wij = w[i, j]
            syn[j] += wij
            nw = wij - trace[j] * (wij - lo[j])
            nw = nw if nw > lo[j] else lo[j]
            w[i, j] = nw
            delta[j] += nw - wij


@njit(cache=True)
def potentiate_column(
    w: F32,
    j: int,
    active: I32,
    n_active: int,
    last_pre: I32,
    t: int,
    pre_decay_pow: F32,
    amp: np.float32,
    hi: np.float32,
    rule: int,
    delta: F32,
) -> None:
    """Postsynaptic spike of neuron j at step t: potentiate its synapses from inputs that fired.

    The presynaptic trace of input i is pre_decay_pow[t - last_pre[i]] (set to 1 on a spike);
    inputs that never fired this presentation have a zero trace and are skipped. amp and hi are
    column j's rate and upper bound in raw units; the change is added to delta[j].
    """
    change = np.float32(0.0)
    for a in range(n_active):
        i = active[a]
        x_pre = pre_decay_pow[t - last_pre[i]]
        wij = w[i, j]
        if rule == RULE_PAIR:
            nw = wij + amp * x_pre
        else:
            nw = wij + amp * x_pre * (hi - wij)
        nw = nw if nw < hi else hi
        w[i, j] = nw
        change += nw - wij
    delta[j] += change


@njit(cache=True)
def integrate_scaled(
    v_e: F32,
    ref_cnt_e: I32,
    current: F32,
    syn: F32,
    scale: F32,
    rest_e: np.float32,
    dec_e: np.float32,
) -> None:
    """Learning's exc step: leak, integrate current + syn * scale unless refractory, clear both.

    The raw synaptic input is scaled once per neuron here, not once per synapse.
    """
    for j in range(v_e.shape[0]):
        v = rest_e + (v_e[j] - rest_e) * dec_e
        r = ref_cnt_e[j]
        v_e[j] = v + (current[j] + syn[j] * scale[j]) if r <= 0 else v
        ref_cnt_e[j] = r - 1 if r > 0 else 0
        current[j] = 0.0
        syn[j] = 0.0


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
def input_gain(pixels: npt.NDArray[np.uint8], mean: float) -> float:
    """Factor that brings the image's mean pixel value to ``mean``; 1 when off or all black."""
    if mean <= 0.0:
        return 1.0
    total = 0.0
    for i in range(pixels.shape[0]):
        total += pixels[i]
    return mean * pixels.shape[0] / total if total > 0.0 else 1.0


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
    lazy: F32,
    colsum: F64,
    stats: I64,
) -> int:
    """Simulate one presentation of encoded input; return the excitatory spike count.

    Excitatory spikes per neuron go to ``counts``; with ``learn`` STDP updates w in place and theta
    grows by theta_plus per spike. Exc spikes reach the inhibitory layer one step later and its
    spikes inhibit all other exc neurons the step after (or, 'direct', exc inhibit exc next step).
    With ``learn`` w holds raw weights scaled per column by ``lazy`` (float32 [L_SIZE, N], see
    ``L_*``) and colsum (float64 [N]) their column sums, kept up to date; else both are unused.
    Without ``learn`` and with K_EXIT_MARGIN > 0 the presentation ends after the first step at
    which one neuron has that many more spikes than any other and at least K_MIN_SPIKES spikes
    were fired (an earlier end would only cause a re-presentation); the leader and runner-up
    counts are updated on spikes only. Stats count the steps and input spikes actually used.
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
    rule = int(k[K_RULE])
    direct = int(k[K_INHIB]) == INHIB_DIRECT
    deadline = int(k[K_DEADLINE]) != 0
    exit_margin = 0 if learn else int(k[K_EXIT_MARGIN])
    min_spikes = int(k[K_MIN_SPIKES])

    v_e = work_f[0]
    v_i = work_f[1]
    current = work_f[2]  # inhibition, plus the synaptic input when not learning
    x_post = work_f[3]  # post traces (learning), times each neuron's L_AMP_PRE
    v_th = work_f[4]
    ref_cnt_e = work_i[0]
    ref_cnt_i = work_i[1]
    exc_spk = work_i[2]  # exc spikes of the previous step
    inh_spk = work_i[3]  # inh spikes of the previous step
    last_pre = work_i[4]
    active = work_i[5]
    scale = lazy[L_SCALE]
    lo = lazy[L_LO]
    hi = lazy[L_HI]
    amp_pre = lazy[L_AMP_PRE]
    amp_post = lazy[L_AMP_POST]
    delta = lazy[L_DELTA]
    syn = lazy[L_SYN] if learn else current  # where input weights accumulate
    for j in range(n):
        v_e[j] = rest_e
        v_i[j] = rest_i
        current[j] = 0.0
        x_post[j] = 0.0
        v_th[j] = thresh_e + theta[j]
        ref_cnt_e[j] = 0
        ref_cnt_i[j] = 0
        counts[j] = 0
        syn[j] = 0.0
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
    leader = -1  # early exit: the neuron with the most spikes, its count and the runner-up's
    top = 0
    runner = 0
    steps_run = timesteps
    for t in range(timesteps):
        changed = False
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
                    depress_row(w, i, x_post, syn, lo, delta, rule)
                    changed = True
                    n_depress += n
                    continue
            for j in range(n):
                syn[j] += w[i, j]
        # Excitatory neurons: leak, integrate unless refractory, fire.
        if learn:
            integrate_scaled(v_e, ref_cnt_e, current, syn, scale, rest_e, dec_e)
        else:
            for j in range(n):
                v = rest_e + (v_e[j] - rest_e) * dec_e
                r = ref_cnt_e[j]
                v_e[j] = v + current[j] if r <= 0 else v
                ref_cnt_e[j] = r - 1 if r > 0 else 0
                current[j] = 0.0
        n_exc_prev = 0
        if deadline and t == timesteps - 1 and total == 0:
            # Lift the nearest neuron over its threshold; it then fires like any other.
            forced = nearest_threshold(v_e, v_th)
            v_e[forced] = max(v_e[forced], v_th[forced] + np.float32(1.0))
            stats[STAT_DEADLINE] += 1
        for j in range(n):
            if v_e[j] > v_th[j]:
                v_e[j] = reset_e
                ref_cnt_e[j] = ref_e
                counts[j] += 1
                exc_spk[n_exc_prev] = j
                n_exc_prev += 1
                if exit_margin > 0:
                    c = counts[j]
                    if j == leader:
                        top = c
                    elif c > top:
                        runner = top
                        leader = j
                        top = c
                    elif c > runner:
                        runner = c
                if learn:
                    theta[j] += theta_plus
                    v_th[j] = thresh_e + theta[j]
                    x_post[j] = amp_pre[j]
                    any_post = True
                    changed = True
                    n_potentiate += n_active
                    potentiate_column(
                        w,
                        j,
                        active,
                        n_active,
                        last_pre,
                        t,
                        pre_decay_pow,
                        amp_post[j],
                        hi[j],
                        rule,
                        delta,
                    )
        total += n_exc_prev
        if changed:
            # A step's changes are small: summed in float32, then added to the float64 sums.
            for j in range(n):
                colsum[j] += delta[j]
                delta[j] = 0.0
        # Early exit (only a spike can change the lead): enough spikes and a clear leader.
        lead = top - runner
        if n_exc_prev > 0 and exit_margin > 0 and lead >= exit_margin and total >= min_spikes:
            steps_run = t + 1
            break
    stats[STAT_INPUT_SPIKES] += step_ptr[steps_run]
    stats[STAT_EXC_SPIKES] += total
    stats[STAT_INH_SPIKES] += n_inh_total
    stats[STAT_STEPS] += steps_run
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

    With ``learn``: STDP, theta decay and per-sample weight normalisation, done lazily (see the
    module docstring) and folded into w before returning. counts: int32 [B, N] spikes of the
    final presentation; stats: int64 [B, STAT_SIZE] totals over all presentations.
    """
    n_in, n = w.shape
    n_img = images.shape[0]
    size = n_in * timesteps
    spike_t = np.empty(size, np.int32)
    spike_i = np.empty(size, np.int32)
    spike_idx = np.empty(size, np.int32)
    step_ptr = np.empty(timesteps + 1, np.int32)
    work_f = np.empty((5, n), np.float32)
    work_i = np.empty((6, max(n, n_in)), np.int32)
    lazy = np.empty((L_SIZE, n), np.float32)
    colsum = np.zeros(n, np.float64)
    pre_decay_pow = np.empty(timesteps + 1, np.float32)
    dec_pre = k[K_DEC_PRE]
    for t in range(timesteps + 1):
        pre_decay_pow[t] = np.float32(dec_pre**t)
    dec_theta = np.float32(k[K_DEC_THETA])
    min_spikes = int(k[K_MIN_SPIKES])
    max_retries = int(k[K_MAX_RETRIES])
    for j in range(n):
        lazy[L_SCALE, j] = 1.0
        lazy[L_DELTA, j] = 0.0
    scale_constants(lazy, k)
    if learn and n_img > 0:
        column_sums(w, colsum)
        stats[0, STAT_SUMMED] += n_in * n
    for b in range(n_img):
        if learn:
            for j in range(n):
                theta[j] *= dec_theta
        gain = input_gain(images[b], k[K_INPUT_MEAN])
        p_scale = k[K_P_SCALE] * gain
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
                lazy,
                colsum,
                stats[b],
            )
            if fired >= min_spikes:
                break
            p_scale += k[K_P_RETRY] * gain
        if learn:
            out_of_range = rescale_columns(lazy, colsum, k[K_NORM])
            stats[b, STAT_NORMALISED] += n
            if out_of_range or b == n_img - 1:
                fold_scales(w, lazy, colsum)
                stats[b, STAT_FOLDED] += n_in * n
            scale_constants(lazy, k)


__all__ = [
    "K_EXIT_MARGIN",
    "K_SIZE",
    "L_SIZE",
    "STAT_SIZE",
    "column_sums",
    "depress_row",
    "fold_scales",
    "inhibit_others",
    "integrate_scaled",
    "potentiate_column",
    "present",
    "rescale_columns",
    "run_batch",
    "scale_constants",
]

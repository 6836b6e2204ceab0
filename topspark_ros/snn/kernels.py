"""Numba kernels of the Diehl & Cook network: one presentation, and batches of them.

``present`` runs the step loop of one presentation out of the per-step kernels in ``neurons``
(LIF dynamics, inhibition), ``stdp`` (learning), ``early_exit`` (how it ends) and
``normalisation`` (the lazy per-sample weight normalisation, see there); ``run_batch`` encodes
and presents each image of a batch in turn, ``infer_batch`` the images of a batch on all of
Numba's threads (learning off; the same results: each sample draws from its own stream, see
``rng.seed_sample``). Only ``@njit(cache=True)`` functions over arrays, scalars
and their ``Workspace`` tuple live here; constants arrive packed in a float64 array indexed by
``layout.K_*``. State is float32; the work of a step is driven by input spikes.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from topspark_ros.snn import layout
from topspark_ros.snn.early_exit import exit_now, force_spike, track_lead
from topspark_ros.snn.encoding import poisson_encode
from topspark_ros.snn.layout import F32, F64, I32, I64
from topspark_ros.snn.neurons import (
    add_rows,
    fire,
    hold_refractory,
    inhibit_others,
    inhibition_is_relay,
    inhibitory_layer,
    integrate,
    integrate_scaled,
    raise_thresholds,
    relay_spikes,
    release_refractory,
)
from topspark_ros.snn.normalisation import (
    column_sums,
    commit_delta,
    commit_fired,
    fold_scales,
    rescale_columns,
    scale_constants,
)
from topspark_ros.snn.rng import RngState, seed_sample
from topspark_ros.snn.stdp import (
    decay_fired,
    decay_traces,
    depress_fired,
    depress_rows,
    depression_is_sparse,
    list_first_spikes,
    mark_inputs,
    potentiate_columns,
    start_traces,
)


class Workspace(NamedTuple):
    """The buffers ``present`` reuses across presentations, as one argument Numba can take."""

    work_f: F32  # float32 [F_SIZE, N] scratch, rows F_* (see layout)
    work_i: I32  # int32 [I_SIZE, max(N, n_in)] scratch, rows I_*
    pre_decay_pow: F32  # float32 [T + 1]: a presynaptic trace t steps after its spike
    lazy: F32  # float32 [L_SIZE, N]: lazy normalisation state, rows L_* (learning only)
    colsum: F64  # float64 [N]: the raw column sums of w, kept current (learning only)


class Encoder(NamedTuple):
    """The input side of a presentation: the sample's stream and its spikes, grouped by step."""

    rng: RngState  # the stream of the sample being presented
    spike_t: I32  # int32 [n_in * T]: scratch, the drawn spikes' steps
    spike_i: I32  # int32 [n_in * T]: scratch, the drawn spikes' inputs
    spike_idx: I32  # int32 [n_in * T]: the inputs that spike, grouped by step
    step_ptr: I32  # int32 [T + 1]: step t's spikes are spike_idx[step_ptr[t]:step_ptr[t + 1]]


@njit(cache=True)
def new_scratch(n_in: int, n: int, timesteps: int, k: F64) -> tuple[Workspace, Encoder]:
    """The buffers of one thread presenting samples to a network n_in x N at T = ``timesteps``."""
    size = n_in * timesteps
    ws = Workspace(
        np.empty((layout.F_SIZE, n), np.float32),
        np.empty((layout.I_SIZE, max(n, n_in)), np.int32),
        np.empty(timesteps + 1, np.float32),
        np.empty((layout.L_SIZE, n), np.float32),
        np.zeros(n, np.float64),
    )
    dec_pre = k[layout.K_DEC_PRE]
    for t in range(timesteps + 1):
        ws.pre_decay_pow[t] = np.float32(dec_pre**t)
    enc = Encoder(
        np.ones(1, np.uint64),
        np.empty(size, np.int32),
        np.empty(size, np.int32),
        np.empty(size, np.int32),
        np.empty(timesteps + 1, np.int32),
    )
    return ws, enc


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
def start_presentation(
    work_f: F32, work_i: I32, syn: F32, theta: F32, counts: I32, n_in: int, k: F64
) -> None:
    """Put neurons at rest, traces and counts at zero, and mark every input as not fired."""
    rest_e = np.float32(k[layout.K_REST_E])
    rest_i = np.float32(k[layout.K_REST_I])
    thresh_e = np.float32(k[layout.K_THRESH_E])
    for j in range(theta.shape[0]):
        work_f[layout.F_V_EXC, j] = rest_e
        work_f[layout.F_V_INH, j] = rest_i
        work_f[layout.F_CURRENT, j] = 0.0
        work_f[layout.F_X_POST, j] = 0.0
        work_f[layout.F_V_TH, j] = thresh_e + theta[j]
        work_i[layout.I_REF_EXC, j] = 0
        work_i[layout.I_REF_INH, j] = 0
        counts[j] = 0
        syn[j] = 0.0
    for i in range(n_in):
        work_i[layout.I_LAST_PRE, i] = -1


@njit(cache=True)
def present(
    w: F32,
    theta: F32,
    k: F64,
    learn: bool,
    sparse_ltd: bool,
    step_ptr: I32,
    spike_idx: I32,
    counts: I32,
    ws: Workspace,
    stats: I64,
) -> int:
    """Simulate one presentation of encoded input; return the excitatory spike count.

    The input spikes of step t are spike_idx[step_ptr[t]:step_ptr[t + 1]], T = len(step_ptr)-1.
    Excitatory spikes per neuron go to ``counts``; with ``learn`` STDP updates w in place and theta
    grows by theta_plus per spike. Exc spikes reach the inhibitory layer one step later and its
    spikes inhibit all other exc neurons the step after (or, 'direct', exc inhibit exc next step).
    With ``learn`` w holds raw weights scaled per column by ``ws.lazy`` and ``ws.colsum`` their
    column sums, kept up to date; else both are unused. ``sparse_ltd`` (where
    ``stdp.depression_is_sparse`` holds; same results) lets depression, trace decay and the sums
    visit only the neurons that fired. Without ``learn`` and with K_EXIT_MARGIN > 0 the
    presentation ends after the first step at which one neuron has that many more spikes than
    any other and at least K_MIN_SPIKES spikes were fired. Stats count the steps and input
    spikes actually used (and depressions as N per input spike, sparse or not).

    Where ``neurons.inhibition_is_relay`` holds, the inhibitory layer is simulated as what it
    then is, the exc spikes delayed by a step (same results, no per-step pass over it); a step's
    firing is looked for only when the integration pass saw a neuron cross its threshold.
    """
    n_in, n = w.shape
    timesteps = step_ptr.shape[0] - 1
    dec_e = np.float32(k[layout.K_DEC_EXC])
    dec_post = np.float32(k[layout.K_DEC_POST])
    rest_e = np.float32(k[layout.K_REST_E])
    reset_e = np.float32(k[layout.K_RESET_E])
    thresh_e = np.float32(k[layout.K_THRESH_E])
    ref_e = int(k[layout.K_REF_E])
    theta_plus = np.float32(k[layout.K_THETA_PLUS])
    w_ie = np.float32(k[layout.K_W_IE])
    rule = int(k[layout.K_RULE])
    direct = int(k[layout.K_INHIB]) == layout.INHIB_DIRECT
    deadline = int(k[layout.K_DEADLINE]) != 0
    exit_margin = 0 if learn else int(k[layout.K_EXIT_MARGIN])
    min_spikes = int(k[layout.K_MIN_SPIKES])
    sparse = learn and sparse_ltd

    v_e = ws.work_f[layout.F_V_EXC]
    v_i = ws.work_f[layout.F_V_INH]
    current = ws.work_f[layout.F_CURRENT]
    x_post = ws.work_f[layout.F_X_POST]
    v_th = ws.work_f[layout.F_V_TH]
    held = ws.work_f[layout.F_HELD]  # held[:n_refr]
    ref_cnt_e = ws.work_i[layout.I_REF_EXC]
    ref_cnt_i = ws.work_i[layout.I_REF_INH]
    exc_spk = ws.work_i[layout.I_EXC_SPIKES]  # exc_spk[:n_exc]
    inh_spk = ws.work_i[layout.I_INH_SPIKES]  # inh_spk[:n_inh]
    last_pre = ws.work_i[layout.I_LAST_PRE]
    active = ws.work_i[layout.I_ACTIVE]  # active[:n_active]
    fired = ws.work_i[layout.I_FIRED]  # fired[:n_fired] (sparse depression only)
    refr = ws.work_i[layout.I_REFRACTORY]  # refr[:n_refr]
    pre_decay_pow = ws.pre_decay_pow
    colsum = ws.colsum
    lazy = ws.lazy
    syn = lazy[layout.L_SYN] if learn else current  # where this step's input weights accumulate
    scale = lazy[layout.L_SCALE]
    start_presentation(ws.work_f, ws.work_i, syn, theta, counts, n_in, k)
    relay = not direct and inhibition_is_relay(k, v_th)
    n_active = 0
    n_fired = 0
    n_refr = 0
    n_exc = 0
    n_inh = 0
    any_post = False
    total = 0
    n_inh_total = 0
    n_depress = 0
    n_potentiate = 0
    leader, top, runner = -1, 0, 0  # early exit: the leading neuron, its count, the runner-up's
    steps_run = timesteps
    for t in range(timesteps):
        if learn and any_post:
            if sparse:
                decay_fired(x_post, dec_post, fired, n_fired)
            else:
                decay_traces(x_post, dec_post)
        if direct:
            inhibit_others(current, exc_spk, n_exc, w_ie)
        else:
            inhibit_others(current, inh_spk, n_inh, w_ie)
            if relay:
                n_inh = relay_spikes(exc_spk, n_exc, inh_spk)
            else:
                n_inh = inhibitory_layer(v_i, ref_cnt_i, exc_spk, n_exc, inh_spk, k)
            n_inh_total += n_inh
        start, stop = step_ptr[t], step_ptr[t + 1]
        depressed = learn and any_post and stop > start
        if learn:
            n_active = mark_inputs(spike_idx, start, stop, t, last_pre, active, n_active)
        if depressed and not sparse:
            depress_rows(w, spike_idx, start, stop, x_post, lazy, rule)
        else:
            add_rows(w, spike_idx, start, stop, syn)
            if depressed:
                depress_fired(w, spike_idx, start, stop, x_post, lazy, rule, fired, n_fired)
        if depressed:
            n_depress += (stop - start) * n
        hold_refractory(v_e, current, refr, n_refr, held)
        if learn:
            above = integrate_scaled(v_e, v_th, current, syn, scale, rest_e, dec_e)
        else:
            above = integrate(v_e, v_th, current, rest_e, dec_e)
        if n_refr > 0:
            n_refr, above_r = release_refractory(
                v_e, v_th, ref_cnt_e, refr, n_refr, held, rest_e, dec_e
            )
            above |= above_r
        if deadline and t == timesteps - 1 and total == 0:
            force_spike(v_e, v_th)
            stats[layout.STAT_DEADLINE] += 1
            above = True
        n_exc = 0
        if above:  # only then can anyone fire
            n_exc, n_refr = fire(
                v_e, v_th, ref_cnt_e, reset_e, ref_e, counts, exc_spk, refr, n_refr
            )
        total += n_exc
        if learn and n_exc > 0:
            if sparse:
                n_fired = list_first_spikes(counts, exc_spk, n_exc, fired, n_fired)
            raise_thresholds(theta, v_th, exc_spk, n_exc, theta_plus, thresh_e)
            start_traces(x_post, lazy, exc_spk, n_exc)
            potentiate_columns(
                w, exc_spk, n_exc, active, n_active, last_pre, t, pre_decay_pow, lazy, rule
            )
            n_potentiate += n_exc * n_active
            any_post = True
        if depressed or (learn and n_exc > 0):
            if sparse:
                commit_fired(colsum, lazy, fired, n_fired)
            else:
                commit_delta(colsum, lazy)
        if n_exc > 0 and exit_margin > 0:
            leader, top, runner = track_lead(counts, exc_spk, n_exc, leader, top, runner)
            if exit_now(top, runner, exit_margin, total, min_spikes):
                steps_run = t + 1
                break
    stats[layout.STAT_INPUT_SPIKES] += step_ptr[steps_run]
    stats[layout.STAT_EXC_SPIKES] += total
    stats[layout.STAT_INH_SPIKES] += n_inh_total
    stats[layout.STAT_STEPS] += steps_run
    stats[layout.STAT_PRESENTATIONS] += 1
    stats[layout.STAT_DEPRESSIONS] += n_depress
    stats[layout.STAT_POTENTIATIONS] += n_potentiate
    return total


@njit(cache=True)
def present_image(
    pixels: npt.NDArray[np.uint8],
    w: F32,
    theta: F32,
    k: F64,
    learn: bool,
    sparse_ltd: bool,
    counts: I32,
    ws: Workspace,
    enc: Encoder,
    stats: I64,
) -> None:
    """Encode an image from ``enc.rng``, present it; again at a higher rate while too quiet."""
    timesteps = enc.step_ptr.shape[0] - 1
    gain = input_gain(pixels, k[layout.K_INPUT_MEAN])
    p_scale = k[layout.K_P_SCALE] * gain
    min_spikes = int(k[layout.K_MIN_SPIKES])
    for _attempt in range(int(k[layout.K_MAX_RETRIES]) + 1):
        poisson_encode(
            pixels,
            p_scale,
            timesteps,
            enc.rng,
            enc.spike_t,
            enc.spike_i,
            enc.step_ptr,
            enc.spike_idx,
        )
        fired = present(
            w, theta, k, learn, sparse_ltd, enc.step_ptr, enc.spike_idx, counts, ws, stats
        )
        if fired >= min_spikes:
            break
        p_scale += k[layout.K_P_RETRY] * gain


@njit(cache=True)
def run_batch(
    images: npt.NDArray[np.uint8],
    w: F32,
    theta: F32,
    k: F64,
    timesteps: int,
    learn: bool,
    seed: int,
    first: int,
    counts: I32,
    stats: I64,
) -> None:
    """Present each image [B, n_in] in turn: encode, simulate, re-present while too quiet.

    Image b is sample ``first + b`` of the run seeded ``seed`` (its input spikes are drawn from
    ``rng.seed_sample(seed, first + b)``). With ``learn``: STDP, theta decay and per-sample
    weight normalisation, done lazily (see ``normalisation``) and folded into w before
    returning. counts: int32 [B, N] spikes of the final presentation; stats: int64 [B,
    STAT_SIZE] totals over all presentations.
    """
    n_in, n = w.shape
    n_img = images.shape[0]
    ws, enc = new_scratch(n_in, n, timesteps, k)
    lazy = ws.lazy
    dec_theta = np.float32(k[layout.K_DEC_THETA])
    for j in range(n):
        lazy[layout.L_SCALE, j] = 1.0
        lazy[layout.L_DELTA, j] = 0.0
    scale_constants(lazy, k)
    sparse_ltd = False
    if learn and n_img > 0:
        column_sums(w, ws.colsum)
        stats[0, layout.STAT_SUMMED] += n_in * n
        sparse_ltd = depression_is_sparse(w, k)
    for b in range(n_img):
        if learn:
            for j in range(n):
                theta[j] *= dec_theta
        seed_sample(enc.rng, seed, first + b)
        present_image(images[b], w, theta, k, learn, sparse_ltd, counts[b], ws, enc, stats[b])
        if learn:
            out_of_range = rescale_columns(lazy, ws.colsum, k[layout.K_NORM])
            stats[b, layout.STAT_NORMALISED] += n
            if out_of_range or b == n_img - 1:
                fold_scales(w, lazy, ws.colsum)
                stats[b, layout.STAT_FOLDED] += n_in * n
            scale_constants(lazy, k)


@njit(cache=True, parallel=True)
def infer_batch(
    images: npt.NDArray[np.uint8],
    w: F32,
    theta: F32,
    k: F64,
    timesteps: int,
    seed: int,
    first: int,
    counts: I32,
    stats: I64,
    threads: int,
) -> None:
    """``run_batch`` with learning off, the images shared out over ``threads`` of Numba's threads.

    Thread r of R presents images r, r + R, r + 2R, ... with its own workspace; nothing they
    write is shared, and each image draws from its own stream, so the results are those of
    ``run_batch`` for any number of threads.
    """
    n_in, n = w.shape
    n_img = images.shape[0]
    threads = max(1, min(threads, n_img))
    for r in prange(threads):
        ws, enc = new_scratch(n_in, n, timesteps, k)
        for b in range(r, n_img, threads):
            seed_sample(enc.rng, seed, first + b)
            present_image(images[b], w, theta, k, False, False, counts[b], ws, enc, stats[b])


__all__ = [
    "Encoder",
    "Workspace",
    "infer_batch",
    "input_gain",
    "new_scratch",
    "present",
    "present_image",
    "run_batch",
    "start_presentation",
]

"""The floor kernel: the least work any simulation of the network's input must do, as a yardstick.

Per step each input spike adds its weight row to the membrane potentials (and, learning, depresses
that row once: w -= amp, clamped at lo); then every neuron leaks towards rest and fires above
threshold (reset). No Poisson generation (the spikes come encoded), traces, inhibition, adaptive
threshold, potentiation or normalisation. ``topspark bench`` reports the network's samples/s
against this kernel's on the same encoded input, on the same core, in the same run.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from topspark_ros.snn import layout
from topspark_ros.snn.encoding import poisson_encode
from topspark_ros.snn.kernels import input_gain
from topspark_ros.snn.layout import F32, F64, I32, I64
from topspark_ros.snn.rng import seed_sample


@njit(cache=True)
def floor_present(
    w: F32,
    step_ptr: I32,
    spike_idx: I32,
    v: F32,
    learn: bool,
    amp: F32,
    lo: np.float32,
    k: F64,
) -> int:
    """One presentation of encoded input (CSR, as ``kernels.present`` takes it); return the spikes.

    v: float32 [N] membrane potentials, left as they end; w [n_in, N] is depressed in place when
    ``learn``. Rest, reset, threshold and the leak come from ``k`` (``layout.K_*``).
    """
    n = w.shape[1]
    rest = np.float32(k[layout.K_REST_E])
    reset = np.float32(k[layout.K_RESET_E])
    thresh = np.float32(k[layout.K_THRESH_E])
    dec = np.float32(k[layout.K_DEC_EXC])
    for j in range(n):
        v[j] = rest
    total = 0
    for t in range(step_ptr.shape[0] - 1):
        for s in range(step_ptr[t], step_ptr[t + 1]):
            row = w[spike_idx[s]]
            if learn:
                for j in range(n):
                    wij = row[j]
                    v[j] += wij
                    nw = wij - amp[j]
                    row[j] = nw if nw > lo else lo
            else:
                for j in range(n):
                    v[j] += row[j]
        above = False
        for j in range(n):
            x = rest + (v[j] - rest) * dec
            v[j] = x
            above |= x > thresh
        if above:  # the spikes are looked for only when someone crossed, as in the network
            for j in range(n):
                if v[j] > thresh:
                    v[j] = reset
                    total += 1
    return total


@njit(cache=True)
def floor_batch(
    w: F32, step_ptr: I32, spike_idx: I32, spike_start: I64, learn: bool, k: F64
) -> int:
    """``floor_present`` for each presentation of ``encode_batch``'s output; return all spikes.

    Learning depresses by nu_pre per input spike, clamped at w_min.
    """
    n = w.shape[1]
    v = np.empty(n, np.float32)
    amp = np.full(n, np.float32(k[layout.K_NU_PRE]), np.float32)
    lo = np.float32(k[layout.K_W_MIN])
    total = 0
    for b in range(step_ptr.shape[0]):
        idx = spike_idx[spike_start[b] : spike_start[b + 1]]
        total += floor_present(w, step_ptr[b], idx, v, learn, amp, lo, k)
    return total


@njit(cache=True)
def encode_batch(
    images: npt.NDArray[np.uint8],
    presentations: I64,
    k: F64,
    timesteps: int,
    seed: int,
    first: int,
) -> tuple[I32, I32, I64]:
    """Encode image b [B, n_in] presentations[b] times, as ``kernels.run_batch`` presents it
    (its own stream, input gain, and a higher rate at each re-presentation), so the floor sees
    the same input: image b as sample ``first + b`` of a network seeded ``seed``.

    Returns step_ptr int32 [P, T + 1], spike_idx int32 [S] and spike_start int64 [P + 1] over
    the P presentations: presentation p's spikes are spike_idx[spike_start[p]:spike_start[p+1]].
    """
    n_img, n_in = images.shape
    n_pres = 0
    for b in range(n_img):
        n_pres += presentations[b]
    size = n_in * timesteps
    spike_t = np.empty(size, np.int32)
    spike_i = np.empty(size, np.int32)
    one = np.empty(size, np.int32)
    step_ptr = np.empty((n_pres, timesteps + 1), np.int32)
    spike_start = np.zeros(n_pres + 1, np.int64)
    chunks = []
    state = np.ones(1, np.uint64)
    p = 0
    for b in range(n_img):
        seed_sample(state, seed, first + b)
        gain = input_gain(images[b], k[layout.K_INPUT_MEAN])
        p_scale = k[layout.K_P_SCALE] * gain
        for _ in range(presentations[b]):
            count = poisson_encode(
                images[b], p_scale, timesteps, state, spike_t, spike_i, step_ptr[p], one
            )
            chunks.append(one[:count].copy())
            spike_start[p + 1] = spike_start[p] + count
            p_scale += k[layout.K_P_RETRY] * gain
            p += 1
    spike_idx = np.empty(spike_start[n_pres], np.int32)
    for p in range(n_pres):
        spike_idx[spike_start[p] : spike_start[p + 1]] = chunks[p]
    return step_ptr, spike_idx, spike_start


__all__ = ["encode_batch", "floor_batch", "floor_present"]

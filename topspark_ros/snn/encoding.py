"""Poisson rate encoding, event-driven: spike times are drawn as geometric gaps per pixel.

A pixel of value x fires in each step independently with probability p = x/255 * rate * dt/1000;
drawing the gaps between spikes costs one random number per spike instead of one per step.
Spikes come back grouped by step (CSR: ``step_ptr[t]:step_ptr[t+1]`` index ``spike_idx``).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from topspark_ros.snn.rng import RngState, rng_new, rng_uniform

IntArray = npt.NDArray[np.int32]


def spike_probability_scale(rate_hz: float, dt_ms: float) -> float:
    """Per-step spike probability of a pixel of value 1 (multiply by the 0..255 pixel value)."""
    return rate_hz * dt_ms / 1000.0 / 255.0


@njit(cache=True)
def poisson_encode(
    pixels: npt.NDArray[np.uint8],
    p_scale: float,
    timesteps: int,
    state: RngState,
    spike_t: IntArray,
    spike_i: IntArray,
    step_ptr: IntArray,
    spike_idx: IntArray,
) -> int:
    """Encode one image into spikes grouped by step; return the spike count.

    ``spike_t``/``spike_i``/``spike_idx`` are work buffers of at least len(pixels) * timesteps;
    ``step_ptr`` has timesteps + 1 entries and is overwritten.
    """
    for t in range(timesteps + 1):
        step_ptr[t] = 0  # step t's spike count goes to step_ptr[t + 1] as they are drawn
    log_q_of = np.zeros(256, np.float64)  # log(1 - p) by pixel value, 0 until needed
    n = 0
    for i in range(pixels.shape[0]):
        px = pixels[i]
        if px == 0:
            continue
        p = px * p_scale
        if p <= 0.0:
            continue
        if p >= 1.0:
            for t in range(timesteps):
                spike_t[n] = t
                spike_i[n] = i
                step_ptr[t + 1] += 1
                n += 1
            continue
        log_q = log_q_of[px]
        if log_q == 0.0:
            log_q = math.log1p(-p)
            log_q_of[px] = log_q
        t = -1
        while True:
            gap = np.floor(math.log(1.0 - rng_uniform(state)) / log_q)
            if t + 1.0 + gap >= timesteps:
                break
            t += 1 + int(gap)
            spike_t[n] = t
            spike_i[n] = i
            step_ptr[t + 1] += 1
            n += 1
    for t in range(timesteps):  # step_ptr[t] becomes the start of step t, used as a cursor
        step_ptr[t + 1] += step_ptr[t]
    for k in range(n):
        t = spike_t[k]
        spike_idx[step_ptr[t]] = spike_i[k]
        step_ptr[t] += 1
    for t in range(timesteps, 0, -1):
        step_ptr[t] = step_ptr[t - 1]
    step_ptr[0] = 0
    return n


def encode_image(
    pixels: npt.NDArray[np.uint8], rate_hz: float, dt_ms: float, timesteps: int, seed: int
) -> npt.NDArray[np.bool_]:
    """Dense [timesteps, n_pixels] spike raster of one image (for inspection and tests)."""
    flat = np.ascontiguousarray(pixels, dtype=np.uint8).ravel()
    size = flat.size * timesteps
    spike_t = np.empty(size, np.int32)
    spike_i = np.empty(size, np.int32)
    spike_idx = np.empty(size, np.int32)
    step_ptr = np.empty(timesteps + 1, np.int32)
    scale = spike_probability_scale(rate_hz, dt_ms)
    poisson_encode(flat, scale, timesteps, rng_new(seed), spike_t, spike_i, step_ptr, spike_idx)
    raster = np.zeros((timesteps, flat.size), np.bool_)
    for t in range(timesteps):
        raster[t, spike_idx[step_ptr[t] : step_ptr[t + 1]]] = True
    return raster


__all__ = ["encode_image", "poisson_encode", "spike_probability_scale"]

"""Tests for the floor kernel (snn/floor.py) against a NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest

from topspark_ros.data import load_sample
from topspark_ros.snn import floor, layout
from topspark_ros.snn.encoding import poisson_encode
from topspark_ros.snn.kernels import input_gain
from topspark_ros.snn.network import pack_constants
from topspark_ros.snn.params import NetworkParams, load_preset
from topspark_ros.snn.rng import seed_sample

F32 = np.float32


def floor_reference(
    p: NetworkParams, w: np.ndarray, steps: list[list[int]], learn: bool
) -> tuple[int, np.ndarray, np.ndarray]:
    """NumPy reference of one floor presentation: (spikes, final v, final w)."""
    k = pack_constants(p)
    w = w.copy()
    rest, reset, thresh = F32(p.v_rest_exc), F32(p.v_reset_exc), F32(p.v_thresh_exc)
    dec, amp, lo = F32(k[layout.K_DEC_EXC]), F32(p.nu_pre), F32(p.w_min)
    v = np.full(w.shape[1], rest)
    total = 0
    for rows in steps:
        for i in rows:
            v += w[i]
            if learn:
                w[i] = np.maximum(w[i] - amp, lo)
        v = rest + (v - rest) * dec
        spike = v > thresh
        v[spike] = reset
        total += int(spike.sum())
    return total, v, w


@pytest.mark.parametrize("learn", [False, True])
def test_floor_present_matches_reference(learn: bool) -> None:
    p = NetworkParams(n_inputs=20, n_neurons=9, nu_pre=0.05, v_thresh_exc=-60.0)
    rng = np.random.default_rng(3)
    w = rng.random((20, 9)).astype(F32)
    steps = [np.flatnonzero(rng.random(20) < 0.2).tolist() for _ in range(80)]
    step_ptr = np.zeros(len(steps) + 1, np.int32)
    step_ptr[1:] = np.cumsum([len(s) for s in steps])
    spike_idx = np.array([i for s in steps for i in s], np.int32)
    expected_total, expected_v, expected_w = floor_reference(p, w, steps, learn)
    v = np.full(9, np.nan, F32)
    amp = np.full(9, F32(p.nu_pre))
    k = pack_constants(p)
    total = floor.floor_present(w, step_ptr, spike_idx, v, learn, amp, F32(p.w_min), k)
    assert total == expected_total > 0
    np.testing.assert_allclose(v, expected_v, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(w, expected_w, rtol=1e-6)
    assert learn or np.array_equal(w, expected_w)


def test_encode_batch_encodes_each_presentation_as_run_batch() -> None:
    # Image b presented presentations[b] times, each time at a higher rate, from its own stream
    # (sample 5 + b of seed 9).
    p = load_preset("tuned").replace(timesteps=40)
    k = pack_constants(p)
    images = load_sample("mnist", "train").images[:3].reshape(3, -1)
    presentations = np.array([1, 3, 2], np.int64)
    step_ptr, spike_idx, start = floor.encode_batch(images, presentations, k, 40, 9, 5)
    assert step_ptr.shape == (6, 41)
    assert start[0] == 0 and start[-1] == spike_idx.size
    state = np.ones(1, np.uint64)
    size = 784 * 40
    st, si, idx = (np.empty(size, np.int32) for _ in range(3))
    ptr = np.empty(41, np.int32)
    row = 0
    for b, image in enumerate(images):
        seed_sample(state, 9, 5 + b)
        gain = input_gain(image, k[layout.K_INPUT_MEAN])
        for attempt in range(presentations[b]):
            p_scale = k[layout.K_P_SCALE] * gain + attempt * k[layout.K_P_RETRY] * gain
            n = poisson_encode(image, p_scale, 40, state, st, si, ptr, idx)
            np.testing.assert_array_equal(step_ptr[row], ptr)
            np.testing.assert_array_equal(spike_idx[start[row] : start[row + 1]], idx[:n])
            row += 1
    counts = np.diff(start)
    assert counts[1] < counts[2] < counts[3]  # the retries' higher rates


@pytest.mark.parametrize("learn", [False, True])
def test_floor_batch_sums_its_presentations(learn: bool) -> None:
    p = load_preset("tuned").replace(n_neurons=10, timesteps=30)
    k = pack_constants(p)
    images = load_sample("mnist", "train").images[:4].reshape(4, -1)
    encoded = floor.encode_batch(images, np.ones(4, np.int64), k, 30, 1, 0)
    w = np.full((784, 10), F32(0.2))
    w_each = w.copy()
    expected = 0
    v = np.empty(10, F32)
    amp = np.full(10, F32(p.nu_pre))
    step_ptr, spike_idx, start = encoded
    for b in range(4):
        idx = spike_idx[start[b] : start[b + 1]]
        expected += floor.floor_present(w_each, step_ptr[b], idx, v, learn, amp, F32(0.0), k)
    assert floor.floor_batch(w, *encoded, learn, k) == expected
    np.testing.assert_array_equal(w, w_each)
    assert learn != np.array_equal(w, np.full((784, 10), F32(0.2)))

"""Tests for Poisson rate encoding (snn/encoding.py): statistics, CSR grouping, seeding."""

from __future__ import annotations

import numpy as np
import pytest

from topspark_ros.snn.encoding import encode_image, poisson_encode, spike_probability_scale
from topspark_ros.snn.rng import rng_new

VALUES = np.array([0, 1, 30, 60, 128, 200, 255], np.uint8)


def encode_csr(
    pixels: np.ndarray, rate: float, dt: float, timesteps: int, seed: int
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Call the kernel directly; return (count, step_ptr, spike_idx, spike_t, spike_i)."""
    size = pixels.size * timesteps
    spike_t = np.full(size, -7, np.int32)
    spike_i = np.full(size, -7, np.int32)
    spike_idx = np.full(size, -7, np.int32)
    step_ptr = np.full(timesteps + 1, -7, np.int32)
    n = poisson_encode(
        pixels,
        spike_probability_scale(rate, dt),
        timesteps,
        rng_new(seed),
        spike_t,
        spike_i,
        step_ptr,
        spike_idx,
    )
    return n, step_ptr, spike_idx, spike_t, spike_i


def test_probability_scale() -> None:
    # Diehl & Cook: 63.75 Hz for a 255 pixel at dt 1 ms -> p = 0.06375 per step.
    assert spike_probability_scale(63.75, 1.0) * 255 == pytest.approx(0.06375)
    assert spike_probability_scale(100.0, 0.5) == pytest.approx(100.0 * 0.5 / 1000.0 / 255.0)


@pytest.mark.parametrize(("rate", "dt"), [(200.0, 1.0), (63.75, 2.0)])
def test_counts_are_binomial(rate: float, dt: float) -> None:
    timesteps, reps = 40, 600
    pixels = np.repeat(VALUES, reps)
    # Two seeds of T steps each: per-pixel counts over 2T independent steps.
    counts = encode_image(pixels, rate, dt, timesteps, 1).sum(axis=0) + encode_image(
        pixels, rate, dt, timesteps, 2
    ).sum(axis=0)
    raster_total = 2 * timesteps
    for k, value in enumerate(VALUES):
        c = counts[k * reps : (k + 1) * reps].astype(np.float64)
        p = value / 255.0 * rate * dt / 1000.0
        mean, var = raster_total * p, raster_total * p * (1 - p)
        if value == 0:
            assert c.sum() == 0
            continue
        se = np.sqrt(var / reps)
        assert abs(c.mean() - mean) < 4.5 * se, (value, c.mean(), mean)
        if mean > 1:
            # Sample variance of n draws: relative standard error ~ sqrt(2 / n) (~6%).
            assert c.var(ddof=1) == pytest.approx(var, rel=0.25), (value, c.var(), var)


def test_zero_pixels_never_fire() -> None:
    pixels = np.zeros(50, np.uint8)
    pixels[::5] = 255
    raster = encode_image(pixels, 2000.0, 1.0, 100, 0)
    assert raster[:, pixels == 0].sum() == 0
    assert raster[:, pixels > 0].sum() > 0


@pytest.mark.parametrize(("pixel", "rate"), [(255, 1000.0), (255, 2000.0), (128, 2000.0)])
def test_certain_spikes_fire_every_step(pixel: int, rate: float) -> None:
    assert pixel / 255 * rate / 1000 >= 1.0
    raster = encode_image(np.array([pixel, 0], np.uint8), rate, 1.0, 30, 9)
    assert raster[:, 0].all()
    assert not raster[:, 1].any()


def test_spikes_grouped_by_step() -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, 64, dtype=np.uint8)
    timesteps = 25
    n, step_ptr, spike_idx, spike_t, spike_i = encode_csr(pixels, 300.0, 1.0, timesteps, 4)
    assert n > 0
    assert step_ptr[0] == 0
    assert step_ptr[timesteps] == n
    assert np.all(np.diff(step_ptr) >= 0)
    assert np.all((spike_idx[:n] >= 0) & (spike_idx[:n] < pixels.size))
    assert np.all(pixels[spike_idx[:n]] > 0)
    csr_pairs = set()
    for t in range(timesteps):
        step = spike_idx[step_ptr[t] : step_ptr[t + 1]]
        assert len(set(step.tolist())) == step.size  # an input fires at most once per step
        csr_pairs.update((t, int(i)) for i in step)
    assert len(csr_pairs) == n
    # The CSR layout holds exactly the (step, input) pairs of the event list.
    assert csr_pairs == set(zip(spike_t[:n].tolist(), spike_i[:n].tolist(), strict=True))


def test_csr_agrees_with_dense_raster() -> None:
    pixels = np.arange(0, 256, 16, dtype=np.uint8)
    n, step_ptr, spike_idx, _, _ = encode_csr(pixels, 400.0, 1.0, 30, 21)
    raster = encode_image(pixels, 400.0, 1.0, 30, 21)
    assert raster.sum() == n
    for t in range(30):
        np.testing.assert_array_equal(
            np.flatnonzero(raster[t]), np.sort(spike_idx[step_ptr[t] : step_ptr[t + 1]])
        )


def test_image_shape_is_flattened() -> None:
    image = np.random.default_rng(1).integers(0, 256, (4, 4), dtype=np.uint8)
    raster = encode_image(image, 300.0, 1.0, 12, 2)
    assert raster.shape == (12, 16)
    assert raster.dtype == np.bool_
    np.testing.assert_array_equal(raster, encode_image(image.ravel(), 300.0, 1.0, 12, 2))


def test_seeding() -> None:
    pixels = np.random.default_rng(2).integers(0, 256, 100, dtype=np.uint8)
    a = encode_image(pixels, 200.0, 1.0, 50, 17)
    b = encode_image(pixels, 200.0, 1.0, 50, 17)
    c = encode_image(pixels, 200.0, 1.0, 50, 18)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_inter_spike_intervals_are_geometric() -> None:
    # A Bernoulli(p) process per step: a spike is followed by one in the next step with
    # probability p, and the gap between spikes is geometric with mean 1/p.
    timesteps, reps, rate = 200, 400, 300.0
    p = rate / 1000.0
    raster = encode_image(np.full(reps, 255, np.uint8), rate, 1.0, timesteps, 5)
    spikes_before_last = raster[:-1].sum()
    pairs = (raster[:-1] & raster[1:]).sum()
    frac = pairs / spikes_before_last
    assert abs(frac - p) < 4 * np.sqrt(p * (1 - p) / spikes_before_last)
    gaps = np.concatenate([np.diff(np.flatnonzero(raster[:, i])) for i in range(reps)])
    assert gaps.min() >= 1
    assert gaps.mean() == pytest.approx(1 / p, rel=0.05)
    # P(gap = 2) = (1 - p) p, relative to P(gap = 1) = p.
    ratio = np.mean(gaps == 2) / np.mean(gaps == 1)
    assert ratio == pytest.approx(1 - p, abs=0.06)


def test_pixels_are_independent() -> None:
    raster = encode_image(np.full(2, 255, np.uint8), 500.0, 1.0, 4000, 3)
    corr = np.corrcoef(raster[:, 0], raster[:, 1])[0, 1]
    assert abs(corr) < 4 / np.sqrt(4000)


def test_zero_rate_gives_no_spikes() -> None:
    raster = encode_image(np.array([0, 10, 255], np.uint8), 0.0, 1.0, 20, 0)
    assert raster.sum() == 0


def test_vanishing_rate_gives_no_spikes() -> None:
    raster = encode_image(np.array([1, 255], np.uint8), 1e-300, 0.01, 20, 1)
    assert raster.sum() == 0

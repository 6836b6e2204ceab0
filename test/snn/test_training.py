"""Tests for the training, assignment and evaluation loops (snn/training.py) on sample MNIST."""

from __future__ import annotations

import numpy as np
import pytest

from topspark_ros.data import load_sample
from topspark_ros.snn.layout import STAT_SIZE
from topspark_ros.snn.network import Network
from topspark_ros.snn.params import NetworkParams
from topspark_ros.snn.run_stats import RunStats, SampleStats
from topspark_ros.snn.training import assign, evaluate, train_epochs

N_IMAGES = 50


@pytest.fixture(scope="module")
def mnist() -> tuple[np.ndarray, np.ndarray]:
    """The first 50 images and labels of the embedded MNIST training sample."""
    data = load_sample("mnist", "train")
    return data.images[:N_IMAGES], data.labels[:N_IMAGES]


def small_network(seed: int = 0) -> Network:
    """N=10, T=20 on 784 inputs."""
    return Network.fresh(NetworkParams(n_neurons=10, timesteps=20), seed=seed)


def test_run_stats_from_kernel() -> None:
    stats = np.array(
        [[100, 6, 4, 20, 1, 50, 7, 90, 0, 10, 1], [300, 10, 8, 60, 3, 150, 9, 30, 20, 0, 0]],
        np.int64,
    )
    run = RunStats.from_kernel(SampleStats.from_array(stats), 2.0)
    assert run.samples == 2
    assert run.input_spikes == 200.0
    assert run.exc_spikes == 8.0
    assert run.inh_spikes == 6.0
    assert run.steps == 40.0
    assert run.presentations == 2.0
    assert (run.depressions, run.potentiations, run.normalised) == (100.0, 8.0, 60.0)
    assert (run.folded, run.summed, run.deadline) == (10.0, 5.0, 0.5)
    assert run.samples_per_s == 1.0
    empty = RunStats.from_kernel(SampleStats.from_array(np.zeros((0, STAT_SIZE), np.int64)), 0.0)
    assert empty.samples == 0
    assert empty.steps == 0.0
    assert empty.samples_per_s == float("inf")


def test_train_assign_evaluate(mnist: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = mnist
    net = small_network()
    progress: list[int] = []
    trained = train_epochs(net, images, progress=progress.append)
    assert isinstance(trained, RunStats)
    assert trained.samples == N_IMAGES
    assert sum(progress) == N_IMAGES
    assert trained.seconds > 0
    assert trained.steps == pytest.approx(20 * trained.presentations)
    assert trained.presentations >= 1
    assert trained.input_spikes > 0
    assert net.state.samples_seen == N_IMAGES
    np.testing.assert_allclose(net.state.weights.sum(axis=0), 78.0, rtol=1e-4)

    weights = net.state.weights.copy()
    assigned = assign(net, images, labels)
    assert assigned.samples == N_IMAGES
    assert net.state.assignments.shape == (10,)
    assert net.state.assignments.dtype == np.int16
    assert np.all((net.state.assignments >= -1) & (net.state.assignments < 10))
    assert np.any(net.state.assignments >= 0)

    result = evaluate(net, images, labels)
    assert 0.0 <= result.accuracy <= 1.0
    assert result.predictions.shape == (N_IMAGES,)
    assert result.counts.shape == (N_IMAGES, 10)
    assert result.accuracy == pytest.approx(float(np.mean(result.predictions == labels)))
    assert result.stats.samples == N_IMAGES
    # Assignment and evaluation do not learn.
    np.testing.assert_array_equal(net.state.weights, weights)
    assert net.state.samples_seen == N_IMAGES


def test_train_epochs_counts_every_pass(mnist: tuple[np.ndarray, np.ndarray]) -> None:
    images = mnist[0][:10]
    net = small_network(seed=1)
    stats = train_epochs(net, images, epochs=2)
    assert stats.samples == 20
    assert net.state.samples_seen == 20
    none = train_epochs(net, images, epochs=0)
    assert none.samples == 0
    assert net.state.samples_seen == 20


def test_training_is_deterministic(mnist: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = mnist[0][:10], mnist[1][:10]
    a, b = small_network(seed=2), small_network(seed=2)
    train_epochs(a, images)
    train_epochs(b, images)
    np.testing.assert_array_equal(a.state.weights, b.state.weights)
    assign(a, images, labels)
    assign(b, images, labels)
    np.testing.assert_array_equal(a.state.assignments, b.state.assignments)
    np.testing.assert_array_equal(
        evaluate(a, images, labels).predictions, evaluate(b, images, labels).predictions
    )

"""Shared fixtures for the whole test tree: the repository root, a tiny trained model, a
recording logger, hand-made experiment results."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from recording_logger import RecordingLogger

from topspark_ros.data import load_sample
from topspark_ros.snn.model_io import save_model
from topspark_ros.snn.network import Network
from topspark_ros.snn.params import load_preset
from topspark_ros.snn.training import assign
from topspark_ros.topspark.experiment import PointResult

REPO_ROOT = Path(__file__).resolve().parent.parent

# Every hypothesis fuzz test: the same examples on every run, nothing written into the checkout,
# no deadline (a loaded CI machine), fixtures allowed. Modules set only max_examples.
settings.register_profile(
    "topspark",
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("topspark")

# test/ros2/ is the ROS 2 tier: real ROS 2 in a private network namespace, run by
# tools/ros_tests.sh (which sets TOPSPARK_ROS_TIER). The plain suite does not collect it.
ROS_TIER = os.environ.get("TOPSPARK_ROS_TIER") == "1"
collect_ignore = [] if ROS_TIER else ["ros2"]


def pytest_report_header() -> str:
    """Say which tier runs, so a log shows whether the ROS 2 tests were part of it."""
    if ROS_TIER:
        return "ROS 2 tier: test/ros2 against the colcon install space"
    return "plain tier: test/ros2 (real ROS 2) is run by tools/ros_tests.sh DIR"


@pytest.fixture
def repo_root() -> Path:
    """The source checkout's root directory (holds package.xml, setup.py, config/)."""
    return REPO_ROOT


MODEL_NEURONS = 60
MODEL_TIMESTEPS = 100


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model file (N60, T100, tuned preset, seed 0) trained and labelled on the MNIST sample.

    Shared by the whole session: tests must not modify the file (copy it first).
    """
    train = load_sample("mnist", "train")
    params = load_preset("tuned").replace(n_neurons=MODEL_NEURONS, timesteps=MODEL_TIMESTEPS)
    net = Network.fresh(params, seed=0)
    net.train(train.images)
    assign(net, train.images, train.labels)
    net.state.dataset = "mnist"
    return save_model(tmp_path_factory.mktemp("model") / "tiny.npz", net.state)


@pytest.fixture
def recorder() -> RecordingLogger:
    """A fresh recording logger."""
    return RecordingLogger()


def _point_result(t: int, acc: float, lat: float, **changes: Any) -> PointResult:
    """A run at T with accuracy ``acc`` and inference latency ``lat`` ms (mnist N100 pair, seed
    0); its energies follow the latency: 1 uJ/ms to infer, 2 to train."""
    row = PointResult(
        dataset="mnist",
        n_neurons=100,
        rule="pair",
        enhanced=False,
        timesteps=t,
        accuracy=acc,
        latency_ms=lat,
        train_latency_ms=2 * lat,
        train_energy_j=2e-6 * lat,
        infer_energy_j=1e-6 * lat,
        train_platform_j=2e-5 * lat,
        infer_platform_j=1e-5 * lat,
        memory_bytes=335_016,
        train_samples=500,
        test_samples=200,
        epochs=1,
        seed=0,
        infer_input_spikes=10.0 * t,
        infer_exc_spikes=0.05 * t,
        infer_steps=float(t),
        train_steps=float(t),
    )
    return dataclasses.replace(row, **changes)


@pytest.fixture
def point_result() -> Callable[..., PointResult]:
    """Builder of one hand-made sweep or claim run (``_point_result``)."""
    return _point_result

"""Shared fixtures for the whole test tree: the repository root, a tiny trained model, a
recording logger."""

from __future__ import annotations

from pathlib import Path

import pytest

from topspark_ros.data import load_sample
from topspark_ros.nodes.logs import RecordingLogger
from topspark_ros.snn import Network, assign, save_model
from topspark_ros.snn.params import load_preset

REPO_ROOT = Path(__file__).resolve().parent.parent


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

"""The packaged default model: present, consistent with its manifest and the default profile,
accurate on the embedded sample, and remade bit for bit by the command its manifest records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from recording_logger import RecordingLogger

from topspark_ros.cli.main import main
from topspark_ros.data import load_sample
from topspark_ros.nodes.config import PerceptionConfig
from topspark_ros.nodes.perception import Perception
from topspark_ros.packaged import default_model_path, default_profile_path, resource_path
from topspark_ros.snn.model_io import load_model
from topspark_ros.snn.network import Network
from topspark_ros.snn.training import evaluate
from topspark_ros.topspark.profile import load_profile

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared" / "datasets"
MANIFEST = resource_path("models", "default.yaml")


def _manifest() -> dict[str, object]:
    data = yaml.safe_load(MANIFEST.read_text())
    manifest: dict[str, object] = data["model"]
    return manifest


def test_packaged_model_matches_its_manifest_and_the_default_profile() -> None:
    state = load_model(default_model_path())
    manifest = _manifest()
    profile = load_profile(default_profile_path())
    assert state.params.n_neurons == manifest["neurons"] == profile.n_neurons
    assert state.params.timesteps == manifest["timesteps"]
    assert state.dataset == manifest["dataset"] == profile.dataset
    assert "base_params" in state.extra  # trained with --enhance: re-targetable to any T


def test_packaged_model_is_accurate_on_the_embedded_sample() -> None:
    test = load_sample("mnist", "test")
    result = evaluate(Network(load_model(default_model_path()), seed=0), test.images, test.labels)
    assert result.accuracy > 0.75


def test_nodes_fall_back_to_the_packaged_model() -> None:
    node = Perception(PerceptionConfig(), RecordingLogger())
    assert node.params.n_neurons == _manifest()["neurons"]


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"no shared datasets at {SHARED}")
def test_manifest_command_remakes_the_model(tmp_path: Path) -> None:
    out = tmp_path / "default.npz"
    args = [str(a) for a in _manifest()["args"]]  # type: ignore[attr-defined]
    assert main([*args, "--data-dir", str(SHARED), "--out", str(out)]) == 0
    with np.load(default_model_path()) as shipped, np.load(out) as remade:
        arrays = [name for name in shipped.files if name != "meta"]
        assert arrays and all(np.array_equal(shipped[n], remade[n]) for n in arrays)

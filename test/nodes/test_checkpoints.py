"""Checkpoints: versioned atomic files, the latest pointer, pruning and corrupt-file fallback."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import pytest

from topspark_ros.errors import ModelError
from topspark_ros.nodes.checkpoints import POINTER, CheckpointStore, checkpoint_name
from topspark_ros.snn.params import NetworkParams
from topspark_ros.snn.state import ModelState

LOG = logging.getLogger("test_checkpoints")


def state(samples: int) -> ModelState:
    """A tiny model that has seen ``samples`` samples."""
    s = ModelState.initial(NetworkParams(n_inputs=4, n_neurons=3), seed=samples)
    s.samples_seen = samples
    return s


def test_save_writes_versioned_files_a_pointer_and_prunes(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "ck", keep=2, logger=LOG)
    assert store.load_latest() is None
    assert store.newest_version() == 0
    for version in (1, 2, 3):
        saved = store.save(state(10 * version), version)
    assert saved.path == (tmp_path / "ck" / "model-v0003.npz").absolute()
    assert saved.sha256 == hashlib.sha256(saved.path.read_bytes()).hexdigest()
    assert [v for v, _ in store.versions()] == [2, 3]
    pointer = json.loads((tmp_path / "ck" / POINTER).read_text())
    assert pointer == {"version": 3, "file": "model-v0003.npz", "sha256": saved.sha256}
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == [
        "latest",
        "model-v0002.npz",
        "model-v0003.npz",
    ]
    latest = store.load_latest()
    assert latest is not None
    assert (latest.version, latest.state.samples_seen, latest.sha256) == (3, 30, saved.sha256)


def test_a_corrupt_newest_checkpoint_falls_back_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = CheckpointStore(tmp_path, keep=5, logger=LOG)
    store.save(state(5), 1)
    store.save(state(7), 2)
    (tmp_path / checkpoint_name(3)).write_bytes(b"PK\x03\x04 torn")
    (tmp_path / ".model-v0004.0123456789ab.tmp.npz").write_bytes(b"half")  # a crash mid-write
    with caplog.at_level(logging.WARNING):
        latest = store.load_latest()
    assert latest is not None
    assert (latest.version, latest.state.samples_seen) == (2, 7)
    assert "skipping unreadable checkpoint" in caplog.text
    assert "model-v0003.npz" in caplog.text
    assert store.skipped == 1
    assert store.newest_version() == 3  # numbering continues above the corrupt file
    assert not (tmp_path / ".model-v0004.0123456789ab.tmp.npz").exists()


def test_save_errors_are_model_errors(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ModelError, match="cannot write model file"):
        CheckpointStore(blocker / "ck", keep=1, logger=LOG).save(state(1), 1)
    bad = state(1)
    bad.theta[0] = np.nan
    with pytest.raises(ModelError, match="non-finite"):
        CheckpointStore(tmp_path, keep=1, logger=LOG).save(bad, 1)

"""The online learner: learning a new environment, protection, labels, checkpoints, resume."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from topspark_ros.data import load_sample
from topspark_ros.errors import ModelError
from topspark_ros.messages import (
    ERROR,
    OK,
    WARN,
    Classification,
    ImageFrame,
    Label,
    LearningStatus,
    ModelUpdate,
    TimestepCommand,
)
from topspark_ros.nodes.checkpoints import POINTER
from topspark_ros.nodes.config import OnlineLearnerConfig
from topspark_ros.nodes.online_learner import STATUS_PERIOD_NS, OnlineLearner
from topspark_ros.nodes.plasticity import least_used
from topspark_ros.snn.labelling import accuracy, assign_labels, predict
from topspark_ros.snn.model_io import load_model, model_sha256
from topspark_ros.snn.network import Network
from topspark_ros.snn.state import ModelState
from topspark_ros.topspark.retarget import Retarget

LOG = logging.getLogger("test_online_learner")
MS = 1_000_000  # ns
INFER_T = 100
Images = npt.NDArray[np.uint8]


def frame(image: Images, stamp_ns: int) -> ImageFrame:
    """A 28x28 mono8 camera frame."""
    return ImageFrame(stamp_ns, "cam", 28, 28, "mono8", 0, 28, image.tobytes())


def make_config(tmp_path: Path, model: Path, **changes: Any) -> OnlineLearnerConfig:
    """A small, fast learner configuration writing checkpoints under ``tmp_path``."""
    base = OnlineLearnerConfig(
        model_path=str(model),
        checkpoint_dir=str(tmp_path / "ck"),
        train_timesteps=50,
        learn_samples=300,
        batch_size=25,
        checkpoint_every=100,
        keep_checkpoints=3,
        plastic_fraction=0.5,
        detect=False,
        min_labelled=100,
        auto_crop=False,  # the sample images are already 28x28 and centred
    )
    return dataclasses.replace(base, **changes)


def feed(
    learner: OnlineLearner,
    images: Images,
    labels: npt.NDArray[np.uint8] | None = None,
    start_ns: int = 0,
) -> tuple[list[LearningStatus], list[ModelUpdate]]:
    """Send images (and their labels) one per 10 ms, calling step after each; collect outputs."""
    statuses, updates = [], []
    for i, image in enumerate(images):
        stamp = start_ns + i * 10 * MS
        learner.on_image(frame(image, stamp), stamp)
        if labels is not None:
            learner.on_label(Label(stamp, int(labels[i])))
        status, update = learner.step(stamp)
        statuses += [status] if status is not None else []
        updates += [update] if update is not None else []
    return statuses, updates


def learn_fashion(config: OnlineLearnerConfig, images: Images) -> list[ModelUpdate]:
    """A new learner switched to 'fashion' and fed ``images``; the updates it returned."""
    learner = OnlineLearner(config, LOG)
    learner.on_environment("fashion", 0)
    return feed(learner, images)[1]


def drain(learner: OnlineLearner, now_ns: int) -> tuple[list[LearningStatus], list[ModelUpdate]]:
    """Call step until it has nothing left to do (labelling, final checkpoints)."""
    statuses, updates = [], []
    for i in range(1000):
        status, update = learner.step(now_ns + i * MS)
        statuses += [status] if status is not None else []
        updates += [update] if update is not None else []
        if status is not None and status.state == LearningStatus.STATE_IDLE:
            break
    return statuses, updates


def respond(state: ModelState, images: Images, seed: int) -> npt.NDArray[np.int32]:
    """Spike counts [B, N] of a copy of ``state`` at the inference T, learning off."""
    net = Network(state.copy(), seed)
    net.set_params(Retarget(state.params, state.extra, enhanced=True).at(INFER_T))
    return net.respond(images)[0]


def fashion_accuracy(state: ModelState) -> float:
    """Accuracy of a model on the held-out Fashion-MNIST sample at the inference T."""
    test = load_sample("fashion-mnist", "test")
    return accuracy(predict(respond(state, test.images, 3), state.assignments), test.labels)


def relabelled(state: ModelState, images: Images, labels: npt.NDArray[np.uint8]) -> ModelState:
    """``state`` with labels re-assigned from ``images`` (silent neurons keep theirs)."""
    out = state.copy()
    assigned = assign_labels(respond(state, images, 0), labels)
    out.assignments = np.where(assigned < 0, state.assignments, assigned).astype(np.int16)
    return out


def test_learns_a_new_environment_with_protection_checkpoints_and_labels(
    tmp_path: Path, trained_model: Path
) -> None:
    original = load_model(trained_model)
    train = load_sample("fashion-mnist", "train")
    images, labels = train.images[:300], train.labels[:300]
    learner = OnlineLearner(make_config(tmp_path, trained_model), LOG)
    learner.on_command(TimestepCommand(0, INFER_T, 50, 0, "test"))
    first, _ = learner.step(0)
    assert first is not None
    assert first.state == LearningStatus.STATE_IDLE
    assert first.environment == "mnist"  # the model's dataset until told otherwise

    learner.on_environment("fashion", 0)
    statuses, updates = feed(learner, images, labels, start_ns=MS)
    more_statuses, more_updates = drain(learner, 10_000 * MS)
    statuses += more_statuses
    updates += more_updates

    # Checkpoints at 100, 200 and 300 samples, then one after re-labelling: versions 1..4.
    assert [u.version for u in updates] == [1, 2, 3, 4]
    assert all(u.environment == "fashion" for u in updates)
    assert [u.samples_seen for u in updates] == [
        original.samples_seen + n for n in (100, 200, 300, 300)
    ]
    learning = [s for s in statuses if s.state == LearningStatus.STATE_LEARNING]
    assert learning
    assert learning[0].trigger == "topic"
    assert learning[0].plastic_neurons == 30
    assert learning[0].train_timesteps == 50
    assert any(s.state == LearningStatus.STATE_LABELLING for s in statuses)
    assert statuses[-1].state == LearningStatus.STATE_IDLE
    assert statuses[-1].labelled_samples == 300
    assert learner.model_version == 4

    # Versioned atomic files: the newest keep_checkpoints kept, no temporaries, a pointer.
    ck = tmp_path / "ck"
    assert sorted(p.name for p in ck.iterdir()) == [
        "latest",
        "model-v0002.npz",
        "model-v0003.npz",
        "model-v0004.npz",
    ]
    last = updates[-1]
    assert Path(last.path).is_absolute()
    assert last.sha256 == model_sha256(Path(last.path))
    pointer = json.loads((ck / POINTER).read_text())
    assert (pointer["version"], pointer["sha256"]) == (4, last.sha256)
    learnt = load_model(last.path)
    assert learnt.params == original.params  # saved with the model's own parameters
    assert learnt.extra["learner_environment"] == "fashion"

    # Protection: the protected neurons are bit-identical, the plastic ones learnt.
    plastic = least_used(original.theta, 0.5)
    assert np.array_equal(learnt.weights[:, ~plastic], original.weights[:, ~plastic])
    assert np.array_equal(learnt.theta[~plastic], original.theta[~plastic])
    changed = (learnt.weights[:, plastic] != original.weights[:, plastic]).any(axis=0)
    assert changed.all()

    # Learning plus re-labelling beats the old model, and beats re-labelling it without learning
    # (measured: 0.114 before, 0.228 re-labelled only, 0.294 learnt; 0.284-0.312 over 4 seeds).
    before, after = fashion_accuracy(original), fashion_accuracy(learnt)
    relabelled_only = fashion_accuracy(relabelled(original, images, labels))
    assert after > before + 0.1
    assert after > relabelled_only + 0.03


def test_a_crash_loses_only_the_samples_since_the_last_checkpoint(
    tmp_path: Path, trained_model: Path
) -> None:
    images = load_sample("fashion-mnist", "train").images
    config = make_config(tmp_path, trained_model, learn_samples=200, checkpoint_every=50)
    updates = learn_fashion(config, images[:125])  # then killed: nothing is flushed
    assert [u.version for u in updates] == [1, 2]  # at 50 and 100; 25 samples not yet saved
    saved = updates[-1]

    resumed = OnlineLearner(config, LOG)
    status, update = resumed.step(5_000 * MS)
    assert update is not None
    assert (update.version, update.samples_seen, update.path) == (
        2,
        saved.samples_seen,
        saved.path,
    )
    assert status is not None
    assert (status.state, status.environment, status.samples_learned) == (
        LearningStatus.STATE_LEARNING,
        "fashion",
        100,
    )
    assert status.plastic_neurons == 30
    assert resumed.state.samples_seen == saved.samples_seen
    _, updates = feed(resumed, images[125:225], start_ns=6_000 * MS)
    assert [u.version for u in updates] == [3, 4]  # at 150 and 200 (the end)
    assert updates[-1].samples_seen == saved.samples_seen + 100


def test_a_corrupt_newest_checkpoint_resumes_from_the_one_before(
    tmp_path: Path, trained_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    images = load_sample("fashion-mnist", "train").images
    config = make_config(tmp_path, trained_model, learn_samples=100, checkpoint_every=50)
    updates = learn_fashion(config, images[:100])
    assert [u.version for u in updates] == [1, 2]
    Path(updates[-1].path).write_bytes(b"PK\x03\x04 torn by a failing disk")
    with caplog.at_level(logging.WARNING):
        resumed = OnlineLearner(config, LOG)
    assert "skipping unreadable checkpoint" in caplog.text
    assert resumed.model_version == 1
    status, update = resumed.step(0)
    assert update is not None
    assert update.version == 1
    assert resumed.diagnostics().level == WARN
    assert status is not None
    assert status.samples_learned == 50  # the episode resumes where version 1 left it
    _, updates = feed(resumed, images[100:150], start_ns=MS)
    assert [u.version for u in updates] == [3]  # never reuses the corrupt file's number


def test_the_detector_triggers_learning_from_results(tmp_path: Path, trained_model: Path) -> None:
    config = make_config(
        tmp_path, trained_model, detect=True, reference_window=40, detector_window=10
    )
    learner = OnlineLearner(config, LOG)
    rng = np.random.default_rng(0)

    def results(confidence: float, top: float, n: int) -> list[Classification]:
        noise = rng.normal(1.0, 0.1, n)
        return [
            Classification(0, "", 0, confidence, (top * x, 0.1), 100, 100, 5, 90, 1.0, 2.0, 0.0, 0)
            for x in noise
        ]

    for result in results(0.8, 3.0, 200):
        learner.on_result(result, 0)
    status, _ = learner.step(0)
    assert status is not None
    assert status.state == LearningStatus.STATE_IDLE
    assert 0.0 <= status.novelty < config.novelty_threshold
    for result in results(0.8, 0.5, 10):  # evidence falls by more than half
        learner.on_result(result, 0)
    status, _ = learner.step(MS)
    assert status is not None
    assert (status.state, status.trigger) == (LearningStatus.STATE_LEARNING, "detector")
    assert status.environment == learner.environment == "detected-1"
    assert status.novelty >= config.novelty_threshold


def test_bad_images_warn_once_and_are_skipped(
    tmp_path: Path, trained_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    learner = OnlineLearner(make_config(tmp_path, trained_model), LOG)
    learner.on_environment("fashion", 0)
    bad = ImageFrame(1, "cam", 28, 28, "mono8", 0, 28, b"short")
    with caplog.at_level(logging.WARNING):
        for stamp in range(3):
            learner.on_image(dataclasses.replace(bad, stamp_ns=stamp), stamp)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "skipping bad image" in warnings[0].getMessage()
    diagnostics = learner.diagnostics()
    assert diagnostics.level == WARN
    assert dict(diagnostics.values)["bad_images"] == "3"
    assert dict(diagnostics.values)["queued_images"] == "0"
    assert learner.diagnostics().level == OK  # WARN reports bad images since the last call


def test_status_is_periodic_while_learning_and_follows_commands(
    tmp_path: Path, trained_model: Path
) -> None:
    learner = OnlineLearner(make_config(tmp_path, trained_model), LOG)
    assert learner.step(0)[0] is not None
    assert learner.step(MS)[0] is None  # idle, nothing changed
    idle = learner.busy
    learner.on_environment("fashion", 2 * MS)
    pending = learner.busy
    assert learner.step(2 * MS)[0] is not None  # state change
    assert (idle, pending, learner.busy) == (False, True, False)  # now waiting for images
    assert learner.step(3 * MS)[0] is None
    learner.on_command(TimestepCommand(0, 80, 40, 1, "battery"))
    status = learner.step(2 * MS + STATUS_PERIOD_NS)[0]
    assert status is not None
    assert status.train_timesteps == 40
    assert "learning 0/300 at T=40" in status.message
    learner.on_environment("fashion", 0)  # the current environment: no new episode
    assert learner.step(2 * MS + STATUS_PERIOD_NS + 1)[0] is None


def test_out_of_range_command_t_is_ignored_with_a_warning(
    tmp_path: Path, trained_model: Path, recorder: Any
) -> None:
    learner = OnlineLearner(make_config(tmp_path, trained_model), recorder)
    learner.on_command(TimestepCommand(0, 1001, 0, 1, "battery"))
    learner.on_command(TimestepCommand(0, 80, 1001, 1, "battery"))
    learner.on_environment("fashion", 0)
    status = learner.step(0)[0]
    assert status is not None
    assert status.train_timesteps == 50  # the configured T: no command gave a T in range
    assert recorder.warnings() == [
        "timestep command ignored: training T=0 not in 1..1000",
        "timestep command ignored: T=1001 not in 1..1000",
    ]  # the second training T is within the throttle's interval


def test_callbacks_from_threads_while_the_worker_steps(
    tmp_path: Path, trained_model: Path
) -> None:
    images = load_sample("fashion-mnist", "train").images[:200]
    config = make_config(tmp_path, trained_model, learn_samples=150, min_labelled=50)
    learner = OnlineLearner(config, LOG)
    learner.on_environment("fashion", 0)
    done = threading.Event()

    def camera() -> None:
        for i, image in enumerate(images):
            learner.on_image(frame(image, i), i)
            learner.on_result(
                Classification(i, "", 1, 0.5, (1.0,), 100, 100, 3, 80, 1.0, 2.0, 0.0, 0), i
            )
        done.set()

    def annotator() -> None:
        for i in range(200):
            learner.on_label(Label(i, i % 10))

    threads = [threading.Thread(target=camera), threading.Thread(target=annotator)]
    for thread in threads:
        thread.start()
    updates = []
    for i in range(100_000):  # the worker: learn 150 samples, then re-assign labels
        _, update = learner.step(i * MS)
        updates += [update] if update is not None else []
        if done.is_set() and learner.model_version == 3:
            break
    for thread in threads:
        thread.join()
    assert learner.diagnostics().level != ERROR
    assert [u.version for u in updates] == [1, 2, 3]
    assert dict(learner.diagnostics().values)["labelled_samples"] == "200"


def test_missing_model_is_a_model_error(tmp_path: Path) -> None:
    config = make_config(tmp_path, tmp_path / "missing.npz")
    with pytest.raises(ModelError, match="model file not found"):
        OnlineLearner(config, LOG)

"""The perception node logic: frames -> results, T commands, queue, model reloads, diagnostics."""

from __future__ import annotations

import hashlib
import re
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from topspark_ros.data import load_sample
from topspark_ros.errors import DataError, ModelError
from topspark_ros.messages import (
    OK,
    WARN,
    Classification,
    ImageFrame,
    ModelUpdate,
    TimestepCommand,
)
from topspark_ros.nodes.config import PerceptionConfig
from topspark_ros.nodes.perception import Perception, decide
from topspark_ros.snn.model_io import load_model, model_sha256, save_model
from topspark_ros.snn.state import ModelState
from topspark_ros.topspark.retarget import Retarget

DIGITS = load_sample("mnist", "test")


def make(model: Path, recorder: Any, **overrides: Any) -> Perception:
    """A Perception on ``model`` with config overrides."""
    return Perception(PerceptionConfig(model_path=str(model), **overrides), recorder)


def mono8(gray: np.ndarray, stamp_ns: int = 0) -> ImageFrame:
    """A mono8 frame of gray [h, w]."""
    h, w = gray.shape
    return ImageFrame(stamp_ns, "camera", h, w, "mono8", 0, w, gray.tobytes())


def bgr8_scene(gray: np.ndarray, x: int = 250, y: int = 180) -> ImageFrame:
    """``gray`` placed at (x, y) in a black 640x480 bgr8 frame."""
    scene = np.zeros((480, 640, 3), np.uint8)
    scene[y : y + gray.shape[0], x : x + gray.shape[1]] = gray[:, :, None]
    return ImageFrame(7, "camera", 480, 640, "bgr8", 0, 640 * 3, scene.tobytes())


def garbage() -> ImageFrame:
    """A frame whose data is too short for its size."""
    return ImageFrame(0, "camera", 480, 640, "rgb8", 0, 1920, b"\x01\x02\x03")


def command(t: int) -> TimestepCommand:
    """A timestep command for T = ``t``."""
    return TimestepCommand(0, t, t, TimestepCommand.MODE_NOMINAL, "test")


def update_for(path: Path, version: int, sha256: str | None = None) -> ModelUpdate:
    """A model-update notice for ``path`` (sha256 computed unless given)."""
    digest = model_sha256(path) if sha256 is None else sha256
    return ModelUpdate(0, version, str(path), digest, "test", 0)


def variant(model: Path, out: Path, **param_changes: Any) -> Path:
    """A copy of ``model`` with slightly changed weights (or other parameters) at ``out``."""
    state = load_model(model)
    if param_changes:
        params = state.params.replace(**param_changes)
        rng = np.random.default_rng(0)
        state = ModelState(
            params,
            rng.random((params.n_inputs, params.n_neurons)).astype(np.float32),
            np.zeros(params.n_neurons, np.float32),
            np.zeros(params.n_neurons, np.int16),
        )
    else:
        state.weights *= np.float32(1.01)
    return save_model(out, state)


# --------------------------------------------------------------------------- results


def test_result_fields(trained_model: Path, recorder: Any) -> None:
    node = make(trained_model, recorder, timesteps=60)
    result = node.classify(mono8(DIGITS.images[0], stamp_ns=123))
    assert result.stamp_ns == 123 and result.frame_id == "camera"
    assert len(result.scores) == 10
    total = sum(result.scores)
    assert total > 0
    assert result.label == int(np.argmax(result.scores))
    assert result.confidence == pytest.approx(max(result.scores) / total)
    assert result.timesteps == 60
    assert result.timesteps_used % 60 == 0 and result.timesteps_used >= 60
    assert result.spike_count > 0 and result.input_spikes > 0
    assert 0 < result.latency_ms <= result.pipeline_ms
    assert result.energy_j > 0
    assert result.model_version == 0


def test_decide() -> None:
    assert decide(np.zeros(10)) == (-1, 0.0)
    assert decide(np.array([0.0, 3.0, 1.0])) == (1, 0.75)


def test_big_bgr8_frame_and_28x28_mono8_classify_the_same(
    trained_model: Path, recorder: Any
) -> None:
    # Two nodes with the same seed see the same network input, so they answer identically.
    for i in range(5):
        small = make(trained_model, recorder).classify(mono8(DIGITS.images[i]))
        big = make(trained_model, recorder).classify(bgr8_scene(DIGITS.images[i], x=40 * i))
        assert big.label == small.label
        assert big.scores == small.scores


def test_classifies_digits(trained_model: Path, recorder: Any) -> None:
    node = make(trained_model, recorder)
    labels = [node.classify(mono8(img)).label for img in DIGITS.images[:50]]
    assert np.mean(np.array(labels) == DIGITS.labels[:50]) > 0.3  # chance is 0.1


def test_classify_raises_on_a_malformed_frame(trained_model: Path, recorder: Any) -> None:
    with pytest.raises(DataError, match=r"image data has 3 bytes"):
        make(trained_model, recorder).classify(garbage())


def test_missing_model_is_a_model_error(tmp_path: Path, recorder: Any) -> None:
    with pytest.raises(ModelError, match=r"model file not found"):
        make(tmp_path / "none.npz", recorder)


def test_model_of_another_input_size_is_a_model_error(
    trained_model: Path, tmp_path: Path, recorder: Any
) -> None:
    path = variant(trained_model, tmp_path / "small.npz", n_inputs=100)
    with pytest.raises(ModelError, match=r"small.npz: 100 inputs, images give 784"):
        make(path, recorder)


# --------------------------------------------------------------------------- timestep commands


def test_command_changes_timesteps_and_parameters(trained_model: Path, recorder: Any) -> None:
    node = make(trained_model, recorder, timesteps=100)
    node.on_command(command(40))
    assert node.timesteps == 40
    result = node.classify(mono8(DIGITS.images[1]))
    assert result.timesteps == 40
    assert result.timesteps_used % 40 == 0
    state = load_model(trained_model)
    expected = Retarget(state.params, state.extra, enhanced=True).at(40)
    assert node.params == expected
    assert node.params.min_spikes < state.params.min_spikes  # an enhancement rule acted
    node.on_command(command(350))
    assert node.classify(mono8(DIGITS.images[1])).timesteps == 350
    assert node.params.timesteps == 350


def test_without_enhancement_only_t_changes(trained_model: Path, recorder: Any) -> None:
    node = make(trained_model, recorder, enhance=False)
    node.on_command(command(40))
    node.classify(mono8(DIGITS.images[1]))
    assert node.params == load_model(trained_model).params.replace(timesteps=40)


def test_lower_t_costs_less(trained_model: Path, recorder: Any) -> None:
    node = make(trained_model, recorder, enhance=False, timesteps=300)
    high = [node.classify(mono8(img)) for img in DIGITS.images[:20]]
    node.on_command(command(30))
    low = [node.classify(mono8(img)) for img in DIGITS.images[:20]]
    assert np.mean([r.energy_j for r in low]) < np.mean([r.energy_j for r in high])
    assert np.mean([r.timesteps_used for r in low]) < np.mean([r.timesteps_used for r in high])


@pytest.mark.parametrize("t", [0, 1001])
def test_out_of_range_command_is_ignored(trained_model: Path, recorder: Any, t: int) -> None:
    node = make(trained_model, recorder, timesteps=80)
    node.on_command(command(t))
    assert node.timesteps == 80
    assert recorder.warnings() == [f"timestep command ignored: T={t} not in 1..1000"]


def test_early_exit_runs_fewer_steps(trained_model: Path, recorder: Any) -> None:
    full = make(trained_model, recorder, timesteps=200)
    early = make(trained_model, recorder, timesteps=200, early_exit=True, early_exit_margin=3)
    assert early.params.early_exit_margin == 3 and full.params.early_exit_margin == 0
    images = DIGITS.images[:30]
    full_results = [full.classify(mono8(img)) for img in images]
    early_results = [early.classify(mono8(img)) for img in images]
    assert all(r.timesteps == 200 for r in early_results)
    full_steps = np.mean([r.timesteps_used for r in full_results])
    early_steps = np.mean([r.timesteps_used for r in early_results])
    assert early_steps < 0.8 * full_steps
    agree = np.mean([a.label == b.label for a, b in zip(full_results, early_results, strict=True)])
    assert agree > 0.5


# --------------------------------------------------------------------------- queue


def test_full_queue_drops_the_oldest(trained_model: Path, recorder: Any) -> None:
    node = make(trained_model, recorder, queue_size=2)
    for stamp in range(5):
        node.submit(mono8(DIGITS.images[stamp], stamp_ns=stamp))
    assert node.dropped == 3
    assert node.queued == 2
    first, second = node.process_next(), node.process_next()
    assert first is not None and second is not None
    assert (first.stamp_ns, second.stamp_ns) == (3, 4)
    assert node.process_next() is None


def test_process_next_waits_for_a_frame(trained_model: Path, recorder: Any) -> None:
    node = make(trained_model, recorder)
    start = time.perf_counter()
    assert node.process_next(timeout_s=0.05) is None
    assert time.perf_counter() - start >= 0.04
    timer = threading.Timer(0.05, node.submit, args=(mono8(DIGITS.images[0], stamp_ns=9),))
    timer.start()
    result = node.process_next(timeout_s=5.0)
    timer.join()
    assert result is not None and result.stamp_ns == 9
    assert result.pipeline_ms >= result.latency_ms


def test_bad_frames_warn_once_and_give_none(trained_model: Path, recorder: Any) -> None:
    node = make(trained_model, recorder)
    nan = np.full((480, 640), np.nan, np.float32)
    nan_frame = ImageFrame(0, "depth", 480, 640, "32FC1", 0, 640 * 4, nan.tobytes())
    for bad in (garbage(), nan_frame, garbage()):
        node.submit(bad)
        assert node.process_next() is None
    warnings = recorder.warnings()
    assert len(warnings) == 1  # rate-limited: one line per kind per second
    assert warnings[0].startswith("image dropped: image data has 3 bytes")
    node.submit(mono8(DIGITS.images[0]))
    assert node.process_next() is not None


# --------------------------------------------------------------------------- model updates


def test_model_update_swaps_the_model(trained_model: Path, recorder: Any, tmp_path: Path) -> None:
    node = make(trained_model, recorder)
    newer = variant(trained_model, tmp_path / "v3.npz")
    node.on_model_update(update_for(newer, 3))
    assert node.model_version == 3
    assert node.classify(mono8(DIGITS.images[0])).model_version == 3
    assert node.params.timesteps == 100
    # Old or repeated versions are ignored.
    node.on_model_update(update_for(trained_model, 3))
    node.on_model_update(update_for(trained_model, 2))
    assert node.model_version == 3
    assert recorder.warnings() == []


def test_model_update_keeps_t(trained_model: Path, recorder: Any, tmp_path: Path) -> None:
    node = make(trained_model, recorder)
    node.on_command(command(50))
    node.on_model_update(update_for(variant(trained_model, tmp_path / "v1.npz"), 1))
    result = node.classify(mono8(DIGITS.images[0]))
    assert (result.timesteps, result.model_version) == (50, 1)


@pytest.mark.parametrize(
    ("problem", "match"),
    [
        ("sha256", r"model update 1 rejected: .*sha256 differs from the announced one"),
        ("missing", r"model update 1 rejected: .*model file not found"),
        ("corrupt", r"model update 1 rejected: .*not a model file"),
        ("inputs", r"model update 1 rejected: .*100 inputs, images give 784 \(28x28\)"),
    ],
)
def test_bad_model_update_keeps_the_old_model(
    trained_model: Path, recorder: Any, tmp_path: Path, problem: str, match: str
) -> None:
    node = make(trained_model, recorder)
    path = tmp_path / "new.npz"
    if problem == "sha256":
        update = update_for(variant(trained_model, path), 1, sha256=hashlib.sha256().hexdigest())
    elif problem == "missing":
        update = ModelUpdate(0, 1, str(path), "", "test", 0)
    elif problem == "corrupt":
        path.write_bytes(b"not a model")
        update = update_for(path, 1)
    else:
        update = update_for(variant(trained_model, path, n_inputs=100), 1)
    node.on_model_update(update)
    assert node.model_version == 0
    [warning] = recorder.warnings()
    assert re.match(match, warning)
    assert node.classify(mono8(DIGITS.images[0])).model_version == 0
    assert node.diagnostics().level == WARN


def test_frames_flow_while_models_reload(
    trained_model: Path, recorder: Any, tmp_path: Path
) -> None:
    node = make(trained_model, recorder, queue_size=100)
    paths = [variant(trained_model, tmp_path / f"v{v}.npz") for v in range(1, 6)]
    results: list[Classification] = []
    submitted = 60
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set() or node.queued:
            result = node.process_next(timeout_s=0.01)
            if result is not None:
                results.append(result)

    def camera() -> None:
        for stamp in range(submitted):
            node.submit(mono8(DIGITS.images[stamp % 50], stamp_ns=stamp))
            time.sleep(0.003)

    threads = [threading.Thread(target=worker), threading.Thread(target=camera)]
    for thread in threads:
        thread.start()
    for version, path in enumerate(paths, start=1):
        deadline = time.monotonic() + 10.0
        while len(results) < 8 * version and time.monotonic() < deadline:
            time.sleep(0.001)  # let some frames through between two reloads
        node.on_model_update(update_for(path, version))
    threads[1].join()
    stop.set()
    threads[0].join()
    assert node.dropped == 0
    assert [r.stamp_ns for r in results] == list(range(submitted))
    versions = [r.model_version for r in results]
    assert versions == sorted(versions)
    assert len(set(versions)) >= 3, versions  # the reloads happened while frames flowed
    assert node.model_version == 5
    assert recorder.warnings() == []


def test_sha256_may_be_upper_case(trained_model: Path, recorder: Any, tmp_path: Path) -> None:
    node = make(trained_model, recorder)
    path = shutil.copy(trained_model, tmp_path / "copy.npz")
    node.on_model_update(update_for(Path(path), 1, sha256=model_sha256(path).upper()))
    assert node.model_version == 1


# --------------------------------------------------------------------------- diagnostics


def test_diagnostics(trained_model: Path, recorder: Any) -> None:
    node = make(trained_model, recorder, queue_size=1)
    node.submit(mono8(DIGITS.images[0]))
    assert node.process_next() is not None
    status = node.diagnostics()
    values = dict(status.values)
    assert status.level == OK and status.name == "perception"
    assert status.message.startswith("T=100, 1 frames, mean latency")
    assert values["model_path"] == str(trained_model)
    assert values["model_version"] == "0"
    assert values["timesteps"] == "100"
    assert values["frames"] == "1" and values["dropped"] == "0"
    assert float(values["mean_latency_ms"]) > 0
    node.submit(mono8(DIGITS.images[0]))
    node.submit(mono8(DIGITS.images[1]))  # drops the first
    node.submit(garbage())  # drops the second
    assert node.process_next() is None
    status = node.diagnostics()
    assert status.level == WARN
    assert "frames dropped" in status.message and "malformed frames" in status.message
    assert dict(status.values)["dropped"] == "2"
    # Each call covers the time since the previous one.
    assert node.diagnostics().level == OK

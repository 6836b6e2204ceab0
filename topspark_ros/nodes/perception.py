"""The perception node's logic: camera frames -> 28x28 -> spiking network at the commanded T.

Transport threads call ``submit``, ``on_command`` and ``on_model_update``; one worker thread
calls ``process_next`` in a loop and publishes what it returns. ``submit`` never blocks: frames
wait in a bounded queue that drops the oldest when full. A model update is read and checked in
the caller's thread while frames keep flowing, then swapped in between two frames.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from topspark_ros import energy
from topspark_ros.data.preprocess import SIZE, preprocess
from topspark_ros.errors import ConfigError, DataError, ModelError
from topspark_ros.messages import (
    OK,
    WARN,
    Classification,
    DiagnosticStatus,
    ImageFrame,
    LoggerLike,
    ModelUpdate,
    TimestepCommand,
)
from topspark_ros.nodes.config import PerceptionConfig
from topspark_ros.nodes.throttle import WarningThrottle
from topspark_ros.packaged import default_model_path
from topspark_ros.snn.labelling import class_scores
from topspark_ros.snn.model_io import load_model, model_sha256
from topspark_ros.snn.network import Network
from topspark_ros.snn.params import NetworkParams
from topspark_ros.snn.run_stats import RunStats
from topspark_ros.snn.state import ModelState
from topspark_ros.topspark.retarget import Retarget, accept_timesteps

NAME = "perception"
INPUTS = SIZE * SIZE  # pixels of a preprocessed image


@dataclass(frozen=True)
class _Model:
    """A loaded model with its own network (and Poisson generator), ready to answer.

    ``retarget`` keeps the parameters as in the file: each T is derived from them, not from the
    parameters in force (which may already be enhanced for another T).
    """

    net: Network
    version: int
    path: str
    retarget: Retarget


@dataclass
class _Counts:
    """What the node did: frames answered, dropped, malformed, rejected models, latency sum."""

    frames: int = 0
    dropped: int = 0
    malformed: int = 0
    rejected: int = 0
    latency_ms: float = 0.0

    def add(self, other: _Counts) -> None:
        """Add ``other``'s counts to these."""
        self.frames += other.frames
        self.dropped += other.dropped
        self.malformed += other.malformed
        self.rejected += other.rejected
        self.latency_ms += other.latency_ms


def decide(scores: npt.NDArray[np.float64]) -> tuple[int, float]:
    """Label and confidence from class scores [n_classes]: the top class and its share of the
    score sum; (-1, 0.0) when no class scored (no assigned neuron fired)."""
    total = float(scores.sum())
    if total <= 0.0:
        return -1, 0.0
    best = int(scores.argmax())
    return best, float(scores[best]) / total


class Perception:
    """Classifies camera frames with a spiking network; thread-safe (see the module docstring)."""

    def __init__(self, config: PerceptionConfig, logger: LoggerLike) -> None:
        self.config = config
        self._log = logger
        self._warn = WarningThrottle(logger)
        path = str(config.model_path or default_model_path())
        self._timesteps = config.timesteps
        self._model = self._prepare(load_model(path), 0, path)
        self._queue: deque[tuple[ImageFrame, float]] = deque()
        self._ready = threading.Condition()
        self._run = threading.Lock()  # held while a frame is answered; swaps wait for it
        self._load = threading.Lock()  # one model update at a time
        self._counts = threading.Lock()
        self._total = _Counts()
        self._window = _Counts()  # since the last diagnostics() call
        self._warm_up()
        logger.info(
            f"perception: model {path} (N{self._model.net.params.n_neurons}), T={self._timesteps}"
        )

    # ------------------------------------------------------------------ properties

    @property
    def timesteps(self) -> int:
        """The commanded T (simulation steps per input)."""
        return self._timesteps

    @property
    def model_version(self) -> int:
        """Version of the model in use: 0 for the initial one, then ModelUpdate.version."""
        return self._model.version

    @property
    def params(self) -> NetworkParams:
        """Parameters of the network in use; a new T takes effect at the next frame."""
        return self._model.net.params

    @property
    def dropped(self) -> int:
        """Frames dropped from the full queue so far."""
        return self._total.dropped

    @property
    def malformed(self) -> int:
        """Frames dropped as malformed (bad size, encoding or data) so far."""
        return self._total.malformed

    @property
    def queued(self) -> int:
        """Frames waiting in the queue."""
        with self._ready:
            return len(self._queue)

    # ------------------------------------------------------------------ frames

    def submit(self, frame: ImageFrame) -> None:
        """Queue a frame without blocking; when the queue is full the oldest frame is dropped."""
        with self._ready:
            if len(self._queue) >= self.config.queue_size:
                self._queue.popleft()
                self._count(_Counts(dropped=1))
            self._queue.append((frame, time.perf_counter()))
            self._ready.notify()

    def process_next(self, timeout_s: float = 0.0) -> Classification | None:
        """Classify the oldest queued frame, waiting up to ``timeout_s`` for one.

        None when no frame came or the frame was malformed (then one rate-limited warning).
        """
        with self._ready:
            if not self._queue and timeout_s > 0.0:
                self._ready.wait_for(lambda: bool(self._queue), timeout_s)
            if not self._queue:
                return None
            frame, submitted = self._queue.popleft()
        try:
            return self._classify(frame, submitted)
        except DataError as err:
            self._count(_Counts(malformed=1))
            self._warn.warning("image", f"image dropped: {err}")
            return None

    def classify(self, frame: ImageFrame) -> Classification:
        """Classify one frame now; DataError if it is malformed."""
        return self._classify(frame, time.perf_counter())

    def _classify(self, frame: ImageFrame, submitted: float) -> Classification:
        """Preprocess, run the network at the commanded T, and describe the answer."""
        image = preprocess(frame, self.config).reshape(1, -1)
        with self._run:
            model = self._model
            net = model.net
            if net.params.timesteps != self._timesteps:
                net.set_params(model.retarget.at(self._timesteps))
            start = time.perf_counter()
            counts, stats = net.respond(image)
            seconds = time.perf_counter() - start
            params = net.params
            assignments = net.state.assignments
        scores = class_scores(counts, assignments)[0]
        label, confidence = decide(scores)
        joules = energy.estimate(params, RunStats.from_kernel(stats, seconds), learn=False).joules
        latency_ms = 1e3 * seconds
        self._count(_Counts(frames=1, latency_ms=latency_ms))
        return Classification(
            stamp_ns=frame.stamp_ns,
            frame_id=frame.frame_id,
            label=label,
            confidence=confidence,
            scores=tuple(float(s) for s in scores),
            timesteps=params.timesteps,
            timesteps_used=int(stats.steps[0]),
            spike_count=int(stats.exc_spikes[0]),
            input_spikes=int(stats.input_spikes[0]),
            latency_ms=latency_ms,
            pipeline_ms=1e3 * (time.perf_counter() - submitted),
            energy_j=joules,
            model_version=model.version,
        )

    # ------------------------------------------------------------------ commands and models

    def on_command(self, cmd: TimestepCommand) -> None:
        """Run later frames at ``cmd.timesteps``; an out-of-range T is ignored with a warning."""
        t = cmd.timesteps
        if not accept_timesteps(t, self._warn.warning):
            return
        if t != self._timesteps:
            self._log.info(f"perception: T {self._timesteps} -> {t} ({cmd.reason})")
            self._timesteps = t

    def on_model_update(self, update: ModelUpdate) -> None:
        """Load and check the announced model, then swap it in between frames.

        Versions not above the current one are ignored; a file that is missing, corrupt, fails
        its sha256 or has another input size keeps the old model and logs one warning.
        """
        with self._load:
            if update.version <= self._model.version:
                return
            try:
                model = self._prepare(self._read(update), update.version, update.path)
            except (ModelError, ConfigError) as err:
                self._count(_Counts(rejected=1))
                self._warn.warning("model", f"model update {update.version} rejected: {err}")
                return
            with self._run:
                self._model = model
        self._log.info(f"perception: model version {update.version} from {update.path}")

    def _read(self, update: ModelUpdate) -> ModelState:
        """The announced model file, its sha256 checked when given."""
        if update.sha256 and model_sha256(update.path) != update.sha256.lower():
            raise ModelError(f"{update.path}: sha256 differs from the announced one")
        return load_model(update.path)

    def _prepare(self, state: ModelState, version: int, path: str) -> _Model:
        """A model ready to answer at the commanded T, with its own seeded network."""
        saved = state.params
        if saved.n_inputs != INPUTS:
            raise ModelError(f"{path}: {saved.n_inputs} inputs, images give {INPUTS} (28x28)")
        margin = self.config.early_exit_margin if self.config.early_exit else 0
        retarget = Retarget(saved, state.extra, self.config.enhance, {"early_exit_margin": margin})
        state.params = retarget.at(self._timesteps)
        return _Model(Network(state, self.config.seed), version, path, retarget)

    def _warm_up(self) -> None:
        """Compile or load the kernels now, so the first frame is not slow (results unused)."""
        state = self._model.net.state
        Network(state, self.config.seed).respond(np.zeros((1, state.params.n_inputs), np.uint8))

    # ------------------------------------------------------------------ diagnostics

    def _count(self, change: _Counts) -> None:
        """Add ``change`` to the totals and to the diagnostics window."""
        with self._counts:
            self._total.add(change)
            self._window.add(change)

    def diagnostics(self) -> DiagnosticStatus:
        """Status since the previous call: WARN if frames were dropped or malformed or a model
        update was rejected; values hold the totals."""
        with self._counts:
            window, self._window = self._window, _Counts()
            total = dataclasses.replace(self._total)
        mean_ms = window.latency_ms / window.frames if window.frames else 0.0
        model = self._model
        problems = [
            text
            for count, text in (
                (window.dropped, "frames dropped"),
                (window.malformed, "malformed frames"),
                (window.rejected, "model updates rejected"),
            )
            if count
        ]
        message = f"T={self._timesteps}, {window.frames} frames, mean latency {mean_ms:.2f} ms"
        if problems:
            message += "; " + ", ".join(problems)
        values = (
            ("model_path", model.path),
            ("model_version", str(model.version)),
            ("timesteps", str(self._timesteps)),
            ("early_exit", str(self.config.early_exit).lower()),
            ("frames", str(total.frames)),
            ("dropped", str(total.dropped)),
            ("malformed", str(total.malformed)),
            ("models_rejected", str(total.rejected)),
            ("queued", str(self.queued)),
            ("mean_latency_ms", f"{mean_ms:.3f}"),
        )
        return DiagnosticStatus(
            level=WARN if problems else OK,
            name=NAME,
            message=message,
            hardware_id="",
            values=values,
        )


__all__ = ["NAME", "Perception", "decide"]

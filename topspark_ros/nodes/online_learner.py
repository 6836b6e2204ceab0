"""The online learner: learns a new environment with STDP at the reduced training T.

Transport threads call ``on_image``, ``on_result``, ``on_environment``, ``on_label`` and
``on_command``; they only buffer data under a lock. One worker thread calls ``step`` in a loop;
each call does a bounded piece of work (one STDP batch, one labelling chunk or one checkpoint) and
returns a ``LearningStatus`` when there is news and a ``ModelUpdate`` when a checkpoint was
written. A new environment is announced explicitly (``on_environment``) or detected from a drop
of response evidence (``novelty.py``); only the least-used neurons learn it (``plasticity.py``);
labelled samples re-assign neuron labels; checkpoints are atomic and versioned
(``checkpoints.py``), and an interrupted episode resumes from the last one.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from topspark_ros.data.preprocess import preprocess
from topspark_ros.errors import DataError, ModelError, TopsparkError
from topspark_ros.messages import (
    ERROR,
    NS_PER_S,
    OK,
    WARN,
    Classification,
    DiagnosticStatus,
    ImageFrame,
    Label,
    LearningState,
    LearningStatus,
    LoggerLike,
    ModelUpdate,
    TimestepCommand,
)
from topspark_ros.nodes.checkpoints import Checkpoint, CheckpointStore
from topspark_ros.nodes.config import OnlineLearnerConfig
from topspark_ros.nodes.label_pairs import LabelPairs
from topspark_ros.nodes.novelty import NoveltyDetector, evidence
from topspark_ros.nodes.plasticity import Protection, decode_mask, encode_mask, least_used
from topspark_ros.nodes.throttle import WarningThrottle
from topspark_ros.packaged import default_model_path
from topspark_ros.snn.labelling import N_CLASSES, assign_labels
from topspark_ros.snn.model_io import load_model
from topspark_ros.snn.network import Network
from topspark_ros.snn.state import ModelState
from topspark_ros.topspark.retarget import Retarget, accept_timesteps

STATUS_PERIOD_NS = NS_PER_S  # a status at least this often (1 s) while learning or labelling
WARN_INTERVAL_S = 10.0  # the same kind of bad input is logged at most this often
TRIGGER_TOPIC, TRIGGER_DETECTOR = "topic", "detector"
# Keys of the learner's record in a checkpoint's ``extra`` (strings, as model files require).
KEY_ENVIRONMENT = "learner_environment"
KEY_TRIGGER = "learner_trigger"
KEY_LEARNED = "learner_learned"
KEY_TARGET = "learner_target"
KEY_PLASTIC = "learner_plastic"
_EPISODE_KEYS = (KEY_TRIGGER, KEY_LEARNED, KEY_TARGET, KEY_PLASTIC)

Image = npt.NDArray[np.uint8]


@dataclass
class _Episode:
    """Learning one environment: how far it got and which neurons may change."""

    environment: str
    trigger: str
    target: int
    protection: Protection
    learned: int = 0
    since_checkpoint: int = 0


@dataclass
class _Labelling:
    """A label re-assignment in progress: responses of labelled images, chunk by chunk."""

    images: Image  # uint8 [M, 28, 28]
    labels: npt.NDArray[np.int64]  # [M]
    counts: npt.NDArray[np.int32]  # [M, N]
    done: int = 0


class OnlineLearner:
    """Online STDP learning of new environments with protected old knowledge and checkpoints."""

    def __init__(self, config: OnlineLearnerConfig, logger: LoggerLike) -> None:
        self.config = config
        self._log = logger
        self._lock = threading.Lock()  # guards everything the on_* callbacks touch
        self._step_lock = threading.Lock()  # one step at a time; only step touches the network
        self._store = CheckpointStore(config.checkpoint_dir, config.keep_checkpoints, logger)
        resumed = self._store.load_latest()
        state = resumed.state if resumed is not None else self._initial_state()
        # The parameters checkpoints are saved with, and from which each T is derived; a bad
        # base-parameter record fails here, not mid-run.
        self._retarget = Retarget(state.params, state.extra, config.enhance)
        self._net = Network(state, config.seed)
        self._version = resumed.version if resumed is not None else 0
        self._environment = state.extra.get(KEY_ENVIRONMENT) or state.dataset
        self._train_t = config.train_timesteps
        self._infer_t = state.params.timesteps
        self._detector = NoveltyDetector(
            config.reference_window, config.detector_window, config.novelty_threshold
        )
        self._detections = 0
        self._queue: deque[Image] = deque(maxlen=max(config.buffer_size, config.batch_size))
        self._pairs = LabelPairs(config.buffer_size, config.max_labelled)
        self._relabel_due = False
        self._pending: tuple[str, str] | None = None  # (environment, trigger) to start
        self._episode: _Episode | None = None
        self._last_episode: _Episode | None = None
        self._labelling: _Labelling | None = None
        self._announce = resumed  # re-announced by the first step, so readers load it
        self._counts = dict.fromkeys(("images", "bad_images", "dropped_images", "bad_labels"), 0)
        self._throttle = WarningThrottle(logger, WARN_INTERVAL_S)
        self._bad_since_diagnostics = 0
        self._error = ""
        self._status_key: tuple[object, ...] | None = None
        self._status_ns = 0
        if resumed is not None:
            self._resume_episode(resumed)

    # ----- transport-thread callbacks -------------------------------------------------------

    def on_image(self, frame: ImageFrame, now_ns: int) -> None:
        """Preprocess a camera image; keep it for learning (while learning) and for labels."""
        try:
            image = preprocess(frame, self.config)
        except DataError as err:
            with self._lock:
                self._counts["bad_images"] += 1
                self._bad_since_diagnostics += 1
            self._throttle.warning("image", f"skipping bad image(s): {err}")
            return
        with self._lock:
            self._counts["images"] += 1
            if self._pending is not None or self._episode is not None:
                if len(self._queue) == self._queue.maxlen:
                    self._counts["dropped_images"] += 1
                self._queue.append(image)
            self._pairs.add_image(frame.stamp_ns, image, self._environment)

    def on_result(self, result: Classification, now_ns: int) -> None:
        """Feed the novelty detector (paused while learning); a drop starts learning."""
        if not self.config.detect:
            return
        with self._lock:
            if self._pending is not None or self._episode is not None:
                return
            regime = (result.timesteps, result.model_version)
            if not self._detector.observe(evidence(result), regime):
                return
            self._detections += 1
            name = f"detected-{self._detections}"
            self._switch(name, TRIGGER_DETECTOR)
        self._log.info(
            f"new environment detected: evidence fell {100 * self._detector.novelty:.0f}% "
            f"below the reference; learning it as '{name}'"
        )

    def on_environment(self, name: str, now_ns: int) -> None:
        """An explicit environment switch; the current (or pending) environment is no switch."""
        if not name:
            self._throttle.warning("environment", "ignoring an empty environment name")
            return
        with self._lock:
            if name == self._environment:
                return
            self._switch(name, TRIGGER_TOPIC)
        self._log.info(f"environment switched to '{name}': learning it")

    def on_label(self, label: Label) -> None:
        """Pair a label with the buffered image of the same stamp (or wait for that image)."""
        if not 0 <= label.label < N_CLASSES:
            with self._lock:
                self._counts["bad_labels"] += 1
            self._throttle.warning("label", f"ignoring label(s) outside 0..{N_CLASSES - 1}")
            return
        with self._lock:
            self._pairs.add_label(label, self._environment)

    def on_command(self, cmd: TimestepCommand) -> None:
        """Take the commanded training T (STDP) and inference T (label re-assignment); an
        out-of-range T is ignored with a warning."""
        train = accept_timesteps(cmd.train_timesteps, self._throttle.warning, "training T")
        infer = accept_timesteps(cmd.timesteps, self._throttle.warning)
        with self._lock:
            if train:
                self._train_t = cmd.train_timesteps
            if infer:
                self._infer_t = cmd.timesteps

    # ----- worker ---------------------------------------------------------------------------

    def step(self, now_ns: int) -> tuple[LearningStatus | None, ModelUpdate | None]:
        """Do one bounded piece of work; return a status when due and an update if checkpointed."""
        with self._step_lock:
            if self._announce is not None:  # the checkpoint resumed from, for late readers
                resumed = self._announce.update(self._environment, now_ns)
                self._announce = None
                return self._status(now_ns, False), resumed
            update: ModelUpdate | None
            try:
                update = self._work(now_ns)
            except TopsparkError as err:
                update = None
                self._error = str(err)
                self._log.error(f"online learning failed: {err}")
            return self._status(now_ns, update is not None), update

    def _work(self, now_ns: int) -> ModelUpdate | None:
        """Start a pending episode, or train one batch, or label one chunk, or start labelling."""
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            return self._start_episode(*pending, now_ns=now_ns)
        if self._episode is not None:
            return self._train_batch(self._episode, now_ns)
        if self._labelling is not None:
            return self._label_chunk(self._labelling, now_ns)
        self._maybe_start_labelling()
        return None

    def _start_episode(self, environment: str, trigger: str, now_ns: int) -> ModelUpdate | None:
        """Begin learning ``environment``, checkpointing an interrupted episode first."""
        update = None
        old = self._episode
        if old is not None and old.since_checkpoint > 0:
            update = self._checkpoint(now_ns)
        self._labelling = None
        state = self._net.state
        protection = Protection(state, least_used(state.theta, self.config.plastic_fraction))
        self._episode = _Episode(environment, trigger, self.config.learn_samples, protection)
        self._log.info(
            f"learning '{environment}' ({trigger}): {self.config.learn_samples} samples, "
            f"{protection.plastic_count} of {state.theta.size} neurons plastic"
        )
        return update

    def _train_batch(self, episode: _Episode, now_ns: int) -> ModelUpdate | None:
        """STDP on one batch of queued images, protected neurons restored; checkpoint if due."""
        size = min(self.config.batch_size, episode.target - episode.learned)
        with self._lock:
            if len(self._queue) < size:
                return None
            batch = np.stack([self._queue.popleft() for _ in range(size)])
            timesteps = self._train_t
        self._net.set_params(self._retarget.at(timesteps))
        self._net.train(batch, batch=size)
        episode.protection.restore(self._net.state)
        episode.learned += size
        episode.since_checkpoint += size
        if episode.learned >= episode.target:
            return self._finish_episode(episode, now_ns)
        if episode.since_checkpoint >= self.config.checkpoint_every:
            return self._checkpoint(now_ns)
        return None

    def _finish_episode(self, episode: _Episode, now_ns: int) -> ModelUpdate | None:
        """End learning: final checkpoint, labels due, detector reference rebuilt from scratch."""
        self._episode = None
        self._last_episode = episode
        update = self._checkpoint(now_ns)
        with self._lock:
            self._queue.clear()
            self._detector.reset()
            self._relabel_due = True
        self._log.info(f"learnt '{episode.environment}' from {episode.learned} samples")
        return update

    def _maybe_start_labelling(self) -> None:
        """Start re-assigning labels when enough pairs of this environment exist and it is due."""
        with self._lock:
            if not (self._relabel_due or self._pairs.new >= self.config.min_labelled):
                return
            images, labels = self._pairs.of(self._environment)
            if labels.size < self.config.min_labelled:
                return
            self._relabel_due = False
            self._pairs.clear_new()
        counts = np.zeros((labels.size, self._net.state.theta.size), np.int32)
        self._labelling = _Labelling(images, labels, counts)

    def _label_chunk(self, job: _Labelling, now_ns: int) -> ModelUpdate | None:
        """Respond (learning off, inference T) to one chunk; at the end assign and checkpoint."""
        with self._lock:
            timesteps = self._infer_t
        stop = min(job.done + self.config.batch_size, job.labels.size)
        self._net.set_params(self._retarget.at(timesteps))
        job.counts[job.done : stop], _ = self._net.respond(job.images[job.done : stop])
        job.done = stop
        if stop < job.labels.size:
            return None
        self._labelling = None
        state = self._net.state
        assigned = assign_labels(job.counts, job.labels, N_CLASSES)
        silent = assigned < 0  # never fired on these samples: keep the old label
        assigned[silent] = state.assignments[silent]
        state.assignments = assigned
        self._log.info(
            f"re-assigned labels from {job.labels.size} labelled samples of "
            f"'{self._environment}' ({int((~silent).sum())} neurons responded)"
        )
        return self._checkpoint(now_ns)

    def _checkpoint(self, now_ns: int) -> ModelUpdate | None:
        """Save the model as the next version; None (and an error logged) if it cannot be saved."""
        state = self._net.state.copy()
        state.params = self._retarget.saved
        for key in _EPISODE_KEYS:
            state.extra.pop(key, None)
        episode = self._episode
        with self._lock:
            environment = episode.environment if episode is not None else self._environment
        state.extra[KEY_ENVIRONMENT] = environment
        if episode is not None:
            state.extra[KEY_TRIGGER] = episode.trigger
            state.extra[KEY_LEARNED] = str(episode.learned)
            state.extra[KEY_TARGET] = str(episode.target)
            state.extra[KEY_PLASTIC] = encode_mask(episode.protection.plastic)
        version = max(self._version, self._store.newest_version()) + 1
        try:
            saved = self._store.save(state, version)
        except ModelError as err:
            self._error = f"checkpoint failed: {err}"
            self._log.error(self._error)
            return None
        self._error = ""
        self._version = version
        if episode is not None:
            episode.since_checkpoint = 0
        return saved.update(environment, now_ns)

    # ----- helpers ----------------------------------------------------------------------------

    def _initial_state(self) -> ModelState:
        """The configured model (or the packaged default) when no checkpoint exists yet."""
        path = self.config.model_path or default_model_path()
        state = load_model(path)
        self._log.info(f"no checkpoint in {self._store.directory}; starting from {path}")
        return state

    def _resume_episode(self, resumed: Checkpoint) -> None:
        """Continue an episode the checkpoint records as unfinished (a crash mid-learning)."""
        self._log.info(f"resumed from checkpoint {resumed.path} (version {resumed.version})")
        extra = resumed.state.extra
        if KEY_PLASTIC not in extra:
            return
        try:
            learned, target = int(extra[KEY_LEARNED]), int(extra[KEY_TARGET])
            plastic = decode_mask(extra[KEY_PLASTIC], resumed.state.theta.size)
        except (KeyError, ValueError, ModelError) as err:
            self._log.warning(f"{resumed.path}: cannot resume its learning episode ({err})")
            return
        protection = Protection(self._net.state, plastic)
        trigger = extra.get(KEY_TRIGGER, TRIGGER_TOPIC)
        self._episode = _Episode(self._environment, trigger, target, protection, learned)
        self._log.info(f"resuming learning of '{self._environment}' at {learned}/{target}")

    def _switch(self, environment: str, trigger: str) -> None:
        """Make ``environment`` current and queue its learning (caller holds the lock)."""
        self._environment = environment
        self._pending = (environment, trigger)
        self._pairs.clear_new()
        self._queue.clear()

    def _state_code(self, checkpointed: bool) -> LearningState:
        """The LearningStatus state now."""
        if checkpointed:
            return LearningState.CHECKPOINT
        if self._episode is not None or self._pending is not None:
            return LearningState.LEARNING
        if self._labelling is not None:
            return LearningState.LABELLING
        return LearningState.IDLE

    def _status(self, now_ns: int, checkpointed: bool) -> LearningStatus | None:
        """A status when the state changed, and every STATUS_PERIOD_NS while busy."""
        with self._lock:
            status = self._make_status(now_ns, self._state_code(checkpointed))
        key = (status.state, status.environment, status.model_version, status.trigger)
        busy = status.state != LearningState.IDLE
        if key == self._status_key and not (busy and now_ns - self._status_ns >= STATUS_PERIOD_NS):
            return None
        self._status_key = key
        self._status_ns = now_ns
        return status

    def _make_status(self, now_ns: int, code: LearningState) -> LearningStatus:
        """The status record for state ``code`` (caller holds the lock)."""
        episode = self._episode or self._last_episode
        learned = episode.learned if episode is not None else 0
        target = episode.target if episode is not None else 0
        trigger = episode.trigger if episode is not None else ""
        if self._pending is not None:
            learned, target, trigger = 0, self.config.learn_samples, self._pending[1]
        plastic = self._episode.protection.plastic_count if self._episode is not None else 0
        names = {
            LearningState.IDLE: "idle",
            LearningState.LEARNING: f"learning {learned}/{target} at T={self._train_t}",
            LearningState.LABELLING: f"re-assigning labels at T={self._infer_t}",
            LearningState.CHECKPOINT: f"checkpoint version {self._version} written",
        }
        return LearningStatus(
            stamp_ns=now_ns,
            state=int(code),  # the wire number (Python 3.10 prints an IntEnum as its name)
            environment=self._environment,
            trigger=trigger,
            train_timesteps=self._train_t,
            samples_learned=learned,
            samples_target=target,
            labelled_samples=len(self._pairs),
            plastic_neurons=plastic,
            model_version=self._version,
            novelty=self._detector.novelty,
            message=f"{names[code]}; environment '{self._environment}'",
        )

    def diagnostics(self) -> DiagnosticStatus:
        """Health: ERROR while checkpoints fail, WARN after bad images since the last call."""
        with self._lock:
            status = self._make_status(0, self._state_code(False))
            counts = dict(self._counts, unmatched_labels=self._pairs.unmatched)
            bad, self._bad_since_diagnostics = self._bad_since_diagnostics, 0
            queued = len(self._queue)
        if self._error:
            level, message = ERROR, self._error
        elif bad:
            level, message = WARN, f"{bad} bad image(s) skipped; {status.message}"
        elif self._store.skipped:
            level, message = WARN, f"{self._store.skipped} corrupt checkpoint(s) skipped"
        else:
            level, message = OK, status.message
        values = {
            "state": str(status.state),
            "environment": status.environment,
            "model_version": str(status.model_version),
            "checkpoint_dir": str(self._store.directory),
            "samples_learned": str(status.samples_learned),
            "samples_target": str(status.samples_target),
            "queued_images": str(queued),
            "labelled_samples": str(status.labelled_samples),
            "train_timesteps": str(status.train_timesteps),
            "novelty": f"{status.novelty:.3f}",
            **{key: str(value) for key, value in counts.items()},
        }
        return DiagnosticStatus(level, "online_learner", message, values=tuple(values.items()))

    @property
    def model_version(self) -> int:
        """Version of the latest checkpoint (0: the initial model, none written)."""
        return self._version

    @property
    def busy(self) -> bool:
        """Whether ``step`` has work waiting: a worker should call it again without a pause."""
        with self._lock:
            episode = self._episode
            waiting = (self._pending, self._announce, self._labelling)
            if any(item is not None for item in waiting):
                return True
            if episode is None:
                return False
            wanted = min(self.config.batch_size, episode.target - episode.learned)
            return len(self._queue) >= wanted

    @property
    def environment(self) -> str:
        """Name of the current environment."""
        return self._environment

    @property
    def state(self) -> ModelState:
        """The model being learnt (read it from the worker thread only, or after ``step``)."""
        return self._net.state


__all__ = ["STATUS_PERIOD_NS", "OnlineLearner"]

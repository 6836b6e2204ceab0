"""``topspark replay``: a bag through perception, the timestep manager (and the learner), in bag
time, into a results bag and a report directory.

Nothing is written before the bag, its topics and the model check out. A run stopped early
(Ctrl-C, a bag truncated mid-way) still writes what it has, marked incomplete; every output is
written atomically (the results bag is renamed into place when closed).
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from topspark_ros.bags.reader import BagReader
from topspark_ros.bags.writer import STORAGES, BagWriter
from topspark_ros.errors import ConfigError, TopsparkError, stop_exit_code, stop_reason
from topspark_ros.graph.wiring import NODES, ONLINE_LEARNER, PERCEPTION, TIMESTEP_MANAGER
from topspark_ros.io_utils import check_output_dir
from topspark_ros.messages import LoggerLike
from topspark_ros.nodes.config import OnlineLearnerConfig, PerceptionConfig, TimestepManagerConfig
from topspark_ros.packaged import default_model_path
from topspark_ros.replay import records
from topspark_ros.replay.engine import BagTimeBus, NodeInstance
from topspark_ros.replay.records import ReplayLog
from topspark_ros.replay.report import write_report
from topspark_ros.snn.model_io import model_sha256

if TYPE_CHECKING:
    from topspark_ros.nodes.perception import Perception

RESULTS = "results"  # the results bag's directory in the output directory
CHECKPOINTS = "checkpoints"  # the learner's checkpoints in the output directory
# Input role -> the node topic it feeds (wiring's relative names).
ROLE_TOPICS = {
    records.IMAGE: "image",
    records.BATTERY: "battery_state",
    records.LABEL: "label",
    records.ENVIRONMENT: "environment",
}
Progress = Callable[[int], None]


@dataclass(frozen=True)
class ReplayOptions:
    """What to replay and how: the bag, the output directory, the nodes' configs."""

    bag: Path
    out: Path
    learn: bool = False
    topics: Mapping[str, str | None] = field(default_factory=dict)  # role -> chosen topic
    storage: str = ""  # results bag storage; empty: the input bag's
    perception: PerceptionConfig = field(default_factory=PerceptionConfig)
    timestep_manager: TimestepManagerConfig = field(default_factory=TimestepManagerConfig)
    online_learner: OnlineLearnerConfig = field(default_factory=OnlineLearnerConfig)


def _learner_config(options: ReplayOptions, model: str) -> OnlineLearnerConfig:
    """The learner's config: the perception model as its start, checkpoints in the output."""
    checkpoints = options.out / CHECKPOINTS
    return dataclasses.replace(
        options.online_learner,
        model_path=options.online_learner.model_path or model,
        checkpoint_dir=str(checkpoints),
    )


def _build_nodes(
    options: ReplayOptions, perception: Perception, model: str, logger: LoggerLike
) -> list[NodeInstance]:
    """``perception``, the timestep manager and (with ``learn``) the learner starting from
    ``model``, ready to run."""
    nodes = [
        NodeInstance(PERCEPTION, options.perception, perception),
        NodeInstance(
            TIMESTEP_MANAGER,
            options.timestep_manager,
            TIMESTEP_MANAGER.build(options.timestep_manager, logger),
        ),
    ]
    if options.learn:
        learner_cfg = _learner_config(options, model)
        checkpoints = Path(learner_cfg.checkpoint_dir)
        if checkpoints.exists():
            logger.info(f"replay --learn starts from the model: removing old {checkpoints}")
            shutil.rmtree(checkpoints)
        nodes.append(
            NodeInstance(ONLINE_LEARNER, learner_cfg, ONLINE_LEARNER.build(learner_cfg, logger))
        )
    return nodes


class _Recorder:
    """Files every publication into the ReplayLog and the results bag."""

    def __init__(self, log: ReplayLog, results: BagWriter) -> None:
        self.log = log
        self.results = results
        self._types = {
            pub.topic: pub.msgtype for spec in NODES.values() for pub in spec.publications
        }

    def __call__(self, topic: str, data: Any, time_ns: int) -> None:
        self.log.record(data, time_ns)
        self.results.write(f"/{topic}", self._types[topic], data, time_ns)


def replay(
    options: ReplayOptions,
    logger: LoggerLike,
    progress: Progress | None = None,
    on_start: Callable[[ReplayLog, int], None] | None = None,
) -> ReplayLog:
    """Replay ``options.bag``; return the log (``complete`` False if it stopped early).

    Writes the results bag and the report (``replay.report``) into ``options.out``. Errors in
    the bag, its topics, the model or the configs raise before anything is written.
    ``on_start(log, frames)`` is called once the run begins, ``progress(1)`` per frame replayed.
    """
    if options.storage and options.storage not in STORAGES:
        raise ConfigError(f"--storage {options.storage}: use one of {', '.join(STORAGES)}")
    check_output_dir(options.out, "--out")
    with BagReader(options.bag) as bag:
        topics = bag.find_topics(options.topics)
        for topic, typename in sorted(bag.unknown_types().items()):
            logger.warning(f"skipping topic {topic}: unknown message type {typename}")
        model = options.perception.model_path or str(default_model_path())
        perception = PERCEPTION.build(options.perception, logger)
        nodes = _build_nodes(options, perception, model, logger)
        options.out.mkdir(parents=True, exist_ok=True)
        log = ReplayLog(
            source=str(options.bag),
            storage=bag.storage,
            topics=topics,
            model=model,
            model_sha256=model_sha256(model),
            neurons=int(perception.params.n_neurons),
            learn=options.learn,
            bag_start_ns=bag.start_ns,
            bag_end_ns=bag.end_ns,
        )
        results = BagWriter(options.out / RESULTS, options.storage or bag.storage).open()
        try:
            bus = BagTimeBus(nodes, _Recorder(log, results), logger)
            if on_start is not None:
                on_start(log, bag.count(topics[records.IMAGE]))
            _run(bag, topics, bus, log, progress, _skipper(log, logger))
            if perception.malformed:
                log.skip("malformed image", int(perception.malformed))
        finally:
            results.close()
    write_report(log, options.out)
    return log


def _skipper(log: ReplayLog, logger: LoggerLike) -> Callable[[str], None]:
    """Counts a skipped message in the log; the first of each reason is also a warning."""

    def skip(reason: str) -> None:
        if reason not in log.skipped:
            logger.warning(f"skipping {reason}(s); the count is in summary.json")
        log.skip(reason)

    return skip


def _run(
    bag: BagReader,
    topics: Mapping[str, str],
    bus: BagTimeBus,
    log: ReplayLog,
    progress: Progress | None,
    skip: Callable[[str], None],
) -> None:
    """Feed the bag's messages to the bus; a stop by Ctrl-C or a bag error ends the log early."""
    start = time.perf_counter()
    first = True
    try:
        for message in bag.messages(topics, skip):
            if first:
                log.start_ns = message.time_ns
                first = False
            log.end_ns = message.time_ns
            log.record(message.data, message.time_ns)
            bus.deliver(ROLE_TOPICS[message.role], message.data, message.time_ns)
            if message.role == records.IMAGE and progress is not None:
                progress(1)
    except KeyboardInterrupt as err:  # Ctrl-C, SIGTERM or SIGHUP (cli.main's signal policy)
        log.complete, log.stopped, log.stop_code = False, stop_reason(err), stop_exit_code(err)
    except TopsparkError as err:
        log.complete, log.stopped = False, str(err)
    finally:
        log.wall_s = time.perf_counter() - start


__all__ = ["CHECKPOINTS", "RESULTS", "ReplayOptions", "replay"]

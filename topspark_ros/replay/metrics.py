"""Numbers over a ReplayLog: accuracy per environment, time at each T, energy, latency, speed.

Pure functions of the log, so the report files, the CLI's closing lines and the online-learning
demo all read the same figures. ``summarize`` gathers them into one JSON-ready dict (NaN -> None).
"""

from __future__ import annotations

import bisect
import itertools
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from topspark_ros.messages import NS_PER_S, Classification, TimestepCommand, TimestepMode
from topspark_ros.nodes.battery import battery_fraction
from topspark_ros.replay.records import DEFAULT_ENVIRONMENT, ReplayLog
from topspark_ros.stats import Spread, wilson_interval

BEFORE_LEARNING, AFTER_LEARNING = "before_learning", "after_learning"  # accuracy_by_environment
MIN_JUDGED = 200  # labelled frames below which an accuracy is shown but not read as a finding


@dataclass(frozen=True)
class Judged:
    """One classification at bag time ``bag_ns`` with its true label (None: unlabelled) and the
    environment it was made in."""

    bag_ns: int
    result: Classification
    truth: int | None
    environment: str

    @property
    def correct(self) -> bool | None:
        """Whether the predicted class is the true one; None when unlabelled."""
        return None if self.truth is None else self.result.label == self.truth


def elapsed_s(log: ReplayLog, bag_ns: int) -> float:
    """Bag time ``bag_ns`` as seconds from the start of the log (the x of every table and plot)."""
    return (bag_ns - log.start_ns) / NS_PER_S


def _in_force(switches: Sequence[tuple[int, str]], times: Sequence[int], bag_ns: int) -> str:
    """The last of ``switches`` (bag-time order, ``times`` their times) at or before ``bag_ns``."""
    i = bisect.bisect_right(times, bag_ns)
    return switches[i - 1][1] if i else DEFAULT_ENVIRONMENT


def environment_at(log: ReplayLog, bag_ns: int) -> str:
    """The environment in force at ``bag_ns`` by the environment topic, else the default.

    A switch at exactly ``bag_ns`` is in force; ``log.environments`` is in bag-time order.
    """
    return _in_force(log.environments, [t for t, _ in log.environments], bag_ns)


def judge(log: ReplayLog) -> list[Judged]:
    """Each classification joined with the label of its image (by stamp) and its environment:
    the label's environment when it names one, else the one in force at that bag time."""
    times = [t for t, _ in log.environments]
    judged = []
    for bag_ns, result in log.classifications:
        label = log.labels.get(result.stamp_ns)
        if label is not None and label.environment:
            environment = label.environment
        else:
            environment = _in_force(log.environments, times, bag_ns)
        truth = None if label is None else label.label
        judged.append(Judged(bag_ns, result, truth, environment))
    return judged


def environment_switches(log: ReplayLog, judged: Sequence[Judged]) -> list[tuple[int, str]]:
    """(bag ns, environment) wherever the frames' environment changes (the first frame's too);
    the environment topic's switches when there are no frames. Empty if all is the default."""
    switches = list(log.environments)
    if judged:
        switches = [
            (j.bag_ns, j.environment)
            for k, j in enumerate(judged)
            if k == 0 or j.environment != judged[k - 1].environment
        ]
    if all(name == DEFAULT_ENVIRONMENT for _, name in switches):
        return []
    return switches


def accuracy(judged: Iterable[Judged]) -> dict[str, Any]:
    """frames, labelled, correct, accuracy (correct / labelled; None with no labels) and its
    95% Wilson interval ``ci95`` (how far a figure on few frames can be from the truth)."""
    frames = labelled = correct = 0
    for j in judged:
        frames += 1
        if j.correct is not None:
            labelled += 1
            correct += j.correct
    interval = wilson_interval(correct, labelled)
    return {
        "frames": frames,
        "labelled": labelled,
        "correct": correct,
        "accuracy": correct / labelled if labelled else None,
        "ci95": None if interval is None else list(interval),  # [low, high], as JSON has it
    }


def first_learned(log: ReplayLog) -> dict[str, int]:
    """Per environment, the first model version the learner wrote while in it (checkpoints
    name the environment they were learnt or re-labelled in)."""
    first: dict[str, int] = {}
    for _, update in log.updates:
        first[update.environment] = min(
            update.version, first.get(update.environment, update.version)
        )
    return first


def accuracy_by_environment(
    judged: Sequence[Judged], learned: Mapping[str, int] | None = None
) -> dict[str, dict[str, Any]]:
    """``accuracy`` per environment (first-seen order), each split into frames answered before
    and after online learning in that environment: by a model older than the first version
    learnt there (``learned``, from ``first_learned``), or not. Without ``learned``, any
    version above 0 counts as after."""
    groups: dict[str, list[Judged]] = {}
    for j in judged:
        groups.setdefault(j.environment, []).append(j)
    table = {}
    for name, group in groups.items():
        first = 1 if learned is None else learned.get(name, sys.maxsize)
        entry = accuracy(group)
        entry[BEFORE_LEARNING] = accuracy(j for j in group if j.result.model_version < first)
        entry[AFTER_LEARNING] = accuracy(j for j in group if j.result.model_version >= first)
        table[name] = entry
    return table


def rolling_accuracy(correct: Sequence[bool], window: int) -> list[float]:
    """Mean of the last ``window`` (fewer at the start) of ``correct`` at each position."""
    flags = np.asarray(correct, np.float64)
    sums = np.concatenate([[0.0], np.cumsum(flags)])
    ends = np.arange(1, len(flags) + 1)
    starts = np.maximum(ends - window, 0)
    return [float(v) for v in (sums[ends] - sums[starts]) / (ends - starts)]


def command_spans(log: ReplayLog) -> list[tuple[int, int, TimestepCommand]]:
    """(start ns, end ns, command) of each command, in force until the next one or the log's
    end."""
    if not log.commands:
        return []
    ends = [t for t, _ in log.commands[1:]] + [max(log.end_ns, log.commands[-1][0])]
    return [(t, end, c) for (t, c), end in zip(log.commands, ends, strict=True)]


def _shares(durations: Mapping[Any, int], total: int) -> dict[str, float]:
    """Each key's share of ``total``, keys as strings (JSON), in ascending key order."""
    return {str(k): durations[k] / total for k in sorted(durations)} if total > 0 else {}


def timestep_stats(log: ReplayLog) -> dict[str, Any]:
    """Time at each commanded T and mode (shares of the bag time from the first command to the
    end), the number of T changes, and the mean T and timesteps used per frame."""
    at_t: dict[int, int] = {}
    at_mode: dict[str, int] = {}
    for start, end, command in command_spans(log):
        duration = end - start
        at_t[command.timesteps] = at_t.get(command.timesteps, 0) + duration
        mode = TimestepMode.text_of(command.mode)
        at_mode[mode] = at_mode.get(mode, 0) + duration
    total = sum(at_t.values())
    ts = [c.timesteps for _, c in log.commands]
    frames = [c for _, c in log.classifications]
    return {
        "commands": len(log.commands),
        "commanded_s": total / NS_PER_S,
        "share": _shares(at_t, total),
        "mode_share": {k: at_mode[k] / total for k in at_mode} if total > 0 else {},
        "changes": sum(a != b for a, b in itertools.pairwise(ts)),
        "mean_per_frame": _mean(c.timesteps for c in frames),
        "mean_used_per_frame": _mean(c.timesteps_used for c in frames),
    }


def _mean(values: Iterable[float]) -> float:
    """Mean of the finite values; NaN if none."""
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


def spread(values: Sequence[float]) -> dict[str, float | int | None]:
    """count, median, p90, p99, max and mean of the finite values (None when there are none)."""
    return Spread.of([v for v in values if math.isfinite(v)]).to_mapping()


def battery_fractions(log: ReplayLog) -> list[tuple[int, float]]:
    """(bag ns, charge fraction 0..1 or NaN) of each reading, with the timestep manager's
    normalisation (a 0..100 percentage, as Gazebo sends, is detected and sticks)."""
    percent_scale = False
    out = []
    for bag_ns, reading in log.battery:
        fraction, percent_scale, _ = battery_fraction(reading, percent_scale)
        out.append((bag_ns, fraction))
    return out


def battery_stats(log: ReplayLog) -> dict[str, Any]:
    """Readings, and the first and last known charge fraction (NaN if none)."""
    known = [f for _, f in battery_fractions(log) if math.isfinite(f)]
    start, end = (known[0], known[-1]) if known else (math.nan, math.nan)
    return {
        "readings": len(log.battery),
        "start_fraction": start,
        "end_fraction": end,
        "used_fraction": start - end,
    }


def energy_stats(log: ReplayLog) -> dict[str, Any]:
    """Total modelled inference energy (J) and its mean per frame."""
    values = [c.energy_j for _, c in log.classifications if math.isfinite(c.energy_j)]
    return {"total_j": math.fsum(values), "mean_per_frame_j": _mean(values)}


def speed_stats(log: ReplayLog) -> dict[str, Any]:
    """Frames, bag time replayed and wall time (s), replay speed as a multiple of real time,
    frames per wall second, and the share of the bag's span replayed."""
    frames = len(log.classifications)
    wall = log.wall_s if log.wall_s > 0 else math.nan
    span = (log.bag_end_ns - log.bag_start_ns) / NS_PER_S
    return {
        "frames": frames,
        "duration_s": log.duration_s,
        "wall_s": log.wall_s,
        "realtime_factor": log.duration_s / wall,
        "frames_per_s": frames / wall,
        "bag_span_s": span,
        "replayed_fraction": log.duration_s / span if span > 0 else math.nan,
    }


def learning_stats(log: ReplayLog) -> dict[str, Any]:
    """Model updates, the last model version, and the bag time (s from the start) of the first
    update (NaN if none)."""
    versions = [u.version for _, u in log.updates]
    first = elapsed_s(log, log.updates[0][0]) if log.updates else math.nan
    return {
        "enabled": log.learn,
        "updates": len(log.updates),
        "final_model_version": max(versions, default=0),
        "first_update_s": first,
    }


def json_ready(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, inf) replaced by None, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return value


def summarize(log: ReplayLog) -> dict[str, Any]:
    """Everything the replay measured, JSON-ready (NaN and inf become None)."""
    judged = judge(log)
    classified = [c for _, c in log.classifications]
    summary: dict[str, Any] = json_ready(
        {
            "source": log.source,
            "storage": log.storage,
            "topics": dict(log.topics),
            "model": {"path": log.model, "sha256": log.model_sha256, "neurons": log.neurons},
            "clock": log.clock,
            "complete": log.complete,
            "stopped": log.stopped,
            "speed": speed_stats(log),
            "accuracy": accuracy(judged),
            "environments": accuracy_by_environment(judged, first_learned(log)),
            "timesteps": timestep_stats(log),
            "energy": energy_stats(log),
            "latency": {
                "latency_ms": spread([c.latency_ms for c in classified]),
                "pipeline_ms": spread([c.pipeline_ms for c in classified]),
            },
            "battery": battery_stats(log),
            "learning": learning_stats(log),
            "skipped": dict(log.skipped),
        }
    )
    return summary


__all__ = [
    "AFTER_LEARNING",
    "BEFORE_LEARNING",
    "MIN_JUDGED",
    "Judged",
    "accuracy",
    "accuracy_by_environment",
    "battery_fractions",
    "battery_stats",
    "command_spans",
    "elapsed_s",
    "energy_stats",
    "environment_at",
    "environment_switches",
    "first_learned",
    "json_ready",
    "judge",
    "learning_stats",
    "rolling_accuracy",
    "speed_stats",
    "spread",
    "summarize",
    "timestep_stats",
]

"""A replay's streams as CSV tables: one per output and input stream, rows in bag-time order.

Every table starts with ``bag_time_s`` (seconds from the log's start). Cells are in file form:
None and non-finite floats blank, bools 1/0; ``io_utils.write_csv`` writes them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from topspark_ros.messages import LearningState, TimestepMode
from topspark_ros.replay.metrics import Judged, battery_fractions, elapsed_s
from topspark_ros.replay.records import ReplayLog

Table = tuple[list[str], list[list[Any]]]  # CSV header and rows

# Columns of classification.csv taken as they are from the Classification.
_RESULT_FIELDS = (
    "confidence",
    "timesteps",
    "timesteps_used",
    "spike_count",
    "input_spikes",
    "latency_ms",
    "pipeline_ms",
    "energy_j",
    "model_version",
)


def cell(value: Any) -> Any:
    """A value as a replay CSV cell: None and non-finite floats blank, bools 1/0."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, bool):
        return int(value)
    return value


def _cells(table: Table) -> Table:
    """``table`` with every cell in file form (``cell``)."""
    header, rows = table
    return header, [[cell(v) for v in row] for row in rows]


def _stream(
    log: ReplayLog,
    items: Sequence[tuple[int, Any]],
    fields: Sequence[str],
    derived: Mapping[str, Callable[[Any], Any]] | None = None,
) -> Table:
    """bag_time_s, stamp_ns, then ``fields`` and ``derived`` columns; values as they are."""
    derived = derived or {}
    header = ["bag_time_s", "stamp_ns", *fields, *derived]
    rows = [
        [
            elapsed_s(log, t),
            m.stamp_ns,
            *(getattr(m, f) for f in fields),
            *(fn(m) for fn in derived.values()),
        ]
        for t, m in items
    ]
    return header, rows


def classification_table(log: ReplayLog, judged: Sequence[Judged]) -> Table:
    """One row per classification with its true label (None if none), correctness and
    environment; values as they are (``stream_tables`` puts them in file form)."""
    header = ["bag_time_s", "stamp_ns", "predicted", "true_label", "correct", "environment"]
    rows = [
        [
            elapsed_s(log, j.bag_ns),
            j.result.stamp_ns,
            j.result.label,
            j.truth,
            j.correct,
            j.environment,
            *(getattr(j.result, f) for f in _RESULT_FIELDS),
        ]
        for j in judged
    ]
    return [*header, *_RESULT_FIELDS], rows


def _battery_table(log: ReplayLog) -> Table:
    """The battery readings, ending with the normalised fraction (``battery_fractions``)."""
    fields = ["percentage", "voltage", "current", "charge", "capacity", "present"]
    header, rows = _stream(log, log.battery, [*fields, "power_supply_status"])
    fractions = battery_fractions(log)
    return [*header, "fraction"], [[*row, f] for row, (_, f) in zip(rows, fractions, strict=True)]


def stream_tables(log: ReplayLog, judged: Sequence[Judged]) -> dict[str, Table]:
    """Each stream's CSV table in file form, by file name."""
    tables = {
        "classification.csv": classification_table(log, judged),
        "timestep_command.csv": _stream(
            log,
            log.commands,
            [
                "timesteps",
                "train_timesteps",
                "mode",
                "reason",
                "battery_fraction",
                "energy_budget_j",
                "latency_deadline_ms",
                "expected_accuracy",
                "expected_latency_ms",
                "expected_energy_j",
            ],
            {"mode_name": lambda c: TimestepMode.text_of(c.mode)},
        ),
        "learning_status.csv": _stream(
            log,
            log.statuses,
            [
                "state",
                "environment",
                "trigger",
                "train_timesteps",
                "samples_learned",
                "samples_target",
                "labelled_samples",
                "plastic_neurons",
                "model_version",
                "novelty",
                "message",
            ],
            {"state_name": lambda s: LearningState.text_of(s.state)},
        ),
        "model_update.csv": _stream(
            log, log.updates, ["version", "path", "sha256", "environment", "samples_seen"]
        ),
        "battery.csv": _battery_table(log),
        "environment.csv": (
            ["bag_time_s", "environment"],
            [[elapsed_s(log, t), name] for t, name in log.environments],
        ),
    }
    return {name: _cells(table) for name, table in tables.items()}


__all__ = ["Table", "cell", "classification_table", "stream_tables"]

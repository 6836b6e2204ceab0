"""The replay's numbers on hand-made logs: label and environment joins, accuracy per environment,
time-weighted T shares, battery normalisation, speed, and NaN -> None."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import numpy as np
import pytest

from topspark_ros.messages import (
    BatteryReading,
    Classification,
    Label,
    ModelUpdate,
    TimestepCommand,
)
from topspark_ros.replay import metrics
from topspark_ros.replay.records import DEFAULT_ENVIRONMENT, ReplayLog

S = 1_000_000_000

Result = Callable[..., Classification]
NewLog = Callable[..., ReplayLog]


def test_environment_comes_from_label_then_topic_then_default(
    result: Result, new_log: NewLog
) -> None:
    log = new_log(environments=[(10 * S, "lab"), (20 * S, "field")])
    log.classifications = [
        (5 * S, result(1, 3)),  # before any switch, label names none
        (10 * S, result(2, 3)),  # at the switch: in force
        (15 * S, result(3, 3)),  # label names its own environment
        (25 * S, result(4, 3)),  # no label at all
    ]
    log.labels = {1: Label(1, 3), 2: Label(2, 4), 3: Label(3, 3, "night")}
    judged = metrics.judge(log)
    assert [j.environment for j in judged] == [DEFAULT_ENVIRONMENT, "lab", "night", "field"]
    assert [j.truth for j in judged] == [3, 4, 3, None]
    assert [j.correct for j in judged] == [True, False, True, None]
    assert metrics.environment_at(log, 20 * S - 1) == "lab"
    assert metrics.environment_at(log, 0) == DEFAULT_ENVIRONMENT


def test_accuracy_per_environment_and_before_after_learning(
    result: Result, new_log: NewLog
) -> None:
    log = new_log(environments=[(0, "lab"), (10 * S, "field")])
    frames = [
        (1, 1, 0),
        (2, 2, 0),
        (3, 9, 0),  # lab: 2 of 3 right
        (11, 5, 0),
        (12, 9, 0),  # field before learning: 0 of 2
        (13, 6, 1),
        (14, 7, 2),
        (15, 8, 1),  # field after learning: 2 of 3 (15 unlabelled +1)
    ]
    for second, guess, version in frames:
        log.classifications.append((second * S, result(second, guess, model_version=version)))
    log.labels = {
        s: Label(s, truth)
        for s, truth in [(1, 1), (2, 2), (3, 3), (11, 1), (12, 2), (13, 6), (14, 7)]
    }
    judged = metrics.judge(log)
    assert metrics.accuracy(judged) == {
        "frames": 8,
        "labelled": 7,
        "correct": 4,
        "accuracy": 4 / 7,
        "ci95": pytest.approx([0.2504542, 0.8417831]),  # Wilson 95%
    }
    table = metrics.accuracy_by_environment(judged)
    assert list(table) == ["lab", "field"]
    assert table["lab"]["accuracy"] == pytest.approx(2 / 3)
    assert table["lab"][metrics.AFTER_LEARNING] == {
        "frames": 0,
        "labelled": 0,
        "correct": 0,
        "accuracy": None,
        "ci95": None,
    }
    field = table["field"]
    assert (field["frames"], field["labelled"], field["correct"]) == (5, 4, 2)
    assert field[metrics.BEFORE_LEARNING] == {
        "frames": 2,
        "labelled": 2,
        "correct": 0,
        "accuracy": 0.0,
        "ci95": [0.0, pytest.approx(0.6576280)],
    }
    assert field[metrics.AFTER_LEARNING] == {
        "frames": 3,
        "labelled": 2,
        "correct": 2,
        "accuracy": 1.0,
        "ci95": [pytest.approx(0.3423720), 1.0],
    }


def test_environment_switches_follow_the_frames(result: Result, new_log: NewLog) -> None:
    log = new_log(environments=[(0, "lab"), (10 * S, "field")])
    assert metrics.environment_switches(log, []) == log.environments
    log.classifications = [(t * S, result(t, 0)) for t in (1, 2, 11, 12)]
    assert metrics.environment_switches(log, metrics.judge(log)) == [(S, "lab"), (11 * S, "field")]
    plain = new_log(classifications=[(S, result(1, 0))])
    assert metrics.environment_switches(plain, metrics.judge(plain)) == []


def test_t_shares_are_weighted_by_bag_time(
    command: Callable[..., TimestepCommand], result: Result, new_log: NewLog
) -> None:
    log = new_log(start_ns=0, end_ns=10 * S)
    log.commands = [
        (0, command(0, 100)),
        (2 * S, command(0, 50, TimestepCommand.MODE_SAVING)),
        (3 * S, command(0, 100)),
        (4 * S, command(0, 100)),
    ]
    log.classifications = [
        (0, result(0, 0, timesteps=100, timesteps_used=80)),
        (S, result(1, 0, timesteps=50, timesteps_used=50)),
    ]
    stats = metrics.timestep_stats(log)
    assert stats["share"] == {"50": pytest.approx(0.1), "100": pytest.approx(0.9)}
    assert list(stats["share"]) == ["50", "100"]
    assert stats["mode_share"] == {"nominal": pytest.approx(0.9), "saving": pytest.approx(0.1)}
    assert stats["changes"] == 2  # a repeated T is no change
    assert stats["commanded_s"] == 10.0
    assert stats["mean_per_frame"] == 75.0
    assert stats["mean_used_per_frame"] == 65.0


def test_t_shares_start_at_the_first_command(
    command: Callable[..., TimestepCommand], new_log: NewLog
) -> None:
    log = new_log(start_ns=0, end_ns=10 * S, commands=[(4 * S, command(0, 40))])
    stats = metrics.timestep_stats(log)
    assert stats["commanded_s"] == 6.0
    assert stats["share"] == {"40": 1.0}
    assert metrics.timestep_stats(new_log())["share"] == {}


@pytest.mark.parametrize("window", [1, 3, 10])
def test_rolling_accuracy_matches_a_plain_loop(window: int) -> None:
    correct = [bool(v) for v in np.random.default_rng(1).integers(0, 2, 25)]
    expected = [
        sum(correct[max(0, i + 1 - window) : i + 1]) / min(i + 1, window)
        for i in range(len(correct))
    ]
    assert metrics.rolling_accuracy(correct, window) == pytest.approx(expected)
    assert metrics.rolling_accuracy([], window) == []


def test_spread_ignores_nan_and_matches_numpy() -> None:
    values = [3.0, 1.0, math.nan, 2.0, 10.0]
    got = metrics.spread(values)
    finite = [3.0, 1.0, 2.0, 10.0]
    assert got["median"] == 2.5
    assert got["p90"] == pytest.approx(np.percentile(finite, 90))
    assert got["p99"] == pytest.approx(np.percentile(finite, 99))
    assert (got["count"], got["mean"], got["max"]) == (4, 4.0, 10.0)
    empty = metrics.spread([math.nan])
    assert empty.pop("count") == 0 and all(v is None for v in empty.values())


@pytest.mark.parametrize(
    ("percentages", "expected"),
    [
        ([80.0, 50.0, 0.5], [0.8, 0.5, 0.005]),  # Gazebo's 0..100 scale sticks
        ([0.9, math.nan, 0.5], [0.9, math.nan, 0.5]),
    ],
)
def test_battery_fractions_use_the_managers_normalisation(
    new_log: NewLog, percentages: list[float], expected: list[float]
) -> None:
    log = new_log(battery=[(k * S, BatteryReading(k, p)) for k, p in enumerate(percentages)])
    fractions = [f for _, f in metrics.battery_fractions(log)]
    assert fractions == pytest.approx(expected, nan_ok=True)
    stats = metrics.battery_stats(log)
    assert (stats["start_fraction"], stats["end_fraction"]) == (expected[0], expected[-1])
    assert stats["readings"] == 3


def test_speed_is_bag_time_over_wall_time(result: Result, new_log: NewLog) -> None:
    log = new_log(
        start_ns=5 * S,
        end_ns=65 * S,
        bag_start_ns=5 * S,
        bag_end_ns=125 * S,
        wall_s=12.0,
        classifications=[(5 * S, result(0, 0))] * 30,
    )
    assert metrics.speed_stats(log) == {
        "frames": 30,
        "duration_s": 60.0,
        "wall_s": 12.0,
        "realtime_factor": 5.0,
        "frames_per_s": 2.5,
        "bag_span_s": 120.0,
        "replayed_fraction": 0.5,
    }


def test_energy_and_learning(result: Result, new_log: NewLog) -> None:
    log = new_log(start_ns=S)
    log.classifications = [
        (S, result(0, 0, energy_j=1e-6)),
        (S, result(1, 0, energy_j=3e-6)),
        (S, result(2, 0, energy_j=math.nan)),
    ]
    log.updates = [
        (3 * S, ModelUpdate(0, 1, "a", "", "lab", 10)),
        (5 * S, ModelUpdate(0, 2, "b", "", "lab", 20)),
    ]
    assert metrics.energy_stats(log) == {
        "total_j": pytest.approx(4e-6),
        "mean_per_frame_j": pytest.approx(2e-6),
    }
    assert metrics.learning_stats(log) == {
        "enabled": True,
        "updates": 2,
        "final_model_version": 2,
        "first_update_s": 2.0,
    }


def test_summary_of_an_empty_log_is_json_without_nan(new_log: NewLog) -> None:
    log = new_log(complete=False, stopped="interrupted")
    summary = metrics.summarize(log)
    json.dumps(summary, allow_nan=False)
    assert summary["speed"]["realtime_factor"] is None
    assert summary["speed"]["replayed_fraction"] is None
    assert summary["accuracy"] == {
        "frames": 0,
        "labelled": 0,
        "correct": 0,
        "accuracy": None,
        "ci95": None,
    }
    assert summary["environments"] == {}
    assert summary["latency"]["latency_ms"]["median"] is None
    assert summary["battery"]["start_fraction"] is None
    assert summary["learning"]["first_update_s"] is None
    assert (summary["complete"], summary["stopped"]) == (False, "interrupted")


def test_summary_of_the_scenario(scenario_log: ReplayLog) -> None:
    summary = metrics.summarize(scenario_log)
    assert list(summary["environments"]) == ["lab", "field"]
    assert summary["speed"]["realtime_factor"] == 5.0
    assert summary["timesteps"]["share"] == {
        "30": pytest.approx(0.25),
        "60": pytest.approx(25 / 60),
        "100": pytest.approx(1 / 3),
    }
    assert summary["battery"]["start_fraction"] == 0.8
    assert summary["battery"]["end_fraction"] == pytest.approx(0.2)
    assert summary["skipped"] == {"no label": 3}
    field = summary["environments"]["field"]
    assert field[metrics.BEFORE_LEARNING]["labelled"] == 100
    assert field[metrics.AFTER_LEARNING]["labelled"] == 200


def test_json_ready_replaces_every_non_finite_float() -> None:
    value = {"a": math.nan, "b": [1.0, math.inf, (2, -math.inf)], "c": {"d": "x", "e": None}}
    assert metrics.json_ready(value) == {
        "a": None,
        "b": [1.0, None, [2, None]],
        "c": {"d": "x", "e": None},
    }


def test_before_and_after_learning_split_at_the_first_version_learnt_there(
    result: Result, new_log: NewLog
) -> None:
    """A re-labelling checkpoint in the first environment is not learning in the second."""
    log = new_log()
    log.environments = [(0, "lab"), (10 * S, "field")]
    log.updates = [
        (2 * S, ModelUpdate(0, 1, "/v1.npz", "ab" * 32, "lab", 10)),
        (13 * S, ModelUpdate(0, 2, "/v2.npz", "ab" * 32, "field", 20)),
    ]
    for second, version in [(1, 0), (3, 1), (11, 1), (12, 1), (14, 2)]:
        log.classifications.append((second * S, result(second, 1, model_version=version)))
        log.labels[second] = Label(second, 1)
    table = metrics.accuracy_by_environment(metrics.judge(log), metrics.first_learned(log))
    assert metrics.first_learned(log) == {"lab": 1, "field": 2}
    assert table["lab"][metrics.BEFORE_LEARNING]["frames"] == 1
    assert table["lab"][metrics.AFTER_LEARNING]["frames"] == 1
    assert table["field"][metrics.BEFORE_LEARNING]["frames"] == 2
    assert table["field"][metrics.AFTER_LEARNING]["frames"] == 1

"""The latency benchmark: its measuring functions directly, then one short real run over DDS."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from topspark_ros.cli.main import main
from topspark_ros.errors import ConfigError
from topspark_ros.messages import Classification
from topspark_ros.packaged import default_profile_path
from topspark_ros.snn.model_io import save_model
from topspark_ros.snn.network import Network
from topspark_ros.snn.params import load_preset
from topspark_ros.stats import Spread
from topspark_ros.system.latency import (
    Arrival,
    LatencySettings,
    Sent,
    build_report,
    default_domain_id,
    due_time,
    input_rate,
    match,
    sleep_until,
)
from topspark_ros.topspark.profile import load_profile
from topspark_ros.topspark.tradeoff import select

SETTINGS = LatencySettings(model_path="m.npz", timesteps=40, rate_hz=10.0, warmup_s=0.2)


def result(stamp_ns: int, label: int = 0, latency_ms: float = 1.0) -> Classification:
    """A result for the frame stamped ``stamp_ns``."""
    return Classification(
        stamp_ns, "camera", label, 0.5, (0.0,) * 10, 40, 30, 5, 100, latency_ms, 2.0, 1e-6, 0
    )


def frames(count: int, warmup: int = 0, rate_hz: float = 10.0) -> dict[int, Sent]:
    """``count`` frames sent exactly on a ``rate_hz`` schedule, stamps 1000, 1001, ...; true
    class index % 10; the first ``warmup`` not measured."""
    return {
        1000 + i: Sent(i, i % 10, i / rate_hz, i / rate_hz + 1e-4, i >= warmup)
        for i in range(count)
    }


# --- pure functions -----------------------------------------------------------------------------


def test_spread_uses_linear_percentiles() -> None:
    spread = Spread.of([float(v) for v in range(1, 101)])
    assert (spread.count, spread.median, spread.max, spread.mean) == (100, 50.5, 100.0, 50.5)
    assert spread.p90 == pytest.approx(90.1)
    assert spread.p99 == pytest.approx(99.01)
    empty = Spread.of([])
    assert empty.count == 0 and math.isnan(empty.median)
    assert empty.to_mapping() == {
        "count": 0,
        "median": None,
        "p90": None,
        "p99": None,
        "max": None,
        "mean": None,
    }


def test_schedule_does_not_drift() -> None:
    # Frame i is due at start + i / rate whatever happened before: no accumulated lateness.
    assert [due_time(5.0, 30.0, i) for i in (0, 1, 30, 600)] == [5.0, 5.0 + 1 / 30, 6.0, 25.0]


def test_sleep_until_sleeps_the_remaining_time_and_never_for_past_deadlines() -> None:
    now = [10.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds * 0.5  # an early wake-up: it must sleep again

    assert sleep_until(12.0, lambda: now[0], sleep) >= 12.0
    assert sleeps[0] == 2.0 and len(sleeps) > 1
    sleeps.clear()
    assert sleep_until(3.0, lambda: now[0], sleep) == now[0]
    assert sleeps == []


def test_match_pairs_by_stamp_and_counts_lost_duplicate_and_unknown() -> None:
    sent = frames(6, warmup=2)
    arrivals = [
        Arrival(1.0, result(1000)),  # warm-up: answered, not measured
        Arrival(1.1, result(1002)),
        Arrival(1.2, result(1002)),  # a second answer
        Arrival(1.3, result(999)),  # no such frame
        Arrival(1.4, result(1005)),
        Arrival(1.5, result(1004)),
    ]
    got = match(sent, arrivals)
    assert [frame.index for frame, _ in got.pairs] == [2, 5, 4]
    assert (got.lost, got.unknown) == (1, 2)  # frame 3 lost


def test_input_rate_of_measured_frames() -> None:
    sent = list(frames(31, warmup=1).values())
    assert input_rate(sent) == pytest.approx(10.0)
    assert math.isnan(input_rate(sent[:2]))


def answer(frame: Sent) -> int:
    """The right class for every third frame, else no class."""
    return frame.label if frame.index % 3 == 0 else -1


def test_report_figures_json_and_text() -> None:
    sent = frames(12, warmup=2)
    arrivals = [
        Arrival(frame.at + 0.001 * (frame.index + 1), result(stamp, answer(frame), 0.5))
        for stamp, frame in sent.items()
        if frame.index != 7
    ]
    report = build_report(SETTINGS, 60, sent, arrivals, node_dropped=0)
    assert (report.frames_sent, report.warmup_frames, report.results, report.lost) == (10, 2, 9, 1)
    assert report.latency.median == pytest.approx(7.0)  # 3..12 ms without frame 7's 8 ms
    assert report.latency.max == pytest.approx(12.0)
    assert report.compute.median == 0.5 and report.pipeline.median == 2.0
    assert report.send_lag.median == pytest.approx(0.1)
    assert report.accuracy == pytest.approx(3 / 9)  # indices 2..11 but 7: right for 3, 6, 9
    assert report.timesteps == (40,) and report.mean_timesteps_used == 30.0
    assert report.input_rate_hz == pytest.approx(10.0)
    mapping = json.loads(json.dumps(report.to_mapping(), allow_nan=False))
    assert mapping["latency_ms"]["p99"] == pytest.approx(report.latency.p99)
    assert mapping["settings"]["timesteps"] == 40 and mapping["node_dropped"] == 0
    assert "image->result" in report.table() and "lost 1 (node queue dropped 0)" in report.table()
    assert report.table().startswith("perception over DDS: N60 T=40")
    assert report.summary().startswith("latency image->result median 7.00 ms, p99 ")
    assert "best_effort, DDS); SNN" in report.summary()
    over_rclpy = build_report(dataclasses.replace(SETTINGS, transport="rclpy"), 60, sent, arrivals)
    assert over_rclpy.table().startswith("perception over rclpy: ")
    assert over_rclpy.to_mapping()["settings"]["transport"] == "rclpy"


def test_settings_are_checked_and_count_frames() -> None:
    assert (SETTINGS.warmup_frames, SETTINGS.measured_frames) == (2, 200)
    with pytest.raises(ConfigError, match=r"invalid rate 0.0 Hz, reliability 'sometimes'"):
        LatencySettings("m.npz", 40, rate_hz=0.0, reliability="sometimes")
    assert 10 <= default_domain_id() <= 99 and default_domain_id(91) == 11


# --- real runs -----------------------------------------------------------------------------------


def test_a_short_run_over_dds(
    trained_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At the packaged profile's operating T, 30 Hz of small mono8 frames for 2 s, from a shell
    # without CYCLONEDDS_URI: the command confines itself to loopback (restored after the test).
    monkeypatch.delenv("CYCLONEDDS_URI", raising=False)
    out = tmp_path / "latency.json"
    args = ["latency", "--transport", "dds", "--model", str(trained_model), "--duration", "2"]
    args += ["--warmup", "0.5"]
    args += ["--width", "96", "--height", "72", "--encoding", "mono8", "--scale", "2"]
    assert main([*args, "--log-dir", str(tmp_path / "logs"), "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    operating = select(load_profile(default_profile_path())).point.timesteps
    assert report["settings"]["timesteps"] == operating and report["timesteps"] == [operating]
    assert report["settings"]["transport"] == "dds"
    assert report["frames_sent"] == 60 and report["warmup_frames"] == 15
    assert report["results"] >= 50 and report["lost"] == 60 - report["results"]
    assert 0 < report["latency_ms"]["median"] <= report["latency_ms"]["p99"] < 1000
    assert report["compute_ms"]["median"] < report["pipeline_ms"]["median"]
    assert report["accuracy"] > 0.3 and report["input_rate_hz"] == pytest.approx(30, rel=0.05)


def test_a_node_that_dies_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A model for 16 inputs loads here but the node refuses it (images give 784) and exits.
    params = load_preset("tuned").replace(n_inputs=16, n_neurons=4, timesteps=20)
    model = save_model(tmp_path / "small.npz", Network.fresh(params, seed=0).state)
    args = ["latency", "--transport", "dds", "--model", str(model), "-T", "20"]
    code = main([*args, "--log-dir", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: node perception exited with code 1: ")
    assert "16 inputs, images give 784" in err

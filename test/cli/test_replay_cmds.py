"""``topspark replay``: options from flags, a run end to end, and one-line errors that leave the
output directory untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from topspark_ros.bags.writer import BagWriter
from topspark_ros.cli.main import build_parser, main
from topspark_ros.cli.replay_cmds import options_from_args
from topspark_ros.sim.bag import write_scenario
from topspark_ros.sim.scenario import ScenarioConfig

SMALL = ScenarioConfig(duration_s=2.0, rate_hz=10.0, width=40, height=32, scale=1)


@pytest.fixture(scope="module")
def bag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small scenario bag (MCAP)."""
    return write_scenario(tmp_path_factory.mktemp("b") / "bag", SMALL, "mcap", embedded=True).path


def test_options_from_flags(tmp_path: Path) -> None:
    params = tmp_path / "p.yaml"
    params.write_text("timestep_manager:\n  ros__parameters:\n    mission_time_s: 600.0\n")
    args = build_parser().parse_args(
        [
            "replay", "bag", "--out", "o", "--model", "m.npz", "--profile", "p.yaml",
            "--params", str(params), "--set", "perception.timesteps=40",
            "--set", "online_learner.learn_samples=50", "--image-topic", "/cam", "--learn",
        ]
    )  # fmt: skip
    options = options_from_args(args)
    assert options.perception.timesteps == 40
    assert options.perception.model_path == options.online_learner.model_path == "m.npz"
    assert options.online_learner.learn_samples == 50
    assert options.timestep_manager.mission_time_s == 600.0
    assert options.timestep_manager.profile_path == "p.yaml"
    assert options.topics["image"] == "/cam" and options.topics["battery"] is None
    assert options.learn


def test_replay_end_to_end(
    bag: Path, trained_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(["replay", str(bag), "--out", str(out), "--model", str(trained_model)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "20 frames" in printed and "x real time" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] and summary["speed"]["frames"] == 20
    assert (out / "results" / "metadata.yaml").is_file()
    assert {"classification.csv", "timestep_command.csv", "timesteps_battery.png"} <= {
        p.name for p in out.iterdir()
    }


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "timesteps=40"], "--set expects NODE.KEY=VALUE"),
        (["--set", "perception.timesteps=0"], "timesteps = 0 is outside"),
        (["--image-topic", "/nope"], "--image-topic /nope: no such topic"),
        (["--model", "missing.npz"], "missing.npz"),
    ],
)
def test_bad_options_are_one_line_errors_and_write_nothing(
    bag: Path,
    trained_model: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    out = tmp_path / "out"
    argv = ["replay", str(bag), "--out", str(out), "--model", str(trained_model), *extra]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert not out.exists()


def test_bad_bags_are_one_line_errors(
    trained_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    no_images = tmp_path / "no-images"
    with BagWriter(no_images, "mcap") as writer:
        writer.write("/environment", "std_msgs/msg/String", "lab", 0)
    no_metadata = tmp_path / "no-metadata"
    no_metadata.mkdir()
    (no_metadata / "bag.mcap").write_bytes(b"\x89MCAP0\r\n")
    for path, message in [
        (no_images, "has no sensor_msgs/msg/Image topic"),
        (no_metadata, "has no metadata.yaml"),
        (no_metadata / "bag.mcap", "cannot read bag"),
        (tmp_path / "absent", "does not exist"),
    ]:
        out = tmp_path / "out"
        assert main(["replay", str(path), "--out", str(out), "--model", str(trained_model)]) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and message in err and "\n" not in err, err
        assert not out.exists()

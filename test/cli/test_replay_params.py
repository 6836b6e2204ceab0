"""``topspark replay --params``: a misspelt node section or a file with none for any replay node is
a one-line error, found before the bag is opened (so no bag is needed here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from topspark_ros.cli.main import build_parser, main
from topspark_ros.cli.replay_cmds import options_from_args
from topspark_ros.errors import ConfigError
from topspark_ros.graph.wiring import ROBOT_NODES
from topspark_ros.ros.params_file import check_sections

EXPECTED = (
    "expected one of /**, perception, /perception, timestep_manager, /timestep_manager, "
    "online_learner, /online_learner"
)


def _replay(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run ``topspark replay`` of a missing bag with ``text`` as the params file."""
    params = tmp_path / "p.yaml"
    params.write_text(text)
    out = tmp_path / "out"
    code = main(["replay", str(tmp_path / "no-bag"), "--out", str(out), "--params", str(params)])
    assert not out.exists()
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "perceptoin:\n  ros__parameters:\n    timesteps: 40\n",
            f"unknown node section 'perceptoin' ({EXPECTED})",
        ),
        (
            (
                "perception:\n  ros__parameters:\n    timesteps: 40\n"
                "sim_robot:\n  ros__parameters:\n    rate_hz: 5.0\n"
            ),
            f"unknown node section 'sim_robot' ({EXPECTED})",
        ),
        ("/**/perception:\n  ros__parameters: {}\n", "unknown node section '/**/perception'"),
        ("7:\n  ros__parameters: {}\n", f"unknown node section 7 ({EXPECTED})"),
        ("{}\n", f"no section for any node ({EXPECTED})"),
        ("", f"no section for any node ({EXPECTED})"),
        ("- perception\n", "expected a mapping of node names to parameters"),
    ],
)
def test_bad_sections_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    code, err = _replay(tmp_path, text, capsys)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {tmp_path / 'p.yaml'}: ") and message in lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "text",
    [
        "/**:\n  ros__parameters:\n    use_sim_time: true\n",
        "/perception:\n  ros__parameters:\n    timesteps: 40\n",
        (
            "online_learner:\n  ros__parameters:\n    learn_samples: 50\n"
            "timestep_manager:\n  ros__parameters: {}\n"
        ),
    ],
)
def test_known_sections_are_accepted(tmp_path: Path, text: str) -> None:
    params = tmp_path / "p.yaml"
    params.write_text(text)
    args = build_parser().parse_args(["replay", "bag", "--out", "o", "--params", str(params)])
    options = options_from_args(args)
    if "/perception" in text:
        assert options.perception.timesteps == 40


def test_check_sections_with_a_namespace() -> None:
    data = {"robot/perception": {}, "/robot/timestep_manager": {}, "/**": {}}
    check_sections(data, ROBOT_NODES, "p.yaml", namespace="/robot")
    with pytest.raises(ConfigError, match=r"p\.yaml: unknown node section '/perception'"):
        check_sections({"/perception": {}}, ROBOT_NODES, "p.yaml", namespace="robot")

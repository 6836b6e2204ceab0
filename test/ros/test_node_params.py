"""ROS 2 parameter files -> node config dataclasses: wildcard, plain and qualified sections."""

from __future__ import annotations

from pathlib import Path

import pytest

from topspark_ros.errors import ConfigError
from topspark_ros.nodes.config import PerceptionConfig
from topspark_ros.ros.params_file import load_node_config, node_section


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_sections_merge_wildcard_then_name_then_qualified_name() -> None:
    data = {
        "/**": {"ros__parameters": {"seed": 1, "timesteps": 50}},
        "perception": {"ros__parameters": {"timesteps": 60}},
        "/robot/perception": {"ros__parameters": {"queue_size": 4}},
        "other": {"ros__parameters": {"seed": 9}},
    }
    assert node_section(data, "perception", "/robot") == {
        "seed": 1,
        "timesteps": 60,
        "queue_size": 4,
    }
    assert node_section(data, "perception") == {"seed": 1, "timesteps": 60}


def test_load_node_config_reads_values_and_drops_use_sim_time(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "perception:\n  ros__parameters:\n    timesteps: 40\n    use_sim_time: true\n",
    )
    config = load_node_config(PerceptionConfig, path, "perception")
    assert config.timesteps == 40
    assert load_node_config(PerceptionConfig, None, "perception") == PerceptionConfig()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("perception:\n  timesteps: 40\n", "'perception' has no 'ros__parameters' mapping"),
        ("perception:\n  ros__parameters: [1]\n", "is not a mapping"),
        ("perception:\n  ros__parameters:\n    timesteps: 0\n", r"timesteps = 0 is outside"),
        ("perception:\n  ros__parameters:\n    speed: 1\n", r"unknown key\(s\) speed"),
        ("- 1\n", "expected a mapping of node names"),
        ("perception: [\n", "malformed YAML"),
    ],
)
def test_bad_params_files_name_the_problem(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_node_config(PerceptionConfig, _write(tmp_path, text), "perception")

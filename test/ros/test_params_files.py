"""config/<node>.yaml: generated from the config dataclasses, so files and code cannot drift."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from topspark_ros import docgen
from topspark_ros.config import config_fields, field_note, from_mapping, to_mapping
from topspark_ros.errors import ConfigError
from topspark_ros.graph.wiring import NODES, PERCEPTION, ROBOT_NODES, SIM_NODES
from topspark_ros.ros.params_file import ROS_PARAMETERS, load_node_config

REGENERATE = "python -m topspark_ros.docgen config"
CONTRACT_NODES = {"perception", "timestep_manager", "online_learner"}
SHIPPED_NODES = CONTRACT_NODES | {"sim_robot"}  # the robot's nodes and the simulated robot


def test_node_names_match_the_contract() -> None:
    assert set(ROBOT_NODES) == CONTRACT_NODES
    assert set(SIM_NODES) == {"sim_robot"}
    assert NODES == {**ROBOT_NODES, **SIM_NODES} and set(NODES) == SHIPPED_NODES


@pytest.mark.parametrize("node", sorted(SHIPPED_NODES))
def test_params_file_is_the_generated_text(repo_root: Path, node: str) -> None:
    text = (repo_root / "config" / f"{node}.yaml").read_text(encoding="utf-8")
    assert text == docgen.params_yaml(node), f"config/{node}.yaml is stale: {REGENERATE}"


@pytest.mark.parametrize("node", sorted(SHIPPED_NODES))
def test_params_file_holds_every_field_with_its_default(repo_root: Path, node: str) -> None:
    path = repo_root / "config" / f"{node}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert list(data) == [node]
    assert list(data[node]) == [ROS_PARAMETERS]
    params = data[node][ROS_PARAMETERS]
    cls = NODES[node].config
    assert list(params) == [f.name for f in config_fields(cls)]
    assert from_mapping(cls, params, str(path)) == cls()
    assert load_node_config(cls, path, node) == cls()
    defaults = to_mapping(cls())
    for f in config_fields(cls):  # typed as the field: ROS declares the parameter from it
        assert type(params[f.name]) is type(defaults[f.name]), f.name


@pytest.mark.parametrize(
    "value", [True, False, 0, -3, 2**31 - 1, 0.25, 3600.0, 1e-05, 1e20, "", "a: b", "123", "true"]
)
def test_yaml_scalar_reads_back_with_its_type(value: Any) -> None:
    text = docgen.yaml_scalar(value)
    parsed = yaml.safe_load(f"key: {text}")["key"]
    assert parsed == value and type(parsed) is type(value)


def test_field_note_names_range_and_choices() -> None:
    fields = {f.name: f for f in config_fields(PERCEPTION.config)}
    assert field_note(fields["timesteps"]).endswith("[1..1000]")
    assert field_note(fields["crop_threshold"]).endswith("[0..1]")
    assert field_note(fields["image_reliability"]).endswith("[best_effort | reliable]")
    assert "[" not in field_note(fields["model_path"])


def test_params_yaml_rejects_an_unknown_node() -> None:
    with pytest.raises(ConfigError, match="unknown node 'camera'"):
        docgen.params_yaml("camera")


def test_write_params_and_main_regenerate_every_file(tmp_path: Path) -> None:
    written = docgen.write_params(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{n}.yaml" for n in SHIPPED_NODES)
    for path in written:
        path.write_text("stale\n", encoding="utf-8")
    assert docgen.main([str(tmp_path)]) == 0
    for node in SHIPPED_NODES:
        text = (tmp_path / f"{node}.yaml").read_text(encoding="utf-8")
        assert text == docgen.params_yaml(node)


def test_main_without_a_directory_prints_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert docgen.main([str(tmp_path / "missing")]) == 2
    assert docgen.main([]) == 2
    assert "usage:" in capsys.readouterr().err


def test_docs_carry_the_generated_reference_tables(repo_root: Path) -> None:
    docs = [repo_root / "README.md", *sorted((repo_root / "docs").glob("*.md"))]
    text = "\n".join(path.read_text(encoding="utf-8") for path in docs if path.is_file())
    regenerate = "python -m topspark_ros.docgen --markdown"
    assert docgen.reference_markdown() in text, f"stale tables: paste `{regenerate}`"

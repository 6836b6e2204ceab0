"""Packaging metadata: package.xml, setup.py and the installed distribution agree."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

import topspark_ros

# ``topspark_ros.cli.main`` the attribute is the function; this is the module.
cli_main = importlib.import_module("topspark_ros.cli.main")

ENTRY_POINT = "topspark = topspark_ros.cli.main:run"
# Debian/Ubuntu rosdep keys and ROS packages the nodes need at run time.
EXEC_DEPENDS = {
    "rclpy",
    "launch",
    "launch_ros",
    "std_msgs",
    "sensor_msgs",
    "diagnostic_msgs",
    "python3-numpy",
    "python3-yaml",
    "python3-opencv",
    "python3-tqdm",
}


def setup_call(repo_root: Path) -> dict[str, Any]:
    """The literal keyword arguments of the ``setup(...)`` call in setup.py."""
    tree = ast.parse((repo_root / "setup.py").read_text(encoding="utf-8"))
    constants = {  # module-level NAME = "literal" assignments
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setup":
            kwargs: dict[str, Any] = {}
            for keyword in node.keywords:
                value = keyword.value
                if isinstance(value, ast.Name) and value.id in constants:
                    kwargs[str(keyword.arg)] = constants[value.id]
                    continue
                try:
                    kwargs[str(keyword.arg)] = ast.literal_eval(value)
                except ValueError:
                    kwargs[str(keyword.arg)] = None  # computed at build time
            return kwargs
    raise AssertionError("setup.py has no setup(...) call")


def test_package_xml_basics(repo_root: Path) -> None:
    root = ET.parse(repo_root / "package.xml").getroot()
    assert root.get("format") == "3"
    assert root.findtext("name") == "topspark_ros"
    assert root.findtext("version") == topspark_ros.__version__
    assert root.findtext("license") == "Apache-2.0"
    assert root.findtext("export/build_type") == "ament_python"
    assert {e.text for e in root.iter("exec_depend")} == EXEC_DEPENDS


def test_package_xml_with_catkin_pkg(repo_root: Path) -> None:
    package_mod = pytest.importorskip("catkin_pkg.package")
    package = package_mod.parse_package(str(repo_root / "package.xml"))
    package.validate()
    assert package.package_format == 3
    assert package.name == "topspark_ros"
    assert package.version == topspark_ros.__version__
    assert [str(lic) for lic in package.licenses] == ["Apache-2.0"]
    exec_names = {dep.name for dep in package.exec_depends}
    assert {"rclpy", "python3-numpy", "python3-yaml"} <= exec_names
    assert exec_names == EXEC_DEPENDS
    assert {dep.name for dep in package.test_depends} == {"python3-pytest"}
    build_types = [e.content for e in package.exports if e.tagname == "build_type"]
    assert build_types == ["ament_python"]


def test_setup_py_declarations(repo_root: Path) -> None:
    kwargs = setup_call(repo_root)
    assert kwargs["name"] == "topspark_ros"
    assert kwargs["entry_points"] == {"console_scripts": [ENTRY_POINT]}
    assert kwargs["python_requires"] == ">=3.10"
    assert {"numpy>=1.23", "numba>=0.57", "pyyaml>=6.0"} <= set(kwargs["install_requires"])
    assert "catkin_pkg>=0.5" in kwargs["extras_require"]["test"]
    assert (repo_root / "resource" / "topspark_ros").is_file()


def test_installed_distribution_matches(repo_root: Path) -> None:
    try:
        dist = importlib.metadata.distribution("topspark_ros")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("topspark_ros is not pip-installed in this environment")
    assert dist.version == topspark_ros.__version__
    scripts = {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"}
    assert scripts == {"topspark": "topspark_ros.cli.main:run"}
    assert scripts["topspark"].split(":")[1] in dir(cli_main)


def test_run_exits_with_mains_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_main, "main", lambda: 3)
    with pytest.raises(SystemExit) as info:
        cli_main.run()
    assert info.value.code == 3


def test_console_entry_point_help(repo_root: Path) -> None:
    code = "from topspark_ros.cli.main import run; run()"
    result = subprocess.run(
        [sys.executable, "-c", code, "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=repo_root,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: topspark")

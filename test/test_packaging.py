"""Packaging: package.xml, CMakeLists.txt, setup.py and the installed distribution agree."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

import topspark_ros
from topspark_ros.graph.wiring import NODES

# ``topspark_ros.cli.main`` the attribute is the function; this is the module.
cli_main = importlib.import_module("topspark_ros.cli.main")

ENTRY_POINT = "topspark = topspark_ros.cli.main:run"
# Debian/Ubuntu rosdep keys and ROS packages the nodes, launch files and messages need at run time.
EXEC_DEPENDS = {
    "rosidl_default_runtime",
    "rclpy",
    "launch",
    "launch_ros",
    "std_msgs",
    "sensor_msgs",
    "diagnostic_msgs",
    "builtin_interfaces",
    "ros_gz_sim",
    "ros_gz_bridge",
    "ros2bag",
    "python3-numpy",
    "python3-yaml",
    "python3-opencv",
    "python3-tqdm",
    "python3-psutil",
}
BUILDTOOL_DEPENDS = {"ament_cmake", "ament_cmake_python", "rosidl_default_generators"}
# The ROS executables the contract names (ros2 run topspark_ros <name>), and the
# simulated robot's.
EXECUTABLES = {
    "perception_node",
    "timestep_manager_node",
    "online_learner_node",
    "sim_robot_node",
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
    assert root.findtext("export/build_type") == "ament_cmake"
    runtime = {e.text for e in root.iter("exec_depend")} | {e.text for e in root.iter("depend")}
    assert runtime == EXEC_DEPENDS
    assert {e.text for e in root.iter("buildtool_depend")} == BUILDTOOL_DEPENDS
    assert root.findtext("member_of_group") == "rosidl_interface_packages"


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
    assert {dep.name for dep in package.buildtool_depends} == BUILDTOOL_DEPENDS
    assert {"std_msgs", "builtin_interfaces"} <= {dep.name for dep in package.build_depends}
    assert [group.name for group in package.member_of_groups] == ["rosidl_interface_packages"]
    assert package.get_build_type() == "ament_cmake"


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


# --- CMakeLists.txt (colcon build): parsed, since ament_cmake is not installed here --------------


def cmake_commands(repo_root: Path) -> list[tuple[str, list[str]]]:
    """The commands of CMakeLists.txt in order: (lower-case name, arguments without quotes)."""
    text = (repo_root / "CMakeLists.txt").read_text(encoding="utf-8")
    text = re.sub(r"#[^\n]*", "", text)  # comments (no '#' inside quoted arguments here)
    return [
        (name.lower(), shlex.split(args))
        for name, args in re.findall(r"(\w+)\s*\(([^()]*)\)", text)
    ]


def installs(repo_root: Path, kind: str) -> list[tuple[list[str], str, list[str]]]:
    """``install(<kind> ...)`` rules: (sources, destination, the options after the destination)."""
    rules = []
    for name, args in cmake_commands(repo_root):
        if name == "install" and args[0] == kind:
            at = args.index("DESTINATION")
            rules.append((args[1:at], args[at + 1], args[at + 2 :]))
    return rules


def msg_files(repo_root: Path) -> list[str]:
    """``msg/*.msg`` relative to the repository root, sorted."""
    return sorted(f"msg/{path.name}" for path in (repo_root / "msg").glob("*.msg"))


def test_cmake_generates_exactly_the_msg_files(repo_root: Path) -> None:
    commands = cmake_commands(repo_root)
    rosidl = [args for name, args in commands if name == "rosidl_generate_interfaces"]
    assert len(rosidl) == 1, "CMakeLists.txt must call rosidl_generate_interfaces once"
    args = rosidl[0]
    assert args[0] == "${PROJECT_NAME}"
    at = args.index("DEPENDENCIES")
    assert sorted(args[1:at]) == msg_files(repo_root), "list every msg/*.msg in CMakeLists.txt"
    assert args[at + 1 :] == ["std_msgs", "builtin_interfaces"]
    assert ("project", ["topspark_ros"]) in commands  # C/C++ enabled: rosidl compiles typesupport


def test_cmake_installs_python_tree_after_rosidl(repo_root: Path) -> None:
    commands = cmake_commands(repo_root)
    names = [name for name, _ in commands]
    # ros2/rosidl_python#141: a second Python package install of the same name collides.
    assert "ament_python_install_package" not in names
    tree = [
        i for i, (name, args) in enumerate(commands) if args[:2] == ["DIRECTORY", "topspark_ros/"]
    ]
    assert len(tree) == 1 and names[tree[0]] == "install"
    assert tree[0] > names.index("rosidl_generate_interfaces"), "our __init__.py must win"
    assert names[-1] == "ament_package"


def test_cmake_replaces_the_symlinks_in_the_python_tree(repo_root: Path) -> None:
    package_dir = repo_root / "topspark_ros"
    links = [path for path in package_dir.rglob("*") if path.is_symlink()]
    assert {path.relative_to(package_dir).as_posix() for path in links} == {
        "resources/fastdds.xml",
        "resources/msg",
        "resources/profile.yaml",
    }
    [(_, destination, options)] = [
        rule for rule in installs(repo_root, "DIRECTORY") if rule[0] == ["topspark_ros/"]
    ]
    assert destination == "${topspark_python_dir}/${PROJECT_NAME}"
    excluded = {options[i + 1] for i, word in enumerate(options[:-2]) if word == "PATTERN"}
    files = {(tuple(sources), dest) for sources, dest, _ in installs(repo_root, "FILES")}
    for link in links:
        assert link.name in excluded, f"install(DIRECTORY) must exclude the symlink {link}"
        # PATTERN matches a name anywhere in the tree: nothing else may carry the link's name.
        same_name = [p for p in package_dir.rglob(link.name) if p != link]
        assert not same_name, f"PATTERN {link.name} EXCLUDE would also drop {same_name}"
        relative = link.relative_to(package_dir)
        if link.is_dir():
            wanted = (tuple(msg_files(repo_root)), f"{destination}/{relative.as_posix()}")
        else:
            target = link.resolve().relative_to(repo_root).as_posix()
            wanted = ((target,), f"{destination}/{relative.parent.as_posix()}")
        assert wanted in files, f"install(FILES {wanted[0]} DESTINATION {wanted[1]}) is missing"


def test_cmake_installs_the_executables_launch_and_config(repo_root: Path) -> None:
    assert {spec.executable for spec in NODES.values()} == EXECUTABLES
    [(programs, destination, _)] = installs(repo_root, "PROGRAMS")
    assert destination == "lib/${PROJECT_NAME}"
    assert sorted(programs) == sorted(f"scripts/{name}" for name in EXECUTABLES)
    assert {p.name for p in (repo_root / "scripts").iterdir()} == EXECUTABLES
    share = [
        (sources, dest)
        for sources, dest, _ in installs(repo_root, "DIRECTORY")
        if dest == "share/${PROJECT_NAME}"
    ]
    assert share == [(["launch", "config"], "share/${PROJECT_NAME}")]


def git_mode(repo_root: Path, path: Path) -> str | None:
    """The mode git records for ``path`` (e.g. '100755'); None if untracked or git is absent."""
    if shutil.which("git") is None:
        return None
    result = subprocess.run(
        ["git", "ls-files", "--stage", "--", str(path.relative_to(repo_root))],
        capture_output=True,
        text=True,
        check=False,
        cwd=repo_root,
    )
    return result.stdout.split()[0] if result.returncode == 0 and result.stdout else None


@pytest.mark.parametrize("executable", sorted(EXECUTABLES))
def test_script_is_executable_and_runs_its_node(repo_root: Path, executable: str) -> None:
    script = repo_root / "scripts" / executable
    assert os.access(script, os.X_OK), f"chmod +x {script}"
    assert git_mode(repo_root, script) in (None, "100755"), f"git update-index --chmod=+x {script}"
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env python3\n")
    tree = ast.parse(text)
    imports = {
        alias.name: node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in imports
    ]
    assert len(calls) == 1, "the script calls one imported entry function"
    function, module = calls[0].func.id, imports[calls[0].func.id]  # type: ignore[attr-defined]
    node_name = ast.literal_eval(calls[0].args[0])
    assert NODES[node_name].executable == executable
    # The target module imports rclpy, so check that it defines the function without importing it.
    source = repo_root.joinpath(*module.split(".")).with_suffix(".py")
    defined = {
        n.name
        for n in ast.parse(source.read_text(encoding="utf-8")).body
        if isinstance(n, ast.FunctionDef)
    }
    assert function in defined, f"{module} has no function {function}"


def test_colcon_identifies_an_ament_cmake_package(repo_root: Path) -> None:
    identification = pytest.importorskip(
        "colcon_core.package_identification", reason="colcon-core is not installed"
    )
    pytest.importorskip("colcon_ros", reason="colcon-ros is not installed")
    extensions = identification.get_package_identification_extensions()
    descriptor = identification.identify(extensions, str(repo_root))
    assert descriptor, "colcon does not recognise the repository as a package"
    assert (descriptor.name, descriptor.type) == ("topspark_ros", "ros.ament_cmake")

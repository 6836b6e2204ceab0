"""Layering: the network, the method, data, the shared messages and the node logic import no ROS,
DDS or bag library, and the package's modules import each other without a cycle."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import topspark_ros.data
import topspark_ros.graph
import topspark_ros.nodes
import topspark_ros.sim
import topspark_ros.snn
import topspark_ros.topspark

PACKAGE = "topspark_ros"
FORBIDDEN = ("rclpy", "cyclonedds", "rosbags")  # what only the adapters (ros/, bags/) may load
ADAPTERS = {f"{PACKAGE}.sim.bag"}  # the simulation's bag writer: a scenario into rosbags
# Imports each module in turn; prints {forbidden library: the first module that loaded it}.
PROBE = """
import importlib, json, sys
forbidden, pulled = {forbidden!r}, {{}}
for module in {modules!r}:
    importlib.import_module(module)
    for name in forbidden:
        if name in sys.modules and name not in pulled:
            pulled[name] = module
print(json.dumps(pulled))
"""


def _pure_modules() -> list[str]:
    """``messages`` and every module of snn/, topspark/, data/, sim/, nodes/ and graph/ (the node
    logic and its wiring), except ``ADAPTERS``."""
    modules = [f"{PACKAGE}.messages"]
    for package in (
        topspark_ros.snn,
        topspark_ros.topspark,
        topspark_ros.data,
        topspark_ros.sim,
        topspark_ros.nodes,
        topspark_ros.graph,
    ):
        modules.append(package.__name__)
        prefix = f"{package.__name__}."
        modules += sorted(info.name for info in pkgutil.iter_modules(package.__path__, prefix))
    return [m for m in modules if m not in ADAPTERS]


def test_pure_layers_import_no_ros_dds_or_bag_library(repo_root: Path) -> None:
    modules = _pure_modules()
    assert f"{PACKAGE}.nodes.perception" in modules and f"{PACKAGE}.sim.scenario" in modules
    code = PROBE.format(forbidden=FORBIDDEN, modules=modules)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=repo_root, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    pulled = json.loads(done.stdout)
    assert pulled == {}, " ; ".join(f"{m} loads {lib}" for lib, m in sorted(pulled.items()))


def _module_name(path: Path, root: Path) -> str:
    """The dotted name of the package module at ``path`` (``root`` holds the package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    """Whether an ``if`` test is ``TYPE_CHECKING`` or ``typing.TYPE_CHECKING``."""
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", "")
    return name == "TYPE_CHECKING"


def _run_time_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run when the module is imported: none inside a function or a
    ``TYPE_CHECKING`` block (its ``else`` branch does run)."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _run_time_imports(node.orelse)
        else:  # class bodies, if/try/with/for/while/match blocks run at import time
            for field in ("body", "orelse", "finalbody"):
                yield from _run_time_imports(getattr(node, field, []))
            for part in [*getattr(node, "handlers", []), *getattr(node, "cases", [])]:
                yield from _run_time_imports(part.body)


def _targets(
    node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: set[str]
) -> set[str]:
    """The ``modules`` an import statement of ``module`` loads by name: ``from X import y`` the
    module ``X.y`` where y is one, and ``X`` where some name is not a submodule."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names} & modules
    base = node.module or ""
    if node.level:
        anchor = module.split(".")
        anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
        base = ".".join([*anchor, base] if base else anchor)
    found = {f"{base}.{alias.name}" for alias in node.names} & modules
    if len(found) < len(node.names) and base in modules:
        found.add(base)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Each module of the package under ``root`` -> the package modules it imports at run time."""
    paths = {_module_name(path, root): path for path in sorted((root / PACKAGE).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        is_package = path.name == "__init__.py"
        graph[module] = set()
        for node in _run_time_imports(tree.body):
            graph[module] |= _targets(node, module, is_package, set(paths))
        graph[module].discard(module)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """A cycle of ``graph`` as [a, b, ..., a]; [] when there is none."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str]:
        """Depth first from ``node``; the cycle closed by an edge back onto the path, if any."""
        path.append(node)
        on_path.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in done:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return []

    for start in sorted(graph):
        if start not in done:
            cycle = visit(start)
            if cycle:
                return cycle
    return []


def test_find_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"b"}}) == ["b", "c", "b"]


def test_import_graph_reads_run_time_imports(tmp_path: Path) -> None:
    package = tmp_path / PACKAGE
    (package / "sub").mkdir(parents=True)
    for name in ("__init__.py", "a.py", "b.py", "c.py", "sub/__init__.py", "sub/d.py"):
        (package / name).touch()
    (package / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from topspark_ros import b\n"
        "from topspark_ros.sub.d import thing\n"
        "if TYPE_CHECKING:\n    from topspark_ros import c\n"
        "def f():\n    import topspark_ros.c\n"
    )
    (package / "sub" / "d.py").write_text("from .. import c\nfrom . import other\n")
    graph = import_graph(tmp_path)
    assert graph[f"{PACKAGE}.a"] == {f"{PACKAGE}.b", f"{PACKAGE}.sub.d"}
    assert graph[f"{PACKAGE}.sub.d"] == {f"{PACKAGE}.c", f"{PACKAGE}.sub"}


def test_package_imports_have_no_cycle(repo_root: Path) -> None:
    graph = import_graph(repo_root)
    assert f"{PACKAGE}.messages" in graph[f"{PACKAGE}.nodes.perception"]
    cycle = find_cycle(graph)
    assert not cycle, "import cycle: " + " -> ".join(cycle)

"""Every msg/*.msg parses with Debian's rosidl parser (python3-rosidl), which colcon builds use,
and the parser reads the same fields, types and constants as the rosbags typestore.

rosidl_adapter is a system package, not importable from a virtual environment: it runs in
/usr/bin/python3. Without it the test is skipped, unless CI is set (.ci/run installs it).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from rosbags.interfaces import Nodetype

from topspark_ros.interfaces.typestore import PACKAGE, build_typestore
from topspark_ros.packaged import msg_dir

SYSTEM_PYTHON = Path("/usr/bin/python3")
# Runs in the system Python: prints {msg name: {"fields": [[name, type]], "constants": [...]}}.
PARSE_SCRIPT = """
import json, sys
from rosidl_adapter.parser import parse_message_file

def canonical(t):
    name = f"{t.pkg_name}/msg/{t.type}" if t.pkg_name else t.type
    if t.type == "string" and t.string_upper_bound:
        name += f"<={t.string_upper_bound}"
    if t.is_array:
        if t.array_size is None:
            name += "[]"
        else:
            name += f"[<={t.array_size}]" if t.is_upper_bound else f"[{t.array_size}]"
    return name

out = {}
for path in sys.argv[2:]:
    spec = parse_message_file(sys.argv[1], path)
    out[spec.msg_name] = {
        "fields": [[f.name, canonical(f.type)] for f in spec.fields],
        "constants": [[c.name, c.type, c.value] for c in spec.constants],
    }
print(json.dumps(out))
"""


def _rosidl_available() -> bool:
    if not SYSTEM_PYTHON.is_file():
        return False
    check = [str(SYSTEM_PYTHON), "-c", "import rosidl_adapter.parser"]
    return subprocess.run(check, capture_output=True, env=_system_env()).returncode == 0


def _system_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


@pytest.fixture(scope="module")
def rosidl_specs() -> dict[str, Any]:
    """What Debian's rosidl parser reads from each msg/*.msg, by message name."""
    if not _rosidl_available():
        reason = "Debian's python3-rosidl is not installed for /usr/bin/python3"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set: .ci/run must install it)")
        pytest.skip(f"{reason} (apt-get install python3-rosidl)")
    paths = sorted(str(path) for path in msg_dir().glob("*.msg"))
    command = [str(SYSTEM_PYTHON), "-c", PARSE_SCRIPT, PACKAGE, *paths]
    done = subprocess.run(command, capture_output=True, text=True, env=_system_env())
    assert done.returncode == 0, done.stderr
    specs: dict[str, Any] = json.loads(done.stdout)
    return specs


def _canonical(desc: Any) -> str:
    """A typestore field description written as rosidl_adapter's canonical() above writes it."""
    kind, detail = desc
    if kind == Nodetype.BASE:
        basename, bound = detail
        return f"{basename}<={bound}" if bound else str(basename)
    if kind == Nodetype.NAME:
        return str(detail)
    subdesc, size = detail
    if kind == Nodetype.ARRAY:
        return f"{_canonical(subdesc)}[{size}]"
    return f"{_canonical(subdesc)}[<={size}]" if size else f"{_canonical(subdesc)}[]"


def test_every_msg_file_parses(rosidl_specs: dict[str, Any]) -> None:
    assert sorted(rosidl_specs) == sorted(path.stem for path in msg_dir().glob("*.msg"))
    for spec in rosidl_specs.values():
        assert spec["fields"], "a message without fields"


def test_rosidl_and_typestore_agree(rosidl_specs: dict[str, Any]) -> None:
    store = build_typestore()
    for name, spec in rosidl_specs.items():
        consts, fields = store.fielddefs[f"{PACKAGE}/msg/{name}"]
        assert [[field, _canonical(desc)] for field, desc in fields] == spec["fields"], name
        assert [list(const) for const in consts] == spec["constants"], name

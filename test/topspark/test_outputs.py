"""The method's result tables: ``write_rows`` writes a CSV (the package's one CSV writer) and a
JSON of the same rows, and a failed write is one TopsparkError naming the file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from topspark_ros.errors import TopsparkError
from topspark_ros.io_utils import csv_bytes
from topspark_ros.topspark.outputs import write_rows

NAMES = ["dataset", "enhanced", "accuracy"]
ROWS = [
    {"dataset": "mnist", "enhanced": True, "accuracy": 0.9},
    {"dataset": "fashion, mnist", "enhanced": False, "accuracy": math.inf},
]


def test_write_rows_writes_csv_and_json(tmp_path: Path) -> None:
    csv_path, json_path = write_rows(tmp_path / "out", "sweep", NAMES, ROWS)
    assert (csv_path.name, json_path.name) == ("sweep.csv", "sweep.json")
    assert csv_path.read_bytes() == csv_bytes(NAMES, ROWS)
    assert csv_path.read_text().splitlines() == [
        "dataset,enhanced,accuracy",
        "mnist,True,0.9",
        '"fashion, mnist",False,inf',
    ]
    assert json.loads(json_path.read_text())["results"][0] == ROWS[0]


def test_a_failed_write_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(self: Path, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(TopsparkError, match=r"cannot write sweep\.csv: No space left on device"):
        write_rows(tmp_path, "sweep", NAMES, ROWS)
    assert list(tmp_path.iterdir()) == []

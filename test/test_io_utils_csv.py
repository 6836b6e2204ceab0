"""The package's one CSV writer (``io_utils.csv_bytes`` / ``write_csv``): the same bytes as the two
writers it replaced (``csv.DictWriter`` of the method's tables, ``csv.writer`` of the replay's),
mapping rows checked against the header, and files replaced whole or not at all."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from topspark_ros.io_utils import csv_bytes, write_csv
from topspark_ros.replay.tables import cell

HEADER = ["name", "n", "x", "flag", "note"]
# Cells that exercise quoting and str(): separators, quotes, a line break, non-ASCII, bools, None,
# non-finite and long floats.
ROWS: list[list[Any]] = [
    ["plain", 1, 0.1, True, None],
    ['comma, "quote"', -2, math.nan, False, "line\nbreak"],
    ["é ünïcode", 10**20, math.inf, 0, 1 / 3],
    ["", 0, -math.inf, None, " spaced "],
]


def _dict_writer(header: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> bytes:
    """What ``topspark.outputs.write_rows`` wrote before: csv.DictWriter."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(header), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode()


def _replay_writer(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """What ``replay.report.csv_bytes`` wrote before: csv.writer over the replay's cells."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([cell(v) for v in row] for row in rows)
    return text.getvalue().encode()


def test_mapping_rows_give_what_dict_writer_gave() -> None:
    rows = [dict(zip(HEADER, row, strict=True)) for row in ROWS]
    rows[0].pop("note")  # a missing key is a blank cell
    assert csv_bytes(HEADER, rows) == _dict_writer(HEADER, rows)
    assert b"True" in csv_bytes(HEADER, rows)  # cells as they are: the method's tables


def test_replay_cells_give_what_the_replay_writer_gave() -> None:
    rows = [[cell(v) for v in row] for row in ROWS]
    assert csv_bytes(HEADER, rows) == _replay_writer(HEADER, ROWS)
    lines = csv_bytes(HEADER, rows).decode().splitlines()
    assert lines[0] == "name,n,x,flag,note" and lines[1] == "plain,1,0.1,1,"


def test_sequence_and_mapping_rows_agree() -> None:
    rows = [dict(zip(HEADER, row, strict=True)) for row in ROWS]
    assert csv_bytes(HEADER, rows) == csv_bytes(HEADER, ROWS)
    assert csv_bytes(HEADER, []) == b"name,n,x,flag,note\n"


def test_a_mapping_with_a_field_not_in_the_header_is_refused() -> None:
    with pytest.raises(ValueError, match=r"fields not in fieldnames: 'extra'"):
        csv_bytes(["a"], [{"a": 1, "extra": 2}])


def test_write_csv_replaces_the_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "t.csv", HEADER, ROWS)
    assert path.read_bytes() == csv_bytes(HEADER, ROWS)

    def half_then_fail(self: Path, data: bytes) -> int:
        with self.open("wb") as f:
            f.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", half_then_fail)
    with pytest.raises(OSError, match="No space"):
        write_csv(path, ["other"], [])
    assert path.read_bytes() == csv_bytes(HEADER, ROWS)
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]

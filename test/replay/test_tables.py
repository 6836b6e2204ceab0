"""The replay's CSV tables: the cell form (blanks, bools as 1/0) and what each table holds."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from topspark_ros.messages import BatteryReading, Classification, Label
from topspark_ros.replay.metrics import judge
from topspark_ros.replay.records import ReplayLog
from topspark_ros.replay.tables import cell, classification_table, stream_tables

S = 1_000_000_000


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (math.nan, ""),
        (-math.inf, ""),
        (True, 1),
        (False, 0),
        (0.25, 0.25),
        (7, 7),
        ("text", "text"),
    ],
)
def test_cell(value: Any, expected: Any) -> None:
    assert cell(value) == expected and type(cell(value)) is type(expected)


def test_tables_hold_values_in_file_form(
    result: Callable[..., Classification], new_log: Callable[..., ReplayLog]
) -> None:
    log = new_log(start_ns=S, end_ns=3 * S, battery=[(2 * S, BatteryReading(0, 0.5))])
    log.classifications = [(S, result(7, 1, energy_j=math.inf)), (3 * S, result(8, 2))]
    log.labels = {8: Label(8, 2, "dusk")}
    header, raw = classification_table(log, judge(log))
    assert raw[0][:6] == [0.0, 7, 1, None, None, "default"]
    tables = stream_tables(log, judge(log))
    assert len(tables) == 6 and tables["classification.csv"][0] == header
    first, second = tables["classification.csv"][1]
    assert first[:6] == [0.0, 7, 1, "", "", "default"]
    assert first[header.index("energy_j")] == ""
    assert second[:6] == [2.0, 8, 2, 2, 1, "dusk"]
    battery_header, battery_rows = tables["battery.csv"]
    assert battery_header[-2:] == ["power_supply_status", "fraction"]
    assert battery_rows[0][0] == 1.0 and battery_rows[0][-1] == 0.5
    assert tables["environment.csv"] == (["bag_time_s", "environment"], [])

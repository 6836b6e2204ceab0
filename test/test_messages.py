"""The shared vocabulary: the wire numbers and report names of modes and states."""

from __future__ import annotations

import pytest

from topspark_ros.messages import LearningState, TimestepCommand, TimestepMode


def test_modes_and_states_keep_their_numbers_and_names() -> None:
    # Numbers go on the wire, names into logs, CSV and JSON reports: both must stay as they are.
    assert {m.text: int(m) for m in TimestepMode} == {
        "nominal": 0,
        "saving": 1,
        "critical": 2,
        "fallback": 3,
    }
    assert {s.text: int(s) for s in LearningState} == {
        "idle": 0,
        "learning": 1,
        "labelling": 2,
        "checkpoint": 3,
    }
    assert TimestepCommand.MODE_CRITICAL is TimestepMode.CRITICAL
    assert TimestepMode.text_of(1) == "saving" and LearningState.text_of(2) == "labelling"


@pytest.mark.parametrize("value", [-1, 4, 255])
def test_a_number_without_a_name_is_shown_as_the_number(value: int) -> None:
    assert TimestepMode.text_of(value) == LearningState.text_of(value) == str(value)

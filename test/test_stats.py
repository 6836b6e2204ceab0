"""stats: the Spread of measured times and the Wilson interval of an accuracy."""

from __future__ import annotations

import pytest

from topspark_ros.stats import Spread, wilson_interval


def test_wilson_interval_matches_published_values() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857, table I: 81/263 -> 0.2553-0.3662,
    # 15/148 -> 0.0624-0.1605 (score method without continuity correction).
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson_interval(15, 148) == pytest.approx((0.0624, 0.1605), abs=1e-4)


def test_wilson_interval_edges() -> None:
    assert wilson_interval(0, 0) is None
    low, high = wilson_interval(0, 10) or (None, None)
    assert low == 0.0 and 0.0 < high < 0.35
    assert wilson_interval(10, 10) == pytest.approx((1 - high, 1.0))
    # few frames: a wide interval; many: a narrow one
    few, many = wilson_interval(40, 46), wilson_interval(4000, 4600)
    assert few is not None and many is not None
    assert few[1] - few[0] > 5 * (many[1] - many[0])


def test_spread_of_nothing_is_nan_and_json_ready() -> None:
    spread = Spread.of([])
    assert spread.count == 0
    assert spread.to_mapping()["median"] is None
    assert Spread.of([1.0, 2.0, 3.0]).median == 2.0

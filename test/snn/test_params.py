"""NetworkParams' bound on T is stated once: the node configs and the command line take it."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

import pytest

from topspark_ros.cli import args as argtypes
from topspark_ros.nodes.config import OnlineLearnerConfig, PerceptionConfig, TimestepManagerConfig
from topspark_ros.snn.params import MAX_TIMESTEPS, MIN_TIMESTEPS, NetworkParams


def _range(cls: type[Any], name: str) -> tuple[Any, Any]:
    """A config field's (lo, hi) from its ``spec`` metadata."""
    meta = {f.name: f.metadata for f in dataclasses.fields(cls)}[name]
    return meta["lo"], meta["hi"]


def test_the_t_field_states_the_bound() -> None:
    assert _range(NetworkParams, "timesteps") == (MIN_TIMESTEPS, MAX_TIMESTEPS)


@pytest.mark.parametrize(
    ("cls", "name", "lo"),
    [
        (PerceptionConfig, "timesteps", MIN_TIMESTEPS),
        (OnlineLearnerConfig, "train_timesteps", MIN_TIMESTEPS),
        (TimestepManagerConfig, "fallback_timesteps", 0),  # 0: the cheapest critical point
    ],
)
def test_node_configs_take_the_bound(cls: type[Any], name: str, lo: int) -> None:
    assert _range(cls, name) == (lo, MAX_TIMESTEPS)


def test_the_timesteps_flag_takes_the_bound() -> None:
    assert argtypes.timesteps(str(MAX_TIMESTEPS)) == MAX_TIMESTEPS
    with pytest.raises(argparse.ArgumentTypeError, match=rf"in 1\.\.{MAX_TIMESTEPS}, got 1001"):
        argtypes.timesteps(str(MAX_TIMESTEPS + 1))

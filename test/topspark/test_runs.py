"""The serial runner: jobs in order, progress, finished results kept when a run fails, and the
choice of executor (no Dask for ``workers=0``; the Dask tests are in test_dask_runs.py)."""

from __future__ import annotations

import sys

import pytest

from topspark_ros.errors import ConfigError
from topspark_ros.topspark.runs import Execution, Runner, open_runner, run_jobs


def _scaled(x: int, factor: int) -> int:
    if x < 0:
        raise ConfigError(f"negative job {x}")
    return x * factor


def test_serial_runs_in_order_with_progress() -> None:
    seen: list[tuple[int, int]] = []
    got: list[tuple[int, int]] = []
    runner = Runner(lambda done, total: seen.append((done, total)))
    assert run_jobs(_scaled, [3, 1, 2], (10,), runner, lambda i, r: got.append((i, r))) == [
        30,
        10,
        20,
    ]
    assert got == [(0, 30), (1, 10), (2, 20)]
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_a_failed_run_keeps_the_finished_ones() -> None:
    batch = Runner().submit(_scaled, [1, 2, -1, 4], (2,))
    with pytest.raises(ConfigError, match="negative job -1"):
        batch.results()
    assert batch.done == {0: 2, 1: 4}
    assert batch.finished() == [2, 4]


def test_workers_zero_is_serial_without_dask(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:9")  # ignored by workers=0
    monkeypatch.setitem(sys.modules, "distributed", None)  # importing it would fail
    assert Execution.serial().is_serial
    with open_runner(Execution(workers=0)) as runner:
        assert type(runner) is Runner
        assert runner.submit(_scaled, [5], (3,)).results() == [15]


def test_dask_missing_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with (
        pytest.raises(ConfigError, match=r"needs dask\[distributed\].*--workers 0"),
        open_runner(Execution(workers=2)),
    ):
        pass


@pytest.mark.parametrize(("workers", "retries"), [(-1, 0), (1, -1)])
def test_execution_rejects_negative_counts(workers: int, retries: int) -> None:
    with pytest.raises(ValueError, match="must be >= 0"):
        Execution(workers=workers, retries=retries)

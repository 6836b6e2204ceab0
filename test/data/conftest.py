"""Fixtures for the data tests: a hermetic environment and tiny IDX datasets in tmp_path
(written by test/support/idx_datasets.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from idx_datasets import write_data_root


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No $TOPSPARK_DATA, an empty user cache, and no proxies for the loopback server."""
    monkeypatch.delenv("TOPSPARK_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """A data directory holding tiny ``mnist`` and ``fashion-mnist`` datasets (gzip IDX)."""
    return write_data_root(tmp_path / "datasets")

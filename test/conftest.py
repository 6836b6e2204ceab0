"""Shared fixtures for the whole test tree."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo_root() -> Path:
    """The source checkout's root directory (holds package.xml, setup.py, config/)."""
    return REPO_ROOT

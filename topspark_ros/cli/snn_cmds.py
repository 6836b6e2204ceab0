"""SNN commands (``train``, ``eval``, ``bench``)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the SNN sub-commands."""

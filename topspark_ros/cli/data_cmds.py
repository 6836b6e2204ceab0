"""Data commands (``make-sample``, ``download``)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the data sub-commands."""

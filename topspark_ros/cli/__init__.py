"""The ``topspark`` command: one module per command family, each adding its sub-commands."""

from topspark_ros.cli.main import main

__all__ = ["main"]

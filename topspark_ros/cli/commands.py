"""The list of command registrars; each adds its sub-parsers and sets ``func``."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from topspark_ros.cli import (
    data_cmds,
    demo_cmds,
    latency_cmds,
    makebag_cmds,
    method_cmds,
    node_cmds,
    profile_cmds,
    replay_cmds,
    reproduce_cmds,
    snn_cmds,
)

Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

REGISTRARS: list[Registrar] = [
    snn_cmds.register,
    method_cmds.register,
    profile_cmds.register,
    reproduce_cmds.register,
    data_cmds.register,
    node_cmds.register,
    latency_cmds.register,
    makebag_cmds.register,
    replay_cmds.register,
    demo_cmds.register,
]

__all__ = ["REGISTRARS"]

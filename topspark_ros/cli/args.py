"""The command line's parser class and typed ``type=`` callables: every numeric option is
checked once, at parse time.

Each raises ``argparse.ArgumentTypeError`` with a short reason, which argparse turns into
``error: argument --flag: must be ..., got X`` (exit status 2), so no bad number reaches a command.
Ranges of options that set a configuration field come from the field's own metadata
(``config.spec``), so the flag and the YAML key cannot drift apart.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any, NoReturn

from topspark_ros import config
from topspark_ros.snn.params import NetworkParams

EXIT_USAGE = 2  # a bad command line, as argparse and POSIX utilities have it
MAX_SEED = 2**31 - 1  # the seeds of every node configuration are 0..2**31-1
MAX_DOMAIN_ID = 232  # as ``ros/dds/names.py`` (not imported: that package loads cyclonedds)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one ``error:`` line and a hint, exit status 2.

    argparse's own ``error`` prints the whole usage text first; sub-command parsers are made of
    the same class (``add_subparsers`` uses ``type(parent)``), so every command behaves alike.
    """

    def error(self, message: str) -> NoReturn:
        """Print ``error: <message>`` and where to find the usage, then exit 2."""
        self.exit(EXIT_USAGE, f"error: {message}\n(see '{self.prog} --help')\n")


def _fmt(value: float) -> str:
    """A bound as a short number: 1000, 0.01, 1e+06."""
    return f"{value:g}"


def int_in(lo: int, hi: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer >= ``lo`` (and <= ``hi`` if given)."""
    if hi is not None:
        what = f"an integer in {lo}..{hi}"
    elif lo in (0, 1):
        what = "a positive integer" if lo == 1 else "a non-negative integer"
    else:
        what = f"an integer >= {lo}"

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if value < lo or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"must be {what}, got {value}")
        return value

    return parse


def float_in(
    lo: float | None = None, hi: float | None = None, open_lo: bool = False
) -> Callable[[str], float]:
    """An argparse type: a finite number >= ``lo`` (> with ``open_lo``) and <= ``hi``."""
    if lo is not None and hi is not None and not open_lo:
        what = f"a number in [{_fmt(lo)}, {_fmt(hi)}]"
    else:
        bounds = [] if lo is None else [f"{'>' if open_lo else '>='} {_fmt(lo)}"]
        bounds += [] if hi is None else [f"<= {_fmt(hi)}"]
        what = " ".join(["a finite number", " and ".join(bounds)]).strip()

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        low_ok = lo is None or (value > lo if open_lo else value >= lo)
        if not (math.isfinite(value) and low_ok and (hi is None or value <= hi)):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text.strip()}")
        return value

    return parse


def _field_range(cls: type[Any], name: str) -> tuple[Any, Any]:
    """The inclusive (lo, hi) of a configuration dataclass field (``config.spec`` metadata)."""
    fields = {f.name: f for f in config.config_fields(cls)}
    meta = fields[name].metadata
    return meta.get("lo"), meta.get("hi")


def config_int(cls: type[Any], name: str) -> Callable[[str], int]:
    """An argparse type for an integer flag that sets ``cls.name``: that field's range."""
    lo, hi = _field_range(cls, name)
    return int_in(int(lo), None if hi is None else int(hi))


def config_float(cls: type[Any], name: str) -> Callable[[str], float]:
    """An argparse type for a number flag that sets ``cls.name``: finite, in that field's range."""
    lo, hi = _field_range(cls, name)
    return float_in(lo, hi)


positive_int = int_in(1)
non_negative_int = int_in(0)
positive_float = float_in(0.0, open_lo=True)
non_negative_float = float_in(0.0)
probability = float_in(0.0, 1.0)
percent = float_in(0.0, 100.0)
seed = int_in(0, MAX_SEED)
domain_id = int_in(0, MAX_DOMAIN_ID)
neurons = config_int(NetworkParams, "n_neurons")  # N: excitatory neurons
timesteps = config_int(NetworkParams, "timesteps")  # T: simulation steps per sample


__all__ = [
    "EXIT_USAGE",
    "MAX_DOMAIN_ID",
    "MAX_SEED",
    "Parser",
    "config_float",
    "config_int",
    "domain_id",
    "float_in",
    "int_in",
    "neurons",
    "non_negative_float",
    "non_negative_int",
    "percent",
    "positive_float",
    "positive_int",
    "probability",
    "seed",
    "timesteps",
]

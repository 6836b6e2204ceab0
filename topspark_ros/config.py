"""Frozen-dataclass configuration: YAML loading with key, type and range checks.

Fields declare their limits in ``field(metadata=...)`` with ``spec(...)``; the same metadata later
drives ROS parameter descriptors, so YAML, launch files and code cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, TypeVar

import yaml

from topspark_ros.errors import ConfigError

T = TypeVar("T")


def spec(
    doc: str,
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Field metadata: a one-line description, an inclusive [lo, hi] range or a set of choices."""
    return {"doc": doc, "lo": lo, "hi": hi, "choices": choices}


def _field_type(field: dataclasses.Field[Any]) -> type:
    """The runtime type of a field (annotations are strings under ``from __future__``)."""
    names = {"int": int, "float": float, "str": str, "bool": bool}
    ann = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
    if ann not in names:
        raise TypeError(f"unsupported config field type {field.type!r} for {field.name}")
    return names[ann]


def check_value(field: dataclasses.Field[Any], value: Any, source: str) -> Any:
    """Coerce ``value`` to the field's type and check its range or choices; raise ConfigError."""
    kind = _field_type(field)
    where = f"{source}: {field.name}"
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, got {value!r}")
        return value
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {value!r}")
        choices = field.metadata.get("choices")
        if choices and value not in choices:
            raise ConfigError(f"{where} must be one of {', '.join(choices)}, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} must be a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where} must be finite, got {value!r}")
    if kind is int:
        if float(value) != int(value):
            raise ConfigError(f"{where} must be an integer, got {value!r}")
        value = int(value)
    else:
        value = float(value)
    lo, hi = field.metadata.get("lo"), field.metadata.get("hi")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ConfigError(f"{where} = {value} is outside [{lo}, {hi}]")
    return value


def from_mapping(cls: type[T], mapping: Any, source: str = "config") -> T:
    """Build the frozen dataclass ``cls`` from a mapping, rejecting unknown keys and bad values."""
    if mapping is None:
        mapping = {}
    if not isinstance(mapping, dict):
        raise ConfigError(
            f"{source}: expected a mapping of keys to values, got {type(mapping).__name__}"
        )
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(mapping) - set(fields))
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(map(str, unknown))}")
    values = {name: check_value(fields[name], val, source) for name, val in mapping.items()}
    try:
        return cls(**values)
    except ValueError as err:
        raise ConfigError(f"{source}: {err}") from err


def to_mapping(obj: Any) -> dict[str, Any]:
    """A plain dict of a config dataclass, suitable for YAML or JSON."""
    return dataclasses.asdict(obj)


def read_yaml(
    path: str | Path, what: str = "config file", error: type[ConfigError] = ConfigError
) -> Any:
    """Parse a YAML file with ``safe_load``; an unreadable or malformed file raises ``error``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or err
        raise error(f"{path}: cannot read {what} ({reason})") from err
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        line = getattr(getattr(err, "problem_mark", None), "line", None)
        at = f" at line {line + 1}" if line is not None else ""
        raise error(f"{path}: malformed YAML{at}") from err


def load(cls: type[T], path: str | Path, section: str | None = None) -> T:
    """Load ``cls`` from a YAML file, optionally from one top-level ``section`` of it."""
    data = read_yaml(path)
    source = str(path)
    if section is not None:
        if not isinstance(data, dict) or section not in data:
            raise ConfigError(f"{path}: missing section '{section}'")
        data = data[section]
        source = f"{path} [{section}]"
    return from_mapping(cls, data, source)


__all__ = ["check_value", "from_mapping", "load", "read_yaml", "spec", "to_mapping"]

"""Frozen-dataclass configuration: YAML loading with key, type and range checks.

Fields declare their limits in ``field(metadata=...)`` with ``spec(...)``; the same metadata later
drives ROS parameter descriptors, so YAML, launch files and code cannot drift apart.

A config may hold another config in a field declared with ``nested(...)`` (the simulated robot
holds a ``ScenarioConfig``): its fields are still the outer config's own flat parameters, under
their own names. ``config_fields``, ``to_mapping`` and ``from_mapping`` are the one place that
walks a config's parameters; params files, ROS parameters, launch arguments, ``--set`` and the
generated docs all go through them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
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


NESTED = "nested"  # metadata key of a field holding another config


def nested(doc: str, names: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Metadata of a field holding another config dataclass (its default says which): the
    parameters ``names`` of that config (None: all) become this config's own flat parameters,
    with their ranges and checks; the others keep the default's values."""
    return {"doc": doc, NESTED: names}


def _nested_default(field: dataclasses.Field[Any]) -> Any:
    """The config a nested field holds by default."""
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    raise TypeError(f"nested config field {field.name} needs a default")


def _exposed(field: dataclasses.Field[Any]) -> tuple[dataclasses.Field[Any], ...]:
    """The parameters a nested field contributes: those it names of the config it holds."""
    inner = config_fields(type(_nested_default(field)))
    names = field.metadata[NESTED]
    if names is None:
        return inner
    missing = sorted(set(names) - {f.name for f in inner})
    if missing:
        raise TypeError(f"nested config field {field.name} names no parameter {missing}")
    return tuple(f for f in inner if f.name in names)


def config_fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    """The parameters of config dataclass ``cls`` in declaration order: its fields, each nested
    one replaced by the parameters it contributes (recursively). TypeError on a repeated name."""
    found: list[dataclasses.Field[Any]] = []
    for field in dataclasses.fields(cls):
        found += _exposed(field) if NESTED in field.metadata else [field]
    names = [f.name for f in found]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise TypeError(f"{cls.__name__} has more than one parameter named {repeated}")
    return tuple(found)


def field_kind(field: dataclasses.Field[Any]) -> type:
    """bool, int, float or str: the type of the field's default, as ROS declares the parameter."""
    if field.default is dataclasses.MISSING:
        raise TypeError(f"config field {field.name} needs a default to become a ROS parameter")
    return type(field.default)


def field_range(field: dataclasses.Field[Any]) -> str:
    """A field's range ``[lo..hi]`` or choices ``[a | b]``; '' if it has neither."""
    meta = field.metadata
    if meta.get("choices"):
        return f"[{' | '.join(meta['choices'])}]"
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is None and hi is None:
        return ""
    return f"[{_number(lo)}..{_number(hi)}]"


def field_note(field: dataclasses.Field[Any]) -> str:
    """A field's description followed by its range or choices."""
    parts = (str(field.metadata.get("doc", "")), field_range(field))
    return " ".join(part for part in parts if part)


def _number(value: float | None) -> str:
    """A range bound as written in the parameter files: integral values without a decimal point."""
    if value is None:
        return ""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


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
    fields = {f.name: f for f in config_fields(cls)}
    unknown = sorted(set(mapping) - set(fields))
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(map(str, unknown))}")
    values = {name: check_value(fields[name], val, source) for name, val in mapping.items()}
    try:
        built: T = _build(cls, values, None)
    except ValueError as err:
        raise ConfigError(f"{source}: {err}") from err
    return built


def _build(cls: type, values: dict[str, Any], base: Any) -> Any:
    """``cls`` with the checked flat ``values`` over ``base`` (None: the defaults); a nested
    config takes its parameters from ``values`` over the one ``base`` (or the default) holds."""
    kwargs: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if NESTED in field.metadata:
            inner = _nested_default(field) if base is None else getattr(base, field.name)
            names = {f.name for f in _exposed(field)}
            mine = {name: value for name, value in values.items() if name in names}
            kwargs[field.name] = _build(type(inner), mine, inner) if mine else inner
        elif field.name in values:
            kwargs[field.name] = values[field.name]
    return cls(**kwargs) if base is None else dataclasses.replace(base, **kwargs)


def to_mapping(obj: Any) -> dict[str, Any]:
    """A config dataclass's parameters as a flat dict (``config_fields`` order), suitable for
    YAML, JSON or ROS parameters; ``from_mapping`` reads it back."""
    out: dict[str, Any] = {}
    for field in dataclasses.fields(obj):
        value = getattr(obj, field.name)
        if NESTED in field.metadata:
            inner = to_mapping(value)
            out.update((f.name, inner[f.name]) for f in _exposed(field))
        else:
            out[field.name] = value
    return out


def updated(obj: T, changes: Mapping[str, Any], source: str = "config") -> T:
    """Config dataclass ``obj`` with the parameters in ``changes`` replaced, all checked again."""
    return from_mapping(type(obj), {**to_mapping(obj), **changes}, source)


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


__all__ = [
    "NESTED",
    "check_value",
    "config_fields",
    "field_kind",
    "field_note",
    "field_range",
    "from_mapping",
    "load",
    "nested",
    "read_yaml",
    "spec",
    "to_mapping",
    "updated",
]

"""ROS parameters from a config dataclass: descriptors with ranges, and run-time validation.

One parameter per config parameter (``config.config_fields``: a nested config's fields stay flat),
declared with the config's default (so its ROS type), a description with the range, and an
integer or floating-point range from the field's ``spec``. Values are checked
again with ``topspark_ros.config`` (choices, cross-field rules) in the set-parameters callback.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from typing import Any

from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)

from topspark_ros.config import config_fields, field_kind, field_note, from_mapping, to_mapping
from topspark_ros.errors import ConfigError

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
APPLIED_ON = "applied on the next configure transition"


def descriptor(field: dataclasses.Field[Any]) -> Any:
    """The ``rcl_interfaces/ParameterDescriptor`` of a config field (description and range)."""
    desc = ParameterDescriptor(name=field.name, description=f"{field_note(field)}; {APPLIED_ON}")
    lo, hi = field.metadata.get("lo"), field.metadata.get("hi")
    kind = field_kind(field)
    if kind is int and (lo is not None or hi is not None):
        desc.integer_range = [
            IntegerRange(
                from_value=INT64_MIN if lo is None else int(lo),
                to_value=INT64_MAX if hi is None else int(hi),
                step=0,
            )
        ]
    elif kind is float and (lo is not None or hi is not None):
        desc.floating_point_range = [
            FloatingPointRange(
                from_value=-sys.float_info.max if lo is None else float(lo),
                to_value=sys.float_info.max if hi is None else float(hi),
                step=0.0,
            )
        ]
    choices = field.metadata.get("choices")
    if choices:
        desc.additional_constraints = f"one of: {', '.join(choices)}"
    return desc


def declare(node: Any, config_class: type) -> None:
    """Declare one parameter per parameter of ``config_class`` on ``node`` (overrides apply)."""
    defaults = to_mapping(config_class())
    for field in config_fields(config_class):
        node.declare_parameter(field.name, defaults[field.name], descriptor(field))


def current(node: Any, config_class: type) -> dict[str, Any]:
    """The node's current value of every parameter of ``config_class``."""
    return {f.name: node.get_parameter(f.name).value for f in config_fields(config_class)}


def load(node: Any, config_class: type, changes: Mapping[str, Any] | None = None) -> Any:
    """``config_class`` from the node's parameters with ``changes`` applied; ConfigError if bad."""
    values = {**current(node, config_class), **(changes or {})}
    return from_mapping(config_class, values, f"{node.get_name()} parameters")


def validate(node: Any, config_class: type, parameters: list[Any]) -> Any:
    """A ``SetParametersResult``: the whole config with the proposed values must be valid."""
    names = {f.name for f in config_fields(config_class)}
    changes = {p.name: p.value for p in parameters if p.name in names}
    if not changes:
        return SetParametersResult(successful=True)
    try:
        load(node, config_class, changes)
    except ConfigError as err:
        return SetParametersResult(successful=False, reason=str(err))
    node.get_logger().info(f"parameters {', '.join(sorted(changes))} {APPLIED_ON}")
    return SetParametersResult(successful=True)


__all__ = ["APPLIED_ON", "current", "declare", "descriptor", "load", "validate"]

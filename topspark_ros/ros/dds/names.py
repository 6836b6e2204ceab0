"""ROS 2 names on DDS: topic ``name`` is DDS topic ``rt/name``; the domain is ROS_DOMAIN_ID."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence

from topspark_ros.errors import TransportError

TOPIC_PREFIX = "rt/"
MAX_DOMAIN_ID = 232  # the largest id the RTPS port mapping allows with default port settings
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def dds_topic_name(name: str, namespace: str = "") -> str:
    """DDS topic of ROS topic ``name``: ``rt/`` + the fully qualified name without leading slash.

    A relative ``name`` is put under ``namespace`` (``"/robot1"`` or ``"robot1"``); an absolute one
    (``"/diagnostics"``) ignores it. Private (``~``) and substitution (``{}``) names are refused.
    """
    if name.startswith("/"):
        full = name
    else:
        full = "/".join(part for part in (namespace.strip("/"), name) if part)
    tokens = full.strip("/").split("/")
    if not full.strip("/") or any(_TOKEN.fullmatch(token) is None for token in tokens):
        raise TransportError(f"bad ROS topic name {name!r} (namespace {namespace!r})")
    return TOPIC_PREFIX + "/".join(tokens)


def parse_remaps(rules: Sequence[str]) -> dict[str, str]:
    """ROS 2 remapping rules ``FROM:=TO`` (as ``--ros-args -r``) as a mapping FROM -> TO."""
    remaps: dict[str, str] = {}
    for rule in rules:
        source, sep, target = rule.partition(":=")
        if not sep or not source or not target:
            raise TransportError(f"remap rule {rule!r} is not FROM:=TO")
        remaps[source] = target
    return remaps


def remapped(name: str, namespace: str, remaps: Mapping[str, str]) -> str:
    """``name`` after remapping: a rule matches the name as the node writes it or its fully
    qualified form under ``namespace``."""
    if name in remaps:
        return remaps[name]
    full = "/" + "/".join(p for p in (namespace.strip("/"), name.strip("/")) if p)
    return remaps.get(full, name)


def ros_domain_id(environ: Mapping[str, str] | None = None) -> int:
    """The DDS domain from ``ROS_DOMAIN_ID`` (0 when unset or empty), as ROS 2 does."""
    environ = os.environ if environ is None else environ
    text = environ.get("ROS_DOMAIN_ID", "").strip()
    if not text:
        return 0
    try:
        domain_id = int(text)
    except ValueError:
        raise TransportError(f"ROS_DOMAIN_ID={text!r} is not an integer") from None
    return check_domain_id(domain_id)


def check_domain_id(domain_id: int) -> int:
    """``domain_id`` when it is a valid ROS 2 domain (0..232); TransportError otherwise."""
    if not 0 <= domain_id <= MAX_DOMAIN_ID:
        raise TransportError(f"DDS domain id {domain_id} is outside 0..{MAX_DOMAIN_ID}")
    return domain_id


__all__ = [
    "TOPIC_PREFIX",
    "check_domain_id",
    "dds_topic_name",
    "parse_remaps",
    "remapped",
    "ros_domain_id",
]

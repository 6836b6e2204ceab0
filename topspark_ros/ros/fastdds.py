"""The Fast DDS profile shipped for ROS 2 nodes (rmw_fastrtps_cpp) that talk to topspark_ros.

``config/fastdds.xml`` turns off Fast DDS 3's type propagation (Kilted: without it, types holding
a sequence never match Cyclone DDS, our no-ROS transport) and enlarges the shared-memory segment
and UDP buffers so that best-effort 640x480 camera frames arrive. Fast DDS reads it from
``FASTDDS_DEFAULT_PROFILES_FILE`` (and, on Jazzy's Fast DDS 2, ``FASTRTPS_DEFAULT_PROFILES_FILE``)
when a process creates its first participant: set them in a child's environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from topspark_ros.errors import ConfigError
from topspark_ros.packaged import resource_path

PROFILE_VARIABLES = ("FASTDDS_DEFAULT_PROFILES_FILE", "FASTRTPS_DEFAULT_PROFILES_FILE")


def fastdds_profile_path() -> Path:
    """The packaged Fast DDS profile (a copy of ``config/fastdds.xml``); ConfigError if absent."""
    path = resource_path("fastdds.xml")
    if not path.is_file():
        raise ConfigError(f"no packaged Fast DDS profile at {path}")
    return path


def fastdds_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with the packaged profile as Fast DDS's
    default profiles file, unless the caller already chose one."""
    env = dict(os.environ if base is None else base)
    if not any(env.get(name) for name in PROFILE_VARIABLES):
        path = str(fastdds_profile_path())
        env.update(dict.fromkeys(PROFILE_VARIABLES, path))
    return env


__all__ = ["PROFILE_VARIABLES", "fastdds_environment", "fastdds_profile_path"]

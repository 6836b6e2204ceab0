"""The package's errors: the CLI prints these as one line; anything else is a bug."""

from __future__ import annotations


class TopsparkError(Exception):
    """Base of every error the package raises on bad input or environment."""


class DataError(TopsparkError):
    """A dataset file or directory is missing, truncated, corrupt or of the wrong kind."""


class ModelError(TopsparkError):
    """A model file is missing, truncated, of the wrong version or shape."""


class ConfigError(TopsparkError):
    """A configuration file or value is invalid (unknown key, wrong type, out of range)."""


class BagError(TopsparkError):
    """A rosbag2 bag is missing, malformed or lacks what is needed."""


class TransportError(TopsparkError):
    """A ROS 2 or DDS transport could not be set up or failed."""


__all__ = [
    "BagError",
    "ConfigError",
    "DataError",
    "ModelError",
    "TopsparkError",
    "TransportError",
]

"""Files shipped inside the Python package: the message definitions, default profile and model."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from topspark_ros.errors import ModelError


def resource_path(*parts: str) -> Path:
    """Path of a file under ``topspark_ros/resources`` (it may not exist)."""
    return Path(str(resources.files("topspark_ros").joinpath("resources", *parts)))


def msg_dir() -> Path:
    """Directory of this package's ``.msg`` files (``msg/`` at the repository root)."""
    return resource_path("msg")


def default_profile_path() -> Path:
    """The shipped operating-point profile (a copy of ``config/profile.yaml``)."""
    return resource_path("profile.yaml")


def default_model_path() -> Path:
    """The shipped pretrained model; ModelError if this installation has none."""
    path = resource_path("models", "default.npz")
    if not path.is_file():
        raise ModelError(f"no packaged default model at {path}: set model_path")
    return path


__all__ = ["default_model_path", "default_profile_path", "msg_dir", "resource_path"]

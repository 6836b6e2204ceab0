"""The package's errors: the CLI prints these as one line; anything else is a bug."""

from __future__ import annotations

import signal


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


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or a stop signal (SIGTERM, SIGHUP) as a KeyboardInterrupt, so that every command
    and every ``except KeyboardInterrupt`` cleans up the same way whichever signal came."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signum)
        self.signum = int(signum)


def stop_reason(err: BaseException | None = None) -> str:
    """What stopped a run, for logs and reports: 'interrupted' (Ctrl-C) or 'stopped by SIGTERM'."""
    signum = err.signum if isinstance(err, Interrupted) else signal.SIGINT
    if signum == signal.SIGINT:
        return "interrupted"
    try:
        return f"stopped by {signal.Signals(signum).name}"
    except ValueError:
        return f"stopped by signal {signum}"


def stop_exit_code(err: BaseException | None = None) -> int:
    """The shell's exit status for a run stopped by ``err``'s signal: 128 + its number (130 for
    Ctrl-C)."""
    return 128 + (err.signum if isinstance(err, Interrupted) else int(signal.SIGINT))


__all__ = [
    "BagError",
    "ConfigError",
    "DataError",
    "Interrupted",
    "ModelError",
    "TopsparkError",
    "TransportError",
    "stop_exit_code",
    "stop_reason",
]

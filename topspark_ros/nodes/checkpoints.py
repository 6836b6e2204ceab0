"""The online learner's checkpoints: versioned model files plus a ``latest`` pointer.

Files are ``<dir>/model-v0001.npz``, ``model-v0002.npz``, ... each written atomically by
``save_model``, so a crash leaves every file either complete or absent. The ``latest`` file is a
JSON pointer (version, file name, sha256), also written atomically after the model, for readers
outside the learner. The learner itself trusts only the versioned files: on start it loads the
newest one that reads back, falling back past corrupt ones with a warning.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from topspark_ros.errors import ModelError
from topspark_ros.io_utils import atomic_write_bytes
from topspark_ros.messages import LoggerLike, ModelUpdate
from topspark_ros.snn.model_io import load_model, model_sha256, save_model
from topspark_ros.snn.state import ModelState

POINTER = "latest"
_FILE = re.compile(r"^model-v(\d{4,})\.npz$")
_TEMPORARY = re.compile(r"^\.model-v\d{4,}\.[0-9a-f]+\.tmp\.npz$")  # left by a crash mid-write


def checkpoint_name(version: int) -> str:
    """File name of checkpoint ``version`` (e.g. ``model-v0003.npz``)."""
    return f"model-v{version:04d}.npz"


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint file: its version, absolute path, SHA-256 and (when loaded) model state."""

    version: int
    path: Path
    sha256: str
    state: ModelState

    def update(self, environment: str, now_ns: int) -> ModelUpdate:
        """The ModelUpdate notice telling readers to load this checkpoint."""
        return ModelUpdate(
            stamp_ns=now_ns,
            version=self.version,
            path=str(self.path),
            sha256=self.sha256,
            environment=environment,
            samples_seen=self.state.samples_seen,
        )


class CheckpointStore:
    """Versioned, atomically written checkpoints in one directory; the newest ``keep`` kept."""

    def __init__(self, directory: str | Path, keep: int, logger: LoggerLike) -> None:
        self.directory = Path(directory).absolute()
        self.keep = max(1, keep)
        self._log = logger
        self.skipped = 0  # corrupt checkpoints passed over by load_latest

    def versions(self) -> list[tuple[int, Path]]:
        """(version, path) of every checkpoint file present, oldest first."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in self.directory.iterdir():
            match = _FILE.match(path.name)
            if match and path.is_file():
                found.append((int(match.group(1)), path))
        return sorted(found)

    def newest_version(self) -> int:
        """The highest version present (readable or not); 0 when there is none."""
        files = self.versions()
        return files[-1][0] if files else 0

    def load_latest(self) -> Checkpoint | None:
        """The newest checkpoint that loads; corrupt newer ones are skipped with a warning."""
        self._remove_temporaries()
        for version, path in reversed(self.versions()):
            try:
                state = load_model(path)
                digest = model_sha256(path)
            except ModelError as err:
                self.skipped += 1
                self._log.warning(f"skipping unreadable checkpoint: {err}")
                continue
            return Checkpoint(version, path, digest, state)
        return None

    def save(self, state: ModelState, version: int) -> Checkpoint:
        """Write ``state`` as checkpoint ``version``, update the pointer, prune old files."""
        path = save_model(self.directory / checkpoint_name(version), state)
        digest = model_sha256(path)
        pointer = {"version": version, "file": path.name, "sha256": digest}
        try:
            atomic_write_bytes(self.directory / POINTER, json.dumps(pointer).encode() + b"\n")
        except OSError as err:
            raise ModelError(f"{self.directory / POINTER}: cannot write ({err})") from err
        self._prune()
        return Checkpoint(version, path, digest, state)

    def _prune(self) -> None:
        """Delete all but the ``keep`` highest-numbered checkpoint files."""
        for _, path in self.versions()[: -self.keep]:
            try:
                path.unlink()
            except OSError as err:
                self._log.warning(f"{path}: cannot delete old checkpoint ({err})")

    def _remove_temporaries(self) -> None:
        """Delete half-written temporary files a crash during ``save`` may have left."""
        if not self.directory.is_dir():
            return
        for path in self.directory.iterdir():
            if _TEMPORARY.match(path.name):
                with contextlib.suppress(OSError):
                    path.unlink()


__all__ = ["POINTER", "Checkpoint", "CheckpointStore", "checkpoint_name"]

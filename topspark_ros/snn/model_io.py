"""Model files: a compressed ``.npz`` of the learnt arrays plus a JSON ``meta`` string.

Layout (format version 1): ``weights`` float32 [n_inputs, n_neurons], ``theta`` float32
[n_neurons], ``assignments`` int16 [n_neurons] and ``meta``, a 0-d unicode array holding JSON with
format_version, package_version, params (every NetworkParams field), timesteps, rule, dataset,
samples_seen, created (UTC, ISO 8601) and extra. Files are written atomically and read without
pickle.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from topspark_ros import __version__, config
from topspark_ros.errors import ConfigError, ModelError
from topspark_ros.io_utils import atomic_path
from topspark_ros.snn.params import NetworkParams
from topspark_ros.snn.state import ModelState

FORMAT_VERSION = 1
SUFFIX = ".npz"

_DTYPES: dict[str, type[np.generic]] = {
    "weights": np.float32,
    "theta": np.float32,
    "assignments": np.int16,
}
_ZIP_MAGIC = b"PK\x03\x04"
_REQUIRED_META = ("format_version", "params", "dataset", "samples_seen", "extra")
# What np.load and reading an archive member raise on truncated or corrupt archives.
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, KeyError)


def _meta(state: ModelState) -> dict[str, Any]:
    """The ``meta`` record of a model: provenance plus every parameter."""
    return {
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "params": config.to_mapping(state.params),
        "timesteps": state.params.timesteps,
        "rule": state.params.rule,
        "dataset": state.dataset,
        "samples_seen": state.samples_seen,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "extra": dict(state.extra),
    }


def _check_finite(path: Path, arrays: dict[str, npt.NDArray[Any]]) -> None:
    """Raise ModelError if the weights or thresholds hold NaN or infinity."""
    for name in ("weights", "theta"):
        if not np.isfinite(arrays[name]).all():
            raise ModelError(f"{path}: {name} contain non-finite values (NaN or infinity)")


def save_model(path: str | Path, state: ModelState) -> Path:
    """Write ``state`` to ``path`` atomically (``.npz`` is appended if missing); return the path.

    Missing parent directories are created. An existing file at ``path`` stays intact if anything
    fails; errors raise ModelError.
    """
    path = Path(path)
    if path.suffix != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    _check_finite(path, {"weights": state.weights, "theta": state.theta})
    meta = np.array(json.dumps(_meta(state), sort_keys=True))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, tmp.open("wb") as fh:
            np.savez_compressed(
                fh,
                weights=state.weights,
                theta=state.theta,
                assignments=state.assignments,
                meta=meta,
            )
    except OSError as err:
        raise ModelError(f"{path}: cannot write model file ({err.strerror or err})") from err
    return path


def _read_npz(path: Path) -> tuple[dict[str, npt.NDArray[Any]], str]:
    """The three arrays and the meta JSON text of a model file; ModelError if unreadable."""
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    try:
        with path.open("rb") as fh:
            magic = fh.read(len(_ZIP_MAGIC))
    except OSError as err:
        raise ModelError(f"{path}: cannot read model file ({err.strerror or err})") from err
    if magic != _ZIP_MAGIC:
        raise ModelError(f"{path}: not a model file (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = ", ".join(name for name in (*_DTYPES, "meta") if name not in npz.files)
            if missing:
                raise ModelError(f"{path}: not a model file, missing array(s) {missing}")
            arrays = {name: npz[name] for name in _DTYPES}
            meta = npz["meta"]
    except _READ_ERRORS as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ModelError(
            f"{path}: not a readable model file (truncated or corrupt: {reason})"
        ) from err
    if meta.shape != () or meta.dtype.kind != "U":
        raise ModelError(f"{path}: meta is not a JSON string")
    return arrays, str(meta[()])


def _parse_meta(path: Path, text: str) -> dict[str, Any]:
    """Decode and check the meta record: JSON object, required keys, supported format version."""
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as err:
        raise ModelError(f"{path}: meta is not valid JSON ({err.msg})") from err
    if not isinstance(meta, dict):
        raise ModelError(f"{path}: meta is not a JSON object")
    missing = [key for key in _REQUIRED_META if key not in meta]
    if missing:
        raise ModelError(f"{path}: meta lacks key(s) {', '.join(missing)}")
    version = meta["format_version"]
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ModelError(f"{path}: format version {version}, this build reads {FORMAT_VERSION}")
    if not isinstance(meta["dataset"], str):
        raise ModelError(f"{path}: meta dataset must be a string")
    samples = meta["samples_seen"]
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 0:
        raise ModelError(f"{path}: meta samples_seen must be a non-negative integer")
    extra = meta["extra"]
    if not isinstance(extra, dict) or not all(isinstance(v, str) for v in extra.values()):
        raise ModelError(f"{path}: meta extra must map strings to strings")
    return meta


def _check_arrays(path: Path, arrays: dict[str, npt.NDArray[Any]], params: NetworkParams) -> None:
    """Raise ModelError unless each array has the dtype and shape the parameters imply."""
    n_in, n = params.n_inputs, params.n_neurons
    shapes = {"weights": (n_in, n), "theta": (n,), "assignments": (n,)}
    for name, expected in shapes.items():
        array = arrays[name]
        if array.dtype != _DTYPES[name]:
            want = np.dtype(_DTYPES[name]).name
            raise ModelError(f"{path}: {name} have dtype {array.dtype}, expected {want}")
        if array.shape != expected:
            raise ModelError(
                f"{path}: {name} have shape {array.shape}, but the parameters "
                f"(n_inputs {n_in}, n_neurons {n}) imply {expected}"
            )
    _check_finite(path, arrays)
    if (arrays["assignments"] < -1).any():
        raise ModelError(f"{path}: assignments below -1 (the 'unassigned' label)")


def model_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a model file's bytes, read in 1 MiB chunks (to tell a stale or torn copy
    from the announced one); ModelError if it cannot be read."""
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as err:
        raise ModelError(f"{path}: cannot read model file ({err.strerror or err})") from err
    return digest.hexdigest()


def load_model(path: str | Path) -> ModelState:
    """Read a model file written by ``save_model``; any problem raises one-line ModelError."""
    path = Path(path)
    arrays, text = _read_npz(path)
    meta = _parse_meta(path, text)
    try:
        params = config.from_mapping(NetworkParams, meta["params"], "meta params")
    except ConfigError as err:
        raise ModelError(f"{path}: invalid parameters ({err})") from err
    _check_arrays(path, arrays, params)
    return ModelState(
        params=params,
        weights=arrays["weights"],
        theta=arrays["theta"],
        assignments=arrays["assignments"],
        dataset=meta["dataset"],
        samples_seen=meta["samples_seen"],
        extra={str(k): v for k, v in meta["extra"].items()},
    )


__all__ = ["FORMAT_VERSION", "load_model", "model_sha256", "save_model"]

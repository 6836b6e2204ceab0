"""Model files: a compressed ``.npz`` of the learnt arrays plus a JSON ``meta`` string.

Layout (format version 1): ``weights`` float32 [n_inputs, n_neurons], ``theta`` float32
[n_neurons], ``assignments`` int16 [n_neurons] and ``meta``, a 0-d unicode array holding JSON with
format_version, package_version, params (every NetworkParams field), timesteps, rule, dataset,
samples_seen, created (UTC, ISO 8601) and extra. Files are written atomically and read without
pickle, in one pass over one open file: meta first, then each array's .npy header checked against
the parameters before its data is read, then the values (``model_check``).
"""

from __future__ import annotations

import hashlib
import json
import lzma
import struct
import zipfile
import zlib
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from topspark_ros import __version__, config
from topspark_ros.errors import ModelError
from topspark_ros.io_utils import atomic_path
from topspark_ros.snn import model_check as check
from topspark_ros.snn.model_check import FORMAT_VERSION
from topspark_ros.snn.params import NetworkParams
from topspark_ros.snn.state import ModelState

SUFFIX = ".npz"

_ZIP_MAGIC = b"PK\x03\x04"
_MEMBERS = (*check.DTYPES, "meta")
# What reading a truncated, corrupt or hostile archive or .npy member raises (zipfile: also
# NotImplementedError for an unknown compression, RuntimeError for an encrypted member).
_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    struct.error,
    EOFError,
    ValueError,
    OSError,
    KeyError,
    NotImplementedError,
    RuntimeError,
)


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


def save_model(path: str | Path, state: ModelState) -> Path:
    """Write ``state`` to ``path`` atomically (``.npz`` is appended if missing); return the path.

    Missing parent directories are created. An existing file at ``path`` stays intact if anything
    fails; errors raise ModelError.
    """
    path = Path(path)
    if path.suffix != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    check.check_finite(path, {"weights": state.weights, "theta": state.theta})
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


def _members(path: Path, archive: zipfile.ZipFile) -> dict[str, str]:
    """The archive member holding each model array (``name`` or ``name.npy``, as np.load)."""
    names = set(archive.namelist())
    found = {}
    for name in _MEMBERS:
        for member in (name, f"{name}.npy"):
            if member in names:
                found[name] = member
                break
    missing = ", ".join(name for name in _MEMBERS if name not in found)
    if missing:
        raise ModelError(f"{path}: not a model file, missing array(s) {missing}")
    return found


def _header(stream: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    """Shape, Fortran order and dtype from a .npy header; ValueError if it is not one."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(stream)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(stream)
    raise ValueError(f"unsupported .npy format version {version[0]}.{version[1]}")


def _data(stream: IO[bytes], shape: tuple[int, ...], fortran: bool, dtype: np.dtype[Any]) -> Any:
    """The array that follows a checked header: exactly its bytes, then the end of the member
    (which makes zipfile verify the CRC); ValueError if short or followed by more."""
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    data = stream.read(size)
    if len(data) != size:
        raise ValueError(f"array data ends after {len(data)} of {size} bytes")
    if stream.read(1):
        raise ValueError("data after the array")
    if dtype.itemsize == 0:
        return np.zeros(shape, dtype)
    flat = np.frombuffer(data, dtype=dtype).copy()
    return flat.reshape(shape, order="F" if fortran else "C")


def _read_meta(path: Path, archive: zipfile.ZipFile, member: str) -> str:
    """The JSON text of the ``meta`` member, a 0-d unicode array of bounded length."""
    with archive.open(member) as stream:
        shape, fortran, dtype = _header(stream)
        if shape != () or dtype.kind != "U":
            raise ModelError(f"{path}: meta is not a JSON string")
        if dtype.itemsize > 4 * check.MAX_META_CHARS:
            raise ModelError(
                f"{path}: meta is {dtype.itemsize // 4} characters long, "
                f"more than the {check.MAX_META_CHARS} a model file's meta may hold"
            )
        return str(_data(stream, shape, fortran, dtype)[()])


def _read_array(
    path: Path, archive: zipfile.ZipFile, member: str, name: str, params: NetworkParams
) -> npt.NDArray[Any]:
    """One model array, its header checked against ``params`` before the data is read."""
    with archive.open(member) as stream:
        shape, fortran, dtype = _header(stream)
        check.check_header(path, name, dtype, shape, params)
        array: npt.NDArray[Any] = _data(stream, shape, fortran, dtype)
    return np.ascontiguousarray(array)


def _read_model(path: Path) -> tuple[dict[str, Any], NetworkParams, dict[str, npt.NDArray[Any]]]:
    """Meta, parameters and arrays of a model file, each checked; ModelError if anything is off.

    The file is opened once, so a copy renamed over it meanwhile cannot mix two models.
    """
    if not path.is_file():
        raise ModelError(f"{path}: model file not found")
    try:
        fh = path.open("rb")
    except OSError as err:
        raise ModelError(f"{path}: cannot read model file ({err.strerror or err})") from err
    try:
        with fh:
            if fh.read(len(_ZIP_MAGIC)) != _ZIP_MAGIC:
                raise ModelError(f"{path}: not a model file (not an .npz archive)")
            fh.seek(0)
            with zipfile.ZipFile(fh) as archive:
                members = _members(path, archive)
                meta = check.parse_meta(path, _read_meta(path, archive, members["meta"]))
                params = check.meta_params(path, meta)
                arrays = {
                    name: _read_array(path, archive, members[name], name, params)
                    for name in check.DTYPES
                }
    except _READ_ERRORS as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ModelError(
            f"{path}: not a readable model file (truncated or corrupt: {reason})"
        ) from err
    check.check_values(path, arrays, params)
    return meta, params, arrays


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
    meta, params, arrays = _read_model(path)
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

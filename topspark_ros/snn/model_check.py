"""Validation of a model file's content: every meta field's type and range, every array's dtype,
shape and value range, checked against the parameters the file itself records.

``model_io`` reads the archive and calls these in order: ``parse_meta`` (the JSON record),
``meta_params`` (its ``params`` as NetworkParams, and the meta fields that must agree with them),
``check_header`` (an array's dtype and shape, before its data is read, so a file cannot make the
loader allocate what its parameters do not imply) and ``check_values`` (the values' ranges). Every
problem raises ModelError with one line naming the file.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from topspark_ros import config
from topspark_ros.errors import ConfigError, ModelError
from topspark_ros.snn.labelling import N_CLASSES
from topspark_ros.snn.params import NetworkParams

FORMAT_VERSION = 1
UNASSIGNED = -1  # the label of a neuron that never fired during assignment
DTYPES: dict[str, type[np.generic]] = {
    "weights": np.float32,
    "theta": np.float32,
    "assignments": np.int16,
}
REQUIRED_META = ("format_version", "params", "dataset", "samples_seen", "extra")
MAX_SAMPLES = 2**63 - 1  # samples_seen: an int64 count
MAX_META_CHARS = 1 << 20  # a meta record is a few kB; this bounds what a file can make us read
# Relative slack on the weight bounds for float32 rounding of the column sums.
WEIGHT_ROUNDING = 1e-3
# With w_min < 0 normalisation can amplify weights of both signs without a bound the parameters
# give (a column summing to nearly 0 gets a huge scale); the check is then only this magnitude.
WEIGHT_LIMIT = 1e6
# Parameters that fix the shape of a model's arrays: no command may change them for a model.
STRUCTURAL = ("n_inputs", "n_neurons")


def _is_int(value: Any) -> bool:
    """Whether a JSON value is an integer (``true``/``false`` are not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _one_line(text: str) -> str:
    """``text`` with control characters escaped, so an error message stays on one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def parse_meta(path: Path, text: str) -> dict[str, Any]:
    """Decode the meta record and check each field's type and range (``params`` is checked by
    ``meta_params``); ModelError names the file and the field."""
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as err:
        raise ModelError(f"{path}: meta is not valid JSON ({err.msg})") from err
    except (ValueError, RecursionError) as err:  # an integer too long, nesting too deep
        raise ModelError(f"{path}: meta is not valid JSON ({type(err).__name__})") from err
    if not isinstance(meta, dict):
        raise ModelError(f"{path}: meta is not a JSON object")
    missing = [key for key in REQUIRED_META if key not in meta]
    if missing:
        raise ModelError(f"{path}: meta lacks key(s) {', '.join(missing)}")
    version = meta["format_version"]
    if not _is_int(version):
        raise ModelError(f"{path}: meta format_version must be an integer, got {version!r}")
    if version != FORMAT_VERSION:
        raise ModelError(f"{path}: format version {version}, this build reads {FORMAT_VERSION}")
    if not isinstance(meta["dataset"], str):
        raise ModelError(f"{path}: meta dataset must be a string")
    samples = meta["samples_seen"]
    if not _is_int(samples) or not 0 <= samples <= MAX_SAMPLES:
        raise ModelError(
            f"{path}: meta samples_seen must be a non-negative integer (at most {MAX_SAMPLES})"
        )
    extra = meta["extra"]
    if not isinstance(extra, dict) or not all(isinstance(v, str) for v in extra.values()):
        raise ModelError(f"{path}: meta extra must map strings to strings")
    for key in ("package_version", "created", "rule"):
        if key in meta and not isinstance(meta[key], str):
            raise ModelError(f"{path}: meta {key} must be a string, got {meta[key]!r}")
    if "created" in meta:
        try:
            datetime.fromisoformat(meta["created"])
        except ValueError as err:
            raise ModelError(
                f"{path}: meta created must be an ISO 8601 time, got {meta['created']!r}"
            ) from err
    return meta


def meta_params(path: Path, meta: dict[str, Any]) -> NetworkParams:
    """The model's NetworkParams from ``meta['params']``, with the meta fields that repeat a
    parameter (``timesteps``, ``rule``) required to agree with it; ModelError otherwise."""
    try:
        params = config.from_mapping(NetworkParams, meta["params"], "meta params")
    except ConfigError as err:
        raise ModelError(f"{path}: invalid parameters ({_one_line(str(err))})") from err
    except (ValueError, OverflowError) as err:  # NaN or 1e400 where an integer belongs
        reason = _one_line(str(err))
        raise ModelError(f"{path}: invalid parameters (meta params: {reason})") from err
    if "timesteps" in meta:
        steps = meta["timesteps"]
        field = NetworkParams.__dataclass_fields__["timesteps"]
        lo, hi = field.metadata["lo"], field.metadata["hi"]
        if not _is_int(steps) or not lo <= steps <= hi:
            raise ModelError(
                f"{path}: meta timesteps must be an integer in [{lo}, {hi}], got {steps!r}"
            )
        if steps != params.timesteps:
            raise ModelError(
                f"{path}: meta timesteps {steps} disagrees with params timesteps "
                f"{params.timesteps}"
            )
    if "rule" in meta and meta["rule"] != params.rule:
        raise ModelError(
            f"{path}: meta rule {meta['rule']!r} disagrees with params rule {params.rule!r}"
        )
    return params


def expected_shapes(params: NetworkParams) -> dict[str, tuple[int, ...]]:
    """The shape of each array that ``params`` implies (n_inputs x n_neurons, n_neurons)."""
    n_in, n = params.n_inputs, params.n_neurons
    return {"weights": (n_in, n), "theta": (n,), "assignments": (n,)}


def check_header(
    path: Path, name: str, dtype: np.dtype[Any], shape: tuple[int, ...], params: NetworkParams
) -> None:
    """Raise ModelError unless the array ``name`` declares the dtype and shape ``params`` imply
    (checked from the .npy header, before any data is read)."""
    if dtype.hasobject:
        raise ModelError(
            f"{path}: not a readable model file ({name} holds Python objects, "
            "which are refused: allow_pickle=False)"
        )
    want = np.dtype(DTYPES[name])
    if dtype != want:
        raise ModelError(f"{path}: {name} have dtype {dtype}, expected {want.name}")
    expected = expected_shapes(params)[name]
    if shape != expected:
        raise ModelError(
            f"{path}: {name} have shape {shape}, but the parameters "
            f"(n_inputs {params.n_inputs}, n_neurons {params.n_neurons}) imply {expected}"
        )


def weight_bounds(params: NetworkParams) -> tuple[float, float]:
    """The range a weight the network wrote may hold (WEIGHT_ROUNDING slack above).

    With w_min >= 0: STDP clips at w_min >= 0 and normalisation rescales by positive factors, so
    no weight is negative, and none exceeds its column's sum (norm_total after a training sample),
    w_init (a fresh network) or w_max. Not w_max alone: where norm_total is near or above
    n_inputs x w_max, the rescale after clipping lifts weights past it (measured: 1.3 at w_max 1,
    norm_total 600; 6.2 at w_max 0.2). With w_min < 0: [-WEIGHT_LIMIT, WEIGHT_LIMIT].
    """
    if params.w_min < 0:
        return -WEIGHT_LIMIT, WEIGHT_LIMIT
    hi = max(params.w_max, params.w_init, params.norm_total)
    return 0.0, hi + WEIGHT_ROUNDING * max(1.0, hi)


def check_finite(path: Path, arrays: dict[str, npt.NDArray[Any]]) -> None:
    """Raise ModelError if the weights or thresholds hold NaN or infinity."""
    for name in ("weights", "theta"):
        if name in arrays and not np.isfinite(arrays[name]).all():
            raise ModelError(f"{path}: {name} contain non-finite values (NaN or infinity)")


def check_values(path: Path, arrays: dict[str, npt.NDArray[Any]], params: NetworkParams) -> None:
    """Raise ModelError unless weights lie in ``weight_bounds``, theta is >= 0 (the adaptive
    threshold starts at 0 and only grows by theta_plus or decays) and every assignment is a
    class 0..N_CLASSES-1 or UNASSIGNED; arrays must already have their dtypes and shapes."""
    check_finite(path, arrays)
    weights = arrays["weights"]
    if weights.size:
        lo, hi = weight_bounds(params)
        w_lo, w_hi = float(weights.min()), float(weights.max())
        if w_lo < lo or w_hi > hi:
            raise ModelError(
                f"{path}: weights hold values in [{w_lo:.6g}, {w_hi:.6g}], outside the "
                f"[{lo:.6g}, {hi:.6g}] that w_min {params.w_min:g}, w_max {params.w_max:g}, "
                f"w_init {params.w_init:g} and norm_total {params.norm_total:g} allow"
            )
    theta = arrays["theta"]
    if theta.size and float(theta.min()) < 0.0:
        raise ModelError(
            f"{path}: theta hold negative values (min {float(theta.min()):.6g}); the adaptive "
            "threshold starts at 0 and never falls below it"
        )
    labels = arrays["assignments"]
    if labels.size and int(labels.min()) < UNASSIGNED:
        raise ModelError(
            f"{path}: assignments below {UNASSIGNED} (the 'unassigned' label): "
            f"found {int(labels.min())}"
        )
    if labels.size and int(labels.max()) >= N_CLASSES:
        raise ModelError(
            f"{path}: assignments above {N_CLASSES - 1} (the last of {N_CLASSES} classes): "
            f"found {int(labels.max())}"
        )


def check_fixed(path: str | Path, saved: NetworkParams, params: NetworkParams) -> None:
    """Raise ConfigError if ``params`` change a STRUCTURAL parameter of the model at ``path``
    (its arrays' shapes fix them, so such an override could only be ignored or crash)."""
    for name in STRUCTURAL:
        old, new = getattr(saved, name), getattr(params, name)
        if old != new:
            raise ConfigError(
                f"{path}: {name} is fixed by the model ({old}); it cannot be set to {new}"
            )


__all__ = [
    "DTYPES",
    "FORMAT_VERSION",
    "MAX_META_CHARS",
    "MAX_SAMPLES",
    "REQUIRED_META",
    "STRUCTURAL",
    "UNASSIGNED",
    "WEIGHT_LIMIT",
    "WEIGHT_ROUNDING",
    "check_finite",
    "check_fixed",
    "check_header",
    "check_values",
    "expected_shapes",
    "meta_params",
    "parse_meta",
    "weight_bounds",
]

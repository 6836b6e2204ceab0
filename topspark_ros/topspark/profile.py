"""TopSpark step 4: operating-point profiles, their YAML files, and building them from sweeps.

A profile lists, for one dataset, network size and learning rule, what each timestep count T
measured: accuracy (0..1), mean inference latency per sample (ms), modelled training and inference
energy per sample (J) and memory (bytes). The selection rule over a profile is in ``tradeoff``.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from topspark_ros.config import read_yaml
from topspark_ros.errors import ConfigError
from topspark_ros.io_utils import atomic_write_bytes

DEFAULT_BASELINE_TIMESTEPS = 350

_HEADER = (
    "# TopSpark operating-point profile, one point per timestep count T (steps per sample).\n"
    "# accuracy: 0..1; latency_ms: measured mean inference latency per sample; train_energy_j,\n"
    "# infer_energy_j: modelled joules per sample; memory_bytes: model and state memory.\n"
)
_POINT_FLOATS = ("accuracy", "latency_ms", "train_energy_j", "infer_energy_j")
_POINT_INTS = ("timesteps", "memory_bytes")
_POINT_KEYS = (*_POINT_INTS, *_POINT_FLOATS)
_PROFILE_KEYS = ("dataset", "n_neurons", "rule", "points")
_SIGNIFICANT = 6  # significant figures kept for latency and energies in a saved profile
_ACCURACY_DECIMALS = 6


class ProfileError(ConfigError):
    """An operating-point profile or sweep record is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class OperatingPoint:
    """What one timestep count T measured; energies are joules per sample."""

    timesteps: int
    accuracy: float
    latency_ms: float
    train_energy_j: float
    infer_energy_j: float
    memory_bytes: int
    enhanced: bool = False  # trained and run with the T-dependent parameter enhancement rules

    def __post_init__(self) -> None:
        problem = _point_problem(self)
        if problem is not None:
            raise ProfileError(f"{problem} at T={self.timesteps}")


def _point_problem(point: OperatingPoint) -> str | None:
    """The first range problem of a point's values, or None."""
    if point.timesteps < 1:
        return f"timesteps must be >= 1, got {point.timesteps}"
    if not (math.isfinite(point.accuracy) and 0.0 <= point.accuracy <= 1.0):
        return f"accuracy must be in [0, 1], got {point.accuracy}"
    for name in ("latency_ms", "train_energy_j", "infer_energy_j", "memory_bytes"):
        value = getattr(point, name)
        if not (math.isfinite(value) and value >= 0):
            return f"{name} must be finite and >= 0, got {value}"
    return None


@dataclass(frozen=True)
class Profile:
    """The operating points of one dataset, network size and rule, sorted by T descending."""

    dataset: str
    n_neurons: int
    rule: str
    points: tuple[OperatingPoint, ...]
    baseline_timesteps: int = DEFAULT_BASELINE_TIMESTEPS

    def __post_init__(self) -> None:
        if not self.dataset:
            raise ProfileError("dataset must be a non-empty string")
        if self.n_neurons < 1:
            raise ProfileError(f"n_neurons must be >= 1, got {self.n_neurons}")
        if self.baseline_timesteps < 1:
            raise ProfileError(f"baseline_timesteps must be >= 1, got {self.baseline_timesteps}")
        if not self.points:
            raise ProfileError("profile has no operating points")
        points = tuple(sorted(self.points, key=lambda p: p.timesteps, reverse=True))
        for above, below in itertools.pairwise(points):
            if above.timesteps == below.timesteps:
                raise ProfileError(f"duplicate operating points at T={above.timesteps}")
        object.__setattr__(self, "points", points)

    @property
    def name(self) -> str:
        """A short label, e.g. ``mnist N100 pair``."""
        return f"{self.dataset} N{self.n_neurons} {self.rule}"

    def point(self, timesteps: int) -> OperatingPoint:
        """The point measured at ``timesteps``; ProfileError if there is none."""
        for point in self.points:
            if point.timesteps == timesteps:
                return point
        known = ", ".join(str(p.timesteps) for p in self.points)
        raise ProfileError(f"{self.name}: no operating point at T={timesteps} (has T={known})")

    @property
    def baseline(self) -> OperatingPoint:
        """The no-reduction point at ``baseline_timesteps``; ProfileError if it is missing."""
        return self.point(self.baseline_timesteps)


# --- YAML files -------------------------------------------------------------------------------


def _round_sig(value: float, digits: int = _SIGNIFICANT) -> float:
    """``value`` rounded to ``digits`` significant figures."""
    return float(f"{value:.{digits}g}")


def _point_mapping(point: OperatingPoint) -> dict[str, Any]:
    """A point as plain YAML data, floats rounded."""
    return {
        "timesteps": point.timesteps,
        "enhanced": point.enhanced,
        "accuracy": round(point.accuracy, _ACCURACY_DECIMALS),
        "latency_ms": _round_sig(point.latency_ms),
        "train_energy_j": _round_sig(point.train_energy_j),
        "infer_energy_j": _round_sig(point.infer_energy_j),
        "memory_bytes": point.memory_bytes,
    }


def save_profile(path: str | Path, profile: Profile, notes: Sequence[str] = ()) -> Path:
    """Write ``profile`` as YAML to ``path`` atomically; return the path.

    ``notes`` become ``#`` comment lines under the standard header (e.g. the commands that made
    the file). Accuracy keeps 6 decimals, latency and energies 6 significant figures. An existing
    file stays intact if anything fails; a write failure raises ProfileError.
    """
    path = Path(path)
    comments = "".join(f"# {line}".rstrip() + "\n" for note in notes for line in note.splitlines())
    data = {
        "profile": {
            "dataset": profile.dataset,
            "n_neurons": profile.n_neurons,
            "rule": profile.rule,
            "baseline_timesteps": profile.baseline_timesteps,
            "points": [_point_mapping(p) for p in profile.points],
        }
    }
    text = _HEADER + comments + yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    try:
        atomic_write_bytes(path, text.encode("utf-8"))
    except OSError as err:
        raise ProfileError(f"{path}: cannot write profile ({err.strerror or err})") from err
    return path


def _number(value: Any, where: str, integer: bool = False) -> Any:
    """``value`` as an int (``integer``) or float; ProfileError naming ``where`` if it is not one.

    Accepts Python and NumPy numbers (not booleans); integral floats pass as integers.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value if integer else float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        kind = "an integer" if integer else "a number"
        raise ProfileError(f"{where} must be {kind}, got {value!r}")
    number = float(value)
    if not integer:
        return number
    if not math.isfinite(number) or number != math.floor(number):
        raise ProfileError(f"{where} must be an integer, got {value!r}")
    return int(number)


def _check_keys(
    where: str, mapping: Any, required: Sequence[str], optional: Sequence[str]
) -> None:
    """ProfileError unless ``mapping`` is a dict holding ``required`` keys and no unknown ones."""
    if not isinstance(mapping, dict):
        raise ProfileError(f"{where} must be a mapping, got {type(mapping).__name__}")
    missing = [key for key in required if key not in mapping]
    if missing:
        raise ProfileError(f"{where}: missing key(s) {', '.join(missing)}")
    unknown = sorted(str(key) for key in mapping if key not in (*required, *optional))
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _parse_point(where: str, mapping: Any) -> OperatingPoint:
    """An OperatingPoint from one YAML ``points`` entry."""
    _check_keys(where, mapping, _POINT_KEYS, ("enhanced",))
    values: dict[str, Any] = {
        key: _number(mapping[key], f"{where}: {key}", integer=key in _POINT_INTS)
        for key in _POINT_KEYS
    }
    enhanced = mapping.get("enhanced", False)
    if not isinstance(enhanced, bool):
        raise ProfileError(f"{where}: enhanced must be true or false, got {enhanced!r}")
    try:
        return OperatingPoint(enhanced=enhanced, **values)
    except ProfileError as err:
        raise ProfileError(f"{where}: {err}") from err


def load_profile(path: str | Path) -> Profile:
    """Read and validate a profile written by ``save_profile``; problems raise ProfileError."""
    path = Path(path)
    data = read_yaml(path, "profile", ProfileError)
    if not isinstance(data, dict) or "profile" not in data:
        raise ProfileError(f"{path}: missing top-level key 'profile'")
    body = data["profile"]
    where = f"{path}: profile"
    _check_keys(where, body, _PROFILE_KEYS, ("baseline_timesteps",))
    for key in ("dataset", "rule"):
        if not isinstance(body[key], str) or not body[key]:
            raise ProfileError(f"{where}: {key} must be a non-empty string, got {body[key]!r}")
    n_neurons = _number(body["n_neurons"], f"{where}: n_neurons", integer=True)
    baseline_t = _number(
        body.get("baseline_timesteps", DEFAULT_BASELINE_TIMESTEPS),
        f"{where}: baseline_timesteps",
        integer=True,
    )
    raw_points = body["points"]
    if not isinstance(raw_points, list) or not raw_points:
        raise ProfileError(f"{where}: points must be a non-empty list")
    points = tuple(_parse_point(f"{path}: points[{i}]", p) for i, p in enumerate(raw_points))
    try:
        profile = Profile(body["dataset"], n_neurons, body["rule"], points, baseline_t)
    except ProfileError as err:
        raise ProfileError(f"{where}: {err}") from err
    if all(p.timesteps != baseline_t for p in points):
        raise ProfileError(f"{where}: no point at the baseline T={baseline_t}")
    return profile


# --- sweep records ----------------------------------------------------------------------------


def _record_point(index: int, row: Mapping[str, Any]) -> OperatingPoint:
    """An OperatingPoint from one sweep result row."""
    where = f"sweep record {index}"
    missing = [key for key in _POINT_KEYS if key not in row]
    if missing:
        raise ProfileError(f"{where}: missing key(s) {', '.join(missing)}")
    values = {
        key: _number(row[key], f"{where}: {key}", integer=key in _POINT_INTS)
        for key in _POINT_KEYS
    }
    flag = row.get("enhanced", False)
    if flag not in (True, False):  # also NumPy booleans; not strings such as "false"
        raise ProfileError(f"{where}: enhanced must be true or false, got {flag!r}")
    try:
        return OperatingPoint(enhanced=bool(flag), **values)
    except ProfileError as err:
        raise ProfileError(f"{where}: {err}") from err


def profile_from_records(
    records: Sequence[Mapping[str, Any]],
    dataset: str,
    n_neurons: int,
    rule: str,
    enhanced: bool | None = None,
    baseline_timesteps: int = DEFAULT_BASELINE_TIMESTEPS,
) -> Profile:
    """Build the profile of ``dataset``/``n_neurons``/``rule`` from sweep result rows.

    Rows carry dataset, n_neurons, rule, enhanced (missing = false) and the OperatingPoint values;
    other keys are ignored. With ``enhanced`` given only rows with that flag are kept, except that
    the unenhanced baseline row stands in when no enhanced one was measured at the baseline T.
    Two kept rows at one T, no matching row or no baseline row raise ProfileError.
    """
    matching: list[OperatingPoint] = []
    for index, row in enumerate(records):
        missing = [key for key in ("dataset", "n_neurons", "rule") if key not in row]
        if missing:
            raise ProfileError(f"sweep record {index}: missing key(s) {', '.join(missing)}")
        n = _number(row["n_neurons"], f"sweep record {index}: n_neurons", integer=True)
        if row["dataset"] == dataset and n == n_neurons and row["rule"] == rule:
            matching.append(_record_point(index, row))
    label = f"{dataset} N{n_neurons} {rule}"
    if enhanced is not None:
        label += " (enhanced)" if enhanced else " (not enhanced)"
        kept = [p for p in matching if p.enhanced == enhanced]
        if not any(p.timesteps == baseline_timesteps for p in kept):
            kept += [p for p in matching if p.timesteps == baseline_timesteps and not p.enhanced]
        matching = kept
    if not matching:
        raise ProfileError(f"sweep records: none for {label}")
    seen: set[int] = set()
    for point in matching:
        if point.timesteps in seen:
            hint = "; pass enhanced=True or False" if enhanced is None else ""
            raise ProfileError(
                f"sweep records: several rows for {label} at T={point.timesteps}{hint}"
            )
        seen.add(point.timesteps)
    if baseline_timesteps not in seen:
        raise ProfileError(f"sweep records: no baseline row for {label} at T={baseline_timesteps}")
    return Profile(dataset, n_neurons, rule, tuple(matching), baseline_timesteps)


@dataclass(frozen=True, order=True)
class Series:
    """One curve of a sweep: the rows of one dataset, network size, rule and enhancement flag."""

    dataset: str
    n_neurons: int
    rule: str
    enhanced: bool

    @property
    def label(self) -> str:
        """A short label, e.g. ``mnist N100 pair (enhanced)``."""
        return f"{self.dataset} N{self.n_neurons} {self.rule}" + (
            " (enhanced)" if self.enhanced else ""
        )


def _row_series(index: int, row: Mapping[str, Any]) -> Series:
    """The series a sweep row belongs to; ProfileError if its keys are missing or malformed."""
    where = f"sweep record {index}"
    missing = [key for key in ("dataset", "n_neurons", "rule") if key not in row]
    if missing:
        raise ProfileError(f"{where}: missing key(s) {', '.join(missing)}")
    for key in ("dataset", "rule"):
        if not isinstance(row[key], str) or not row[key]:
            raise ProfileError(f"{where}: {key} must be a non-empty string, got {row[key]!r}")
    flag = row.get("enhanced", False)
    if flag not in (True, False):
        raise ProfileError(f"{where}: enhanced must be true or false, got {flag!r}")
    n = _number(row["n_neurons"], f"{where}: n_neurons", integer=True)
    return Series(row["dataset"], n, row["rule"], bool(flag))


def sweep_series(records: Sequence[Mapping[str, Any]]) -> list[Series]:
    """The distinct series of sweep rows, sorted."""
    return sorted({_row_series(i, row) for i, row in enumerate(records)})


def default_baseline(records: Sequence[Mapping[str, Any]], series: Series) -> int:
    """DEFAULT_BASELINE_TIMESTEPS if ``series`` measured it, else its largest T.

    An enhanced series also counts the unenhanced rows of its network, as ``profile_from_records``
    borrows the unenhanced baseline row.
    """
    steps: set[int] = set()
    for index, row in enumerate(records):
        other = _row_series(index, row)
        if other == series or (series.enhanced and other == replace(series, enhanced=False)):
            if "timesteps" not in row:
                raise ProfileError(f"sweep record {index}: missing key(s) timesteps")
            steps.add(_number(row["timesteps"], f"sweep record {index}: timesteps", True))
    if not steps:
        raise ProfileError(f"sweep records: none for {series.label}")
    return DEFAULT_BASELINE_TIMESTEPS if DEFAULT_BASELINE_TIMESTEPS in steps else max(steps)


# --- sweep files ------------------------------------------------------------------------------

SWEEP_FILES = ("sweep.json", "sweep.csv")


def _json_rows(path: Path, text: str) -> list[dict[str, Any]]:
    """The rows of a sweep JSON file: ``{"results": [row, ...]}`` or a bare list of rows."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ProfileError(f"{path}: malformed JSON at line {err.lineno} ({err.msg})") from err
    rows = data.get("results") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise ProfileError(f"{path}: expected a 'results' list of sweep records")
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            kind = type(row).__name__
            raise ProfileError(f"{path}: sweep record {index} must be a mapping, got {kind}")
    return rows


def _csv_value(text: str) -> Any:
    """A CSV cell as bool (True/False), int, float or the string itself."""
    if text in ("True", "False", "true", "false"):
        return text in ("True", "true")
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _csv_rows(path: Path, text: str) -> list[dict[str, Any]]:
    """The rows of a sweep CSV file (a header line, then one line per row), values parsed."""
    reader = csv.DictReader(io.StringIO(text))
    rows: list[dict[str, Any]] = []
    try:
        for row in reader:
            if None in row or None in row.values():
                width = len(reader.fieldnames or ())
                raise ProfileError(f"{path}: line {reader.line_num} does not have {width} fields")
            rows.append({key: _csv_value(value) for key, value in row.items()})
    except csv.Error as err:
        raise ProfileError(f"{path}: malformed CSV at line {reader.line_num} ({err})") from err
    return rows


def read_sweep_records(path: str | Path) -> tuple[Path, list[dict[str, Any]]]:
    """The file read and its rows: a ``sweep.json`` or ``sweep.csv`` written by ``topspark sweep``,
    or the directory holding one (JSON preferred). Problems raise ProfileError naming the file."""
    path = Path(path)
    if path.is_dir():
        found = [path / name for name in SWEEP_FILES if (path / name).is_file()]
        if not found:
            raise ProfileError(f"{path}: no {' or '.join(SWEEP_FILES)} in this directory")
        path = found[0]
    elif not path.exists():
        raise ProfileError(f"{path}: no such sweep results file or directory")
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise ProfileError(f"{path}: expected a .json or .csv sweep results file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or err
        raise ProfileError(f"{path}: cannot read sweep results ({reason})") from err
    rows = _json_rows(path, text) if suffix == ".json" else _csv_rows(path, text)
    if not rows:
        raise ProfileError(f"{path}: no sweep records")
    return path, rows


__all__ = [
    "DEFAULT_BASELINE_TIMESTEPS",
    "SWEEP_FILES",
    "OperatingPoint",
    "Profile",
    "ProfileError",
    "Series",
    "default_baseline",
    "load_profile",
    "profile_from_records",
    "read_sweep_records",
    "save_profile",
    "sweep_series",
]

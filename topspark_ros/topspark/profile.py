"""TopSpark step 4: operating-point profiles (YAML) and the smallest-cost timestep selection rule.

A profile lists, for one dataset, network size and learning rule, what each timestep count T
measured: accuracy (0..1), mean inference latency per sample (ms), modelled training and inference
energy per sample (J) and memory (bytes). ``select`` picks the feasible point of lowest cost:

    cost = w_latency * latency / latency(base) + w_energy * infer_energy / infer_energy(base)
         + w_memory * memory / memory(base) + w_accuracy * 100 * (accuracy(base) - accuracy)

where base is the baseline point (T=350 by default) and the accuracy term counts percentage points
lost (negative for a point more accurate than the baseline). Feasible means: accuracy within
``max_accuracy_drop`` of the baseline and at least ``min_accuracy``, latency within the deadline
and inference energy within the budget. Equal costs go to the larger T, the safer choice.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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
_REL_TOL = 1e-9  # comparisons with a limit forgive float rounding, e.g. 0.91 - 0.02 vs 0.89


class ProfileError(ConfigError):
    """An operating-point profile or sweep record is missing, malformed or inconsistent."""


class InfeasibleError(ProfileError):
    """No operating point of a profile meets the constraints."""


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


def save_profile(path: str | Path, profile: Profile) -> Path:
    """Write ``profile`` as YAML to ``path`` atomically; return the path.

    Accuracy keeps 6 decimals, latency and energies 6 significant figures. An existing file stays
    intact if anything fails; a write failure raises ProfileError.
    """
    path = Path(path)
    data = {
        "profile": {
            "dataset": profile.dataset,
            "n_neurons": profile.n_neurons,
            "rule": profile.rule,
            "baseline_timesteps": profile.baseline_timesteps,
            "points": [_point_mapping(p) for p in profile.points],
        }
    }
    text = _HEADER + yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
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


# --- selection --------------------------------------------------------------------------------


def _optional_range(name: str, value: float | None, lo: float, hi: float | None) -> None:
    """ConfigError unless ``value`` is None or finite within [lo, hi] (lo exclusive if hi None)."""
    if value is None:
        return
    if hi is not None:
        if not (math.isfinite(value) and lo <= value <= hi):
            raise ConfigError(f"constraints: {name} must be in [{lo}, {hi}], got {value}")
    elif not (math.isfinite(value) and value > lo):
        raise ConfigError(f"constraints: {name} must be finite and > {lo}, got {value}")


@dataclass(frozen=True)
class Constraints:
    """User limits on the operating point; None disables a limit.

    ``max_accuracy_drop`` is absolute (0.02: within 2 percentage points of the baseline accuracy);
    ``min_accuracy`` an absolute floor (0..1); ``latency_deadline_ms`` bounds the mean inference
    latency per sample; ``energy_budget_j`` the modelled inference energy per sample.
    """

    max_accuracy_drop: float | None = 0.02
    min_accuracy: float | None = None
    latency_deadline_ms: float | None = None
    energy_budget_j: float | None = None

    def __post_init__(self) -> None:
        _optional_range("max_accuracy_drop", self.max_accuracy_drop, 0, 1)
        _optional_range("min_accuracy", self.min_accuracy, 0, 1)
        _optional_range("latency_deadline_ms", self.latency_deadline_ms, 0, None)
        _optional_range("energy_budget_j", self.energy_budget_j, 0, None)


@dataclass(frozen=True)
class Weights:
    """Cost weights (>= 0): latency, inference energy and memory relative to the baseline's value,
    accuracy per percentage point lost against the baseline."""

    latency: float = 1.0
    energy: float = 1.0
    memory: float = 0.0
    accuracy: float = 0.0

    def __post_init__(self) -> None:
        for name in ("latency", "energy", "memory", "accuracy"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"weights: {name} must be finite and >= 0, got {value}")


@dataclass(frozen=True)
class Selection:
    """The chosen operating point, its cost and a one-line reason."""

    point: OperatingPoint
    cost: float
    reason: str


@dataclass(frozen=True)
class _Check:
    """One active constraint: ``value(point) <= limit`` (``upper``) or ``>= limit``."""

    label: str
    quantity: str
    value: Callable[[OperatingPoint], float]
    limit: float
    upper: bool
    unit: str

    def ok(self, point: OperatingPoint) -> bool:
        slack = _REL_TOL * abs(self.limit)
        v = self.value(point)
        return v <= self.limit + slack if self.upper else v >= self.limit - slack

    def shortfall(self, point: OperatingPoint) -> float:
        """How far ``point`` misses the limit, relative to the limit (0 when met)."""
        gap = self.value(point) - self.limit if self.upper else self.limit - self.value(point)
        return max(gap, 0.0) / (abs(self.limit) or 1.0)

    def show(self, point: OperatingPoint) -> str:
        return f"{self.quantity} {_fmt(self.value(point), self.unit)}"


def _fmt(value: float, unit: str) -> str:
    return f"{value:.4f}" if not unit else f"{value:.3g} {unit}"


def _checks(profile: Profile, constraints: Constraints) -> list[_Check]:
    """The active constraints, in the order accuracy, latency, energy."""
    checks: list[_Check] = []
    floors: list[float] = [] if constraints.min_accuracy is None else [constraints.min_accuracy]
    if constraints.max_accuracy_drop is not None:
        floors.append(profile.baseline.accuracy - constraints.max_accuracy_drop)
    if floors:
        floor = max(floors)
        checks.append(_Check(f"accuracy >= {floor:.4f}", "accuracy", _accuracy, floor, False, ""))
    if constraints.latency_deadline_ms is not None:
        limit = constraints.latency_deadline_ms
        checks.append(_Check(f"latency <= {limit:.3g} ms", "latency", _latency, limit, True, "ms"))
    if constraints.energy_budget_j is not None:
        limit = constraints.energy_budget_j
        checks.append(_Check(f"energy <= {limit:.3g} J", "energy", _energy, limit, True, "J"))
    return checks


def _accuracy(point: OperatingPoint) -> float:
    return point.accuracy


def _latency(point: OperatingPoint) -> float:
    return point.latency_ms


def _energy(point: OperatingPoint) -> float:
    return point.infer_energy_j


def _memory(point: OperatingPoint) -> float:
    return float(point.memory_bytes)


def feasible(profile: Profile, constraints: Constraints | None = None) -> list[OperatingPoint]:
    """The points meeting every constraint, largest T first."""
    checks = _checks(profile, constraints or Constraints())
    return [p for p in profile.points if all(c.ok(p) for c in checks)]


def _scale(profile: Profile, value: Callable[[OperatingPoint], float]) -> float:
    """The baseline's value, or the largest value when the baseline's is 0 (1 if all are 0)."""
    base = value(profile.baseline)
    return base if base > 0 else (max(value(p) for p in profile.points) or 1.0)


def cost(profile: Profile, point: OperatingPoint, weights: Weights | None = None) -> float:
    """The weighted cost of ``point`` (see the module docstring); the baseline costs
    ``latency + energy + memory`` weights."""
    weights = weights or Weights()
    total = 100.0 * weights.accuracy * (profile.baseline.accuracy - point.accuracy)
    for weight, value in (
        (weights.latency, _latency),
        (weights.energy, _energy),
        (weights.memory, _memory),
    ):
        if weight:
            total += weight * value(point) / _scale(profile, value)
    return total


def _infeasible_message(profile: Profile, checks: list[_Check]) -> str:
    """Name the smallest set of constraints no point meets, and the point that comes closest."""
    for size in range(1, len(checks) + 1):
        for combo in itertools.combinations(checks, size):
            if any(all(c.ok(p) for c in combo) for p in profile.points):
                continue
            labels = " and ".join(c.label for c in combo)
            anchor, others = combo[0], combo[1:]
            if not others:
                closest = min(profile.points, key=lambda p: (anchor.shortfall(p), -p.timesteps))
                detail = f"the closest, T={closest.timesteps}, has {anchor.show(closest)}"
            else:
                meets = [p for p in profile.points if anchor.ok(p)]
                closest = min(
                    meets, key=lambda p: (sum(c.shortfall(p) for c in others), -p.timesteps)
                )
                shown = ", ".join(c.show(closest) for c in others)
                detail = (
                    f"the closest, T={closest.timesteps} with {anchor.show(closest)}, has {shown}"
                )
            return f"{profile.name}: no operating point meets {labels} ({detail})"
    raise AssertionError("the constraints are feasible")  # pragma: no cover


def _reason(
    profile: Profile, point: OperatingPoint, point_cost: float, checks: list[_Check], n: int
) -> str:
    """One line: why ``point`` was chosen and how it compares with the baseline."""
    limits = ", ".join(c.label for c in checks) or "no constraints"
    head = f"T={point.timesteps}: lowest cost {point_cost:.3g} of {n} feasible point(s) ({limits})"
    base = profile.baseline
    if point.timesteps == base.timesteps:
        return f"{head}; the baseline itself"

    def ratio(value: Callable[[OperatingPoint], float]) -> str:
        return f"{value(base) / value(point):.2g}x" if value(point) > 0 else "n/a"

    change = 100.0 * (point.accuracy - base.accuracy)
    return (
        f"{head}; vs T={base.timesteps}: accuracy {point.accuracy:.4f} ({change:+.2f} points), "
        f"latency {ratio(_latency)} lower, inference energy {ratio(_energy)} lower"
    )


def select(
    profile: Profile, constraints: Constraints | None = None, weights: Weights | None = None
) -> Selection:
    """The feasible point of lowest cost (equal costs: the larger T).

    Raises InfeasibleError naming the binding constraint(s) when no point is feasible, and
    ProfileError when the profile lacks its baseline point.
    """
    checks = _checks(profile, constraints or Constraints())
    candidates = [p for p in profile.points if all(c.ok(p) for c in checks)]
    if not candidates:
        raise InfeasibleError(_infeasible_message(profile, checks))
    costs = [cost(profile, p, weights) for p in candidates]
    best = min(costs)
    # Points are sorted by T descending, so the first near-equal cost is the largest T.
    index = next(i for i, c in enumerate(costs) if math.isclose(c, best, abs_tol=1e-12))
    chosen = candidates[index]
    reason = _reason(profile, chosen, costs[index], checks, len(candidates))
    return Selection(chosen, costs[index], reason)


__all__ = [
    "DEFAULT_BASELINE_TIMESTEPS",
    "Constraints",
    "InfeasibleError",
    "OperatingPoint",
    "Profile",
    "ProfileError",
    "Selection",
    "Weights",
    "cost",
    "feasible",
    "load_profile",
    "profile_from_records",
    "save_profile",
    "select",
]

"""TopSpark step 4, trade-off: the smallest-cost timestep count T meeting user constraints.

``select`` picks the feasible operating point of a ``Profile`` with the lowest cost:

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
from collections.abc import Callable
from dataclasses import dataclass

from topspark_ros.errors import ConfigError
from topspark_ros.topspark.profile import OperatingPoint, Profile, ProfileError

_REL_TOL = 1e-9  # comparisons with a limit forgive float rounding, e.g. 0.91 - 0.02 vs 0.89


class InfeasibleError(ProfileError):
    """No operating point of a profile meets the constraints."""


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


_TABLE_HEAD = (
    f"{'T':>5}  {'enh':3}  {'acc %':>6}  {'vs base':>7}  {'lat ms':>7}  {'train uJ':>9}  "
    f"{'infer uJ':>9}  {'mem KiB':>8}  {'cost':>6}  ok"
)


def profile_table(
    profile: Profile, constraints: Constraints | None = None, weights: Weights | None = None
) -> list[str]:
    """One line per point, largest T first; ``ok`` marks the points meeting the constraints."""
    ok = {p.timesteps for p in feasible(profile, constraints)}
    base = profile.baseline
    return [_TABLE_HEAD] + [
        f"{p.timesteps:>5}  {'yes' if p.enhanced else 'no':3}  {100 * p.accuracy:>6.2f}  "
        f"{100 * (p.accuracy - base.accuracy):>+7.2f}  {p.latency_ms:>7.3f}  "
        f"{1e6 * p.train_energy_j:>9.1f}  {1e6 * p.infer_energy_j:>9.1f}  "
        f"{p.memory_bytes / 1024:>8.1f}  {cost(profile, p, weights):>6.3f}  "
        f"{'yes' if p.timesteps in ok else '-'}"
        for p in profile.points
    ]


__all__ = [
    "Constraints",
    "InfeasibleError",
    "Selection",
    "Weights",
    "cost",
    "feasible",
    "profile_table",
    "select",
]

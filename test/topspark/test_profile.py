"""Tests for operating-point profiles and the timestep selection rule (topspark/profile.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from topspark_ros.errors import ConfigError
from topspark_ros.topspark.profile import (
    Constraints,
    InfeasibleError,
    OperatingPoint,
    Profile,
    ProfileError,
    Weights,
    cost,
    feasible,
    load_profile,
    profile_from_records,
    save_profile,
    select,
)

# T, accuracy, latency (ms); energies follow latency; T=80 needs twice the memory (memory test).
TABLE = [
    (350, 0.91, 3.5),
    (250, 0.91, 2.5),
    (200, 0.905, 2.0),
    (150, 0.90, 1.5),
    (100, 0.895, 1.0),
    (80, 0.89, 0.8),
    (60, 0.87, 0.6),
    (40, 0.80, 0.4),
    (20, 0.60, 0.2),
]


def point(t: int, acc: float, lat: float, **kw: Any) -> OperatingPoint:
    """A point whose energies are proportional to its latency (1 uJ/ms inference, 2 training)."""
    values: dict[str, Any] = {
        "train_energy_j": lat * 2 * 1e-6,
        "infer_energy_j": lat * 1e-6,
        "memory_bytes": 800_000 if t == 80 else 400_000,
    }
    values.update(kw)
    return OperatingPoint(timesteps=t, accuracy=acc, latency_ms=lat, **values)


def make_profile(rows: list[tuple[int, float, float]] | None = None) -> Profile:
    """The hand-made profile of TABLE (or ``rows``), deliberately given in shuffled order."""
    points = [point(*row) for row in (rows or TABLE)]
    return Profile("mnist", 100, "pair", tuple(reversed(points)))


def exact_profile() -> Profile:
    """A profile whose values survive the YAML rounding unchanged."""
    points = (
        OperatingPoint(350, 0.9123, 3.25, 4.5e-05, 1.25e-05, 627_200),
        OperatingPoint(100, 0.9011, 0.93, 1.3e-05, 3.6e-06, 627_200, enhanced=True),
        OperatingPoint(60, 0.8712, 0.5625, 8.1e-06, 2.2e-06, 627_200, enhanced=True),
    )
    return Profile("fashion-mnist", 400, "weight_dependent", points)


def leftovers(directory: Path) -> list[str]:
    """Temporary files left in ``directory``."""
    return sorted(p.name for p in directory.iterdir() if ".tmp" in p.name)


# --- data classes -----------------------------------------------------------------------------


def test_points_sorted_and_baseline() -> None:
    prof = make_profile()
    assert [p.timesteps for p in prof.points] == [row[0] for row in TABLE]
    assert prof.baseline.timesteps == 350
    assert prof.point(80).accuracy == 0.89
    assert prof.name == "mnist N100 pair"


def test_missing_baseline_raises() -> None:
    prof = Profile("mnist", 100, "pair", (point(100, 0.9, 1.0),))
    with pytest.raises(ProfileError, match=r"^mnist N100 pair: no operating point at T=350"):
        _ = prof.baseline
    with pytest.raises(ProfileError, match="no operating point at T=350"):
        select(prof)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"accuracy": 1.5}, r"^accuracy must be in \[0, 1\], got 1.5 at T=100$"),
        ({"latency_ms": -1.0}, r"^latency_ms must be finite and >= 0, got -1.0 at T=100$"),
        ({"infer_energy_j": float("nan")}, "infer_energy_j must be finite"),
        ({"memory_bytes": -1}, "memory_bytes must be finite and >= 0"),
        ({"timesteps": 0}, r"^timesteps must be >= 1, got 0"),
    ],
)
def test_point_ranges(kwargs: dict[str, Any], match: str) -> None:
    values: dict[str, Any] = {
        "timesteps": 100,
        "accuracy": 0.9,
        "latency_ms": 1.0,
        "train_energy_j": 1e-6,
        "infer_energy_j": 1e-6,
        "memory_bytes": 10,
    }
    with pytest.raises(ProfileError, match=match):
        OperatingPoint(**{**values, **kwargs})


def test_profile_rejects_duplicates_and_empty() -> None:
    with pytest.raises(ProfileError, match="duplicate operating points at T=100"):
        Profile("mnist", 100, "pair", (point(100, 0.9, 1.0), point(100, 0.8, 1.0)))
    with pytest.raises(ProfileError, match="no operating points"):
        Profile("mnist", 100, "pair", ())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_accuracy_drop": -0.1}, r"max_accuracy_drop must be in \[0, 1\], got -0.1"),
        ({"min_accuracy": 1.1}, r"min_accuracy must be in \[0, 1\]"),
        ({"latency_deadline_ms": 0.0}, "latency_deadline_ms must be finite and > 0, got 0.0"),
        ({"energy_budget_j": float("inf")}, "energy_budget_j must be finite and > 0"),
    ],
)
def test_constraint_ranges(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Constraints(**kwargs)


def test_weight_ranges() -> None:
    with pytest.raises(ConfigError, match=r"weights: memory must be finite and >= 0, got -1"):
        Weights(memory=-1)


# --- selection --------------------------------------------------------------------------------


def test_accuracy_drop_only_picks_cheapest_within_two_points() -> None:
    prof = make_profile()
    # 0.91 - 0.02 is 0.8900000000000001 in floats: T=80 (0.89) must still count as within 2 points.
    assert [p.timesteps for p in feasible(prof)] == [350, 250, 200, 150, 100, 80]
    chosen = select(prof)
    assert chosen.point.timesteps == 80
    assert chosen.cost == pytest.approx(2 * 0.8 / 3.5)
    assert chosen.reason.startswith("T=80: lowest cost 0.457 of 6 feasible point(s)")
    assert "accuracy >= 0.8900" in chosen.reason
    assert "latency 4.4x lower" in chosen.reason
    assert "\n" not in chosen.reason


def test_min_accuracy_and_drop_combine_to_the_higher_floor() -> None:
    prof = make_profile()
    assert select(prof, Constraints(min_accuracy=0.9)).point.timesteps == 150
    assert select(prof, Constraints(min_accuracy=0.5)).point.timesteps == 80
    unconstrained = Constraints(max_accuracy_drop=None)
    assert select(prof, unconstrained).point.timesteps == 20
    assert len(feasible(prof, unconstrained)) == len(TABLE)


def test_accuracy_weight_trades_latency_for_accuracy() -> None:
    prof = make_profile()
    # cost(T) = 2 * lat / 3.5 + 100 * (0.91 - acc): 350 -> 2.0, 250 -> 1.43, 200 -> 1.64, ...
    chosen = select(prof, weights=Weights(accuracy=1.0))
    assert chosen.point.timesteps == 250
    assert chosen.cost == pytest.approx(2 * 2.5 / 3.5)


def test_latency_deadline() -> None:
    prof = make_profile()
    weights = Weights(accuracy=1.0)
    assert select(prof, Constraints(latency_deadline_ms=2.2), weights).point.timesteps == 200
    # A deadline equal to a point's latency admits it.
    assert select(prof, Constraints(latency_deadline_ms=2.5), weights).point.timesteps == 250
    # Not binding with the default weights.
    assert select(prof, Constraints(latency_deadline_ms=1.2)).point.timesteps == 80


def test_energy_budget() -> None:
    prof = make_profile()
    chosen = select(prof, Constraints(energy_budget_j=1.6e-6), Weights(accuracy=1.0))
    assert chosen.point.timesteps == 150
    assert "energy <= 1.6e-06 J" in chosen.reason


def test_memory_weight() -> None:
    prof = make_profile()
    assert select(prof).point.timesteps == 80
    # T=80 needs twice the baseline's memory: 0.46 + 2.0 against T=100's 0.57 + 1.0.
    chosen = select(prof, weights=Weights(memory=1.0))
    assert chosen.point.timesteps == 100
    assert chosen.cost == pytest.approx(2 * 1.0 / 3.5 + 1.0)


def test_ties_go_to_the_larger_timestep() -> None:
    prof = make_profile([(350, 0.91, 3.5), (100, 0.90, 1.0), (80, 0.90, 1.0)])
    assert prof.point(80).memory_bytes != prof.point(100).memory_bytes
    chosen = select(prof)  # memory weight 0: T=100 and T=80 cost the same
    assert chosen.point.timesteps == 100
    everything_free = Weights(latency=0, energy=0)
    assert select(make_profile(), weights=everything_free).point.timesteps == 350
    assert select(make_profile(), weights=everything_free).reason.endswith("the baseline itself")


def test_cost_is_relative_to_the_baseline() -> None:
    prof = make_profile()
    assert cost(prof, prof.baseline) == pytest.approx(2.0)
    assert cost(prof, prof.point(100), Weights(0, 0, 0, 1)) == pytest.approx(1.5)
    # More accurate than the baseline: a negative accuracy term.
    better = Profile("mnist", 100, "pair", (point(350, 0.9, 3.5), point(200, 0.92, 2.0)))
    assert cost(better, better.point(200), Weights(0, 0, 0, 1)) == pytest.approx(-2.0)


def test_zero_baseline_value_falls_back_to_the_largest() -> None:
    points = (point(350, 0.9, 3.5, memory_bytes=0), point(100, 0.9, 1.0, memory_bytes=500))
    prof = Profile("mnist", 100, "pair", points)
    assert cost(prof, prof.point(100), Weights(0, 0, 1, 0)) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("constraints", "match"),
    [
        (
            Constraints(latency_deadline_ms=0.5),
            (
                r"^mnist N100 pair: no operating point meets accuracy >= 0\.8900 and latency "
                r"<= 0\.5 ms \(the closest, T=80 with accuracy 0\.8900, has latency 0\.8 ms\)$"
            ),
        ),
        (
            Constraints(min_accuracy=0.95),
            r"meets accuracy >= 0\.9500 \(the closest, T=350, has accuracy 0\.9100\)$",
        ),
        (
            Constraints(latency_deadline_ms=0.1),
            r"meets latency <= 0\.1 ms \(the closest, T=20, has latency 0\.2 ms\)$",
        ),
        (
            Constraints(max_accuracy_drop=None, energy_budget_j=1e-8),
            r"meets energy <= 1e-08 J \(the closest, T=20, has energy 2e-07 J\)$",
        ),
        (
            # Energy alone is feasible; with the accuracy floor it is not.
            Constraints(energy_budget_j=0.5e-6, latency_deadline_ms=10.0),
            (
                r"meets accuracy >= 0\.8900 and energy <= 5e-07 J \(the closest, T=80 with "
                r"accuracy 0\.8900, has energy 8e-07 J\)$"
            ),
        ),
    ],
)
def test_infeasible_names_binding_constraints(constraints: Constraints, match: str) -> None:
    prof = make_profile()
    assert feasible(prof, constraints) == []
    with pytest.raises(InfeasibleError, match=match):
        select(prof, constraints)


def test_infeasible_is_a_config_error() -> None:
    assert issubclass(InfeasibleError, ProfileError)
    assert issubclass(ProfileError, ConfigError)


# --- YAML files -------------------------------------------------------------------------------


def test_yaml_round_trip(tmp_path: Path) -> None:
    prof = exact_profile()
    path = save_profile(tmp_path / "profile.yaml", prof)
    assert load_profile(path) == prof
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# TopSpark operating-point profile")
    data = yaml.safe_load(text)
    assert list(data["profile"]) == [
        "dataset",
        "n_neurons",
        "rule",
        "baseline_timesteps",
        "points",
    ]
    assert data["profile"]["points"][1] == {
        "timesteps": 100,
        "enhanced": True,
        "accuracy": 0.9011,
        "latency_ms": 0.93,
        "train_energy_j": 1.3e-05,
        "infer_energy_j": 3.6e-06,
        "memory_bytes": 627_200,
    }
    assert leftovers(tmp_path) == []


def test_yaml_rounds_floats_and_is_stable(tmp_path: Path) -> None:
    points = (
        OperatingPoint(350, 0.912345678, 3.14159265, 4.5e-05 / 3, 1e-05 / 3, 100),
        OperatingPoint(50, 0.8, 0.123456789, 1e-6, 2e-7, 100),
    )
    path = save_profile(tmp_path / "p.yaml", Profile("mnist", 100, "pair", points))
    loaded = load_profile(path)
    assert loaded.baseline.accuracy == 0.912346
    assert loaded.baseline.latency_ms == 3.14159
    assert loaded.baseline.infer_energy_j == 3.33333e-06
    first = path.read_bytes()
    save_profile(path, loaded)
    assert path.read_bytes() == first


def test_baseline_timesteps_is_optional_and_kept(tmp_path: Path) -> None:
    prof = Profile("mnist", 100, "pair", (point(200, 0.9, 2.0), point(50, 0.88, 0.5)), 200)
    path = save_profile(tmp_path / "p.yaml", prof)
    assert load_profile(path) == prof
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["profile"]["baseline_timesteps"]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ProfileError, match=r"profile: no point at the baseline T=350$"):
        load_profile(path)


def _edit(data: dict[str, Any], key: str, value: Any) -> None:
    """Set (or with value ``...`` delete) ``profile.key`` or ``profile.points.N.key``."""
    *parents, last = key.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is ...:
        del node[last]
    else:
        node[int(last) if last.isdigit() else last] = value


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("profile.rule", ..., r"p\.yaml: profile: missing key\(s\) rule$"),
        ("profile.points", ..., r"profile: missing key\(s\) points$"),
        ("profile.seed", 3, r"profile: unknown key\(s\) seed$"),
        ("profile.dataset", 3, r"profile: dataset must be a non-empty string, got 3$"),
        ("profile.rule", "", r"profile: rule must be a non-empty string"),
        ("profile.n_neurons", 1.5, r"profile: n_neurons must be an integer, got 1\.5$"),
        ("profile.n_neurons", "100", r"profile: n_neurons must be an integer, got '100'$"),
        ("profile.n_neurons", 0, r"profile: n_neurons must be >= 1, got 0$"),
        ("profile.baseline_timesteps", True, r"baseline_timesteps must be an integer, got True"),
        ("profile.baseline_timesteps", 300, r"profile: no point at the baseline T=300$"),
        ("profile.points", [], r"profile: points must be a non-empty list$"),
        ("profile.points", {"a": 1}, r"profile: points must be a non-empty list$"),
        ("profile.points.1", [1, 2], r"p\.yaml: points\[1\] must be a mapping, got list$"),
        ("profile.points.1.latency_ms", ..., r"points\[1\]: missing key\(s\) latency_ms$"),
        ("profile.points.1.spikes", 9, r"points\[1\]: unknown key\(s\) spikes$"),
        ("profile.points.1.accuracy", "high", r"points\[1\]: accuracy must be a number, got"),
        ("profile.points.1.timesteps", 99.5, r"points\[1\]: timesteps must be an integer"),
        ("profile.points.1.memory_bytes", None, r"memory_bytes must be an integer, got None$"),
        (
            "profile.points.1.accuracy",
            1.2,
            r"p\.yaml: points\[1\]: accuracy must be in \[0, 1\], got 1\.2 at T=100$",
        ),
        ("profile.points.1.accuracy", -0.1, r"accuracy must be in \[0, 1\], got -0\.1"),
        ("profile.points.1.latency_ms", -2.0, r"latency_ms must be finite and >= 0, got -2\.0"),
        ("profile.points.1.latency_ms", float("nan"), r"latency_ms must be finite and >= 0"),
        ("profile.points.1.train_energy_j", -1e-6, r"points\[1\]: train_energy_j must be fin"),
        ("profile.points.1.infer_energy_j", -1e-6, r"points\[1\]: infer_energy_j must be fin"),
        ("profile.points.1.memory_bytes", -5, r"memory_bytes must be finite and >= 0, got -5"),
        ("profile.points.1.timesteps", 0, r"points\[1\]: timesteps must be >= 1, got 0"),
        ("profile.points.1.enhanced", "maybe", r"enhanced must be true or false, got 'maybe'$"),
        ("profile.points.1.timesteps", 60, r"profile: duplicate operating points at T=60$"),
        ("profile.points.0.timesteps", 300, r"profile: no point at the baseline T=350$"),
    ],
)
def test_load_validation(tmp_path: Path, key: str, value: Any, match: str) -> None:
    path = save_profile(tmp_path / "p.yaml", exact_profile())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    _edit(data, key, value)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ProfileError, match=match) as info:
        load_profile(path)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(str(path))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("profile: [1, 2\n", r"p\.yaml: malformed YAML at line 2$"),
        ("", r"p\.yaml: missing top-level key 'profile'$"),
        ("- 1\n- 2\n", r"missing top-level key 'profile'$"),
        ("points: []\n", r"missing top-level key 'profile'$"),
        ("profile: 3\n", r"p\.yaml: profile must be a mapping, got int$"),
    ],
)
def test_load_rejects_malformed_files(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError, match=match):
        load_profile(path)


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"absent\.yaml: cannot read profile \(No such file"):
        load_profile(tmp_path / "absent.yaml")


def test_load_accepts_integers_for_floats(tmp_path: Path) -> None:
    path = save_profile(tmp_path / "p.yaml", exact_profile())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["profile"]["points"][0].update(accuracy=1, latency_ms=3, memory_bytes=627_200.0)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    base = load_profile(path).baseline
    assert (base.accuracy, base.latency_ms, base.memory_bytes) == (1.0, 3.0, 627_200)
    assert isinstance(base.memory_bytes, int)


def test_save_keeps_existing_file_when_serialisation_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_profile(tmp_path / "p.yaml", exact_profile())
    before = path.read_bytes()

    def broken_dump(*args: Any, **kwargs: Any) -> str:
        raise yaml.representer.RepresenterError("cannot represent an object")

    monkeypatch.setattr(yaml, "safe_dump", broken_dump)
    with pytest.raises(yaml.YAMLError, match="cannot represent"):
        save_profile(path, make_profile())
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_save_keeps_existing_file_when_write_fails_midway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_profile(tmp_path / "p.yaml", exact_profile())
    before = path.read_bytes()
    real_write = Path.write_bytes

    def half_write(self: Path, data: bytes) -> int:
        real_write(self, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", half_write)
    with pytest.raises(ProfileError, match=r"p\.yaml: cannot write profile \(No space left"):
        save_profile(path, make_profile())
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert load_profile(path) == exact_profile()
    assert leftovers(tmp_path) == []


# --- sweep records ----------------------------------------------------------------------------


def record(
    t: int,
    acc: float,
    enhanced: bool = False,
    dataset: str = "mnist",
    n: int = 100,
    rule: str = "pair",
) -> dict[str, Any]:
    """One sweep result row, with an extra key a sweep might add."""
    return {
        "dataset": dataset,
        "n_neurons": n,
        "rule": rule,
        "enhanced": enhanced,
        "timesteps": t,
        "accuracy": acc,
        "latency_ms": t / 100,
        "train_energy_j": t * 2e-8,
        "infer_energy_j": t * 1e-8,
        "memory_bytes": 313_600,
        "seed": 0,
    }


RECORDS = [
    record(350, 0.90),
    record(100, 0.85),
    record(60, 0.80),
    record(100, 0.89, enhanced=True),
    record(60, 0.88, enhanced=True),
    record(350, 0.93, n=400),
    record(350, 0.80, dataset="fashion-mnist"),
    record(350, 0.91, rule="weight_dependent"),
]


def test_records_enhanced_uses_the_unenhanced_baseline() -> None:
    prof = profile_from_records(RECORDS, "mnist", 100, "pair", enhanced=True)
    assert [(p.timesteps, p.enhanced, p.accuracy) for p in prof.points] == [
        (350, False, 0.90),
        (100, True, 0.89),
        (60, True, 0.88),
    ]
    assert (prof.dataset, prof.n_neurons, prof.rule) == ("mnist", 100, "pair")
    assert prof.point(100) == OperatingPoint(100, 0.89, 1.0, 2e-6, 1e-6, 313_600, True)


def test_records_prefer_an_enhanced_baseline_when_measured() -> None:
    records = [*RECORDS, record(350, 0.905, enhanced=True)]
    prof = profile_from_records(records, "mnist", 100, "pair", enhanced=True)
    assert prof.baseline.enhanced
    assert prof.baseline.accuracy == 0.905


def test_records_unenhanced_and_other_filters() -> None:
    prof = profile_from_records(RECORDS, "mnist", 100, "pair", enhanced=False)
    assert [(p.timesteps, p.enhanced) for p in prof.points] == [
        (350, False),
        (100, False),
        (60, False),
    ]
    big = profile_from_records(RECORDS, "mnist", 400, "pair")
    assert [p.accuracy for p in big.points] == [0.93]
    wd = profile_from_records(RECORDS, "mnist", 100, "weight_dependent", enhanced=True)
    assert [p.accuracy for p in wd.points] == [0.91]


def test_records_accept_numpy_values() -> None:
    rows = [
        {**record(350, 0.9), "timesteps": np.int64(350), "n_neurons": np.int64(100)},
        {**record(80, 0.89), "accuracy": np.float64(0.89), "memory_bytes": np.int32(5)},
        {**record(60, 0.88), "enhanced": np.bool_(True)},
    ]
    prof = profile_from_records(rows, "mnist", 100, "pair")
    assert [type(p.timesteps) for p in prof.points] == [int, int, int]
    assert prof.point(60).enhanced is True
    assert prof.point(80).memory_bytes == 5


@pytest.mark.parametrize(
    ("records", "kwargs", "match"),
    [
        (
            RECORDS,
            {},
            r"^sweep records: several rows for mnist N100 pair at T=100; pass enhanced=True or",
        ),
        (RECORDS, {"dataset": "kmnist"}, r"^sweep records: none for kmnist N100 pair$"),
        (
            RECORDS,
            {"n_neurons": 6400, "enhanced": True},
            r"none for mnist N6400 pair \(enhanced\)$",
        ),
        (
            [record(100, 0.8), record(60, 0.7)],
            {"enhanced": False},
            r"^sweep records: no baseline row for mnist N100 pair \(not enhanced\) at T=350$",
        ),
        (
            [record(350, 0.9), {**record(100, 0.8), "latency_ms": None}],
            {},
            r"^sweep record 1: latency_ms must be a number, got None$",
        ),
        (
            [record(350, 0.9), {k: v for k, v in record(100, 0.8).items() if k != "accuracy"}],
            {},
            r"^sweep record 1: missing key\(s\) accuracy$",
        ),
        ([{"dataset": "mnist"}], {}, r"^sweep record 0: missing key\(s\) n_neurons, rule$"),
        (
            [{**record(350, 0.9), "enhanced": "false"}],
            {},
            r"^sweep record 0: enhanced must be true or false, got 'false'$",
        ),
        (
            [record(350, 0.9), record(100, 1.4)],
            {},
            r"^sweep record 1: accuracy must be in \[0, 1\], got 1\.4 at T=100$",
        ),
    ],
)
def test_records_errors(records: list[dict[str, Any]], kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"dataset": "mnist", "n_neurons": 100, "rule": "pair"}
    with pytest.raises(ProfileError, match=match):
        profile_from_records(records, **{**args, **kwargs})


def test_records_custom_baseline() -> None:
    rows = [record(250, 0.9), record(100, 0.88)]
    prof = profile_from_records(rows, "mnist", 100, "pair", baseline_timesteps=250)
    assert prof.baseline.timesteps == 250
    assert select(prof).point.timesteps == 100

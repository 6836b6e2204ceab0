"""Tests for operating-point profiles, their YAML files and sweep records (topspark/profile.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from topspark_ros.errors import ConfigError
from topspark_ros.topspark.profile import (
    OperatingPoint,
    Profile,
    ProfileError,
    load_profile,
    profile_from_records,
    save_profile,
)


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


def test_points_sorted_and_baseline(
    point: Callable[..., OperatingPoint],
    make_profile: Callable[..., Profile],
    table: list[tuple[int, float, float]],
) -> None:
    prof = make_profile()
    assert [p.timesteps for p in prof.points] == [row[0] for row in table]
    assert prof.baseline.timesteps == 350
    assert prof.point(80).accuracy == 0.89
    assert prof.name == "mnist N100 pair"


def test_missing_baseline_raises(point: Callable[..., OperatingPoint]) -> None:
    prof = Profile("mnist", 100, "pair", (point(100, 0.9, 1.0),))
    with pytest.raises(ProfileError, match=r"^mnist N100 pair: no operating point at T=350"):
        _ = prof.baseline


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


def test_profile_rejects_duplicates_and_empty(point: Callable[..., OperatingPoint]) -> None:
    with pytest.raises(ProfileError, match="duplicate operating points at T=100"):
        Profile("mnist", 100, "pair", (point(100, 0.9, 1.0), point(100, 0.8, 1.0)))
    with pytest.raises(ProfileError, match="no operating points"):
        Profile("mnist", 100, "pair", ())


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


def test_baseline_timesteps_is_optional_and_kept(
    point: Callable[..., OperatingPoint], tmp_path: Path
) -> None:
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
    make_profile: Callable[..., Profile], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
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
    make_profile: Callable[..., Profile], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
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


def test_records_enhanced_uses_the_unenhanced_baseline(
    point: Callable[..., OperatingPoint],
) -> None:
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


def test_records_accept_numpy_values(point: Callable[..., OperatingPoint]) -> None:
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
    assert [p.timesteps for p in prof.points] == [250, 100]


def test_profile_error_is_a_config_error() -> None:
    assert issubclass(ProfileError, ConfigError)

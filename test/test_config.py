"""Tests for the YAML config loader (topspark_ros.config) and NetworkParams (snn/params.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from topspark_ros import config
from topspark_ros.errors import ConfigError
from topspark_ros.snn.params import NetworkParams, load_params, param_names

# Diehl & Cook (2015) values (design doc section 2), in our current-based form.
DIEHL_COOK = {
    "n_inputs": 784,
    "timesteps": 350,
    "dt": 1.0,
    "input_rate": 63.75,
    "min_spikes": 5,
    "v_rest_exc": -65.0,
    "v_reset_exc": -65.0,
    "v_thresh_exc": -52.0,
    "tau_exc": 100.0,
    "refrac_exc": 5.0,
    "theta_plus": 0.05,
    "tau_theta": 1e7,
    "v_rest_inh": -60.0,
    "v_reset_inh": -45.0,
    "v_thresh_inh": -40.0,
    "tau_inh": 10.0,
    "refrac_inh": 2.0,
    "inhibition": "layer",
    "w_exc_inh": 22.5,
    "w_inh_exc": 17.5,
    "rule": "pair",
    "nu_pre": 1e-4,
    "nu_post": 1e-2,
    "tau_pre_trace": 20.0,
    "tau_post_trace": 20.0,
    "w_min": 0.0,
    "w_max": 1.0,
    "norm_total": 78.0,
    "w_init": 0.3,
}


def write(tmp_path: Path, text: str) -> Path:
    """A YAML file with ``text`` in ``tmp_path``."""
    path = tmp_path / "net.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_diehl_and_cook() -> None:
    params = NetworkParams()
    actual = {name: getattr(params, name) for name in DIEHL_COOK}
    assert actual == DIEHL_COOK
    assert params.duration_ms == 350.0


def test_every_field_has_a_doc_and_limits() -> None:
    for field in dataclasses.fields(NetworkParams):
        meta = field.metadata
        assert meta["doc"], field.name
        bounded = meta["lo"] is not None and meta["hi"] is not None
        assert field.type == "bool" or meta["choices"] or bounded, field.name
        default = field.default
        assert config.check_value(field, default, "defaults") == default


def test_shipped_network_yaml_equals_defaults(repo_root: Path) -> None:
    path = repo_root / "config" / "network.yaml"
    assert load_params(path) == NetworkParams()
    section = yaml.safe_load(path.read_text(encoding="utf-8"))["network"]
    assert tuple(section) == param_names()
    for name, value in section.items():
        assert type(value) is type(getattr(NetworkParams(), name)), name


def test_load_partial_section_keeps_other_defaults(tmp_path: Path) -> None:
    text = "network:\n  n_neurons: 400\n  timesteps: 100.0\n  rule: weight_dependent\n"
    path = write(tmp_path, text)
    params = load_params(path)
    assert params == NetworkParams(n_neurons=400, timesteps=100, rule="weight_dependent")
    assert isinstance(params.timesteps, int)
    assert isinstance(params.tau_exc, float)


def test_int_given_for_float_is_coerced(tmp_path: Path) -> None:
    params = load_params(write(tmp_path, "network:\n  tau_exc: 50\n"))
    assert params.tau_exc == 50.0
    assert isinstance(params.tau_exc, float)


def test_empty_section_gives_defaults(tmp_path: Path) -> None:
    assert load_params(write(tmp_path, "network:\n")) == NetworkParams()


def test_load_without_section(tmp_path: Path) -> None:
    path = write(tmp_path, "n_neurons: 6400\n")
    assert config.load(NetworkParams, path) == NetworkParams(n_neurons=6400)


def test_mapping_round_trip() -> None:
    params = NetworkParams(n_neurons=400, timesteps=40, theta_plus=0.4, inhibition="direct")
    mapping = config.to_mapping(params)
    assert mapping["n_neurons"] == 400
    assert config.from_mapping(NetworkParams, mapping) == params


def test_replace_validates() -> None:
    params = NetworkParams().replace(timesteps=100, input_rate=127.5)
    assert (params.timesteps, params.input_rate) == (100, 127.5)
    with pytest.raises(ConfigError, match=r"parameters: timesteps = 0 is outside \[1, 1000\]"):
        NetworkParams().replace(timesteps=0)
    with pytest.raises(ConfigError, match=r"parameters: unknown key\(s\) bogus"):
        NetworkParams().replace(bogus=1)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("network:\n  n_neurns: 1\n  zz: 1\n", r"yaml \[network\]: unknown key\(s\) n_neurns, zz"),
        ("network:\n  tau_exc: fast\n", r"tau_exc must be a number, got 'fast'"),
        ("network:\n  tau_exc: true\n", r"tau_exc must be a number, got True"),
        ("network:\n  n_neurons: 100.5\n", r"n_neurons must be an integer, got 100\.5"),
        ("network:\n  rule: hebb\n", r"rule must be one of pair, weight_dependent, got 'hebb'"),
        ("network:\n  rule: 3\n", r"rule must be a string, got 3"),
        ("network:\n  n_neurons: 0\n", r"n_neurons = 0 is outside \[1, 20000\]"),
        ("network:\n  nu_post: 1.5\n", r"nu_post = 1\.5 is outside \[0\.0, 1\.0\]"),
        ("network:\n  tau_exc: .nan\n", r"tau_exc must be finite"),
        ("network:\n  n_neurons: .nan\n", r"n_neurons must be finite, got nan"),
        ("network:\n  n_neurons: -.inf\n", r"n_neurons must be finite, got -inf"),
        ("network:\n  w_min: 1.0\n  w_max: 0.5\n", r"w_max \(0\.5\) must exceed w_min \(1\.0\)"),
        ("network:\n  v_reset_exc: -50.0\n", r"v_thresh_exc must exceed v_reset_exc"),
        ("network:\n  - 1\n", r"\[network\]: expected a mapping of keys to values, got list"),
        ("other:\n  n_neurons: 1\n", r"net\.yaml: missing section 'network'"),
        ("- network\n", r"net\.yaml: missing section 'network'"),
    ],
)
def test_invalid_values_raise_config_error(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_params(write(tmp_path, text))


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "network:\n  n_neurons: [1, 2\n  rule: pair\n")
    with pytest.raises(ConfigError, match=r"net\.yaml: malformed YAML at line \d+"):
        load_params(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read config file"):
        load_params(tmp_path / "nope.yaml")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_params(tmp_path)


def test_config_error_is_a_single_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_params(write(tmp_path, "network:\n  n_neurons: [1, 2\n"))
    assert "\n" not in str(info.value)


@dataclasses.dataclass(frozen=True)
class Inner:
    """A config held by ``Outer``: ``hidden`` is not one of Outer's parameters."""

    rate_hz: float = dataclasses.field(default=30.0, metadata=config.spec("rate", 0.1, 100.0))
    width: int = dataclasses.field(default=64, metadata=config.spec("width", 1, 1000))
    hidden: int = dataclasses.field(default=7, metadata=config.spec("not exposed", 0, 10))

    def __post_init__(self) -> None:
        if self.width < self.hidden:
            raise ValueError(f"width {self.width} below hidden {self.hidden}")


@dataclasses.dataclass(frozen=True)
class Outer:
    """A config holding an ``Inner`` with other defaults, its two fields as flat parameters."""

    inner: Inner = dataclasses.field(
        default=Inner(rate_hz=10.0, hidden=3),
        metadata=config.nested("the inner part", ("rate_hz", "width")),
    )
    seed: int = dataclasses.field(default=0, metadata=config.spec("seed", 0, 9))


def test_a_nested_config_gives_flat_parameters() -> None:
    assert [f.name for f in config.config_fields(Outer)] == ["rate_hz", "width", "seed"]
    assert config.to_mapping(Outer()) == {"rate_hz": 10.0, "width": 64, "seed": 0}
    built = config.from_mapping(Outer, {"width": 5, "seed": 2}, "test")
    assert built == Outer(Inner(rate_hz=10.0, width=5, hidden=3), seed=2)
    assert config.from_mapping(Outer, config.to_mapping(built)) == built
    assert config.updated(built, {"rate_hz": 20}) == Outer(Inner(20.0, 5, 3), 2)


@pytest.mark.parametrize(
    ("mapping", "match"),
    [
        ({"rate_hz": 1000}, r"^test: rate_hz = 1000\.0 is outside \[0\.1, 100\.0\]$"),
        ({"width": 2}, r"^test: width 2 below hidden 3$"),
        ({"hidden": 1}, r"^test: unknown key\(s\) hidden$"),
        ({"inner": {}}, r"^test: unknown key\(s\) inner$"),
    ],
)
def test_nested_parameters_are_checked_by_their_own_field(
    mapping: dict[str, object], match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        config.from_mapping(Outer, mapping, "test")


def test_a_nested_config_must_name_its_parameters_once() -> None:
    @dataclasses.dataclass(frozen=True)
    class Twice:
        inner: Inner = dataclasses.field(default=Inner(), metadata=config.nested("all"))
        width: int = dataclasses.field(default=1, metadata=config.spec("again"))

    @dataclasses.dataclass(frozen=True)
    class Misspelt:
        inner: Inner = dataclasses.field(
            default=Inner(), metadata=config.nested("one", ("widht",))
        )

    with pytest.raises(TypeError, match=r"Twice has more than one parameter named \['width'\]"):
        config.config_fields(Twice)
    with pytest.raises(TypeError, match=r"nested config field inner names no parameter"):
        config.config_fields(Misspelt)

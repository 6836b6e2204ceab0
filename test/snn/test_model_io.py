"""Tests for model files (snn/model_io.py) and the atomic writes under them (io_utils.py)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from topspark_ros import __version__, io_utils
from topspark_ros.errors import ModelError
from topspark_ros.snn import model_io
from topspark_ros.snn.model_io import FORMAT_VERSION, load_model, save_model
from topspark_ros.snn.params import NetworkParams
from topspark_ros.snn.state import ModelState


def make_state(n_inputs: int = 16, n_neurons: int = 5, seed: int = 0) -> ModelState:
    """A small trained-looking state: random weights and theta, some labels assigned."""
    params = NetworkParams(n_inputs=n_inputs, n_neurons=n_neurons, timesteps=60, theta_plus=0.2)
    state = ModelState.initial(params, seed)
    rng = np.random.default_rng(seed + 1)
    state.theta = rng.random(n_neurons).astype(np.float32) * 20
    state.assignments = rng.integers(-1, 10, n_neurons).astype(np.int16)
    state.dataset = "fashion-mnist"
    state.samples_seen = 1234
    state.extra = {"note": "unit test", "seed": "0"}
    return state


def raw_npz(path: Path, meta: Any = None, **arrays: Any) -> Path:
    """Write an .npz by hand (meta: a dict dumped to JSON, or an array as is)."""
    if isinstance(meta, dict):
        meta = np.array(json.dumps(meta))
    payload = {**arrays} if meta is None else {**arrays, "meta": meta}
    np.savez(path, **payload)
    return path


def saved_parts(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The meta dict and arrays of a model file, read directly."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files if name != "meta"}
        meta = json.loads(str(npz["meta"][()]))
    return meta, arrays


NOT_NPZ = r"not a model file \(not an \.npz archive\)$"


def leftovers(directory: Path) -> list[str]:
    """Temporary files left in ``directory``."""
    return sorted(p.name for p in directory.iterdir() if ".tmp" in p.name)


# --- round trip -------------------------------------------------------------------------------


def test_round_trip_is_exact(tmp_path: Path) -> None:
    state = make_state()
    path = save_model(tmp_path / "model.npz", state)
    assert path == tmp_path / "model.npz"
    loaded = load_model(path)
    assert loaded.params == state.params
    for name in ("weights", "theta", "assignments"):
        original, read = getattr(state, name), getattr(loaded, name)
        assert read.dtype == original.dtype
        assert read.tobytes() == original.tobytes(), name
    assert (loaded.dataset, loaded.samples_seen, loaded.extra) == (
        state.dataset,
        state.samples_seen,
        state.extra,
    )
    assert leftovers(tmp_path) == []


def test_file_layout_and_meta(tmp_path: Path) -> None:
    state = make_state()
    meta, arrays = saved_parts(save_model(tmp_path / "m.npz", state))
    assert sorted(arrays) == ["assignments", "theta", "weights"]
    assert arrays["weights"].dtype == np.float32
    assert arrays["weights"].shape == (16, 5)
    assert arrays["assignments"].dtype == np.int16
    assert meta["format_version"] == FORMAT_VERSION == 1
    assert meta["package_version"] == __version__
    assert meta["params"] == {name: getattr(state.params, name) for name in meta["params"]}
    assert len(meta["params"]) == len(NetworkParams.__dataclass_fields__)
    assert (meta["timesteps"], meta["rule"]) == (60, "pair")
    assert (meta["dataset"], meta["samples_seen"]) == ("fashion-mnist", 1234)
    assert meta["extra"] == {"note": "unit test", "seed": "0"}
    assert meta["created"].endswith("+00:00")


def test_suffix_is_appended(tmp_path: Path) -> None:
    path = save_model(tmp_path / "model", make_state())
    assert path == tmp_path / "model.npz"
    assert path.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_save_overwrites_atomically(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    save_model(path, make_state(seed=1))
    second = make_state(seed=2)
    save_model(path, second)
    assert load_model(path).weights.tobytes() == second.weights.tobytes()
    assert leftovers(tmp_path) == []


def test_loads_full_size_default_network(tmp_path: Path) -> None:
    state = ModelState.initial(NetworkParams(), seed=3)
    loaded = load_model(save_model(tmp_path / "n100.npz", state))
    assert loaded.weights.shape == (784, 100)
    assert np.array_equal(loaded.weights, state.weights)


# --- failed saves -----------------------------------------------------------------------------


def test_failed_save_keeps_existing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save_model(tmp_path / "model.npz", make_state(seed=1))
    before = path.read_bytes()

    def half_write(file: Any, *args: Any, **kwds: Any) -> None:
        file.write(b"PK\x03\x04 partial archive")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(np, "savez_compressed", half_write)
    with pytest.raises(RuntimeError, match="disk on fire"):
        save_model(path, make_state(seed=2))
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []
    monkeypatch.undo()
    assert load_model(path).weights.tobytes() == make_state(seed=1).weights.tobytes()


def test_interrupted_save_keeps_existing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_model(tmp_path / "model.npz", make_state(seed=1))
    before = path.read_bytes()

    def interrupted(*args: Any, **kwds: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_model(path, make_state(seed=2))
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_save_refuses_non_finite_weights(tmp_path: Path) -> None:
    path = save_model(tmp_path / "model.npz", make_state())
    before = path.read_bytes()
    state = make_state()
    state.weights[3, 2] = np.nan
    with pytest.raises(ModelError, match=r"model\.npz: weights contain non-finite values"):
        save_model(path, state)
    assert path.read_bytes() == before


# --- load errors ------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"absent\.npz: model file not found"):
        load_model(tmp_path / "absent.npz")


@pytest.mark.parametrize("keep", [0.01, 0.1, 0.5, 0.9, 0.99])
def test_truncated_file(tmp_path: Path, keep: float) -> None:
    path = save_model(tmp_path / "model.npz", make_state())
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ModelError, match=r"model\.npz: not a readable model file \(truncated or "):
        load_model(path)


def test_corrupt_member(tmp_path: Path) -> None:
    path = save_model(tmp_path / "model.npz", make_state(n_inputs=400, n_neurons=50))
    data = bytearray(path.read_bytes())
    middle = len(data) // 3
    data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"model\.npz: not a readable model file \(truncated or "):
        load_model(path)


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.npz"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ModelError, match=rf"noise\.npz: {NOT_NPZ}"):
        load_model(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.npz"
    path.touch()
    with pytest.raises(ModelError, match=rf"empty\.npz: {NOT_NPZ}"):
        load_model(path)


def test_npy_instead_of_npz(tmp_path: Path) -> None:
    path = tmp_path / "weights.npy"
    np.save(path, np.zeros((3, 3), np.float32))
    with pytest.raises(ModelError, match=rf"weights\.npy: {NOT_NPZ}"):
        load_model(path)


def test_zip_without_model_arrays(tmp_path: Path) -> None:
    path = tmp_path / "other.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(
        ModelError, match=r"other\.npz: not a model file, missing array\(s\) weights, theta"
    ):
        load_model(path)


def test_missing_array(tmp_path: Path) -> None:
    meta, arrays = saved_parts(save_model(tmp_path / "m.npz", make_state()))
    del arrays["theta"]
    raw_npz(tmp_path / "m.npz", meta, **arrays)
    with pytest.raises(ModelError, match=r"m\.npz: not a model file, missing array\(s\) theta$"):
        load_model(tmp_path / "m.npz")


def test_pickled_object_array_is_refused(tmp_path: Path) -> None:
    meta, arrays = saved_parts(save_model(tmp_path / "m.npz", make_state()))
    arrays["theta"] = np.array([{"evil": 1}], dtype=object)
    raw_npz(tmp_path / "m.npz", meta, **arrays)
    with pytest.raises(ModelError, match=r"m\.npz: not a readable model file.*allow_pickle=False"):
        load_model(tmp_path / "m.npz")


@pytest.mark.parametrize(
    ("meta", "match"),
    [
        (np.array(b"{}"), r"meta is not a JSON string"),
        (np.array(["{}", "{}"]), r"meta is not a JSON string"),
        (np.array("{not json"), r"meta is not valid JSON"),
        (np.array("[1, 2]"), r"meta is not a JSON object"),
    ],
)
def test_bad_meta_value(tmp_path: Path, meta: np.ndarray, match: str) -> None:
    _, arrays = saved_parts(save_model(tmp_path / "m.npz", make_state()))
    raw_npz(tmp_path / "m.npz", meta, **arrays)
    with pytest.raises(ModelError, match=r"m\.npz: " + match):
        load_model(tmp_path / "m.npz")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"format_version": 7}, r"format version 7, this build reads 1$"),
        ({"format_version": "1"}, r"meta format_version must be an integer, got '1'$"),
        ({"format_version": None}, r"meta format_version must be an integer, got None$"),
        ({"format_version": True}, r"meta format_version must be an integer, got True$"),
        ({"params": {"n_neurons": 0}}, r"invalid parameters \(meta params: n_neurons = 0 is outs"),
        ({"params": {"bogus": 1}}, r"invalid parameters \(meta params: unknown key\(s\) bogus\)"),
        ({"params": [1]}, r"invalid parameters \(meta params: expected a mapping"),
        ({"dataset": 5}, r"meta dataset must be a string"),
        ({"samples_seen": -1}, r"meta samples_seen must be a non-negative integer"),
        ({"samples_seen": 1.5}, r"meta samples_seen must be a non-negative integer"),
        ({"extra": {"a": 1}}, r"meta extra must map strings to strings"),
        ({"extra": ["a"]}, r"meta extra must map strings to strings"),
    ],
)
def test_bad_meta_content(tmp_path: Path, change: dict[str, Any], match: str) -> None:
    meta, arrays = saved_parts(save_model(tmp_path / "m.npz", make_state()))
    if isinstance(change.get("params"), dict):
        change = {"params": {**meta["params"], **change["params"]}}
    raw_npz(tmp_path / "m.npz", {**meta, **change}, **arrays)
    with pytest.raises(ModelError, match=r"m\.npz: " + match):
        load_model(tmp_path / "m.npz")


@pytest.mark.parametrize("key", ["format_version", "params", "dataset", "samples_seen", "extra"])
def test_missing_meta_key(tmp_path: Path, key: str) -> None:
    meta, arrays = saved_parts(save_model(tmp_path / "m.npz", make_state()))
    del meta[key]
    raw_npz(tmp_path / "m.npz", meta, **arrays)
    with pytest.raises(ModelError, match=rf"m\.npz: meta lacks key\(s\) {key}$"):
        load_model(tmp_path / "m.npz")


def test_wrong_version_file_from_numpy_savez(tmp_path: Path) -> None:
    path = tmp_path / "future.npz"
    meta, arrays = saved_parts(save_model(path, make_state()))
    raw_npz(path, {**meta, "format_version": 7}, **arrays)
    with pytest.raises(ModelError, match=r"future\.npz: format version 7, this build reads 1"):
        load_model(path)


def test_weights_shape_disagrees_with_params(tmp_path: Path) -> None:
    path = tmp_path / "n400.npz"
    meta, arrays = saved_parts(save_model(path, ModelState.initial(NetworkParams(), seed=0)))
    raw_npz(path, {**meta, "params": {**meta["params"], "n_neurons": 400}}, **arrays)
    with pytest.raises(
        ModelError,
        match=r"n400\.npz: weights have shape \(784, 100\), but the parameters "
        r"\(n_inputs 784, n_neurons 400\) imply \(784, 400\)",
    ):
        load_model(path)


@pytest.mark.parametrize(
    ("name", "array", "match"),
    [
        ("theta", np.zeros(4, np.float32), r"theta have shape \(4,\), but the parameters"),
        ("assignments", np.zeros((5, 1), np.int16), r"assignments have shape \(5, 1\)"),
        ("weights", np.zeros((16, 5), np.float64), r"weights have dtype float64, expected floa"),
        ("assignments", np.zeros(5, np.int64), r"assignments have dtype int64, expected int16"),
        ("weights", np.full((16, 5), np.inf, np.float32), r"weights contain non-finite values"),
        ("theta", np.full(5, np.nan, np.float32), r"theta contain non-finite values"),
        ("assignments", np.full(5, -2, np.int16), r"assignments below -1"),
        ("weights", np.zeros((5, 16), np.float32), r"weights have shape \(5, 16\)"),
        ("weights", np.zeros((16, 5), ">f4"), r"weights have dtype >f4, expected float32"),
        ("theta", np.zeros(5, np.float16), r"theta have dtype float16, expected float32"),
    ],
)
def test_bad_arrays(tmp_path: Path, name: str, array: np.ndarray, match: str) -> None:
    meta, arrays = saved_parts(save_model(tmp_path / "m.npz", make_state()))
    raw_npz(tmp_path / "m.npz", meta, **{**arrays, name: array})
    with pytest.raises(ModelError, match=r"m\.npz: " + match):
        load_model(tmp_path / "m.npz")


# --- issue 16: every array's range, every meta field's type and range ---------------------------


def _tampered(tmp_path: Path, meta_change: dict[str, Any], **array_change: Any) -> Path:
    """A saved small model with some meta fields and arrays replaced (``None`` deletes a key)."""
    path = tmp_path / "m.npz"
    meta, arrays = saved_parts(save_model(path, make_state()))
    meta = {k: v for k, v in {**meta, **meta_change}.items() if v is not None}
    return raw_npz(path, meta, **{**arrays, **array_change})


def _with(array: np.ndarray, index: Any, value: Any) -> np.ndarray:
    """A copy of ``array`` with one element (or slice) set."""
    out = array.copy()
    out[index] = value
    return out


WEIGHTS = make_state().weights
THETA = make_state().theta
LABELS = make_state().assignments


@pytest.mark.parametrize(
    ("meta_change", "arrays", "match"),
    [
        # the reproductions of defect 2
        ({}, {"assignments": _with(LABELS, 2, 10)}, r"assignments above 9 \(the last of 10 cl"),
        ({}, {"assignments": _with(LABELS, 0, 32767)}, r"assignments above 9 .*found 32767$"),
        ({}, {"assignments": _with(LABELS, 4, -32768)}, r"assignments below -1 .*found -32768$"),
        ({"timesteps": -5}, {}, r"meta timesteps must be an integer in \[1, 1000\], got -5$"),
        ({}, {"weights": _with(WEIGHTS, (3, 1), -1e30)}, r"weights hold values in \[-1e\+30, "),
        ({}, {"weights": _with(WEIGHTS, (0, 0), 1e30)}, r"weights hold values in .*1e\+30\], out"),
        ({"format_version": "1"}, {}, r"meta format_version must be an integer, got '1'$"),
        # the rest of the class: meta fields' types and ranges
        ({"timesteps": 61}, {}, r"meta timesteps 61 disagrees with params timesteps 60$"),
        ({"timesteps": "60"}, {}, r"meta timesteps must be an integer .* got '60'$"),
        ({"timesteps": 60.0}, {}, r"meta timesteps must be an integer .* got 60\.0$"),
        ({"timesteps": True}, {}, r"meta timesteps must be an integer .* got True$"),
        ({"rule": "weight_dependent"}, {}, r"meta rule 'weight_dependent' disagrees with params"),
        ({"rule": 3}, {}, r"meta rule must be a string, got 3$"),
        ({"package_version": 1.0}, {}, r"meta package_version must be a string, got 1\.0$"),
        ({"created": "yesterday"}, {}, r"meta created must be an ISO 8601 time, got 'yesterday'"),
        ({"created": None, "samples_seen": True}, {}, r"meta samples_seen must be a non-neg"),
        ({"samples_seen": 2**63}, {}, r"meta samples_seen must be a non-negative integer \(at mo"),
        ({"dataset": None}, {}, r"meta lacks key\(s\) dataset$"),
        ({"extra": {"a": None}}, {}, r"meta extra must map strings to strings$"),
        ({"params": {"n_neurons": 10**400}}, {}, r"invalid parameters \(meta params: "),
        ({"params": {"n_neurons": float("nan")}}, {}, r"invalid parameters \(meta params: "),
        ({"params": {"n_neurons": 1e400}}, {}, r"invalid parameters \(meta params: "),
        ({"params": {"w_max": float("inf")}}, {}, r"invalid parameters \(meta params: w_max"),
        ({"params": {"w_min": 2.0}}, {}, r"invalid parameters \(meta params: w_max \(1\.0\) m"),
        # arrays' ranges
        ({}, {"theta": _with(THETA, 1, -0.5)}, r"theta hold negative values \(min -0\.5\)"),
        ({}, {"weights": _with(WEIGHTS, (2, 2), -0.3)}, r"weights hold values in \[-0\.3, "),
        (
            {},
            {"weights": _with(WEIGHTS, (1, 1), 79.0)},
            r"weights .*, 79\], outside the \[0, 78\.078\]",
        ),
        ({}, {"weights": _with(WEIGHTS, (2, 2), np.nan)}, r"weights contain non-finite values"),
    ],
)
def test_out_of_range_content_is_refused(
    tmp_path: Path, meta_change: dict[str, Any], arrays: dict[str, np.ndarray], match: str
) -> None:
    if isinstance(meta_change.get("params"), dict):
        params = {**config_mapping(make_state().params), **meta_change["params"]}
        meta_change = {**meta_change, "params": params}
    path = _tampered(tmp_path, meta_change, **arrays)
    with pytest.raises(ModelError, match=r"m\.npz: " + match) as info:
        load_model(path)
    assert "\n" not in str(info.value)


def config_mapping(params: NetworkParams) -> dict[str, Any]:
    """Every parameter as the meta record stores it."""
    return {name: getattr(params, name) for name in NetworkParams.__dataclass_fields__}


@pytest.mark.parametrize(
    ("weights", "theta", "labels"),
    [
        (np.full((16, 5), 1.3, np.float32), THETA, LABELS),  # normalisation lifts past w_max
        (_with(WEIGHTS, (0, 0), 78.0), THETA, LABELS),  # up to a column's sum, norm_total
        (np.zeros((16, 5), np.float32), np.zeros(5, np.float32), np.full(5, -1, np.int16)),
        (WEIGHTS, np.full(5, 1e6, np.float32), np.arange(5, dtype=np.int16) + 5),
    ],
)
def test_edge_values_in_range_load(
    tmp_path: Path, weights: np.ndarray, theta: np.ndarray, labels: np.ndarray
) -> None:
    path = _tampered(tmp_path, {}, weights=weights, theta=theta, assignments=labels)
    state = load_model(path)
    assert state.weights.tobytes() == weights.tobytes()
    assert state.theta.tobytes() == theta.tobytes()
    assert state.assignments.tolist() == labels.tolist()


def test_weight_bounds_follow_the_parameters(tmp_path: Path) -> None:
    state = make_state()
    state.params = state.params.replace(w_max=0.5, norm_total=5.0)
    state.weights[:] = 0.1
    state.weights[0, 0] = 5.0
    assert load_model(save_model(tmp_path / "m.npz", state)).weights.max() == np.float32(5.0)
    state.weights[0, 0] = 5.1
    with pytest.raises(
        ModelError,
        match=r"m\.npz: weights hold values in \[0\.1, 5\.1\], outside the \[0, 5\.005\] that "
        r"w_min 0, w_max 0\.5, w_init 0\.3 and norm_total 5 allow$",
    ):
        load_model(save_model(tmp_path / "m.npz", state))
    state.params = state.params.replace(w_min=-2.0)  # negative weights: only a magnitude check
    state.weights[:] = -5e5
    assert load_model(save_model(tmp_path / "m.npz", state)).weights.min() == np.float32(-5e5)
    state.weights[0, 0] = -2e6
    with pytest.raises(ModelError, match=r"outside the \[-1e\+06, 1e\+06\]"):
        load_model(save_model(tmp_path / "m.npz", state))


def test_fortran_ordered_weights_load_as_c_order(tmp_path: Path) -> None:
    path = _tampered(tmp_path, {}, weights=np.asfortranarray(WEIGHTS))
    weights = load_model(path).weights
    assert weights.flags.c_contiguous and weights.flags.writeable
    assert weights.tobytes() == WEIGHTS.tobytes()


def _write_members(path: Path, members: dict[str, bytes]) -> Path:
    """A zip archive with the given members, stored uncompressed."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _npy(array: np.ndarray) -> bytes:
    """The .npy bytes of an array."""
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _good_members() -> dict[str, bytes]:
    """The members of a valid small model file, as .npy bytes."""
    state = make_state()
    meta = json.dumps(model_io._meta(state))
    return {
        "weights.npy": _npy(state.weights),
        "theta.npy": _npy(state.theta),
        "assignments.npy": _npy(state.assignments),
        "meta.npy": _npy(np.array(meta)),
    }


def _huge_header(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    """A .npy header that declares ``shape`` and no data after it."""
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("member", "data", "match"),
    [
        ("weights.npy", b"raw bytes, not .npy", r"not a readable model file \(truncated or corr"),
        ("meta.npy", b"{}", r"not a readable model file \(truncated or corrupt"),
        ("weights.npy", _huge_header((10**9, 10**9)), r"weights have shape \(1000000000, 10"),
        (
            "theta.npy",
            _huge_header((5,)),
            r"not a readable model file \(.*: array data ends after 0 of 20 b",
        ),
        ("meta.npy", _huge_header((), "<U2000000"), r"meta is 2000000 characters long, more"),
        (
            "theta.npy",
            _npy(THETA) + b"tail",
            r"not a readable model file \(.*: data after the array\)$",
        ),
        (
            "theta.npy",
            _npy(THETA)[:6] + b"\x09\x00" + _npy(THETA)[8:],
            r"not a readable .* \.npy format version 9\.0\)$",
        ),
    ],
)
def test_hostile_members_are_refused_before_reading(
    tmp_path: Path, member: str, data: bytes, match: str
) -> None:
    path = _write_members(tmp_path / "m.npz", {**_good_members(), member: data})
    with pytest.raises(ModelError, match=r"m\.npz: " + match):
        load_model(path)


def test_members_without_npy_suffix_load_as_numpy_does(tmp_path: Path) -> None:
    members = {name.removesuffix(".npy"): data for name, data in _good_members().items()}
    state = load_model(_write_members(tmp_path / "m.npz", members))
    assert state.weights.tobytes() == make_state().weights.tobytes()


@pytest.mark.parametrize(
    ("offset", "value", "match"),
    [
        (10, 99, r"compression method is not supported"),  # an unknown compression method
        (8, 1, r"encrypted"),  # the 'encrypted' flag
    ],
)
def test_unsupported_archive_features_are_model_errors(
    tmp_path: Path, offset: int, value: int, match: str
) -> None:
    path = save_model(tmp_path / "m.npz", make_state())
    data = bytearray(path.read_bytes())
    first = data.find(b"PK\x01\x02")  # the first central-directory entry
    data[first + offset : first + offset + 2] = value.to_bytes(2, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"m\.npz: not a readable model file .*" + match):
        load_model(path)


def test_read_errors_are_one_line_and_chained(tmp_path: Path) -> None:
    path = save_model(tmp_path / "model.npz", make_state())
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelError) as info:
        load_model(path)
    assert "\n" not in str(info.value)
    assert isinstance(info.value.__cause__, zipfile.BadZipFile)


# --- io_utils ---------------------------------------------------------------------------------


def test_atomic_write_bytes_creates_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    assert io_utils.atomic_write_bytes(path, b"one") == path
    io_utils.atomic_write_bytes(str(path), b"two")
    assert path.read_bytes() == b"two"
    assert leftovers(tmp_path) == []


def test_atomic_path_keeps_suffix_and_directory(tmp_path: Path) -> None:
    target = tmp_path / "model.npz"
    with io_utils.atomic_path(target) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.suffix == ".npz"
        assert tmp != target
        assert tmp.exists()
        assert not target.exists()
        np.savez(tmp, a=np.arange(3))
    assert not tmp.exists()
    with np.load(target) as npz:
        assert npz["a"].tolist() == [0, 1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_atomic_path_error_leaves_target_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_text("precious")

    def write_then_fail() -> None:
        with io_utils.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        write_then_fail()
    assert target.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_atomic_path_gives_plain_permissions(tmp_path: Path) -> None:
    reference = tmp_path / "plain.txt"
    reference.write_text("x")
    target = io_utils.atomic_write_bytes(tmp_path / "atomic.txt", b"x")
    assert target.stat().st_mode == reference.stat().st_mode


def test_atomic_path_with_open_file_object(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=np.ones(2))
    target = tmp_path / "x.npz"
    with io_utils.atomic_path(target) as tmp, tmp.open("wb") as fh:
        fh.write(buffer.getvalue())
    assert target.read_bytes() == buffer.getvalue()


def test_model_io_exports() -> None:
    assert set(model_io.__all__) == {"FORMAT_VERSION", "load_model", "model_sha256", "save_model"}


def test_model_sha256_hashes_the_file_and_names_an_unreadable_one(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    path.write_bytes(b"abc")
    expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert model_io.model_sha256(path) == expected
    with pytest.raises(ModelError, match=r"missing\.npz: cannot read model file"):
        model_io.model_sha256(tmp_path / "missing.npz")


def test_save_creates_missing_directories(tmp_path: Path) -> None:
    state = ModelState.initial(NetworkParams(n_inputs=4, n_neurons=2), seed=0)
    out = save_model(tmp_path / "a" / "b" / "m.npz", state)
    assert out == tmp_path / "a" / "b" / "m.npz"
    np.testing.assert_array_equal(load_model(out).weights, state.weights)


def test_save_into_a_file_as_directory_is_a_model_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    state = ModelState.initial(NetworkParams(n_inputs=4, n_neurons=2), seed=0)
    with pytest.raises(ModelError, match=r"cannot write model file"):
        save_model(blocker / "m.npz", state)

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
        ({"format_version": "1"}, r"format version 1, this build reads 1$"),
        ({"format_version": None}, r"format version None, this build reads 1$"),
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
    ],
)
def test_bad_arrays(tmp_path: Path, name: str, array: np.ndarray, match: str) -> None:
    meta, arrays = saved_parts(save_model(tmp_path / "m.npz", make_state()))
    raw_npz(tmp_path / "m.npz", meta, **{**arrays, name: array})
    with pytest.raises(ModelError, match=r"m\.npz: " + match):
        load_model(tmp_path / "m.npz")


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

"""Property tests of the model loader (snn/model_io.py, snn/model_check.py) with hypothesis:
random bytes, truncated and bit-flipped files, random arrays and meta records in place of each
member. No input may raise anything but the package's own errors, and whatever loads is valid.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from topspark_ros.errors import TopsparkError
from topspark_ros.snn.labelling import N_CLASSES
from topspark_ros.snn.model_check import weight_bounds
from topspark_ros.snn.model_io import load_model, save_model
from topspark_ros.snn.params import NetworkParams
from topspark_ros.snn.state import ModelState

FUZZ = settings(max_examples=120)  # the rest: the 'topspark' profile (test/conftest.py)
MEMBERS = ("weights", "theta", "assignments", "meta")


def _state() -> ModelState:
    """A small valid model: 12 inputs, 4 neurons, labels assigned."""
    state = ModelState.initial(NetworkParams(n_inputs=12, n_neurons=4, timesteps=40), seed=0)
    state.theta = np.array([0.0, 1.5, 3.0, 0.25], np.float32)
    state.assignments = np.array([-1, 0, 9, 3], np.int16)
    state.dataset, state.samples_seen, state.extra = "mnist", 7, {"k": "v"}
    return state


def _valid_file(directory: Path) -> bytes:
    """The bytes of a valid model file."""
    return save_model(directory / "valid.npz", _state()).read_bytes()


def _parts(data: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Meta dict and arrays of a valid model file's bytes."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return json.loads(str(npz["meta"][()])), {n: npz[n] for n in MEMBERS[:3]}


def _write(path: Path, meta: Any, arrays: dict[str, Any]) -> Path:
    """An .npz with ``arrays`` and ``meta`` (a dict is dumped to JSON, anything else saved)."""
    if isinstance(meta, dict):
        meta = np.array(json.dumps(meta))
    np.savez(path, meta=meta, **arrays)
    return path


def _load_or_refuse(path: Path) -> bool:
    """Load ``path``: True if it loaded (and is then checked valid), False if a TopsparkError
    refused it; any other exception fails the test."""
    try:
        state = load_model(path)
    except TopsparkError as err:
        message = str(err)
    else:
        message = ""
    if message:
        assert "\n" not in message
        assert message.startswith(f"{path}: ")
        return False
    n_in, n = state.params.n_inputs, state.params.n_neurons
    assert state.weights.shape == (n_in, n) and state.weights.dtype == np.float32
    lo, hi = weight_bounds(state.params)
    assert np.isfinite(state.weights).all()
    assert lo <= state.weights.min() and state.weights.max() <= hi
    assert state.theta.shape == (n,) and (state.theta >= 0).all()
    assert state.assignments.shape == (n,)
    assert (state.assignments >= -1).all() and (state.assignments < N_CLASSES).all()
    assert state.weights.flags.writeable and state.weights.flags.c_contiguous
    return True


@FUZZ
@given(data=st.binary(max_size=2048), zip_magic=st.booleans())
def test_random_bytes(tmp_path: Path, data: bytes, zip_magic: bool) -> None:
    path = tmp_path / "noise.npz"
    path.write_bytes((b"PK\x03\x04" if zip_magic else b"") + data)
    assert not _load_or_refuse(path)


@FUZZ
@given(cut=st.floats(0.0, 1.0, exclude_max=True))
def test_truncations_of_a_valid_file(tmp_path: Path, cut: float) -> None:
    data = _valid_file(tmp_path)
    path = tmp_path / "cut.npz"
    path.write_bytes(data[: int(len(data) * cut)])
    assert not _load_or_refuse(path)


@FUZZ
@given(
    flips=st.lists(
        st.tuples(st.floats(0.0, 1.0, exclude_max=True), st.integers(1, 255)),
        min_size=1,
        max_size=8,
    )
)
def test_corrupted_bytes_of_a_valid_file(tmp_path: Path, flips: list[tuple[float, int]]) -> None:
    data = bytearray(_valid_file(tmp_path))
    for where, mask in flips:
        data[int(len(data) * where)] ^= mask
    path = tmp_path / "flipped.npz"
    path.write_bytes(bytes(data))
    _load_or_refuse(path)  # a flip in an unused header field may still load: then it is valid


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(10**500), 10**500)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)

DTYPES = st.sampled_from(
    [
        "f2",
        "f4",
        "f8",
        ">f4",
        "i1",
        "i2",
        ">i2",
        "i4",
        "i8",
        "u1",
        "u2",
        "u8",
        "?",
        "c8",
        "U3",
        "S3",
        "M8[s]",
        "m8[s]",
    ]
)


@st.composite
def random_arrays(draw: st.DrawFn) -> np.ndarray:
    """An array of a random dtype and shape (0 to 3 dimensions, up to 16 per side), or an
    object array (which np.savez pickles)."""
    if draw(st.integers(0, 9)) == 0:
        return np.array([draw(JSON), None], dtype=object)
    dtype = np.dtype(draw(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=16))
    array: np.ndarray = draw(hnp.arrays(dtype, shape))
    return array


@st.composite
def fitting_arrays(draw: st.DrawFn, name: str) -> np.ndarray:
    """An array of the right dtype and shape for ``name`` (12 inputs, 4 neurons), any values."""
    shapes = {"weights": (12, 4), "theta": (4,), "assignments": (4,)}
    dtype = np.int16 if name == "assignments" else np.float32
    array: np.ndarray = draw(hnp.arrays(dtype, shapes[name]))
    return array


@FUZZ
@given(name=st.sampled_from(MEMBERS), array=random_arrays())
def test_random_array_in_place_of_a_member(tmp_path: Path, name: str, array: np.ndarray) -> None:
    meta, arrays = _parts(_valid_file(tmp_path))
    if name == "meta":
        path = _write(tmp_path / "m.npz", array, arrays)
    else:
        path = _write(tmp_path / "m.npz", meta, {**arrays, name: array})
    _load_or_refuse(path)


@FUZZ
@given(data=st.data(), name=st.sampled_from(MEMBERS[:3]))
def test_random_values_of_the_right_shape(tmp_path: Path, data: st.DataObject, name: str) -> None:
    meta, arrays = _parts(_valid_file(tmp_path))
    array = data.draw(fitting_arrays(name))
    _load_or_refuse(_write(tmp_path / "m.npz", meta, {**arrays, name: array}))


@FUZZ
@given(meta=JSON)
def test_random_meta_json(tmp_path: Path, meta: Any) -> None:
    _, arrays = _parts(_valid_file(tmp_path))
    text = np.array(json.dumps(meta))
    assert not _load_or_refuse(_write(tmp_path / "m.npz", text, arrays))


@FUZZ
@given(
    key=st.sampled_from(
        [
            "format_version",
            "params",
            "dataset",
            "samples_seen",
            "extra",
            "timesteps",
            "rule",
            "created",
            "package_version",
        ]
    ),
    value=JSON,
    param=st.sampled_from(sorted(NetworkParams.__dataclass_fields__)),
    into_params=st.booleans(),
)
def test_random_value_of_one_meta_field(
    tmp_path: Path, key: str, value: Any, param: str, into_params: bool
) -> None:
    meta, arrays = _parts(_valid_file(tmp_path))
    if into_params:
        meta["params"] = {**meta["params"], param: value}
    else:
        meta[key] = value
    _load_or_refuse(_write(tmp_path / "m.npz", meta, arrays))


@FUZZ
@given(text=st.text(max_size=200))
def test_random_meta_text(tmp_path: Path, text: str) -> None:
    _, arrays = _parts(_valid_file(tmp_path))
    assert not _load_or_refuse(_write(tmp_path / "m.npz", np.array(text), arrays))


@st.composite
def payloads(draw: st.DrawFn) -> bytes:
    """A member's bytes: random, or the .npy of a random array."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=64))
    buffer = io.BytesIO()
    np.save(buffer, draw(random_arrays()), allow_pickle=True)
    return buffer.getvalue()


@FUZZ
@given(
    members=st.lists(
        st.tuples(st.sampled_from([*MEMBERS, *(f"{m}.npy" for m in MEMBERS), "x"]), payloads()),
        max_size=6,
    ),
)
@pytest.mark.filterwarnings("ignore:Duplicate name")  # duplicate members are part of the fuzz
def test_random_archive_members(tmp_path: Path, members: list[tuple[str, bytes]]) -> None:
    path = tmp_path / "members.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, payload in members:
            archive.writestr(name, payload)
    assert not _load_or_refuse(path)


def test_the_fuzzed_base_file_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "base.npz"
    path.write_bytes(_valid_file(tmp_path))
    assert _load_or_refuse(path)

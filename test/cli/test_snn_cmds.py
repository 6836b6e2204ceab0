"""The SNN commands end to end on the embedded sample: train, eval, bench, demo, errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

from topspark_ros.cli.main import main
from topspark_ros.snn.model_io import load_model, save_model
from topspark_ros.snn.params import NetworkParams
from topspark_ros.snn.state import ModelState

SMALL = ["--embedded", "--neurons", "10", "--timesteps", "30", "--train-samples", "100"]


def test_train_writes_model_and_prints_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m.npz"
    code = main(["train", *SMALL, "--test-samples", "50", "--seed", "1", "--out", str(out)])
    assert code == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("trained N10 T=30 pair on mnist: 100 samples")
    assert "test accuracy" in line and "on 50 samples" in line
    state = load_model(out)
    assert state.params.n_neurons == 10 and state.params.timesteps == 30
    assert state.params.w_inh_exc == 120.0  # the 'tuned' preset is the default
    assert state.samples_seen == 100 and state.dataset == "mnist"
    assert (state.assignments >= 0).any()


def test_train_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    paths = [tmp_path / f"{i}.npz" for i in range(2)]
    for path in paths:
        assert main(["train", *SMALL, "--no-eval", "--seed", "4", "--out", str(path)]) == 0
    a, b = (load_model(p) for p in paths)
    assert np.array_equal(a.weights, b.weights)
    assert np.array_equal(a.theta, b.theta)
    assert np.array_equal(a.assignments, b.assignments)


def test_preset_config_and_set_override(tmp_path: Path) -> None:
    out = tmp_path / "m.npz"
    args = ["train", *SMALL, "--no-eval", "--preset", "diehl-cook", "--set", "theta_plus=0.1"]
    assert main([*args, "--out", str(out)]) == 0
    params = load_model(out).params
    assert params.w_inh_exc == 17.5 and params.theta_plus == 0.1
    cfg = tmp_path / "net.yaml"
    cfg.write_text("network:\n  rule: weight_dependent\n  inhibition: direct\n")
    assert main(["train", *SMALL, "--no-eval", "--config", str(cfg), "--out", str(out)]) == 0
    params = load_model(out).params
    assert params.rule == "weight_dependent" and params.inhibition == "direct"


def test_eval_at_another_timestep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.npz"
    assert main(["train", *SMALL, "--no-eval", "--out", str(out)]) == 0
    capsys.readouterr()
    code = main(
        ["eval", str(out), "--embedded", "-T", "12", "--reassign", "60", "--test-samples", "40"]
    )
    assert code == 0
    line = capsys.readouterr().out
    assert "on 40 mnist test samples at T=12" in line
    assert load_model(out).params.timesteps == 30  # eval never rewrites the model


def test_bench_prints_a_row_per_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "--neurons", "5", "8", "--timesteps", "10", "--samples", "30"])
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in out[1:-1]]
    assert [r[:2] for r in rows] == [["5", "10"], ["8", "10"]]
    # train/s, infer/s, the floor kernel's train/s and infer/s, the network's % of them, and
    # inference on all of Numba's threads with its speed-up over one
    threads = numba.config.NUMBA_NUM_THREADS
    assert out[0].split()[2:10] == [
        "train/s",
        "infer/s",
        "floor-train/s",
        "floor-infer/s",
        "train%",
        "infer%",
        f"infer/s@{threads}",
        "speed-up",
    ]
    assert all(len(r) == 10 and all(float(x) > 0 for x in r[2:]) for r in rows)
    for r in rows:
        assert float(r[6]) == pytest.approx(100 * float(r[2]) / float(r[4]), abs=1.0, rel=0.02)
        assert float(r[9]) == pytest.approx(float(r[8]) / float(r[3]), abs=0.01, rel=0.02)
    assert out[-1] == "bench done: 2 configurations"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["eval", "missing.npz", "--embedded"], r"error: .*missing\.npz"),
        (["train", *SMALL, "--set", "timesteps=0"], r"error: .*timesteps = 0 is outside"),
        (["train", *SMALL, "--set", "nonsense=1"], r"error: .*unknown key\(s\) nonsense"),
        (["train", *SMALL, "--set", "novalue"], r"error: --set expects KEY=VALUE"),
        (["train", "--data-dir", "/nonexistent/dir"], r"error: data directory /nonexistent/dir"),
        (["train", *SMALL, "--config", "/nonexistent.yaml"], r"error: /nonexistent\.yaml"),
    ],
)
def test_bad_input_gives_one_error_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main([*argv, "--out", str(tmp_path / "x.npz")] if argv[0] == "train" else argv) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert re.match(message, err)


def test_eval_rejects_a_corrupt_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    assert main(["eval", str(bad), "--embedded"]) == 1
    assert "bad.npz" in capsys.readouterr().err


def test_train_on_the_embedded_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "small.npz"
    code = main(["train", "--embedded", "-n", "10", "-T", "20", "--out", str(out)])
    assert code == 0
    line = capsys.readouterr().out
    assert "on mnist: 2000 samples" in line and "on 500 samples" in line
    assert out.exists()


# --- issue 16: bad model files and the overrides a model fixes -----------------------------------


def _model(path: Path, meta_change: dict[str, object] | None = None, **arrays: np.ndarray) -> Path:
    """A small N10 model for the embedded sample, some meta fields or arrays then replaced."""
    state = ModelState.initial(NetworkParams(n_neurons=10, timesteps=30), seed=0)
    state.assignments = np.arange(10, dtype=np.int16) % 10
    save_model(path, state)
    with np.load(path, allow_pickle=False) as npz:
        parts = {name: npz[name] for name in npz.files}
    meta = {**json.loads(str(parts.pop("meta")[()])), **(meta_change or {})}
    np.savez(path, meta=np.array(json.dumps(meta)), **{**parts, **arrays})
    return path


def _labels(value: int) -> np.ndarray:
    """Assignments of the N10 model with neuron 3 voting for ``value``."""
    labels = np.arange(10, dtype=np.int16)
    labels[3] = value
    return labels


def _weights(value: float) -> np.ndarray:
    """Weights of an N10 model, one of them ``value``."""
    weights = np.full((784, 10), 0.1, np.float32)
    weights[5, 5] = value
    return weights


BAD_MODELS = [
    ({}, {"assignments": _labels(10)}, r"assignments above 9"),
    ({}, {"assignments": _labels(-7)}, r"assignments below -1"),
    ({"timesteps": -5}, {}, r"meta timesteps must be an integer in \[1, 1000\], got -5"),
    ({}, {"weights": _weights(-1e30)}, r"weights hold values in \[-1e\+30"),
    ({"format_version": "1"}, {}, r"meta format_version must be an integer, got '1'"),
]


@pytest.mark.parametrize(("meta", "arrays", "match"), BAD_MODELS)
def test_eval_refuses_a_bad_model_in_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    meta: dict[str, object],
    arrays: dict[str, np.ndarray],
    match: str,
) -> None:
    bad = _model(tmp_path / "bad.npz", meta, **arrays)
    assert main(["eval", str(bad), "--embedded", "--test-samples", "20"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert re.match(rf"error: {re.escape(str(bad))}: {match}", err)


def test_eval_of_a_bad_model_as_a_process_exits_1_without_traceback(tmp_path: Path) -> None:
    bad = _model(tmp_path / "bad.npz", {}, assignments=_labels(12))
    done = subprocess.run(
        [sys.executable, "-m", "topspark_ros", "eval", str(bad), "--embedded"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}: assignments above 9")


@pytest.mark.parametrize("setting", ["n_neurons=400", "n_inputs=100"])
def test_eval_refuses_to_change_what_the_model_fixes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str
) -> None:
    model = _model(tmp_path / "n10.npz")
    assert main(["eval", str(model), "--embedded", "--set", setting]) == 1
    err = capsys.readouterr().err
    name, value = setting.split("=")
    old = {"n_neurons": 10, "n_inputs": 784}[name]
    assert err == (
        f"error: {model}: {name} is fixed by the model ({old}); it cannot be set to {value}\n"
    )


def test_eval_still_takes_other_overrides(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _model(tmp_path / "n10.npz")
    argv = ["eval", str(model), "--embedded", "--set", "w_inh_exc=60", "--test-samples", "20"]
    assert main(argv) == 0
    assert "on 20 mnist test samples at T=30" in capsys.readouterr().out


def test_train_out_must_be_an_npz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    existing = tmp_path / "existing.txt"
    existing.write_text("precious")
    assert main(["train", *SMALL, "--no-eval", "--out", str(existing)]) == 1
    assert (
        capsys.readouterr().err
        == f"error: --out must end in .npz (a model file), got {existing}\n"
    )
    assert existing.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.txt"]

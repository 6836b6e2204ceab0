"""Usage errors (issue 16, defect 7): a bad number on any command line is one ``error:`` line
and exit 2, found by the parser before any work; Ctrl-C at any moment is ``error: interrupted``
and exit 130."""

from __future__ import annotations

import argparse
import importlib
import os
import re
import signal
import sys
import time
import weakref
from collections.abc import Callable
from pathlib import Path

import pytest
from signalled_run import train_until_signalled

from topspark_ros.cli import args as argtypes
from topspark_ros.cli.main import main, run
from topspark_ros.snn.params import NetworkParams

# the module (``topspark_ros.cli.main`` as an attribute is the function)
main_module = importlib.import_module("topspark_ros.cli.main")

POSITIVE = "must be a positive integer"
T_RANGE = "must be an integer in 1..1000"
N_RANGE = "must be an integer in 1..20000"
SEED = "must be an integer in 0..2147483647"
DOMAIN = "must be an integer in 0..232"

# (command line, the one error line it must print); each was a traceback or a bad run before
REPRODUCTIONS = [
    (["train", "--train-samples", "0"], f"argument --train-samples: {POSITIVE}, got 0"),
    (["train", "--test-samples", "-1"], f"argument --test-samples: {POSITIVE}, got -1"),
    (["train", "--assign-samples", "0"], f"argument --assign-samples: {POSITIVE}, got 0"),
    (["train", "--epochs", "0"], f"argument --epochs: {POSITIVE}, got 0"),
    (["train", "--train-samples", "ten"], f"argument --train-samples: {POSITIVE}, got 'ten'"),
    (["train", "-n", "0"], f"argument --neurons/-n: {N_RANGE}, got 0"),
    (["train", "-T", "0"], f"argument --timesteps/-T: {T_RANGE}, got 0"),
    (["train", "-T", "1001"], f"argument --timesteps/-T: {T_RANGE}, got 1001"),
    (["train", "--seed", "-1"], f"argument --seed: {SEED}, got -1"),
    (["eval", "m.npz", "-T", "0"], f"argument --timesteps/-T: {T_RANGE}, got 0"),
    (["eval", "m.npz", "--test-samples", "0"], f"argument --test-samples: {POSITIVE}, got 0"),
    (
        ["eval", "m.npz", "--reassign", "-5"],
        "argument --reassign: must be a non-negative integer, got -5",
    ),
    (["bench", "--samples", "0"], f"argument --samples: {POSITIVE}, got 0"),
    (["bench", "--neurons", "100", "0"], f"argument --neurons: {N_RANGE}, got 0"),
    (["bench", "--timesteps", "-3"], f"argument --timesteps: {T_RANGE}, got -3"),
    (["sweep", "--train-samples", "0"], f"argument --train-samples: {POSITIVE}, got 0"),
    (["sweep", "--epochs", "-1"], f"argument --epochs: {POSITIVE}, got -1"),
    (["sweep", "--timesteps", "350", "0"], f"argument --timesteps: {T_RANGE}, got 0"),
    (
        ["sensitivity", "--scales", "nan"],
        "argument --scales: must be a finite number > 0, got nan",
    ),
    (["sensitivity", "-n", "0"], f"argument --neurons/-n: {N_RANGE}, got 0"),
    (["sensitivity", "--test-samples", "0"], f"argument --test-samples: {POSITIVE}, got 0"),
    (
        ["profile", "sweep.json", "--deadline-ms", "inf"],
        "argument --deadline-ms: must be a finite number > 0, got inf",
    ),
    (["profile", "sweep.json", "--baseline", "0"], f"argument --baseline: {T_RANGE}, got 0"),
    (["reproduce", "--seeds", "0", "-1"], f"argument --seeds: {SEED}, got -1"),
    (["make-sample", "--train", "0"], f"argument --train: {POSITIVE}, got 0"),
    (["make-sample", "--test", "-1"], f"argument --test: {POSITIVE}, got -1"),
    (["make-sample", "--seed", "-1"], f"argument --seed: {SEED}, got -1"),
    (
        ["download", "mnist", "--timeout", "0"],
        "argument --timeout: must be a finite number > 0, got 0",
    ),
    (["node", "perception", "--domain-id", "233"], f"argument --domain-id: {DOMAIN}, got 233"),
    *[
        (
            ["demo", "--duration", value],
            f"argument --duration: must be a finite number > 0 and <= 1e+06, got {value}",
        )
        for value in ("nan", "inf", "-5", "0")
    ],
    (["demo", "--rate", "0"], "argument --rate: must be a number in [0.1, 100], got 0"),
    (["demo", "--fixed-t", "0"], f"argument --fixed-t: {T_RANGE}, got 0"),
    (["demo", "--domain-id", "-1"], f"argument --domain-id: {DOMAIN}, got -1"),
    (["demo", "--seed", "99999999999"], f"argument --seed: {SEED}, got 99999999999"),
    (
        ["latency", "--rate", "nan"],
        "argument --rate: must be a finite number > 0 and <= 10000, got nan",
    ),
    (
        ["latency", "--warmup", "-1"],
        "argument --warmup: must be a number in [0, 1e+06], got -1",
    ),
    (["latency", "--width", "0"], "argument --width: must be an integer in 1..10000, got 0"),
    (["latency", "--scale", "0"], "argument --scale: must be an integer in 1..300, got 0"),
    (["latency", "-n", "0"], f"argument --neurons/-n: {N_RANGE}, got 0"),
    (["make-bag", "out", "--width", "wide"], "argument --width: invalid int value: 'wide'"),
    (["train", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    ([], "the following arguments are required: COMMAND"),
]


@pytest.mark.parametrize(
    ("argv", "message"), REPRODUCTIONS, ids=[" ".join(a) or "none" for a, _ in REPRODUCTIONS]
)
def test_bad_command_line_is_one_error_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert lines[0] == f"error: {message}"
    assert [line for line in lines if line.startswith("error:")] == lines[:1]
    assert len(lines) == 2 and re.fullmatch(r"\(see 'topspark( [a-z-]+)? --help'\)", lines[1])
    assert "Traceback" not in err and "usage:" not in err and out == ""


def test_help_still_prints_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["train", "--help"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("usage: topspark train")


@pytest.mark.parametrize(
    ("parse", "text", "value"),
    [
        (argtypes.positive_int, " 7 ", 7),
        (argtypes.non_negative_int, "0", 0),
        (argtypes.positive_float, "1e-9", 1e-9),
        (argtypes.non_negative_float, "0", 0.0),
        (argtypes.probability, "1", 1.0),
        (argtypes.percent, "100", 100.0),
        (argtypes.seed, "2147483647", 2**31 - 1),
        (argtypes.domain_id, "232", 232),
        (argtypes.timesteps, "1000", 1000),
    ],
)
def test_types_accept_their_range(parse: Callable[[str], float], text: str, value: float) -> None:
    assert parse(text) == value


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (argtypes.positive_int, "1.5", "must be a positive integer, got '1.5'"),
        (argtypes.non_negative_int, "", "must be a non-negative integer, got ''"),
        (argtypes.positive_float, "-inf", "must be a finite number > 0, got -inf"),
        (argtypes.non_negative_float, "-0.1", "must be a finite number >= 0, got -0.1"),
        (argtypes.probability, "1.01", r"must be a number in \[0, 1\], got 1.01"),
        (argtypes.percent, "abc", r"must be a number in \[0, 100\], got 'abc'"),
        (argtypes.int_in(-3), "-4", "must be an integer >= -3, got -4"),
    ],
)
def test_types_reject_outside_their_range(
    parse: Callable[[str], float], text: str, message: str
) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=f"^{message}$"):
        parse(text)


def test_network_ranges_come_from_the_parameters() -> None:
    fields = {f.name: f.metadata for f in NetworkParams.__dataclass_fields__.values()}
    hi_t, hi_n = int(fields["timesteps"]["hi"]), int(fields["n_neurons"]["hi"])
    assert argtypes.timesteps(str(hi_t)) == hi_t and argtypes.neurons(str(hi_n)) == hi_n
    with pytest.raises(argparse.ArgumentTypeError):
        argtypes.timesteps(str(hi_t + 1))


def test_interrupt_while_commands_import(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C before the parser exists (the commands' imports) is one line and 130."""

    def interrupted() -> argparse.ArgumentParser:
        raise KeyboardInterrupt

    monkeypatch.setattr(main_module, "build_parser", interrupted)
    assert main(["bench"]) == 130
    assert capsys.readouterr().err == "error: interrupted\n"


def test_run_exits_130_on_interrupt(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Even a KeyboardInterrupt that escapes ``main`` ends as one line and exit 130."""

    def interrupted(argv: list[str] | None = None) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(main_module, "main", interrupted)
    with pytest.raises(SystemExit) as info:
        run()
    assert info.value.code == 130
    assert capsys.readouterr().err == "error: interrupted\n"


def test_an_interrupt_turned_into_another_error_is_still_an_interrupt(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """numpy's C extension turns a Ctrl-C during its import of datetime into an ImportError."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT has a handler other than Python's default in this process")

    def swallowed() -> argparse.ArgumentParser:
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the handler raises KeyboardInterrupt here
        except KeyboardInterrupt:
            pass
        raise ImportError('PyCapsule_Import could not import module "datetime"')

    monkeypatch.setattr(main_module, "build_parser", swallowed)
    assert main(["bench"]) == 130
    assert capsys.readouterr().err == "error: interrupted\n"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_an_interrupt_lost_in_a_weakref_callback_is_raised_again(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C inside a weakref callback (importlib's module locks) is not "Exception ignored"."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT has a handler other than Python's default in this process")
    real = main_module.build_parser
    hook = sys.unraisablehook

    class Lock:
        """Something a weakref can point to."""

    def interrupted_in_a_callback() -> argparse.ArgumentParser:
        lock = Lock()

        def callback(_: object) -> None:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the handler raises KeyboardInterrupt here, inside the callback

        ref = weakref.ref(lock, callback)
        del lock  # runs the callback; Python can only report its exception as "ignored"
        assert ref() is None
        return real()

    monkeypatch.setattr(main_module, "build_parser", interrupted_in_a_callback)
    assert main(["bench", "--samples", "0"]) == 130  # raised before parsing (else exit 2)
    assert capsys.readouterr().err == "error: interrupted\n"
    assert sys.unraisablehook is hook
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_other_errors_keep_their_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a Ctrl-C, an unexpected exception is a bug and is not turned into one line."""

    def broken() -> argparse.ArgumentParser:
        raise ImportError("a real import bug")

    monkeypatch.setattr(main_module, "build_parser", broken)
    with pytest.raises(ImportError, match="a real import bug"):
        main(["bench"])


# Ctrl-C: a real SIGINT, during the imports of numpy/numba/the commands, or during the command.
@pytest.mark.parametrize("after_s", [0.01, 0.1, 0.4, 1.5])
def test_ctrl_c_early_in_a_real_process(tmp_path: Path, after_s: float) -> None:
    proc = train_until_signalled(tmp_path, signal.SIGINT, after_s)
    assert (proc.returncode, proc.stderr) == (130, "error: interrupted\n")
    assert list(tmp_path.iterdir()) == []

"""One signal policy for every command: SIGTERM and SIGHUP stop a command as Ctrl-C does (its
cleanup runs, nothing half-written is left), in one ``error:`` line, exit 128 + the signal."""

from __future__ import annotations

import argparse
import ctypes
import importlib
import os
import signal
import time
from pathlib import Path

import pytest
from signalled_run import train_until_signalled

from topspark_ros.cli.main import _Interrupts, main
from topspark_ros.errors import Interrupted, stop_exit_code, stop_reason

main_module = importlib.import_module("topspark_ros.cli.main")  # the module, not the function

SIGNALS = {
    "SIGTERM": (signal.SIGTERM, 143, "error: stopped by SIGTERM\n"),
    "SIGHUP": (signal.SIGHUP, 129, "error: stopped by SIGHUP\n"),
}  # SIGINT: test_argument_errors.test_ctrl_c_early_in_a_real_process


@pytest.mark.parametrize("after_s", [0.05, 1.5])
@pytest.mark.parametrize(("signum", "code", "line"), SIGNALS.values(), ids=SIGNALS.keys())
def test_a_stop_signal_is_one_line_and_leaves_nothing(
    tmp_path: Path, signum: int, code: int, line: str, after_s: float
) -> None:
    proc = train_until_signalled(tmp_path, signum, after_s)
    assert (proc.returncode, proc.stderr) == (code, line)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_interrupts_raise_the_signal_and_put_the_handlers_back(signum: int) -> None:
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT has a handler other than Python's default in this process")
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    with _Interrupts() as interrupts, pytest.raises(Interrupted) as info:
        signal.raise_signal(signum)
    assert info.value.signum == signum and interrupts.seen is info.value
    assert {s: signal.getsignal(s) for s in before} == before
    assert stop_exit_code(info.value) == 128 + signum


def test_a_handler_set_by_someone_else_is_left_alone() -> None:
    def mine(*_: object) -> None:
        pass

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        with _Interrupts():
            assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_signal_lost_in_a_ctypes_callback_is_delivered_again(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """LLVM calls back into Python while numba compiles; an exception raised in such a ctypes
    callback is dropped ("Exception ignored"). The signal must still stop the command."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("SIGTERM has a handler in this process")
    compare = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)

    def in_callback(a: object, b: object) -> int:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.5)  # the handler raises here, inside the callback: ctypes drops it
        return 0

    def lost_then_work() -> argparse.ArgumentParser:
        items = (ctypes.c_int * 2)(2, 1)
        ctypes.CDLL(None).qsort(items, 2, ctypes.sizeof(ctypes.c_int), compare(in_callback))
        time.sleep(5)  # the work that must not go on: the signal is raised here, again
        pytest.fail("the SIGTERM was lost")

    monkeypatch.setattr(main_module, "build_parser", lost_then_work)
    began = time.monotonic()
    assert main(["bench"]) == 143
    assert time.monotonic() - began < 4.0
    assert capsys.readouterr().err == "error: stopped by SIGTERM\n"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_stop_reason_names_the_signal() -> None:
    assert stop_reason(KeyboardInterrupt()) == "interrupted"
    assert stop_exit_code(KeyboardInterrupt()) == 130
    assert stop_reason(Interrupted(signal.SIGTERM)) == "stopped by SIGTERM"
    assert stop_reason(Interrupted(200)) == "stopped by signal 200"

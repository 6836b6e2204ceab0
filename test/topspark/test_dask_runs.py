"""Runs on Dask give the serial results: a LocalCluster, an existing scheduler with two workers
(processes started and stopped here), a worker killed mid-run, and Ctrl-C keeping finished runs.

Everything binds 127.0.0.1 only; every process a test starts is stopped by it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from topspark_ros.cli.main import main
from topspark_ros.data import Dataset, load_data
from topspark_ros.snn.params import NetworkParams
from topspark_ros.topspark.experiment import MEASURED_FIELDS, PointResult, PointSpec, run_point
from topspark_ros.topspark.runs import WORKER_ENV, Execution, open_runner
from topspark_ros.topspark.sweep import run_sweep, sweep_specs

distributed = pytest.importorskip("distributed")

SWEEP = ["sweep", "--embedded", "--neurons", "8", "--rules", "pair", "weight_dependent"]
SWEEP += ["--timesteps", "40", "10", "--train-samples", "60", "--test-samples", "30"]
SENSITIVITY = ["sensitivity", "--embedded", "-n", "8", "--timesteps", "30", "10"]
SENSITIVITY += ["--params", "theta_plus", "input_rate", "--scales", "0.5", "2"]
SENSITIVITY += ["--train-samples", "40", "--test-samples", "20"]
START_TIMEOUT_S = 60.0
REPO_ROOT = Path(__file__).resolve().parents[2]  # worker processes import topspark_ros from it


def _stable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows without the wall-clock measurements (which differ between any two runs)."""
    return [{k: v for k, v in row.items() if k not in MEASURED_FIELDS} for row in rows]


def _rows(out: Path, stem: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((out / f"{stem}.json").read_text())["results"]
    return rows


def _csv_stable(out: Path, stem: str) -> list[list[str]]:
    """The CSV's cells, without the measured columns."""
    lines = [line.split(",") for line in (out / f"{stem}.csv").read_text().splitlines()]
    keep = [i for i, name in enumerate(lines[0]) if name not in MEASURED_FIELDS]
    return [[cells[i] for i in keep] for cells in lines]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process group, then SIGKILL whatever is left after 10 s."""
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _listening(pids: list[int]) -> set[str]:
    """The addresses that ``pids`` and their children listen on."""
    import psutil

    procs = [psutil.Process(pid) for pid in pids]
    procs += [child for proc in list(procs) for child in proc.children(recursive=True)]
    return {
        conn.laddr.ip
        for proc in procs
        for conn in proc.net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN
    }


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """``tcp://127.0.0.1:PORT`` of a ``dask scheduler`` with two ``dask worker`` processes (one
    thread each, one Numba thread as docs/cluster.md says), all on 127.0.0.1; stopped at the
    end of the module."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, **WORKER_ENV, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    dask = [sys.executable, "-m", "dask"]
    http = ["--dashboard-address", "127.0.0.1:0"]  # the HTTP servers, loopback only too
    worker = [*dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1", *http]
    commands = [
        [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), *http],
        [*worker, "--death-timeout", "60"],
        [*worker, "--death-timeout", "60"],
    ]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for command in commands:
            quiet = subprocess.DEVNULL
            proc = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=quiet, stderr=quiet, start_new_session=True
            )
            procs.append(proc)
        with distributed.Client(address, timeout=START_TIMEOUT_S) as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        assert _listening([p.pid for p in procs]) <= {"127.0.0.1"}
        yield address
    finally:
        _stop(procs)


@pytest.fixture(scope="module")
def serial_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny sweep's output directory, run serially."""
    out = tmp_path_factory.mktemp("serial") / "sweep"
    assert main([*SWEEP, "--workers", "0", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def tiny() -> tuple[list[PointSpec], Dataset, Dataset, list[PointResult]]:
    """Three tiny sweep specs, their data and their serial results."""
    train = load_data("mnist", "train", None, True, 60)
    test = load_data("mnist", "test", None, True, 30)
    specs = sweep_specs(NetworkParams(n_neurons=8), "mnist", [8], ["pair"], [40, 30, 20], 60, 30)
    return specs, train, test, run_sweep(specs, train, test)


def test_local_cluster_gives_the_serial_results(
    tiny: tuple[list[PointSpec], Dataset, Dataset, list[PointResult]],
) -> None:
    specs, train, test, serial = tiny
    seen: list[tuple[int, int]] = []
    with open_runner(Execution(workers=2), lambda *p: seen.append(p)) as runner:
        assert _listening([os.getpid()]) <= {"127.0.0.1"}
        assert len(runner._client.scheduler_info()["workers"]) == 2  # type: ignore[attr-defined]
        results = run_sweep(specs, train, test, runner=runner)
    assert _stable([r.as_dict() for r in results]) == _stable([r.as_dict() for r in serial])
    assert seen[-1] == (3, 3)


def test_existing_scheduler_gives_the_serial_results(
    serial_sweep: Path, scheduler: str, tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    assert main([*SWEEP, "--scheduler", scheduler, "--out", str(out)]) == 0
    assert _stable(_rows(out, "sweep")) == _stable(_rows(serial_sweep, "sweep"))
    assert _csv_stable(out, "sweep") == _csv_stable(serial_sweep, "sweep")


def test_sensitivity_on_a_cluster_gives_the_serial_results(
    scheduler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial, cluster = tmp_path / "serial", tmp_path / "cluster"
    assert main([*SENSITIVITY, "--workers", "0", "--out", str(serial)]) == 0
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", scheduler)  # the default honours Dask's config
    assert main([*SENSITIVITY, "--out", str(cluster)]) == 0
    assert _rows(cluster, "sensitivity") == _rows(serial, "sensitivity")
    assert (cluster / "sensitivity.csv").read_bytes() == (serial / "sensitivity.csv").read_bytes()
    assert (cluster / "ranking.md").read_bytes() == (serial / "ranking.md").read_bytes()


def test_a_killed_worker_costs_only_its_run(
    scheduler: str,
    tiny: tuple[list[PointSpec], Dataset, Dataset, list[PointResult]],
    tmp_path: Path,
) -> None:
    specs, train, test, serial = tiny
    marker = tmp_path / "killed"

    def dies_once(spec: PointSpec, *data: Any) -> PointResult:
        """Kill this worker process the first time the second spec runs."""
        if spec.params.timesteps == 30 and not marker.exists():
            marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return run_point(spec, *data)

    with open_runner(Execution(scheduler=scheduler)) as runner:
        results = runner.submit(dies_once, specs, (train, test)).results()
    import psutil

    killed = int(marker.read_text())
    assert killed != os.getpid() and not psutil.pid_exists(killed)  # a worker died
    assert _stable([r.as_dict() for r in results]) == _stable([r.as_dict() for r in serial])


def test_runs_of_a_batch_not_iterated_are_collected(
    scheduler: str, tiny: tuple[list[PointSpec], Dataset, Dataset, list[PointResult]]
) -> None:
    # reproduce reads its batches one after another: on the way out of an interrupted run,
    # the runs that finished in a later batch must be saved too (Batch.collect)
    specs, train, test, serial = tiny
    with open_runner(Execution(scheduler=scheduler)) as runner:
        first = runner.submit(run_point, specs[:1], (train, test))
        later = runner.submit(run_point, specs, (train, test))
        first.results()
        deadline = time.monotonic() + START_TIMEOUT_S
        while len(later.done) < len(specs) and time.monotonic() < deadline:
            later.collect()  # finished runs, never iterated
            time.sleep(0.1)
        got = [later.done[i].as_dict() for i in sorted(later.done)]
    assert _stable(got) == _stable([r.as_dict() for r in serial])


def _running(procs: list[Any]) -> list[Any]:
    """The processes still running (a zombie is not)."""
    import psutil

    alive = []
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
        except psutil.NoSuchProcess:
            pass
    return alive


def test_ctrl_c_keeps_finished_runs_and_stops_the_cluster(repo_root: Path, tmp_path: Path) -> None:
    import psutil

    out = tmp_path / "sweep"
    steps = ["100", "90", "80", "70", "60", "50", "40", "30"]
    argv = ["sweep", "--embedded", "--neurons", "20", "--timesteps", *steps]
    argv += ["--train-samples", "300", "--test-samples", "100", "--workers", "2"]
    env = {**os.environ, "PYTHONPATH": str(repo_root)}
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "topspark_ros", *argv, "--out", str(out)],
        cwd=repo_root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    children: list[Any] = []
    try:
        assert proc.stdout is not None
        printed: list[str] = []
        deadline = time.monotonic() + 120
        while len(printed) < 2 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, "the command ended before two runs finished"
            printed += [line] if line.startswith("[") else []
        children = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        while _running(children) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = _running(children)
        for child in left:
            child.kill()
    assert not left, f"left running: {[c.pid for c in left]}"
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "error: interrupted"
    printed += [line for line in rest.splitlines() if line.startswith("[")]
    rows = _rows(out, "sweep")
    assert 2 <= len(rows) == len(printed) < len(steps)
    order = [str(r["timesteps"]) for r in rows]
    assert order == [t for t in steps if t in order]  # the finished runs, in spec order
    assert not list(out.glob(".*tmp*"))

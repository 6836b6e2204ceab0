"""Independent runs, serially or on a Dask cluster: in order, with progress, retries, and every
finished result kept when the work stops early.

A job is ``fn(arg, *shared)``: ``fn`` a module-level (picklable) function, ``arg`` small (a spec)
and ``shared`` the large values every job of a batch reads (the datasets), which reach each
worker once, not once per job. ``Execution`` says where jobs run: in this process
(``workers=0``, no Dask at all), on a LocalCluster of single-threaded worker processes on
127.0.0.1, or on an existing scheduler. The results are the same numbers in the same order
whichever it is: each run is seeded by its spec alone. Dask is imported only when used.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from topspark_ros.errors import ConfigError

if TYPE_CHECKING:
    from distributed import Client

R = TypeVar("R")
Progress = Callable[[int, int], None]  # (runs finished, runs submitted) after every change
RETRIES = 2  # a run that raises is tried again this many times; see Execution.retries
CONNECT_TIMEOUT_S = 30.0  # to reach an existing scheduler
# Local workers: one thread each, Numba's parallel kernels included (N workers on N cores).
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def default_workers() -> int:
    """The cores this process may use (its CPU affinity), at least 1."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


@dataclass(frozen=True)
class Execution:
    """Where runs go.

    ``scheduler`` (``tcp://HOST:PORT``): an existing Dask cluster. Else ``workers=0``: serially in
    this process; ``workers=N``: a LocalCluster of N processes (1 thread each) on 127.0.0.1;
    ``workers=None``: the scheduler of Dask's configuration (``DASK_SCHEDULER_ADDRESS`` or
    ``scheduler-address``) if one is set, else a LocalCluster on every core. A run that raises
    is retried ``retries`` times; one whose worker dies is handed to another worker by the
    scheduler (Dask's ``distributed.scheduler.allowed-failures``, 3 by default).
    """

    workers: int | None = None
    scheduler: str | None = None
    retries: int = RETRIES

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 0:
            raise ValueError(f"workers must be >= 0, got {self.workers}")
        if self.retries < 0:
            raise ValueError(f"retries must be >= 0, got {self.retries}")

    @classmethod
    def serial(cls) -> Execution:
        """Every run in this process, one after another."""
        return cls(workers=0)

    @property
    def is_serial(self) -> bool:
        """Whether no Dask is involved."""
        return self.workers == 0 and not self.scheduler


class Collected(Generic[R]):
    """Results that arrive by index: iterating yields ``(index, result)`` as each becomes known
    (subclasses say how) and records it in ``done``, which keeps every finished result also
    after an error or Ctrl-C stopped the iteration."""

    def __init__(self) -> None:
        self.done: dict[int, R] = {}

    def __iter__(self) -> Iterator[tuple[int, R]]:
        raise NotImplementedError

    def finished(self) -> list[R]:
        """The finished results in index order (all of them once everything finished)."""
        return [self.done[i] for i in sorted(self.done)]

    def results(self, on_result: Callable[[int, R], None] | None = None) -> list[R]:
        """Wait for every result, ``on_result(index, result)`` seeing each as it becomes known
        (in any order on a cluster); all of them in index order."""
        for index, result in self:
            if on_result is not None:
                on_result(index, result)
        return self.finished()


class Batch(Collected[R]):
    """Jobs handed to a runner, yielded as runs finish (in index order when serial)."""

    def __init__(
        self,
        size: int,
        stream: Iterator[tuple[int, R]],
        ready: Callable[[], Iterator[tuple[int, R]]] | None = None,
    ) -> None:
        super().__init__()
        self.size = size
        self._stream = stream
        self._ready = ready  # the runs finished by now, whether iterated or not

    def __iter__(self) -> Iterator[tuple[int, R]]:
        for index, result in self._stream:
            self.done[index] = result
            yield index, result

    def collect(self) -> None:
        """Record in ``done`` every run finished by now, also those not iterated yet: on a
        cluster a later batch's runs finish while an earlier batch is iterated, and an
        interrupted command saves them too. Call it on the way out, not between iterations."""
        if self._ready is not None:
            for index, result in self._ready():
                self.done.setdefault(index, result)


class Runner:
    """Runs each job in this process when its batch is iterated, in index order."""

    def __init__(self, progress: Progress | None = None) -> None:
        self._progress = progress
        self._submitted = 0
        self._finished = 0
        self._lock = threading.Lock()

    def _count(self, submitted: int = 0, finished: int = 0) -> None:
        with self._lock:
            self._submitted += submitted
            self._finished += finished
            if self._progress is not None:
                self._progress(self._finished, self._submitted)

    def submit(
        self, fn: Callable[..., R], args: Sequence[Any], shared: Sequence[Any] = ()
    ) -> Batch[R]:
        """A batch of ``fn(arg, *shared)`` for each of ``args``."""
        jobs = list(args)
        self._count(submitted=len(jobs))

        def stream() -> Iterator[tuple[int, R]]:
            for index, arg in enumerate(jobs):
                result = fn(arg, *shared)
                self._count(finished=1)
                yield index, result

        return Batch(len(jobs), stream())


class DaskRunner(Runner):
    """Runs jobs on a Dask cluster through ``client``; a batch's runs start when submitted, in
    submission order as workers free up; progress counts runs as they finish."""

    def __init__(self, client: Client, retries: int, progress: Progress | None = None) -> None:
        super().__init__(progress)
        self._client: Any = client  # parts of distributed's API are untyped
        self._retries = retries
        self._pending: list[Any] = []  # distributed.Future, untyped
        self._batches = 0  # batches submitted so far
        # id(value) -> (value, its future): each shared value is scattered once and held while
        # the runner lives, so a later batch never races the release of an earlier one's copy.
        self._scattered: dict[int, tuple[Any, Any]] = {}

    def _scatter(self, value: Any) -> Any:
        """``value`` on every worker (a one-element list: a list or dict is scattered whole)."""
        held = self._scattered.get(id(value))
        if held is None or held[0] is not value:
            held = (value, self._client.scatter([value], broadcast=True)[0])
            self._scattered[id(value)] = held
        return held[1]

    def _finished_one(self, future: Any) -> None:
        """A future's done callback (on the client's event loop thread)."""
        if future.status == "finished":
            self._count(finished=1)

    def submit(
        self, fn: Callable[..., R], args: Sequence[Any], shared: Sequence[Any] = ()
    ) -> Batch[R]:
        """Scatter ``shared`` to every worker once, then submit a task per arg."""
        import distributed

        completed: Any = distributed.as_completed
        client = self._client
        values = [v if v is None else self._scatter(v) for v in shared]
        tag = f"{getattr(fn, '__name__', 'run')}-{secrets.token_hex(4)}"
        futures: list[Any] = [
            client.submit(
                fn,
                arg,
                *values,
                key=f"{tag}-{i}",
                pure=False,
                retries=self._retries,
                priority=-self._batches,  # batches run in the order they were handed in
            )
            for i, arg in enumerate(args)
        ]
        self._batches += 1
        index = {f.key: i for i, f in enumerate(futures)}
        self._pending += futures
        self._count(submitted=len(futures))
        for future in futures:
            future.add_done_callback(self._finished_one)
        finished = completed(futures)

        def stream() -> Iterator[tuple[int, R]]:
            for future in finished:
                result = future.result()
                future.release()
                yield index[future.key], result

        def ready() -> Iterator[tuple[int, R]]:
            for future in futures:
                if future.status == "finished":
                    with contextlib.suppress(Exception):  # released since: iterated already
                        yield index[future.key], future.result(timeout=1)

        return Batch(len(futures), stream(), ready)

    def cancel(self) -> None:
        """Cancel every run not finished yet (on the way out)."""
        pending, self._pending = [f for f in self._pending if not f.done()], []
        if pending:
            with contextlib.suppress(Exception):
                self._client.cancel(pending)


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as err:
        raise ConfigError(
            "running on Dask needs dask[distributed] (pip install 'dask[distributed]'); "
            "or run serially with --workers 0"
        ) from err
    return distributed


def configured_scheduler() -> str | None:
    """The scheduler address of Dask's configuration (``DASK_SCHEDULER_ADDRESS`` or
    ``scheduler-address`` in its YAML files), if any."""
    if os.environ.get("DASK_SCHEDULER_ADDRESS"):  # read now: Dask reads it once, at import
        return os.environ["DASK_SCHEDULER_ADDRESS"]
    try:
        import dask.config
    except ImportError:
        return None
    address = dask.config.get("scheduler-address", None)
    return str(address) if address else None


@contextlib.contextmanager
def open_runner(
    execution: Execution | None = None, progress: Progress | None = None
) -> Iterator[Runner]:
    """A runner for ``execution`` (serial when None); its cluster is shut down on the way out,
    and runs not finished then are cancelled."""
    execution = execution or Execution.serial()
    address = execution.scheduler
    if address is None and execution.workers is None:
        address = configured_scheduler()
    if address is None and execution.workers == 0:
        yield Runner(progress)
        return
    distributed = _import_distributed()
    with contextlib.ExitStack() as stack:
        if address is None:
            workers = execution.workers or default_workers()
            cluster = stack.enter_context(
                distributed.LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",  # its HTTP server, loopback only
                    silence_logs=logging.ERROR,
                    env=WORKER_ENV,
                )
            )
            client = stack.enter_context(distributed.Client(cluster))
        else:
            try:
                client = stack.enter_context(
                    distributed.Client(address, timeout=CONNECT_TIMEOUT_S)
                )
            except (OSError, ValueError) as err:
                raise ConfigError(f"cannot reach the Dask scheduler {address}: {err}") from err
        runner = DaskRunner(client, execution.retries, progress)
        try:
            yield runner
        finally:
            runner.cancel()


def run_jobs(
    fn: Callable[..., R],
    args: Sequence[Any],
    shared: Sequence[Any] = (),
    runner: Runner | None = None,
    on_result: Callable[[int, R], None] | None = None,
) -> list[R]:
    """``fn(arg, *shared)`` for every arg on ``runner`` (serial when None), the results in
    order; ``on_result(index, result)`` sees each as it finishes."""
    return (runner or Runner()).submit(fn, args, shared).results(on_result)


__all__ = [
    "RETRIES",
    "Batch",
    "Collected",
    "DaskRunner",
    "Execution",
    "Progress",
    "Runner",
    "configured_scheduler",
    "default_workers",
    "open_runner",
    "run_jobs",
]

"""Output files of every command, one rule: checked before the work, written atomically.

``check_output_file`` / ``check_output_dir`` refuse a bad output path (a directory where a file
is expected, a read-only directory, ...) with one ConfigError before any work is done;
``atomic_path`` / ``atomic_write_bytes`` replace a file whole or not at all; ``csv_bytes`` /
``write_csv`` are the package's one CSV writer; ``make_staging_dir`` / ``remove_stale_staging``
manage hidden staging directories that a killed run left behind.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import secrets
import shutil
import socket
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from topspark_ros.errors import ConfigError

STAGING_MARKER = ".topspark-staging"  # in every staging directory: "<pid> <host>" of its maker
CsvRow = Sequence[Any] | Mapping[str, Any]  # a CSV row: its cells, or header name -> cell


def _temp_sibling(target: Path) -> Path:
    """Create an empty, uniquely named file beside ``target`` with the same suffix; return it."""
    for _ in range(100):
        name = f".{target.stem}.{secrets.token_hex(6)}.tmp{target.suffix}"
        tmp = target.with_name(name)
        try:
            # 0o666 before the umask: the result gets the permissions a plain open() would give.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"cannot create a temporary file beside {target}")


def _fsync(path: Path) -> None:
    """Flush a file's (or on POSIX a directory's) data to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write to; on success it replaces ``path``.

    The temporary file has the same suffix (so ``np.savez`` does not append ``.npz``). If the block
    raises, the temporary file is removed and ``path`` is untouched; otherwise the file is fsynced
    and moved over ``path`` with ``os.replace``, which is atomic on POSIX and Windows.
    """
    target = Path(path)
    tmp = _temp_sibling(target)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if os.name == "posix":
        # Make the rename itself durable; some file systems refuse to fsync a directory.
        with contextlib.suppress(OSError):
            _fsync(target.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see ``atomic_path``); return the path."""
    target = Path(path)
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target


def _csv_cells(header: Sequence[str], row: CsvRow) -> Sequence[Any]:
    """A row's cells: a sequence as it is; a mapping by the header's names (blank where it has
    none; a ValueError for a key not in the header, as ``csv.DictWriter``)."""
    if not isinstance(row, Mapping):
        return row
    unknown = ", ".join(repr(key) for key in row if key not in header)
    if unknown:
        raise ValueError(f"dict contains fields not in fieldnames: {unknown}")
    return [row.get(name, "") for name in header]


def csv_bytes(header: Sequence[str], rows: Iterable[CsvRow]) -> bytes:
    """``header`` and ``rows`` as CSV (``\\n`` line ends, quoting only where needed), UTF-8.

    Cells are written as the ``csv`` module writes them (``str(value)``, None blank): a caller
    that wants another form (blank NaN, bools as 1/0) formats its cells first.
    """
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(_csv_cells(header, row) for row in rows)
    return text.getvalue().encode()


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[CsvRow]) -> Path:
    """Write ``csv_bytes(header, rows)`` to ``path`` atomically; return the path."""
    return atomic_write_bytes(path, csv_bytes(header, rows))


def _where(directory: Path, target: Path) -> str:
    """``directory`` as an error message names it: 'the directory' when it is the target."""
    return "the directory" if directory == target else f"directory {directory}"


def _unwritable(directory: Path) -> str | None:
    """Why no file can be created in the existing ``directory`` (a phrase), or None if one can.

    Besides ``os.access`` (which says yes to root everywhere) a directory without any write
    permission bit counts as read-only, for root too, and a real unnamed temporary file is
    created and dropped (``O_TMPFILE`` on Linux: nothing can be left behind).
    """
    with contextlib.suppress(OSError, AttributeError):  # statvfs: POSIX only
        if os.statvfs(directory).f_flag & os.ST_RDONLY:
            return "is on a read-only file system"
    if not directory.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        return "is read-only"
    if not os.access(directory, os.W_OK | os.X_OK):
        return "is not writable (permission denied)"
    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as err:
        return f"is not writable ({err.strerror or err})"
    return None


def _check_creatable(directory: Path, what: str, target: Path) -> None:
    """ConfigError unless ``directory`` exists or can be created and files can be made in it."""
    existing = directory
    while not existing.exists():
        if existing.is_symlink():
            raise ConfigError(
                f"{what} cannot be created: {existing} is a broken symbolic link ({target})"
            )
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{what} cannot be created: {existing} is not a directory ({target})")
    problem = _unwritable(existing)
    if problem is not None:
        raise ConfigError(
            f"{what} cannot be written: {_where(existing, target)} {problem} ({target})"
        )


def _checked(check: Callable[[], None], what: str, target: Path) -> Path:
    """Run ``check``; an OSError while looking (e.g. no search permission) is a ConfigError."""
    try:
        check()
    except OSError as err:
        raise ConfigError(f"{what} cannot be checked: {err.strerror or err} ({target})") from err
    return target


def check_output_parent(path: str | Path, what: str) -> Path:
    """ConfigError unless the directory of ``path`` exists or can be created, and is writable.

    For outputs renamed into place (a bag directory): what is at ``path`` itself is the caller's
    to judge. ``what`` names the output in the message, e.g. '--out'.
    """
    target = Path(path)
    return _checked(lambda: _check_creatable(target.parent, what, target), what, target)


def check_output_file(path: str | Path, what: str) -> Path:
    """ConfigError unless a file can be written at ``path``: called before the work, so that a
    bad output path costs nothing (not an existing directory; its directory writable)."""
    target = Path(path)

    def check() -> None:
        if target.is_dir():
            raise ConfigError(f"{what} is an existing directory, expected a file ({target})")
        _check_creatable(target.parent, what, target)

    return _checked(check, what, target)


def check_output_dir(path: str | Path, what: str, files: Iterable[str] = ()) -> Path:
    """ConfigError unless ``path`` is, or can be created as, a writable directory in which none
    of ``files`` (names the command will write there) is an existing directory."""
    target = Path(path)

    def check() -> None:
        if target.exists() and not target.is_dir():
            raise ConfigError(f"{what} is an existing file, expected a directory ({target})")
        _check_creatable(target, what, target)
        for name in files:
            if (target / name).is_dir():
                raise ConfigError(
                    f"{what} cannot be written: {name} in it is a directory, "
                    f"expected a file ({target / name})"
                )

    return _checked(check, what, target)


def _staging_pattern(target: Path, tag: str) -> re.Pattern[str]:
    """The names ``make_staging_dir(target, tag)`` gives: ``.NAME.TAG-`` and 8 hex digits."""
    return re.compile(rf"\.{re.escape(target.name)}\.{re.escape(tag)}-[0-9a-f]{{8}}")


def make_staging_dir(target: str | Path, tag: str = "partial") -> Path:
    """Create a hidden sibling ``.NAME.TAG-XXXXXXXX`` of ``target`` holding a marker with this
    process's pid; return it. A run killed before removing it leaves it for
    ``remove_stale_staging`` to find (the parents of ``target`` are created too)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        stage = target.with_name(f".{target.name}.{tag}-{secrets.token_hex(4)}")
        try:
            stage.mkdir()
        except FileExistsError:
            continue
        try:
            (stage / STAGING_MARKER).write_text(f"{os.getpid()} {socket.gethostname()}\n")
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        return stage
    raise FileExistsError(f"cannot create a staging directory beside {target}")


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (on this host); True when that cannot be told."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OverflowError, OSError):  # EPERM: alive, not ours
        return True
    return True


def _stale(stage: Path) -> bool:
    """Whether ``stage`` is a staging directory whose maker has died: it holds our marker,
    written on this host by a process that no longer runs. Anything unclear is not stale."""
    if stage.is_symlink() or not stage.is_dir():
        return False
    try:
        fields = (stage / STAGING_MARKER).read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError):
        return False
    if len(fields) != 2 or not fields[0].isdigit() or fields[1] != socket.gethostname():
        return False
    return not _pid_alive(int(fields[0]))


def remove_stale_staging(target: str | Path, tag: str = "partial") -> list[Path]:
    """Remove what earlier runs on ``target`` left behind when killed; return what was removed.

    Only a sibling named exactly as ``make_staging_dir(target, tag)`` names them, holding its
    marker, made on this host by a process that is no longer alive, is removed; nothing else.
    """
    target = Path(target)
    pattern = _staging_pattern(target, tag)
    try:
        candidates = [p for p in target.parent.iterdir() if pattern.fullmatch(p.name)]
    except OSError:
        return []
    removed = []
    for stage in sorted(candidates):
        if _stale(stage):
            shutil.rmtree(stage, ignore_errors=True)
            if not stage.exists():
                removed.append(stage)
    return removed


__all__ = [
    "STAGING_MARKER",
    "CsvRow",
    "atomic_path",
    "atomic_write_bytes",
    "check_output_dir",
    "check_output_file",
    "check_output_parent",
    "csv_bytes",
    "make_staging_dir",
    "remove_stale_staging",
    "write_csv",
]

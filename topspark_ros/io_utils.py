"""Atomic file writes: a file is either fully replaced or left as it was, never half-written."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


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


__all__ = ["atomic_path", "atomic_write_bytes"]

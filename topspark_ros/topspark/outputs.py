"""Result files shared by the method steps: a table as CSV + JSON, and PNG figures (atomic).

The commands check their output directory before the work (``io_utils.check_output_dir``); a
write that still fails (disk full) is a one-line TopsparkError naming the file, not a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from topspark_ros.errors import TopsparkError
from topspark_ros.io_utils import atomic_path, atomic_write_bytes, csv_bytes


def _write_error(path: Path, err: OSError) -> TopsparkError:
    """A failed write of ``path`` as the one-line error the CLI prints."""
    return TopsparkError(f"cannot write {path.name}: {err.strerror or err} ({path})")


def write_rows(
    out_dir: Path, stem: str, fieldnames: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> list[Path]:
    """Write ``rows`` as ``<stem>.csv`` (``io_utils.csv_bytes``) and ``<stem>.json``
    ({"results": rows}) in ``out_dir``."""
    payload = json.dumps({"results": list(rows)}, indent=1) + "\n"
    files = {
        out_dir / f"{stem}.csv": csv_bytes(fieldnames, rows),
        out_dir / f"{stem}.json": payload.encode(),
    }
    written = []
    for path, data in files.items():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            written.append(atomic_write_bytes(path, data))
        except OSError as err:
            raise _write_error(path, err) from err
    return written


def pyplot() -> Any:
    """matplotlib.pyplot on the non-interactive Agg backend (no display needed)."""
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path) -> Path:
    """Save a matplotlib figure atomically as PNG and close it."""
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, bbox_inches="tight")
    except OSError as err:
        raise _write_error(path, err) from err
    finally:
        pyplot().close(fig)
    return path


__all__ = ["pyplot", "save_figure", "write_rows"]

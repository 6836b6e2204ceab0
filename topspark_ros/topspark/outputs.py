"""Result files shared by the method steps: a table as CSV + JSON, and PNG figures (atomic)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from topspark_ros.io_utils import atomic_path, atomic_write_bytes


def write_rows(
    out_dir: Path, stem: str, fieldnames: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> list[Path]:
    """Write ``rows`` as ``<stem>.csv`` and ``<stem>.json`` ({"results": rows}) in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(fieldnames), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    payload = json.dumps({"results": list(rows)}, indent=1) + "\n"
    return [
        atomic_write_bytes(out_dir / f"{stem}.csv", text.getvalue().encode()),
        atomic_write_bytes(out_dir / f"{stem}.json", payload.encode()),
    ]


def pyplot() -> Any:
    """matplotlib.pyplot on the non-interactive Agg backend (no display needed)."""
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path) -> Path:
    """Save a matplotlib figure atomically as PNG and close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    pyplot().close(fig)
    return path


__all__ = ["pyplot", "save_figure", "write_rows"]

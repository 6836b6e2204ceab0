"""Stand-in sample files, for the tests that a failed ``make-sample`` leaves them byte-identical
(test/data/test_sample.py, test/cli/test_data_cmds.py; issue 16, defect 4).

Not a test module: test/support is on the test path (pyproject.toml's ``pythonpath``).
"""

from __future__ import annotations

from pathlib import Path


def write_stand_in_samples(out: Path) -> dict[str, bytes]:
    """Put two sample files in ``out`` (stand-ins for the shipped ones); their bytes by name."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"mnist.npz": b"stand-in mnist sample", "fashion-mnist.npz": b"stand-in fashion"}
    for name, data in files.items():
        (out / name).write_bytes(data)
    return files


def files_in(out: Path) -> dict[str, bytes]:
    """Every file in ``out`` (hidden temporary files included): its bytes by name."""
    return {p.name: p.read_bytes() for p in out.iterdir()}

"""Downloading a full dataset's four IDX .gz files from a mirror, validated before they land."""

from __future__ import annotations

import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from topspark_ros.data.datasets import IMAGE_SHAPE, NUM_CLASSES, SPLITS, check_name, file_names
from topspark_ros.data.idx import read_idx
from topspark_ros.errors import DataError

MIRRORS = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}
_SCHEMES = ("http", "https", "file")


def remote_files() -> list[str]:
    """The four ``.gz`` file names a mirror serves, images before labels, train before test."""
    return [f"{stem}.gz" for split in SPLITS for stem in file_names(split)]


def file_url(base_url: str, file_name: str) -> str:
    """The URL of ``file_name`` under the mirror ``base_url`` (trailing slash optional)."""
    return base_url.rstrip("/") + "/" + urllib.parse.quote(file_name)


def _fetch(url: str, dest: Path, timeout: float) -> None:
    """Stream ``url`` into the file ``dest``; DataError naming the URL on failure."""
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in _SCHEMES:
        raise DataError(f"{url}: unsupported URL scheme {scheme!r} (use http or https)")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, dest.open("wb") as fh:
            shutil.copyfileobj(response, fh, length=1 << 20)
            length = response.headers.get("Content-Length")
            received = fh.tell()
    except urllib.error.HTTPError as err:
        raise DataError(f"{url}: HTTP {err.code} {err.reason}") from err
    except urllib.error.URLError as err:
        raise DataError(f"{url}: cannot download ({err.reason})") from err
    except (TimeoutError, OSError, http.client.HTTPException) as err:
        raise DataError(f"{url}: download failed ({err!r})") from err
    if length is not None and length.isdigit() and int(length) != received:
        raise DataError(f"{url}: download failed: received {received} of {length} bytes")


def _validate(path: Path, url: str, labels: bool) -> int:
    """Check a downloaded file is IDX of the right shape (labels in 0..9); return its length."""
    try:
        array = read_idx(path)
    except DataError as err:
        raise DataError(f"{url}: invalid download: {str(err).removeprefix(f'{path}: ')}") from err
    if labels and array.ndim != 1:
        raise DataError(f"{url}: invalid download: expected labels [n], got {array.shape}")
    if labels and array.size and int(array.max()) >= NUM_CLASSES:
        raise DataError(f"{url}: invalid download: label {int(array.max())} out of range 0..9")
    if not labels and (array.ndim != 3 or array.shape[1:] != IMAGE_SHAPE):
        raise DataError(f"{url}: invalid download: expected images [n, 28, 28], got {array.shape}")
    return int(array.shape[0])


def download_dataset(
    name: str, dest_dir: Path, base_url: str | None = None, timeout: float = 30.0
) -> Path:
    """Fetch dataset ``name`` into ``<dest_dir>/<name>/`` and return that directory.

    Each split's two files go to temp files in that directory and are validated with ``read_idx``
    (shapes, labels, equal counts) before both are renamed into place; no half file is left behind.
    """
    check_name(name)
    base = base_url if base_url else MIRRORS[name]
    target = Path(dest_dir) / name
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(f"{target}: cannot create directory ({err.strerror or err})") from err
    for split in SPLITS:
        names = [f"{stem}.gz" for stem in file_names(split)]
        temps: list[Path] = []
        try:
            counts = []
            for file_name in names:
                fd, tmp_name = tempfile.mkstemp(
                    dir=target, prefix=f".{file_name}.", suffix=".part"
                )
                os.close(fd)
                temps.append(Path(tmp_name))
                url = file_url(base, file_name)
                _fetch(url, temps[-1], timeout)
                counts.append(_validate(temps[-1], url, labels="labels" in file_name))
            if counts[0] != counts[1]:
                raise DataError(
                    f"{file_url(base, names[1])}: invalid download: {counts[1]} labels for "
                    f"{counts[0]} images"
                )
            for tmp, file_name in zip(temps, names, strict=True):
                try:
                    os.chmod(tmp, 0o644)
                    os.replace(tmp, target / file_name)
                except OSError as err:
                    raise DataError(
                        f"{target / file_name}: cannot write ({err.strerror})"
                    ) from err
        finally:
            for tmp in temps:
                tmp.unlink(missing_ok=True)
    return target


__all__ = ["MIRRORS", "download_dataset", "file_url", "remote_files"]

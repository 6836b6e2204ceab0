"""Downloading against a loopback HTTP server serving tiny fixture files (never the internet)."""

from __future__ import annotations

import functools
import gzip
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from idx_datasets import write_dataset

from topspark_ros.data.datasets import load_dataset
from topspark_ros.data.download import MIRRORS, download_dataset, file_url, remote_files
from topspark_ros.data.idx import encode_idx, write_idx
from topspark_ros.errors import DataError

FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves a directory without logging every request to stderr."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server on 127.0.0.1 serving ``<root>/mnist/``; yields (url, root)."""
    root = tmp_path / "mirror"
    write_dataset(root, "mnist")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_file_names_and_urls() -> None:
    assert remote_files() == FILES
    assert file_url("http://h/x/", "a.gz") == "http://h/x/a.gz"
    assert file_url("http://h/x", "a.gz") == "http://h/x/a.gz"
    assert set(MIRRORS) == {"mnist", "fashion-mnist"}


def test_download(mirror: tuple[str, Path], tmp_path: Path) -> None:
    url, root = mirror
    dest = tmp_path / "data"
    target = download_dataset("mnist", dest, base_url=f"{url}/mnist/", timeout=5)
    assert target == dest / "mnist"
    assert sorted(p.name for p in target.iterdir()) == sorted(FILES)
    for name in FILES:
        assert (target / name).read_bytes() == (root / "mnist" / name).read_bytes()
    data = load_dataset("mnist", "test", dest)
    assert data.images.shape == (20, 28, 28)


def test_download_overwrites_existing(mirror: tuple[str, Path], tmp_path: Path) -> None:
    url, root = mirror
    dest = tmp_path / "data"
    (dest / "mnist").mkdir(parents=True)
    (dest / "mnist" / FILES[0]).write_bytes(b"stale")
    download_dataset("mnist", dest, base_url=f"{url}/mnist", timeout=5)
    assert (dest / "mnist" / FILES[0]).read_bytes() == (root / "mnist" / FILES[0]).read_bytes()


def test_404_names_the_url(mirror: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = mirror
    dest = tmp_path / "data"
    with pytest.raises(
        DataError, match=rf"^{url}/fashion-mnist/train-images-idx3-ubyte.gz: HTTP 404"
    ):
        download_dataset("fashion-mnist", dest, base_url=f"{url}/fashion-mnist/", timeout=5)
    assert list((dest / "fashion-mnist").iterdir()) == []


def test_missing_test_split_keeps_train(mirror: tuple[str, Path], tmp_path: Path) -> None:
    url, root = mirror
    (root / "mnist" / FILES[3]).unlink()
    dest = tmp_path / "data"
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz: HTTP 404"):
        download_dataset("mnist", dest, base_url=f"{url}/mnist/", timeout=5)
    assert sorted(p.name for p in (dest / "mnist").iterdir()) == sorted(FILES[:2])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncated-gzip", r"invalid download: corrupt gzip data"),
        (
            "truncated-idx",
            r"invalid download: truncated: expected 23520 bytes of data, found 23000",
        ),
        ("not-idx", r"invalid download: corrupt gzip data|wrong magic"),
        ("labels-shape", r"t10k-labels-idx1-ubyte.gz: invalid download: expected labels \[n\]"),
        ("labels-range", r"t10k-labels-idx1-ubyte.gz: invalid download: label 10 out of range"),
        ("images-shape", r"t10k-images-idx3-ubyte.gz: invalid download: expected images"),
        ("count", r"t10k-labels-idx1-ubyte.gz: invalid download: 19 labels for 20 images"),
    ],
)
def test_corrupt_download_leaves_nothing(
    mirror: tuple[str, Path], tmp_path: Path, damage: str, message: str
) -> None:
    url, root = mirror
    served = root / "mnist"
    if damage == "truncated-gzip":
        blob = (served / FILES[0]).read_bytes()
        (served / FILES[0]).write_bytes(blob[: len(blob) // 2])
    elif damage == "truncated-idx":
        raw = gzip.decompress((served / FILES[0]).read_bytes())
        (served / FILES[0]).write_bytes(gzip.compress(raw[:-520]))
    elif damage == "not-idx":
        (served / FILES[0]).write_bytes(b"<html>mirror moved</html>")
    elif damage == "labels-shape":
        write_idx(served / FILES[3], np.zeros((20, 2), np.uint8))
    elif damage == "labels-range":
        write_idx(served / FILES[3], np.full(20, 10, np.uint8))
    elif damage == "images-shape":
        (served / FILES[2]).write_bytes(gzip.compress(encode_idx(np.zeros((20, 28), np.uint8))))
    else:
        write_idx(served / FILES[3], np.zeros(19, np.uint8))
    dest = tmp_path / "data"
    with pytest.raises(DataError, match=message) as info:
        download_dataset("mnist", dest, base_url=f"{url}/mnist/", timeout=5)
    assert str(info.value).startswith(f"{url}/mnist/")
    assert "\n" not in str(info.value)
    left = sorted(p.name for p in (dest / "mnist").iterdir())
    assert left == ([] if damage.startswith(("truncated", "not")) else sorted(FILES[:2]))


def test_unreachable_server(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _QuietHandler)
    port = server.server_address[1]
    server.server_close()  # nothing listens on this port any more
    with pytest.raises(
        DataError, match=rf"http://127.0.0.1:{port}/m/train-images.*: cannot download"
    ):
        download_dataset("mnist", tmp_path, base_url=f"http://127.0.0.1:{port}/m/", timeout=5)
    assert list((tmp_path / "mnist").iterdir()) == []


def test_file_mirror(tmp_path: Path) -> None:
    source = write_dataset(tmp_path / "src", "fashion-mnist")
    target = download_dataset("fashion-mnist", tmp_path / "dest", base_url=source.as_uri())
    assert sorted(p.name for p in target.iterdir()) == sorted(FILES)


def test_bad_scheme_and_name(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"ftp://x/train-images-idx3-ubyte.gz: unsupported URL"):
        download_dataset("mnist", tmp_path, base_url="ftp://x/")
    with pytest.raises(DataError, match="unknown dataset 'kmnist'"):
        download_dataset("kmnist", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist"]


class _ShortHandler(_QuietHandler):
    """Promises 1000 bytes, sends 10, then closes the connection."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"\x1f\x8b" + b"\x00" * 8)
        self.close_connection = True


def test_connection_dropped_mid_file(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ShortHandler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/m"
    try:
        with pytest.raises(
            DataError,
            match=rf"^{url}/train-images-idx3-ubyte.gz: download failed: received 10 of 1000",
        ):
            download_dataset("mnist", tmp_path, base_url=url, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert list((tmp_path / "mnist").iterdir()) == []

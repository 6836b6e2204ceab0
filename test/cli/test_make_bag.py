"""``topspark make-bag`` end to end: tiny scenario bags in both storages, config and flags."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from rosbags.highlevel import AnyReader

from topspark_ros.cli.main import main
from topspark_ros.cli.makebag_cmds import human_size
from topspark_ros.data.idx import write_idx

TINY = ["--duration", "2", "--rate", "5", "--width", "64", "--height", "48", "--scale", "1"]


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No $TOPSPARK_DATA and an empty user cache."""
    monkeypatch.delenv("TOPSPARK_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def topics(path: Path) -> dict[str, tuple[str, int]]:
    """topic -> (type, count) as AnyReader sees the bag (no default typestore)."""
    with AnyReader([path]) as reader:
        return {c.topic: (c.msgtype, c.msgcount) for c in reader.connections}


def first_image(path: Path) -> tuple[int, int, str]:
    """(width, height, encoding) of the bag's first camera image."""
    with AnyReader([path]) as reader:
        conns = [c for c in reader.connections if c.topic == "/camera/image_raw"]
        conn, _, raw = next(iter(reader.messages(connections=conns)))
        msg = reader.deserialize(raw, conn.msgtype)
        return msg.width, msg.height, msg.encoding


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_make_bag_writes_a_tiny_scenario(
    tmp_path: Path, storage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bag"
    assert main(["make-bag", str(out), *TINY, "--embedded", "--storage", storage]) == 0
    stdout = capsys.readouterr().out
    assert stdout.count("\n") == 1
    assert stdout.startswith(f"wrote {out} ({storage}, 2 s, mnist,fashion-mnist, 64x48 bgr8 at")
    assert "26 messages (/environment 2, /camera/image_raw 10, /label 10, /battery_state 4)" in (
        stdout
    )
    assert stdout.rstrip().endswith("KiB")
    assert topics(out) == {
        "/environment": ("std_msgs/msg/String", 2),
        "/camera/image_raw": ("sensor_msgs/msg/Image", 10),
        "/label": ("topspark_ros/msg/Label", 10),
        "/battery_state": ("sensor_msgs/msg/BatteryState", 4),
    }
    assert first_image(out) == (64, 48, "bgr8")


def test_flags_override_the_config_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "scenario.yaml"
    text = {"scenario": {"environments": "fashion-mnist", "rate_hz": 2.0, "encoding": "mono8"}}
    cfg.write_text(yaml.safe_dump(text))
    out = tmp_path / "bag"
    argv = ["make-bag", str(out), "--config", str(cfg), "--duration", "3", "--width", "40"]
    assert main([*argv, "--height", "30", "--scale", "1", "--seed", "3", "--embedded"]) == 0
    assert "(sqlite3, 3 s, fashion-mnist, 40x30 mono8 at 2 Hz)" in capsys.readouterr().out
    assert topics(out)["/camera/image_raw"][1] == 6 and topics(out)["/environment"][1] == 1
    assert first_image(out) == (40, 30, "mono8")


def test_shipped_config_loads(repo_root: Path, tmp_path: Path) -> None:
    cfg = str(repo_root / "config" / "scenario.yaml")
    out = tmp_path / "bag"
    argv = ["make-bag", str(out), "--config", cfg, *TINY, "--rate", "1", "--embedded"]
    assert main(argv) == 0
    assert topics(out)["/camera/image_raw"] == ("sensor_msgs/msg/Image", 2)


def test_make_bag_reads_a_data_dir(tmp_path: Path) -> None:
    root = tmp_path / "datasets" / "mnist"
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    write_idx(root / "t10k-images-idx3-ubyte", rng.integers(0, 256, (4, 28, 28), np.uint8))
    write_idx(root / "t10k-labels-idx1-ubyte", np.arange(4, dtype=np.uint8))
    out = tmp_path / "bag"
    argv = ["make-bag", str(out), *TINY, "--environments", "mnist"]
    assert main([*argv, "--data-dir", str(tmp_path / "datasets")]) == 0
    with AnyReader([out]) as reader:
        conns = [c for c in reader.connections if c.topic == "/label"]
        labels = [reader.deserialize(raw, c.msgtype).label for c, _, raw in reader.messages(conns)]
    assert len(labels) == 10 and set(labels) == {0, 1, 2, 3}  # 4 images: 2.5 shuffled passes


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--environments", "cifar"], "error: flags: environments must be a comma list of"),
        (["--scale", "9"], "error: flags: scale 9 makes the image 252x252, larger than the 64x48"),
        (["--duration", "0"], "error: flags: duration_s = 0.0 is outside [0.001, 1000000.0]"),
    ],
)
def test_bad_values_are_one_error_line(
    tmp_path: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bag"
    assert main(["make-bag", str(out), *TINY, *extra, "--embedded"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
    assert not out.exists()


def test_bad_config_file_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "scenario.yaml"
    cfg.write_text("scenario:\n  fps: 30\n")
    assert main(["make-bag", str(tmp_path / "bag"), "--config", str(cfg), "--embedded"]) == 1
    assert capsys.readouterr().err == f"error: {cfg} [scenario]: unknown key(s) fps\n"


def test_refuses_to_overwrite_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("keep")
    assert main(["make-bag", str(target), *TINY, "--embedded"]) == 1
    assert "is not a rosbag2 bag; not overwriting it" in capsys.readouterr().err
    assert target.read_text() == "keep"


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (hidden staging leftovers included) by relative path."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_keeps_unrelated_files_beside_a_metadata_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 16, defect 8: a directory holding a metadata.yaml and other files is left alone."""
    out = tmp_path / "work"
    out.mkdir()
    (out / "metadata.yaml").write_text("project: robot\n")
    (out / "notes.txt").write_text("keep me")
    (out / "results.csv").write_bytes(b"1,2\n")
    before = _tree(tmp_path)
    assert main(["make-bag", str(out), *TINY, "--embedded"]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"error: {out} is not a bag this tool wrote; not overwriting it "
        "(remove it or choose another path)\n"
    )
    assert _tree(tmp_path) == before


def test_keeps_files_added_to_its_own_bag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bag"
    assert main(["make-bag", str(out), *TINY, "--embedded"]) == 0
    (out / "notes.txt").write_text("my notes on this bag")
    before = _tree(tmp_path)
    capsys.readouterr()
    assert main(["make-bag", str(out), *TINY, "--embedded", "--storage", "mcap"]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"error: {out} holds files that are not part of its bag (notes.txt); not overwriting it\n"
    )
    assert _tree(tmp_path) == before


def test_replaces_its_own_bag(tmp_path: Path) -> None:
    out = tmp_path / "bag"
    assert main(["make-bag", str(out), *TINY, "--embedded"]) == 0
    assert main(["make-bag", str(out), *TINY, "--embedded", "--storage", "mcap"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["bag.mcap", "metadata.yaml"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no leftovers


def test_data_dir_and_embedded_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["make-bag", "out", "--data-dir", "d", "--embedded"])
    assert info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_human_size() -> None:
    assert [human_size(n) for n in (512, 2048, 3 << 20, 5 << 30)] == [
        "0.5 KiB",
        "2.0 KiB",
        "3.0 MiB",
        "5.0 GiB",
    ]

"""The default profile shipped in config/ loads, names how to remake it, and yields a choice."""

from __future__ import annotations

from pathlib import Path

from topspark_ros.topspark.profile import load_profile
from topspark_ros.topspark.tradeoff import Constraints, feasible, select


def test_shipped_profile_loads_and_selects(repo_root: Path) -> None:
    path = repo_root / "config" / "profile.yaml"
    prof = load_profile(path)
    assert prof.baseline.timesteps == 350
    assert len(prof.points) >= 2
    chosen = select(prof)
    assert chosen.point in feasible(prof, Constraints())
    assert chosen.reason.startswith(f"T={chosen.point.timesteps}: ")


def test_shipped_profile_says_how_to_regenerate_it(repo_root: Path) -> None:
    header = [
        line
        for line in (repo_root / "config" / "profile.yaml").read_text().splitlines()
        if line.startswith("#")
    ]
    regenerate = [line for line in header if line.startswith("# regenerate: ")]
    assert len(regenerate) == 1
    assert "topspark sweep " in regenerate[0]
    assert " && topspark profile " in regenerate[0]
    assert regenerate[0].endswith("--out config/profile.yaml") or (
        " --out config/profile.yaml " in regenerate[0]
    )

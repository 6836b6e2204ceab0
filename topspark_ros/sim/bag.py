"""Write a scenario (``data.scenario``) as a rosbag2 bag: the fixtures replay tests play back."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from topspark_ros.bags.writer import BagWriter
from topspark_ros.sim.scenario import ScenarioConfig, load_environments, scenario_messages

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ScenarioBag:
    """A written scenario bag: its directory, messages per topic and total size (bytes)."""

    path: Path
    counts: dict[str, int]
    size_bytes: int

    @property
    def messages(self) -> int:
        """Messages on all topics."""
        return sum(self.counts.values())


def directory_size(path: Path) -> int:
    """Total size (bytes) of the files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def write_scenario(
    path: str | Path,
    cfg: ScenarioConfig,
    storage: str = "sqlite3",
    data_dir: str | Path | None = None,
    embedded: bool = False,
    progress: Progress | None = None,
    compress: bool = False,
) -> ScenarioBag:
    """Write ``cfg``'s scenario as a bag at ``path`` in ``storage`` ('sqlite3' or 'mcap').

    Images come from the test split of each environment's dataset (``data_dir`` or the embedded
    sample); ``progress(1)`` is called after each camera frame; ``compress`` writes zstd
    (``BagWriter``). An existing bag at ``path`` is replaced only once the new one is complete.
    """
    datasets = load_environments(cfg.environment_names, data_dir, embedded)
    counts: Counter[str] = Counter()
    with BagWriter(path, storage, compress=compress) as writer:
        for time_ns, topic, typename, value in scenario_messages(cfg, datasets):
            writer.write(topic, typename, value, time_ns)
            counts[topic] += 1
            if progress is not None and topic == cfg.camera_topic:
                progress(1)
    written = writer.path
    return ScenarioBag(written, dict(counts), directory_size(written))


__all__ = [
    "ScenarioBag",
    "directory_size",
    "write_scenario",
]

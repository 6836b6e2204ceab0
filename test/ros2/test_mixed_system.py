"""One system on both transports: perception over the DDS adapter, the timestep manager and the
online learner over rclpy (``topspark node NAME --transport dds|rclpy``), driven by this test's
DdsTransport.

Every hop between the two kinds of process is crossed: battery (test, DDS) -> timestep manager
(rclpy) -> timestep command -> perception (DDS) and the test; images (DDS) -> perception (DDS)
and learner (rclpy); model update (rclpy) -> perception (DDS). Asserts every image is answered at
the commanded T as the battery falls, T steps down without oscillating, and an environment switch
makes the rclpy learner train and the DDS perception node answer with its new model; every node
exits 0 on SIGINT. DDS children use the loopback Cyclone configuration, rclpy children
ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST and the packaged Fast DDS profile (processes.py).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from topspark_ros.data import load_sample
from topspark_ros.nodes.messages import (
    BatteryReading,
    Classification,
    ImageFrame,
    Label,
    LearningStatus,
    ModelUpdate,
    TimestepCommand,
)
from topspark_ros.ros.dds.processes import NodeProcess, start_node, stop_all, wait_ready
from topspark_ros.ros.dds.transport import DdsTransport, loopback_config


def _import_by_path(path: Path) -> ModuleType:
    """Import a shared test helper by its path (test directories are not packages)."""
    name = f"_topspark_test_{path.stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


system_files = _import_by_path(Path(__file__).resolve().parent.parent / "ros" / "system_files.py")
DOMAIN = 45
TRANSPORTS = {"perception": "dds", "timestep_manager": "rclpy", "online_learner": "rclpy"}
START_S = 180.0  # rclpy and DDS processes JIT-compiling on a shared 2-core machine


class Client:
    """The test's DdsTransport: publishers of the nodes' inputs, records of their outputs."""

    def __init__(self, transport: DdsTransport) -> None:
        self.transport = transport
        self.got: dict[str, list[Any]] = {}
        self._lock = threading.Lock()
        t = transport
        t.subscribe("classification", Classification, self._keep("classification"))
        t.subscribe("timestep_command", TimestepCommand, self._keep("command"), "latched")
        t.subscribe("learning_status", LearningStatus, self._keep("status"))
        t.subscribe("model_update", ModelUpdate, self._keep("update"), "latched")
        self.image = t.publisher("image", ImageFrame, "sensor", "reliable")
        self.battery = t.publisher("battery_state", BatteryReading)
        self.environment = t.publisher("environment", "std_msgs/msg/String")
        self.label = t.publisher("label", Label)

    def _keep(self, topic: str) -> Callable[[Any], None]:
        self.got[topic] = []

        def keep(data: Any) -> None:
            with self._lock:
                self.got[topic].append(data)

        return keep

    def seen(self, topic: str) -> list[Any]:
        with self._lock:
            return list(self.got[topic])

    def send_images(self, images: np.ndarray, labels: np.ndarray | None = None) -> list[int]:
        """Publish 28x28 mono8 images (and their labels) at ~50 Hz; their stamps."""
        stamps = []
        for i, image in enumerate(images):
            stamp = time.time_ns()
            self.image.publish(
                ImageFrame(stamp, "camera", 28, 28, "mono8", 0, 28, image.tobytes())
            )
            if labels is not None:
                self.label.publish(Label(stamp, int(labels[i]), "fashion"))
            stamps.append(stamp)
            time.sleep(0.02)
        return stamps

    def results_for(self, stamps: list[int]) -> dict[int, Classification]:
        wanted = set(stamps)
        assert system_files.wait_until(
            lambda: wanted <= {r.stamp_ns for r in self.seen("classification")}, 30.0
        ), "not every image got a result"
        return {r.stamp_ns: r for r in self.seen("classification") if r.stamp_ns in wanted}


@pytest.fixture(scope="module")
def system(
    tmp_path_factory: pytest.TempPathFactory, trained_model: Path
) -> Iterator[tuple[Client, list[NodeProcess], Path]]:
    """The three nodes on their transports and the test's client, on a domain of their own."""
    root = tmp_path_factory.mktemp("mixed")
    params = system_files.write_system_files(root, trained_model)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CYCLONEDDS_URI", loopback_config())  # as the DDS children get
        for name in ("ROS_AUTOMATIC_DISCOVERY_RANGE", "ROS_STATIC_PEERS", "ROS_LOCALHOST_ONLY"):
            patch.delenv(name, raising=False)
        procs = [
            start_node(name, DOMAIN, root / "logs", params, transport=transport)
            for name, transport in TRANSPORTS.items()
        ]
        transport = None
        try:
            transport = DdsTransport(DOMAIN)
            client = Client(transport)
            wait_ready(procs, timeout_s=START_S)
            assert client.image.wait_matched(60.0, count=2), "perception + learner images"
            assert client.battery.wait_matched(60.0), "timestep manager battery"
            assert client.label.wait_matched(60.0), "learner labels"
            assert client.environment.wait_matched(60.0), "learner environment"
            yield client, procs, root
        finally:
            if transport is not None:
                transport.close()
            codes = stop_all(procs)
    assert codes == dict.fromkeys(TRANSPORTS, 0), {p.name: p.last_line() for p in procs}


def test_results_follow_the_commanded_t_across_transports(
    system: tuple[Client, list[NodeProcess], Path],
) -> None:
    client, _, _ = system
    digits = load_sample("mnist", "test").images
    expected: dict[int, int] = {}
    for i, level in enumerate(system_files.BATTERY_LEVELS):
        before = len(client.seen("command"))
        client.battery.publish(BatteryReading(time.time_ns(), level, voltage=12.0))
        system_files.wait_until(lambda before=before: len(client.seen("command")) > before, 2.0)
        time.sleep(0.5)  # the perception node (DDS) gets the same command from rclpy
        commands = client.seen("command")
        assert commands, "no timestep command from the rclpy timestep manager"
        for stamp in client.send_images(digits[2 * i : 2 * i + 2]):
            expected[stamp] = commands[-1].timesteps
    results = client.results_for(list(expected))
    assert {s: r.timesteps for s, r in results.items()} == expected
    commanded = [c.timesteps for c in client.seen("command")]
    changes = [t for prev, t in zip([None, *commanded], commanded, strict=False) if t != prev]
    assert changes == system_files.T_STEPS, commanded


def test_rclpy_learner_updates_the_dds_perception_node(
    system: tuple[Client, list[NodeProcess], Path],
) -> None:
    client, _, root = system
    fashion = load_sample("fashion-mnist", "train")
    client.environment.publish("fashion")
    client.send_images(fashion.images[:80], fashion.labels[:80])
    assert system_files.wait_until(lambda: len(client.seen("update")) >= 2, 90.0), client.seen(
        "status"
    )
    assert any(
        s.state == LearningStatus.STATE_LEARNING and s.environment == "fashion"
        for s in client.seen("status")
    )
    update = client.seen("update")[-1]
    assert update.version >= 2
    assert Path(update.path).parent == root / "checkpoints"

    def answered_by_new_model() -> bool:
        stamps = client.send_images(fashion.images[200:203])
        results = client.results_for(stamps)
        return all(r.model_version == update.version for r in results.values())

    assert system_files.wait_until(answered_by_new_model, 30.0)


def test_the_nodes_run_on_the_transports_asked_for(
    system: tuple[Client, list[NodeProcess], Path],
) -> None:
    _, procs, _ = system
    for proc in procs:
        mark = "ready on DDS domain" if TRANSPORTS[proc.name] == "dds" else "]: active"
        assert mark in proc.log_text(), (proc.name, proc.last_line())

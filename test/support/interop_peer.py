"""The rclpy side of the interop tests: message specs both sides build, and a peer process.

Imported by test_interop.py (by path: the tests use --import-mode=importlib) for the specs and
``plain``; run as a script it is a real rclpy node that subscribes to ``to_ros/<key>`` and
publishes ``from_ros/<key>`` for every key of ``TYPES``, driven by one command a line on stdin
(``matched``, ``send KEY COUNT RATE_HZ``, ``report``, ``quit``), each answered by one JSON line.
"""

from __future__ import annotations

import array
import dataclasses
import hashlib
import importlib
import json
import sys
import threading
import time
from typing import Any

import numpy as np

# key -> (ROS type, QoS profile name, messages sent per direction, rate in Hz (0: at once))
TYPES: dict[str, tuple[str, str, int, float]] = {
    "image_28x28_mono8": ("sensor_msgs/msg/Image", "default", 3, 0.0),
    "image_640x480_bgr8_30hz": ("sensor_msgs/msg/Image", "sensor", 90, 30.0),
    "battery_state": ("sensor_msgs/msg/BatteryState", "default", 3, 0.0),
    "string": ("std_msgs/msg/String", "default", 3, 0.0),
    "diagnostic_array": ("diagnostic_msgs/msg/DiagnosticArray", "default", 3, 0.0),
    "timestep_command": ("topspark_ros/msg/TimestepCommand", "default", 3, 0.0),
    "classification": ("topspark_ros/msg/Classification", "default", 3, 0.0),
    "learning_status": ("topspark_ros/msg/LearningStatus", "default", 3, 0.0),
    "model_update": ("topspark_ros/msg/ModelUpdate", "default", 3, 0.0),
    "label": ("topspark_ros/msg/Label", "default", 3, 0.0),
}
_PIXELS = np.random.default_rng(15).integers(0, 256, 640 * 480 * 3, dtype=np.uint8).tobytes()


def _header(i: int, frame: str) -> dict[str, Any]:
    return {"stamp": {"sec": 1_700_000_000 + i, "nanosec": 1000 * i + 7}, "frame_id": frame}


def spec(key: str, i: int) -> dict[str, Any]:
    """Message ``i`` of ``key`` as nested plain values (floats exact in float32)."""
    head = _header(i, f"{key}_{i}")
    if key == "image_28x28_mono8":
        data = bytes((i * 31 + n) % 256 for n in range(28 * 28))
        return {
            "header": head,
            "height": 28,
            "width": 28,
            "encoding": "mono8",
            "is_bigendian": 0,
            "step": 28,
            "data": data,
        }
    if key == "image_640x480_bgr8_30hz":
        data = i.to_bytes(4, "little") + _PIXELS[4:]
        return {
            "header": head,
            "height": 480,
            "width": 640,
            "encoding": "bgr8",
            "is_bigendian": 0,
            "step": 640 * 3,
            "data": data,
        }
    if key == "battery_state":
        return {
            "header": head,
            "voltage": 11.5 - i * 0.25,
            "temperature": 31.5,
            "current": -1.25,
            "charge": 2.5,
            "capacity": 5.0,
            "design_capacity": 5.5,
            "percentage": 0.75 - i * 0.125,
            "power_supply_status": 2,
            "power_supply_health": 1,
            "power_supply_technology": 3,
            "present": True,
            "cell_voltage": [3.75, 3.875, 3.5 + i * 0.125],
            "cell_temperature": [30.5, 31.0],
            "location": "slot A",
            "serial_number": f"SN-{i}",
        }
    if key == "string":
        return {"data": f"mnist->fashion_mnist #{i} ünïcode"}
    if key == "diagnostic_array":
        statuses = [
            {
                "level": level,
                "name": f"topspark/{name}",
                "message": f"{name} ok {i}",
                "hardware_id": "cpu0",
                "values": [
                    {"key": "T", "value": str(100 - i)},
                    {"key": "mode", "value": "nominal"},
                ],
            }
            for level, name in ((0, "perception"), (1, "timestep_manager"), (2, "learner"))
        ]
        return {"header": head, "status": statuses}
    if key == "timestep_command":
        return {
            "header": head,
            "timesteps": 100 - 20 * i,
            "train_timesteps": 60,
            "mode": i,
            "reason": f"battery {75 - i}%",
            "battery_fraction": 0.5,
            "energy_budget_j": 0.25,
            "latency_deadline_ms": 40.0,
            "expected_accuracy": 0.875,
            "expected_latency_ms": 12.5,
            "expected_energy_j": 2.0**-9 * 2**-i,
        }
    if key == "classification":
        return {
            "header": head,
            "label": i - 1,
            "confidence": 0.625,
            "scores": [0.5 * n for n in range(10)],
            "timesteps": 100,
            "timesteps_used": 90,
            "spike_count": 12 + i,
            "input_spikes": 4000 + i,
            "latency_ms": 0.1875,
            "pipeline_ms": 1.5,
            "energy_j": 0.0009765625,
            "model_version": 3,
        }
    if key == "learning_status":
        return {
            "header": head,
            "state": i % 4,
            "environment": "fashion_mnist",
            "trigger": "detector",
            "train_timesteps": 60,
            "samples_learned": 10 * i,
            "samples_target": 200,
            "labelled_samples": 50,
            "plastic_neurons": 40,
            "model_version": 2 + i,
            "novelty": 0.375,
            "message": f"learning {i}",
        }
    if key == "model_update":
        return {
            "header": head,
            "version": 4 + i,
            "path": f"/tmp/model-{i}.npz",
            "sha256": hashlib.sha256(bytes([i])).hexdigest(),
            "environment": "mnist",
            "samples_seen": 60000 + i,
        }
    if key == "label":
        return {"header": head, "label": 9 - i, "environment": "mnist"}
    raise KeyError(key)


def plain(value: Any) -> Any:
    """Comparable plain form of a message (rclpy or cyclonedds) or a spec: nested dicts and
    lists; a byte sequence becomes its length and SHA-1; a 1-byte ``bytes`` (rclpy's ``byte``)
    its integer."""
    if hasattr(value, "get_fields_and_field_types"):
        return {name: plain(getattr(value, name)) for name in value.get_fields_and_field_types()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {name: plain(item) for name, item in value.items()}
    if isinstance(value, array.array) and value.typecode == "B":
        value = value.tobytes()
    if isinstance(value, np.ndarray) and value.dtype == np.uint8:
        value = value.tobytes()
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        if len(data) == 1:
            return data[0]
        return f"{len(data)} bytes, sha1 {hashlib.sha1(data).hexdigest()}"
    if isinstance(value, (list, tuple, array.array, np.ndarray)):
        return [plain(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def ros_class(typename: str) -> type:
    """The rclpy message class of ``pkg/msg/Name`` or ``pkg/Name``."""
    parts = typename.split("/")
    return getattr(importlib.import_module(f"{parts[0]}.msg"), parts[-1])  # type: ignore[no-any-return]


def build(cls: type, values: dict[str, Any]) -> Any:
    """An rclpy message of ``cls`` holding the nested plain ``values`` (written independently of
    the package's converter, so the two sides do not share a bug)."""
    message = cls()
    types = cls.get_fields_and_field_types()  # type: ignore[attr-defined]
    for name, value in values.items():
        current = getattr(message, name)
        if isinstance(value, dict):
            value = build(type(current), value)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            element = ros_class(types[name][len("sequence<") : -1])
            value = [build(element, item) for item in value]
        elif isinstance(value, bytes):
            value = array.array("B", value)
        elif isinstance(current, bytes) and isinstance(value, int):
            value = bytes([value])
        setattr(message, name, value)
    return message


def _qos(name: str) -> Any:
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    if name == "sensor":
        return QoSProfile(depth=5, reliability=ReliabilityPolicy.BEST_EFFORT)
    return QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


def _send(publisher: Any, key: str, count: int, rate_hz: float) -> int:
    """Publish ``count`` messages of ``key`` at ``rate_hz`` (0: at once); how many."""
    cls = ros_class(TYPES[key][0])
    messages = [build(cls, spec(key, i)) for i in range(count)]
    start = time.monotonic()
    for i, message in enumerate(messages):
        if rate_hz:
            time.sleep(max(0.0, start + i / rate_hz - time.monotonic()))
        publisher.publish(message)
    return count


def main() -> int:
    """Serve the commands on stdin until ``quit`` or end of input."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    rclpy.init(args=sys.argv)  # --ros-args -r FROM:=TO remaps, as any ROS 2 node
    node = rclpy.create_node("interop_peer")
    received: dict[str, list[Any]] = {key: [] for key in TYPES}
    lock = threading.Lock()
    subscriptions, publishers = {}, {}
    for key, (typename, qos, _count, _rate) in TYPES.items():
        cls = ros_class(typename)

        def keep(message: Any, key: str = key) -> None:
            with lock:
                received[key].append(plain(message))

        subscriptions[key] = node.create_subscription(cls, f"to_ros/{key}", keep, _qos(qos))
        publishers[key] = node.create_publisher(cls, f"from_ros/{key}", _qos(qos))
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    answer: Any
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "matched":
            answer = {
                key: [
                    subscriptions[key].get_publisher_count(),
                    publishers[key].get_subscription_count(),
                ]
                for key in TYPES
            }
        elif words[0] == "send":
            answer = _send(publishers[words[1]], words[1], int(words[2]), float(words[3]))
        elif words[0] == "report":
            with lock:
                answer = {key: list(items) for key, items in received.items()}
        else:
            break
        print(json.dumps(answer), flush=True)
    executor.shutdown(timeout_sec=1.0)
    node.destroy_node()
    rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())

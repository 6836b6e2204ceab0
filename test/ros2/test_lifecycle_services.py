"""The installed node executables driven through ROS 2's own services, as a lifecycle manager,
``ros2 lifecycle`` and ``ros2 param`` do: ``<node>/change_state`` and ``<node>/get_state``
(lifecycle_msgs), ``<node>/describe_parameters``, ``set_parameters`` and ``get_parameters``
(rcl_interfaces); and ``use_sim_time`` with a ``/clock`` publisher (rosgraph_msgs).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from lifecycle_msgs.msg import State, Transition
from lifecycle_msgs.srv import ChangeState, GetState
from node_system import wait_until
from rcl_interfaces.srv import DescribeParameters, GetParameters, SetParameters
from rclpy.parameter import Parameter, parameter_value_to_python
from rclpy_probe import Probe, Proc
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Image

from topspark_ros.data import load_sample
from topspark_ros.graph.wiring import TIMESTEP_MANAGER
from topspark_ros.msg import Classification
from topspark_ros.ros.rclpy.node import ros_qos


@pytest.fixture
def node_and_probe(
    tmp_path: Path, domain_id: int, request: pytest.FixtureRequest
) -> Iterator[tuple[Any, Any]]:
    """An installed node executable (``request.param``: name, managed, ``--ros-args``) and a
    probe on the same domain; both gone after the test."""
    name, managed, args = request.param
    proc = Proc.node(name, [a.format(tmp=tmp_path) for a in args], domain_id, tmp_path, managed)
    probe = Probe(domain_id)
    try:
        yield proc, probe
    finally:
        probe.close()
        proc.kill()


def _change(probe: Any, node: str, transition: int) -> bool:
    request = ChangeState.Request(transition=Transition(id=transition))
    return bool(probe.call(ChangeState, f"{node}/change_state", request).success)


def _state(probe: Any, node: str) -> int:
    return int(probe.call(GetState, f"{node}/get_state", GetState.Request()).current_state.id)


def _errors(proc: Any) -> list[str]:
    return [line for line in proc.text().splitlines() if "[ERROR]" in line]


PERCEPTION_MANAGED = ("perception", True, ["-p", "model_path:={tmp}/missing.npz"])


@pytest.mark.parametrize("node_and_probe", [PERCEPTION_MANAGED], indirect=True)
def test_lifecycle_through_the_services_down_to_finalized(
    node_and_probe: tuple[Any, Any], trained_model: Path
) -> None:
    proc, probe = node_and_probe
    node = "/perception"
    assert _state(probe, node) == State.PRIMARY_STATE_UNCONFIGURED

    # A failed configure (no model file): FAILURE, still unconfigured, one error line.
    assert not _change(probe, node, Transition.TRANSITION_CONFIGURE)
    assert _state(probe, node) == State.PRIMARY_STATE_UNCONFIGURED
    errors = _errors(proc)
    assert len(errors) == 1 and "missing.npz" in errors[0], errors
    assert proc.alive()

    fix = [Parameter("model_path", value=str(trained_model)).to_parameter_msg()]
    request = SetParameters.Request(parameters=fix)
    (applied,) = probe.call(SetParameters, f"{node}/set_parameters", request).results
    assert applied.successful, applied.reason
    assert _change(probe, node, Transition.TRANSITION_CONFIGURE)
    assert _state(probe, node) == State.PRIMARY_STATE_INACTIVE
    assert _change(probe, node, Transition.TRANSITION_ACTIVATE)
    assert _state(probe, node) == State.PRIMARY_STATE_ACTIVE

    # Active: an image is answered. Inactive again: it is not.
    probe.record(Classification, "classification", ros_qos("default"))
    images = probe.node.create_publisher(Image, "image", ros_qos("sensor"))
    pixels = load_sample("mnist", "test").images[0].tobytes()

    def send(sec: int) -> None:
        image = Image(height=28, width=28, encoding="mono8", step=28, data=pixels)
        image.header.stamp = Time(sec=sec)
        images.publish(image)

    assert wait_until(lambda: images.get_subscription_count() == 1, 10.0)
    assert wait_until(lambda: (send(1), bool(probe.seen("classification")))[1], 20.0, 0.2)
    assert _change(probe, node, Transition.TRANSITION_DEACTIVATE)
    assert _state(probe, node) == State.PRIMARY_STATE_INACTIVE
    assert wait_until(lambda: images.get_subscription_count() == 0, 10.0)
    send(2)
    assert not wait_until(
        lambda: any(r.header.stamp.sec == 2 for r in probe.seen("classification")), 1.0
    )

    assert _change(probe, node, Transition.TRANSITION_CLEANUP)
    assert _state(probe, node) == State.PRIMARY_STATE_UNCONFIGURED
    # Shutdown: finalized, and the process exits by itself with code 0.
    assert _change(probe, node, Transition.TRANSITION_UNCONFIGURED_SHUTDOWN)
    assert proc.wait(15.0) == 0, proc.text()[-2000:]
    assert len(_errors(proc)) == 1 and "Traceback" not in proc.text()


def _describe(probe: Any, node: str, names: list[str]) -> list[Any]:
    request = DescribeParameters.Request(names=names)
    return list(probe.call(DescribeParameters, f"{node}/describe_parameters", request).descriptors)


def _set(probe: Any, node: str, name: str, value: Any) -> Any:
    request = SetParameters.Request(parameters=[Parameter(name, value=value).to_parameter_msg()])
    (result,) = probe.call(SetParameters, f"{node}/set_parameters", request).results
    return result


def _get(probe: Any, node: str, name: str) -> Any:
    request = GetParameters.Request(names=[name])
    (value,) = probe.call(GetParameters, f"{node}/get_parameters", request).values
    return parameter_value_to_python(value)


@pytest.mark.parametrize("node_and_probe", [("timestep_manager", True, [])], indirect=True)
def test_parameters_through_the_services(node_and_probe: tuple[Any, Any]) -> None:
    proc, probe = node_and_probe
    node = "/timestep_manager"
    fields = dataclasses.fields(TIMESTEP_MANAGER.config)
    descriptors = _describe(probe, node, [f.name for f in fields])
    for field, desc in zip(fields, descriptors, strict=True):
        assert desc.name == field.name and desc.description.startswith(field.metadata["doc"])
        lo, hi = field.metadata["lo"], field.metadata["hi"]
        ranges = [*desc.integer_range, *desc.floating_point_range]
        if lo is None and hi is None:
            assert ranges == [], field.name
        else:
            [(low, high)] = [(r.from_value, r.to_value) for r in ranges]
            assert (lo is None or low == lo) and (hi is None or high == hi), field.name

    out_of_range = _set(probe, node, "latency_window", 0)
    assert not out_of_range.successful and out_of_range.reason
    wrong_type = _set(probe, node, "saving_below", "high")
    assert not wrong_type.successful and wrong_type.reason
    crossed = _set(probe, node, "critical_below", 0.9)  # above saving_below: a config rule
    assert not crossed.successful and "critical_below" in crossed.reason
    assert (_get(probe, node, "latency_window"), _get(probe, node, "saving_below")) == (30, 0.5)
    applied = _set(probe, node, "saving_below", 0.4)
    assert applied.successful, applied.reason
    assert _get(probe, node, "saving_below") == 0.4
    assert proc.alive() and not _errors(proc)


SIM_TIME = (
    "timestep_manager",
    False,
    ["-p", "use_sim_time:=true", "-p", "diagnostics_period_s:=0.2"],
)


@pytest.mark.parametrize("node_and_probe", [SIM_TIME], indirect=True)
def test_use_sim_time_stamps_follow_the_clock_topic(node_and_probe: tuple[Any, Any]) -> None:
    proc, probe = node_and_probe
    probe.record(DiagnosticArray, "/diagnostics", ros_qos("default"))
    clock = probe.node.create_publisher(Clock, "/clock", ros_qos("default"))
    assert wait_until(lambda: clock.get_subscription_count() >= 1, 60.0), proc.text()[-2000:]
    sent: list[float] = []
    for tick in range(60):  # 3 s of wall time, 30 s of simulated time from t=1000 s
        sent.append(1000.0 + 0.5 * tick)
        clock.publish(Clock(clock=Time(sec=1000 + tick // 2, nanosec=500_000_000 * (tick % 2))))
        time.sleep(0.05)
    stamps = [
        m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 for m in probe.seen("/diagnostics")
    ]
    in_sim = [s for s in stamps if s >= 1000.0]
    assert len(in_sim) >= 3, stamps
    assert all(s < 1e6 for s in stamps), "a stamp in wall-clock time under use_sim_time"
    assert in_sim == sorted(in_sim) and in_sim[-1] <= sent[-1] and in_sim[-1] - in_sim[0] >= 5.0

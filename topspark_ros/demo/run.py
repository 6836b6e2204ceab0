"""``topspark demo``: the simulated robot and the nodes as separate processes over DDS or rclpy.

Processes: ``sim_robot`` (camera, labels, battery, environment events), ``perception``,
``timestep_manager``, ``online_learner``, and a second perception node at a fixed T in namespace
``baseline`` reading the same camera (``--remap image:=/image``), for the energy comparison. This
process watches every topic (``DemoMonitor``) on the same transport as the nodes (over rclpy it
is the node ``topspark_demo``), shows a live view, and writes the report when the run ends:
after ``duration_s``, on Ctrl-C, or when a node process dies (then it says which and how, stops
the rest, and still reports).
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from topspark_ros.demo.memory import RssSampler
from topspark_ros.demo.monitor import BASELINE, DemoMonitor
from topspark_ros.demo.report import write_demo_report
from topspark_ros.demo.result import DemoResult
from topspark_ros.demo.view import render
from topspark_ros.errors import ConfigError, stop_exit_code, stop_reason
from topspark_ros.graph.wiring import NODES
from topspark_ros.io_utils import check_output_dir
from topspark_ros.packaged import default_model_path, default_profile_path
from topspark_ros.replay.records import ReplayLog
from topspark_ros.ros.dds.names import check_domain_id
from topspark_ros.sim.config import SimRobotConfig
from topspark_ros.snn.model_io import load_model, model_sha256
from topspark_ros.system.processes import (
    NodeProcess,
    Participant,
    check_transport,
    open_participant,
    start_node,
    stop_all,
    wait_ready,
)
from topspark_ros.topspark.profile import load_profile
from topspark_ros.topspark.tradeoff import select

CHECKPOINTS = "checkpoints"
LOGS = "logs"
READY_TIMEOUT_S = 120.0  # first runs compile the Numba kernels in every process
MONITOR_NODE = "topspark_demo"  # this process's node name over rclpy


@dataclass(frozen=True)
class DemoOptions:
    """How long to run, where to report, and the simulated world."""

    duration_s: float = 90.0
    out: Path = Path("demo-report")
    environments: str = "mnist,fashion-mnist"
    rate_hz: float = 15.0
    baseline_timesteps: int = 350
    battery_end: float = 0.1  # charge left after ``duration_s`` from the base load alone
    base_load_w: float = 3.0
    domain_id: int = -1  # -1: a private domain derived from the process id
    refresh_s: float = 1.0
    seed: int = 0
    transport: str = "dds"  # "dds" or "rclpy" (the CLI resolves "auto")

    @property
    def environment_list(self) -> list[str]:
        """The environments in order."""
        return [name.strip() for name in self.environments.split(",") if name.strip()]


def _check(options: DemoOptions) -> None:
    """One-line errors for options that cannot run."""
    if options.duration_s <= 0:
        raise ConfigError(f"--duration must be positive, got {options.duration_s:g}")
    if not options.environment_list:
        raise ConfigError("--environments names no environment")
    if not 0.0 <= options.battery_end < 1.0:
        raise ConfigError(f"battery_end must be in 0..1, got {options.battery_end:g}")
    check_transport(options.transport)
    if options.domain_id >= 0:
        check_domain_id(options.domain_id)


def _domain(options: DemoOptions) -> int:
    """The domain: the option, or one derived from the process id (no clash with others)."""
    return options.domain_id if options.domain_id >= 0 else 100 + os.getpid() % 100


def robot_settings(options: DemoOptions) -> dict[str, Any]:
    """sim_robot parameters: the environments share the duration; the battery holds what the
    base load plus the (scaled) SNN at the profile's nominal T drain to ``battery_end`` in that
    time, so the battery crosses the timestep manager's thresholds during the run."""
    share = options.duration_s / len(options.environment_list)
    nominal = select(load_profile(default_profile_path())).point
    snn_w = options.rate_hz * nominal.infer_energy_j * SimRobotConfig().snn_energy_scale
    drained_j = (options.base_load_w + snn_w) * options.duration_s
    capacity_wh = drained_j / 3600.0 / (1.0 - options.battery_end)
    return {
        "environments": ",".join(options.environment_list),
        "environment_s": share,
        "rate_hz": options.rate_hz,
        "base_load_w": options.base_load_w,
        "battery_capacity_wh": capacity_wh,
        "seed": options.seed,
    }


def learner_samples(options: DemoOptions) -> int:
    """Samples the learner takes from a new environment: a third of its frames, so it learns,
    re-labels and shows the result within the environment's share of the run."""
    frames = options.rate_hz * options.duration_s / len(options.environment_list)
    return max(20, int(frames / 3))


def _start(options: DemoOptions, domain: int, logs: Path) -> list[NodeProcess]:
    """Start the nodes, wait until they are ready, then the robot."""
    learner = {
        "checkpoint_dir": str(options.out / CHECKPOINTS),
        "seed": options.seed,
        "learn_samples": learner_samples(options),
    }
    manager = {"mission_time_s": options.duration_s, "frame_rate_hz": options.rate_hz}
    via = options.transport
    nodes = [
        start_node("perception", domain, logs, transport=via),
        start_node("timestep_manager", domain, logs, sets=manager, transport=via),
        start_node("online_learner", domain, logs, sets=learner, transport=via),
        start_node(
            "perception",
            domain,
            logs,
            sets={"timesteps": options.baseline_timesteps},
            namespace=BASELINE,
            remaps={"image": "/image"},
            label=f"perception_{BASELINE}",
            transport=via,
        ),
    ]
    try:
        wait_ready(nodes, READY_TIMEOUT_S)
        robot_sets = robot_settings(options)
        robot = start_node("sim_robot", domain, logs, sets=robot_sets, transport=via)
        nodes.append(robot)
        wait_ready([robot], READY_TIMEOUT_S)
    except BaseException:
        stop_all(nodes)
        raise
    return nodes


def _where(transport: str, domain: int) -> str:
    """Where the nodes run, for the first line: over rclpy, how to list them."""
    if transport == "rclpy":
        return (
            f"ROS 2 nodes over rclpy, domain {domain}: ROS_DOMAIN_ID={domain} "
            f"ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST ros2 node list"
        )
    return f"DDS domain {domain}"


def _signal(number: int) -> str:
    """A signal's name (SIGKILL), or its number if it has none."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _dead(nodes: list[NodeProcess]) -> str:
    """'' while every process runs; else which died, its exit code and last log line."""
    for proc in nodes:
        if not proc.alive():
            code = int(proc.popen.returncode)
            how = f"exited with code {code}" if code >= 0 else f"was killed by {_signal(-code)}"
            return f"node {proc.name} {how}; its last log line: {proc.last_line() or '(none)'}"
    return ""


class _Screen:
    """The live view: redrawn in place on a terminal, a line every 10 s otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._drawn = 0
        self._last = 0.0

    def show(self, lines: list[str]) -> None:
        if self.tty:
            up = f"\x1b[{self._drawn}F" if self._drawn else ""
            self.stream.write(up + "".join(f"\x1b[2K{line}\n" for line in lines))
            self._drawn = len(lines)
        elif time.monotonic() - self._last >= 10.0:
            self.stream.write(lines[0] + " | " + lines[1] + "\n")
            self._last = time.monotonic()
        self.stream.flush()


def run_demo(options: DemoOptions, stream: TextIO = sys.stdout) -> DemoResult:
    """Run the demo and write its report into ``options.out``; the result says how it ended."""
    _check(options)
    model = str(default_model_path())
    out = options.out
    check_output_dir(out, "--out")
    shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)
    logs = out / LOGS
    domain = _domain(options)
    via = options.transport
    neurons = load_model(model).params.n_neurons
    log = ReplayLog("demo", via, {}, model, model_sha256(model), neurons, True, clock="time")
    out.mkdir(parents=True, exist_ok=True)
    monitor = DemoMonitor(log, spool_dir=out)  # memory stays flat: records spool to disk
    result = DemoResult(log, [], via, domain)
    stream.write(f"starting the simulated robot and 4 nodes ({_where(via, domain)}) ...\n")
    stream.flush()
    nodes = _start(options, domain, logs)
    result.memory = RssSampler({"demo": os.getpid(), **{p.name: p.popen.pid for p in nodes}})
    transport: Participant | None = None
    screen = _Screen(stream)
    try:
        # This process joins the nodes on this host only, as start_node confines them.
        transport = open_participant(via, domain, MONITOR_NODE)
        monitor.attach(transport, NODES.values())
        began = time.monotonic()
        end = began + options.duration_s
        while time.monotonic() < end:
            time.sleep(options.refresh_s)
            screen.show(monitor.read(render))
            result.memory.sample(time.monotonic() - began)
            result.failed = _dead(nodes)
            if result.failed:
                break
    except KeyboardInterrupt as err:  # Ctrl-C, SIGTERM or SIGHUP (cli.main's signal policy)
        result.stopped, result.stop_code = stop_reason(err), stop_exit_code(err)
    finally:  # whatever happened (a DDS error too), no node process is left running
        result.exit_codes = stop_all(nodes)
        if transport is not None:
            transport.close()
    log.complete = not (result.stopped or result.failed)
    log.stopped = result.failed or result.stopped
    result.energy, result.baseline_energy = monitor.energy, monitor.baseline_energy
    try:
        result.log, result.baseline = monitor.full_log()
    finally:
        monitor.close()
    write_demo_report(result, out)
    return result


__all__ = ["DemoOptions", "robot_settings", "run_demo"]

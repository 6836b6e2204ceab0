"""``ros2 launch`` for real: each launch file in launch/, started by the ros2 CLI from the colcon
install space, checked with ``ros2 node list``, ``ros2 topic list``/``echo``, ``ros2 lifecycle
get`` and ``ros2 service call`` (parameters, transitions), then stopped with SIGINT: to the
launch (``kill -INT``) every node must exit 0; Ctrl-C (SIGINT to the whole group) must end them
all.

- topspark.launch.py: in a namespace, managed, with a remap and a parameter override; the
  lifecycle driven from outside through the change_state service, as a lifecycle manager does.
- sim.launch.py: the simulated robot and the three nodes, all active, results flowing.
- replay.launch.py: ``play:=false`` and the test's own player (launch_bag_player.py, since the pip
  ROS 2 has no ``ros2 bag``) feeding a ``topspark make-bag`` bag with /clock: every frame answered
  in bag time. With the default ``play:=true`` the missing rosbag2 stops the launch in one line.
- gazebo.launch.py: stops at the missing Gazebo (ros_gz_sim), before any node starts.

The CLI runs ``--no-daemon`` (no daemon may outlive a test); a fresh participant often misses
nodes within its spin time on a loaded machine, so listing verbs are repeated until complete.
Skipped where the launch wheels (launch, ros2launch: ../shared/ros2-wheels) are absent, e.g.
Kilted. ``launch`` is not imported here: it turns off propagation of every logger made after it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from topspark_ros.graph.wiring import NODES, ROBOT_NODES, SIM_ROBOT
from topspark_ros.packaged import default_profile_path
from topspark_ros.topspark.profile import load_profile

_MISSING = [
    m for m in ("launch", "launch_ros", "ros2launch") if importlib.util.find_spec(m) is None
]
if _MISSING or shutil.which("ros2") is None:
    pytest.skip(
        f"ros2 launch is not installed here ({', '.join(_MISSING) or 'no ros2 command'}): the "
        "launch wheels of ../shared/ros2-wheels exist for Jazzy only",
        allow_module_level=True,
    )

HERE = Path(__file__).resolve().parent
PLAYER = HERE.parent / "support" / "launch_bag_player.py"  # stands in for ros2 bag play
START_S = 150.0  # nodes JIT-compiling on a shared 2-core machine
STOP_S = 30.0  # launch escalates SIGINT -> SIGTERM (5 s) -> SIGKILL (10 s more) by itself
CLI_S = 60.0
LIST_S = 20.0  # one listing call (node list, lifecycle get, topic list)
SPIN = ("--no-daemon", "--spin-time")  # + the discovery time of each ros2 CLI call (s)
SPIN_S = (1, 1, 2, 2, 3, 3, 4, 4, 5, 5)  # per try: a loaded machine can need longer
NOT_FOUND_TRIES = 5  # discovery within --spin-time can miss a node on a loaded machine
PROFILE_TS = {p.timesteps for p in load_profile(default_profile_path()).points}


def expected_topics(specs: Sequence[Any], namespace: str = "") -> dict[str, str]:
    """Every topic the nodes ``specs`` read or write (namespaced unless absolute) -> type."""
    prefix = f"/{namespace}/" if namespace else "/"
    topics = {"/diagnostics": "diagnostic_msgs/msg/DiagnosticArray"}
    for spec in specs:
        for end in (*spec.subscriptions, *spec.publications):
            name = end.topic if end.topic.startswith("/") else prefix + end.topic
            topics[name] = end.msgtype
    return topics


class Launch:
    """``ros2 launch topspark_ros FILE ARGS`` in its own session, output in ``DIR/launch.log``."""

    def __init__(self, name: str, args: Sequence[str], env: Mapping[str, str], cwd: Path) -> None:
        self.log_path = cwd / f"{name}.log"
        self._log = self.log_path.open("w", encoding="utf-8")
        self.popen = subprocess.Popen(
            ["ros2", "launch", "topspark_ros", name, *args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,  # Ctrl-C goes to the group; nothing outlives a kill
            preexec_fn=_default_sigint,
        )
        self.node_pids: list[int] = []

    def text(self) -> str:
        """Everything the launch and its nodes printed so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, pattern: str, count: int = 1, timeout_s: float = START_S) -> str:
        """Wait until ``pattern`` occurs ``count`` times in the output; the output."""
        deadline = time.monotonic() + timeout_s
        while True:
            text = self.text()
            if len(re.findall(pattern, text)) >= count:
                return text
            if self.popen.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no {count} x {pattern!r} in the launch output:\n{text}")
            time.sleep(0.2)

    def record_nodes(self, executables: Sequence[str]) -> None:
        """Remember the pids of the node processes, as the launch reported starting them."""
        text = self.text()
        found = {
            exe: [
                int(pid)
                for pid in re.findall(rf"\[{exe}-\d+\]: process started with pid \[(\d+)\]", text)
            ]
            for exe in executables
        }
        assert all(len(pids) == 1 for pids in found.values()), f"node processes: {found}"
        self.node_pids = [pids[0] for pids in found.values()]

    def interrupt(self, group: bool = False) -> int:
        """SIGINT to the launch (``kill -INT``), or with ``group`` to its whole process group
        (Ctrl-C in a terminal); its exit code, asserting every node process ended."""
        if group:
            os.killpg(self.popen.pid, signal.SIGINT)
        else:
            self.popen.send_signal(signal.SIGINT)
        try:
            code = self.popen.wait(STOP_S)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"ros2 launch ignored SIGINT:\n{self.text()}") from None
        alive = [pid for pid in self.node_pids if _running(pid)]
        assert alive == [], f"node processes outlived the launch: {alive}"
        return code

    def state(self) -> str:
        """For a failure message: which node processes run, and the end of the launch output."""
        running = {pid: _running(pid) for pid in self.node_pids}
        tail = "\n".join(self.text().splitlines()[-40:])
        return f"\nnode processes running: {running}\nlaunch output (end):\n{tail}"

    def close(self) -> None:
        """Kill whatever is left of the launch's process group, and the nodes."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
        for pid in self.node_pids:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
        self._log.close()


def _default_sigint() -> None:
    """In the child before exec: SIGINT back to its default action. A test run from a
    background job of a non-interactive shell inherits SIGINT ignored, and so would the launch
    and its nodes (they would then ignore Ctrl-C)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (launch's own psutil dependency)."""
    import psutil

    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


class Ros2:
    """The ros2 CLI in the test's domain, without the daemon (stopped in teardown anyway)."""

    def __init__(self, env: Mapping[str, str], cwd: Path) -> None:
        self.env = dict(env)
        self.cwd = cwd
        self.launch: Launch | None = None  # the launch under test, for failure messages

    def run(self, *args: str, check: bool = True, timeout_s: float = CLI_S) -> str:
        """``ros2 ARGS``; its stdout (stderr too when it fails). A verb that did not discover
        its node within its spin time ('Node not found') is run again, a few times."""
        for _ in range(NOT_FOUND_TRIES):
            began = time.monotonic()
            done = subprocess.run(
                ["ros2", *args],
                capture_output=True,
                text=True,
                env=self.env,
                cwd=self.cwd,
                timeout=timeout_s,
                check=False,
            )
            print(f"{time.monotonic() - began:5.1f} s  ros2 {' '.join(args)} -> {done.returncode}")
            if "Node not found" not in done.stderr:
                break
        if check:
            assert done.returncode == 0, f"ros2 {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout + ("" if done.returncode == 0 else done.stderr)

    def until(self, args: Sequence[str], wanted: set[str]) -> set[str]:
        """Run ``ros2 ARGS --no-daemon --spin-time S`` (S growing, ``SPIN_S``) until its output
        lines include ``wanted``; the lines. A call that hangs counts as a miss: ``lifecycle
        get`` waits without a timeout for the service of every lifecycle node it discovered,
        and one it half-discovered can keep it waiting. On failure the message holds what the
        launch printed and which of its node processes still run (``self.launch``)."""
        lines: set[str] = set()
        for spin_s in SPIN_S:
            call = [*args, *SPIN, str(spin_s)]
            try:
                lines = set(self.run(*call, check=False, timeout_s=LIST_S).splitlines())
            except subprocess.TimeoutExpired:
                print(f"ros2 {' '.join(call)}: no answer in {LIST_S} s, again")
                continue
            if wanted <= lines:
                return lines
            time.sleep(0.2)
        context = "" if self.launch is None else self.launch.state()
        raise AssertionError(
            f"ros2 {' '.join(args)} never listed {sorted(wanted - lines)}; it listed "
            f"{sorted(lines)}{context}"
        )

    def nodes(self, wanted: set[str]) -> set[str]:
        """``ros2 node list`` once it lists ``wanted``."""
        return self.until(["node", "list"], wanted)

    def states(self, wanted: Mapping[str, str]) -> None:
        """``ros2 lifecycle get`` of every node until each is in its wanted state."""
        lines = {f"{node}: {state}" for node, state in wanted.items()}
        self.until(["lifecycle", "get"], lines)

    def topics(self, wanted: Mapping[str, str]) -> set[str]:
        """``ros2 topic list -t`` once it lists every topic of ``wanted`` with its type."""
        lines = {f"{topic} [{msgtype}]" for topic, msgtype in wanted.items()}
        return self.until(["topic", "list", "-t"], lines)

    def echo(self, topic: str, msgtype: str, *qos: str) -> dict[str, Any]:
        """One message of ``topic`` (``ros2 topic echo --once``) as a dict."""
        out = self.run(
            "topic",
            "echo",
            "--once",
            "--no-arr",
            "--no-daemon",
            "--timeout",
            "30",
            *qos,
            topic,
            msgtype,
        )
        data = yaml.safe_load(out.split("\n---")[0])
        assert isinstance(data, dict), out
        return data

    def params(self, node: str, *names: str) -> list[bool | int | float | str]:
        """Values of parameters ``names`` of ``node`` through its ``get_parameters`` service
        (``ros2 service call`` waits for the service: no discovery race as in ``ros2 param``)."""
        request = f"{{names: [{', '.join(names)}]}}"
        out = self.run(
            "service",
            "call",
            f"{node}/get_parameters",
            "rcl_interfaces/srv/GetParameters",
            request,
        )
        found = re.findall(
            r"ParameterValue\(type=(\d), bool_value=(\w+), integer_value=(-?\d+), "
            r"double_value=([^,]+), string_value='([^']*)'",
            out,
        )
        assert len(found) == len(names), out
        kinds = {"1": lambda v: v[1] == "True", "2": lambda v: int(v[2])}
        kinds.update({"3": lambda v: float(v[3]), "4": lambda v: v[4]})
        return [kinds[value[0]](value) for value in found]

    def transition(self, node: str, label: str) -> None:
        """Trigger a lifecycle transition through the node's ``change_state`` service, as a
        lifecycle manager does (``ros2 service call`` waits for the service: no discovery race
        as in ``ros2 lifecycle set``, which first looks the node up by name)."""
        request = f"{{transition: {{label: {label}}}}}"
        out = self.run(
            "service", "call", f"{node}/change_state", "lifecycle_msgs/srv/ChangeState", request
        )
        assert "ChangeState_Response(success=True)" in out, out


@pytest.fixture
def env(domain_id: int, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The launch's environment: its own domain, logs under tmp_path; the daemon stopped after."""
    values = dict(os.environ)
    values.update(
        ROS_DOMAIN_ID=str(domain_id),
        ROS_LOG_DIR=str(tmp_path / "ros_log"),
        RCUTILS_COLORIZED_OUTPUT="0",
        RCUTILS_LOGGING_BUFFERED_STREAM="0",
        PYTHONUNBUFFERED="1",
        NUMBA_NUM_THREADS="1",
    )
    yield values
    subprocess.run(
        ["ros2", "daemon", "stop"], env=values, capture_output=True, timeout=CLI_S, check=False
    )


@pytest.fixture
def start(env: dict[str, str], tmp_path: Path, ros2: Ros2) -> Iterator[Any]:
    """``start(FILE, *ARGS)``: a Launch in tmp_path (learner checkpoints land there), killed
    after the test whatever happened; ``ros2`` reports on it when a listing fails."""
    launches: list[Launch] = []

    def _start(name: str, *args: str) -> Launch:
        launches.append(Launch(name, args, env, tmp_path))
        ros2.launch = launches[-1]
        return launches[-1]

    yield _start
    for launch in launches:
        launch.close()


@pytest.fixture
def ros2(env: dict[str, str], tmp_path: Path) -> Ros2:
    """The ros2 CLI in the test's domain."""
    return Ros2(env, tmp_path)


def finished_cleanly(text: str, executables: Sequence[str]) -> None:
    """Assert the launch reported every node executable as exited with code 0."""
    for exe in executables:
        assert re.search(rf"\[{exe}-\d+\]: process has finished cleanly", text), exe


def test_gazebo_launch_stops_at_the_missing_gazebo(start: Any) -> None:
    launch = start("gazebo.launch.py")
    code = launch.popen.wait(CLI_S)
    text = launch.text()
    assert code == 1, text
    assert "Caught exception in launch" in text and "package 'ros_gz_sim' not found" in text
    assert "process started" not in text  # Gazebo is needed first: no node ran without it


def test_replay_without_rosbag2_stops_in_one_line(start: Any, tmp_path: Path) -> None:
    launch = start("replay.launch.py", f"bag:={tmp_path / 'no_bag'}")
    launch.wait_for(r"process started with pid", count=4)
    launch.record_nodes([spec.executable for spec in ROBOT_NODES.values()])
    try:
        code = launch.popen.wait(STOP_S)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"no exit without a bag player:\n{launch.text()}") from None
    text = launch.text()
    assert code == 1, text
    assert "invalid choice: 'bag'" in text  # what the pip ROS 2's ros2 says
    (error,) = [line for line in text.splitlines() if "Caught exception in launch" in line]
    assert "the bag player 'ros2 bag play' failed (exit code 2)" in error
    assert "play:=false" in error
    assert [pid for pid in launch.node_pids if _running(pid)] == []


def test_bringup_managed_in_a_namespace(start: Any, ros2: Ros2) -> None:
    launch = start(
        "topspark.launch.py",
        "namespace:=robot1",
        "managed:=true",
        "battery_state_topic:=/power/battery",
        "perception.timesteps:=60",
    )
    executables = [spec.executable for spec in ROBOT_NODES.values()]
    launch.wait_for(r"process started with pid", count=3)
    launch.record_nodes(executables)
    nodes = {f"/robot1/{name}" for name in ROBOT_NODES}
    assert ros2.nodes(nodes) & {f"/{name}" for name in NODES} == set()
    # managed:=true: nobody configures them; a lifecycle manager (here the CLI) does.
    ros2.states(dict.fromkeys(nodes, "unconfigured [1]"))
    assert ros2.params("/robot1/perception", "timesteps", "use_sim_time") == [60, False]
    ros2.transition("/robot1/timestep_manager", "configure")
    ros2.transition("/robot1/timestep_manager", "activate")
    wanted = expected_topics([ROBOT_NODES["timestep_manager"]], "robot1")
    wanted["/power/battery"] = wanted.pop("/robot1/battery_state")  # the remap
    listed = ros2.topics(wanted)
    assert not any(line.startswith("/robot1/battery_state ") for line in listed)
    command = ros2.echo(
        "/robot1/timestep_command",
        "topspark_ros/msg/TimestepCommand",
        "--qos-durability",
        "transient_local",
    )
    assert command["timesteps"] in PROFILE_TS and command["reason"]
    assert launch.interrupt() == 0
    finished_cleanly(launch.text(), executables)


def test_sim_launch_runs_the_simulated_robot_and_the_nodes(start: Any, ros2: Ros2) -> None:
    launch = start(
        "sim.launch.py",  # its arguments pass through to topspark.launch.py
        "sim_robot.width:=28",
        "sim_robot.height:=28",
        "sim_robot.encoding:=mono8",
        "sim_robot.scale:=1",
    )
    specs = [*ROBOT_NODES.values(), SIM_ROBOT]
    launch.wait_for(r"\]: active", count=len(specs))
    launch.record_nodes([spec.executable for spec in specs])
    ros2.nodes({f"/{spec.name}" for spec in specs})
    ros2.states({f"/{spec.name}": "active [3]" for spec in specs})
    ros2.topics(expected_topics(specs))
    image = ros2.echo("/image", "sensor_msgs/msg/Image")
    assert (image["width"], image["height"], image["encoding"]) == (28, 28, "mono8")
    result = ros2.echo("/classification", "topspark_ros/msg/Classification")
    assert -1 <= result["label"] <= 9 and result["timesteps"] in PROFILE_TS
    assert result["header"]["frame_id"] == "camera"
    # Ctrl-C in a terminal: SIGINT to the launch and every node at once; launch forwards a
    # second SIGINT to each node during its cleanup, which must still end cleanly.
    assert launch.interrupt(group=True) == 0
    finished_cleanly(launch.text(), [spec.executable for spec in specs])


def test_replay_launch_answers_every_frame_in_bag_time(
    start: Any, ros2: Ros2, env: dict[str, str], tmp_path: Path
) -> None:
    bag = tmp_path / "bag"
    make_bag = [sys.executable, "-m", "topspark_ros", "make-bag", str(bag), "--embedded"]
    make_bag += ["--duration", "3", "--rate", "10", "--width", "28", "--height", "28"]
    make_bag += ["--encoding", "mono8", "--scale", "1", "--seed", "0"]
    subprocess.run(make_bag, env=env, cwd=tmp_path, check=True, capture_output=True, timeout=120)
    launch = start("replay.launch.py", f"bag:={bag}", "play:=false")
    out = tmp_path / "played.json"
    # Perception and the learner subscribe to the bag's camera topic once active: the default
    # remap (replay_topic_arguments) must reach them for the player to start.
    player = [sys.executable, str(PLAYER), str(bag), str(out)]
    player += ["--subscribers", "/camera/image_raw=2", "--wait", str(START_S)]
    done = subprocess.run(
        player, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=START_S + 60
    )
    assert done.returncode == 0, f"{done.stdout}{done.stderr}\n{launch.text()}"
    played = json.loads(out.read_text(encoding="utf-8"))
    images = played["images"]
    answered = {r["stamp_ns"]: r for r in played["classifications"]}
    assert len(images) == 30 and set(answered) == set(images), "a frame went unanswered"
    assert {r["timesteps"] for r in answered.values()} <= PROFILE_TS
    start_ns, end_ns = played["start_ns"], max(images)
    # Nothing runs on time 0 before the first /clock (NodeRunner): every command is in bag time.
    stamps = [c["stamp_ns"] for c in played["commands"]]
    assert stamps and all(start_ns <= t <= end_ns + 10**9 for t in stamps), stamps
    executables = [spec.executable for spec in ROBOT_NODES.values()]
    launch.record_nodes(executables)
    ros2.states({f"/{name}": "active [3]" for name in ROBOT_NODES})
    for name in ROBOT_NODES:
        assert ros2.params(f"/{name}", "use_sim_time") == [True]
    assert "ros2-" not in launch.text()  # play:=false: no player process of its own
    assert launch.interrupt() == 0
    finished_cleanly(launch.text(), executables)

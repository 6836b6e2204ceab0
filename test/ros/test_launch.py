"""Launch files and their arguments: checked against the node specs, package.xml and config/.

No ``launch`` import: the launch files are parsed with ast, the argument logic is plain Python.
"""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from topspark_ros.config import config_fields, to_mapping
from topspark_ros.errors import ConfigError
from topspark_ros.graph.wiring import NODES, ROBOT_NODES, SIM_ROBOT
from topspark_ros.nodes.config import PerceptionConfig
from topspark_ros.ros import launch_support
from topspark_ros.sim.config import SimRobotConfig
from topspark_ros.sim.scenario import ScenarioConfig

LAUNCH_FILES = ("topspark.launch.py", "gazebo.launch.py", "replay.launch.py", "sim.launch.py")
TOPICS = {
    "image",
    "battery_state",
    "classification",
    "timestep_command",
    "model_update",
    "learning_status",
    "environment",
    "label",
}
# Executables of other packages the launch files start.
EXTERNAL_EXECUTABLES = {("ros_gz_bridge", "parameter_bridge")}


def parse(repo_root: Path, name: str) -> ast.Module:
    """The ast of ``launch/<name>``."""
    return ast.parse((repo_root / "launch" / name).read_text(encoding="utf-8"))


def calls(tree: ast.AST, name: str) -> list[ast.Call]:
    """Calls of the function or class ``name`` (plain or attribute access)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if called == name:
                found.append(node)
    return found


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    """The value of keyword argument ``name`` of ``call``."""
    return next((k.value for k in call.keywords if k.arg == name), None)


def run_depends(repo_root: Path) -> set[str]:
    """Packages package.xml declares for run time (exec_depend and depend)."""
    root = ET.parse(repo_root / "package.xml").getroot()
    return {str(e.text) for tag in ("exec_depend", "depend") for e in root.iter(tag)}


def defaults(share_dir: Path) -> dict[str, str]:
    """Every launch argument at its default value, as the OpaqueFunction would see them."""
    return {arg.name: arg.default for arg in launch_support.launch_arguments(share_dir)}


def test_launch_directory_holds_the_launch_files(repo_root: Path) -> None:
    files = [p.name for p in (repo_root / "launch").iterdir() if p.name != "__pycache__"]
    assert sorted(files) == sorted(LAUNCH_FILES)
    for name in LAUNCH_FILES:
        tree = parse(repo_root, name)
        functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert "generate_launch_description" in functions, name


@pytest.mark.parametrize("name", LAUNCH_FILES)
def test_launch_files_name_only_declared_packages(repo_root: Path, name: str) -> None:
    tree = parse(repo_root, name)
    known = run_depends(repo_root) | {launch_support.PACKAGE}
    named = [
        arg.value
        for call in calls(tree, "FindPackageShare") + calls(tree, "get_package_share_directory")
        for arg in call.args
        if isinstance(arg, ast.Constant)
    ]
    for call in calls(tree, "Node"):
        package = keyword(call, "package")
        if isinstance(package, ast.Constant):
            named.append(package.value)
            executable = keyword(call, "executable")
            assert isinstance(executable, ast.Constant)
            assert (package.value, executable.value) in EXTERNAL_EXECUTABLES
    assert set(named) <= known, f"{name}: add {set(named) - known} to package.xml"


def bringup_arguments(repo_root: Path, name: str) -> str:
    """The launch arguments ``launch/<name>`` passes to the topspark.launch.py it includes."""
    tree = parse(repo_root, name)
    included = [
        elt.value
        for call in calls(tree, "PythonLaunchDescriptionSource")
        for elt in ast.walk(call)
        if isinstance(elt, ast.Constant) and str(elt.value).endswith(".launch.py")
    ]
    assert "/launch/topspark.launch.py" in included
    (include,) = [
        call
        for call in calls(tree, "IncludeLaunchDescription")
        if "topspark.launch.py" in ast.unparse(call)
    ]
    launch_args = keyword(include, "launch_arguments")
    assert launch_args is not None
    declared = set(launch_support.argument_names())
    passed = [
        key.value
        for node in ast.walk(launch_args)
        if isinstance(node, ast.Dict)
        for key in node.keys
        if isinstance(key, ast.Constant)
    ]
    assert set(passed) <= declared, "passes arguments topspark.launch.py does not declare"
    return ast.unparse(launch_args)


@pytest.mark.parametrize("name", ["gazebo.launch.py", "replay.launch.py"])
def test_simulation_launch_files_include_the_bringup_on_sim_time(
    repo_root: Path, name: str
) -> None:
    passed = bringup_arguments(repo_root, name)
    assert "'use_sim_time': 'true'" in passed and "'simulate'" not in passed


def test_sim_launch_adds_the_simulated_robot_on_wall_time(repo_root: Path) -> None:
    passed = bringup_arguments(repo_root, "sim.launch.py")
    assert "'simulate': 'true'" in passed and "use_sim_time" not in passed
    assert calls(parse(repo_root, "sim.launch.py"), "Node") == []


def test_gazebo_bridges_camera_battery_and_clock(repo_root: Path) -> None:
    text = ast.unparse(parse(repo_root, "gazebo.launch.py"))
    for bridge in (
        "@sensor_msgs/msg/Image[gz.msgs.Image",
        "@sensor_msgs/msg/BatteryState[gz.msgs.BatteryState",
        "/clock@rosgraph_msgs/msg/Clock[gz.msgs.Clock",
    ):
        assert bridge in text
    assert "'/launch/gz_sim.launch.py'" in text and "'gz_args'" in text


def test_replay_plays_the_bag_with_clock(repo_root: Path) -> None:
    tree = parse(repo_root, "replay.launch.py")
    (play,) = calls(tree, "ExecuteProcess")
    cmd = keyword(play, "cmd")
    assert isinstance(cmd, ast.List)
    words = [e.value for e in cmd.elts if isinstance(e, ast.Constant)]
    assert words[:3] == ["ros2", "bag", "play"] and "--clock" in words and "--rate" in words
    # play:=false starts only the nodes; a failing player stops the launch (bag_player_problem).
    condition = keyword(play, "condition")
    assert condition is not None and ast.unparse(condition) == (
        "IfCondition(LaunchConfiguration('play'))"
    )
    (on_exit,) = calls(tree, "OnProcessExit")
    assert ast.unparse(on_exit) == "OnProcessExit(target_action=play, on_exit=_player_exited)"
    assert "launch_support.bag_player_problem(event.returncode)" in ast.unparse(tree)
    declared = {
        call.args[0].value
        for call in calls(tree, "DeclareLaunchArgument")
        if call.args and isinstance(call.args[0], ast.Constant)
    }
    assert declared == {"bag", "rate", "play"}


def test_replay_remaps_the_bag_topics_before_the_bringup(repo_root: Path) -> None:
    text = ast.unparse(parse(repo_root, "replay.launch.py"))
    assert "for arg in launch_support.replay_topic_arguments()" in text
    # Declared before the include: a DeclareLaunchArgument keeps a value already set.
    assert text.index("*topics") < text.index("topspark,")
    args = launch_support.replay_topic_arguments()
    assert {arg.name for arg in args} <= set(launch_support.argument_names())
    scenario = ScenarioConfig()
    assert {arg.name: arg.default for arg in args} == {
        "image_topic": scenario.camera_topic,
        "battery_state_topic": scenario.battery_topic,
        "label_topic": scenario.label_topic,
        "environment_topic": scenario.environment_topic,
    }
    assert set(launch_support.REPLAY_TOPICS) <= set(launch_support.topics())


def test_a_failing_bag_player_is_one_line_and_ctrl_c_is_not_a_failure() -> None:
    assert launch_support.bag_player_problem(0) is None
    assert launch_support.bag_player_problem(-2) is None  # SIGINT: the launch is stopping
    problem = launch_support.bag_player_problem(2)
    assert problem is not None and "\n" not in problem
    assert problem.startswith("the bag player 'ros2 bag play' failed (exit code 2)")
    assert "rosbag2" in problem and "play:=false" in problem


def test_bringup_starts_every_node_spec_through_launch_support(repo_root: Path) -> None:
    tree = parse(repo_root, "topspark.launch.py")
    (node_call,) = calls(tree, "Node")
    assert ast.unparse(keyword(node_call, "executable") or ast.Constant(None)) == "spec.executable"
    assert ast.unparse(keyword(node_call, "name") or ast.Constant(None)) == "spec.name"
    assert "for spec in launch_support.launched_nodes(values)" in ast.unparse(tree)
    used = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "launch_support"
    }
    assert used and all(hasattr(launch_support, name) for name in used)
    for name in ("parameters", "remappings", "arguments", "namespace"):
        assert keyword(node_call, name) is not None, name


def test_node_names_match_the_config_files(repo_root: Path) -> None:
    for spec in NODES.values():
        data = yaml.safe_load((repo_root / "config" / f"{spec.name}.yaml").read_text("utf-8"))
        assert list(data) == [spec.name]


def test_every_parameter_topic_and_node_has_a_launch_argument() -> None:
    args = launch_support.launch_arguments("/opt/ros/share/topspark_ros")
    names = [arg.name for arg in args]
    assert len(names) == len(set(names))
    assert names == launch_support.argument_names()
    by_name = {arg.name: arg for arg in args}
    for spec in NODES.values():
        for f in config_fields(spec.config):
            arg = by_name[f"{spec.name}.{f.name}"]
            assert arg.default == "" and arg.description
        params_file = by_name[f"{spec.name}_params_file"].default
        assert params_file == f"/opt/ros/share/topspark_ros/config/{spec.name}.yaml"
    assert set(launch_support.topics()) == TOPICS
    assert {f"{topic}_topic" for topic in TOPICS} <= set(names)
    assert {"namespace", "use_sim_time", "log_level", "managed", "simulate"} <= set(names)


def test_defaults_give_the_params_files_values_and_no_remaps(repo_root: Path) -> None:
    values = defaults(repo_root)  # the repository's config/ stands for the installed share/
    for spec in NODES.values():
        assert values[f"{spec.name}_params_file"] == str(
            repo_root / "config" / f"{spec.name}.yaml"
        )
        expected = {**to_mapping(spec.config()), "use_sim_time": False}
        assert launch_support.node_parameters(spec.name, values) == expected
    assert launch_support.remappings(values) == []
    assert launch_support.node_arguments(values) == ["--ros-args", "--log-level", "info"]


def test_only_simulate_adds_the_simulated_robot(repo_root: Path) -> None:
    values = defaults(repo_root)
    assert launch_support.launched_nodes(values) == list(ROBOT_NODES.values())
    simulated = launch_support.launched_nodes({**values, "simulate": "true"})
    assert simulated == [*ROBOT_NODES.values(), SIM_ROBOT]
    sim_topics = [s.topic for s in SIM_ROBOT.subscriptions] + [
        p.topic for p in SIM_ROBOT.publications
    ]
    assert set(sim_topics) <= TOPICS  # the robot's topics: the same remap arguments apply
    with pytest.raises(ConfigError, match="simulate must be true or false, got 'yes'"):
        launch_support.launched_nodes({**values, "simulate": "yes"})


def test_overrides_are_typed_and_only_the_non_empty_ones(repo_root: Path) -> None:
    values = {
        **defaults(repo_root),
        "perception.timesteps": "60",
        "perception.crop_threshold": "1",
        "perception.early_exit": "true",
        "perception.image_reliability": "reliable",
        "perception.model_path": "123",
        "timestep_manager.mission_time_s": "1800",
        "use_sim_time": "True",
        "perception_params_file": "",
    }
    changed = {
        "crop_threshold": 1.0,
        "model_path": "123",
        "timesteps": 60,
        "early_exit": True,
        "image_reliability": "reliable",
    }
    assert launch_support.node_overrides("perception", values) == changed
    params = launch_support.node_parameters("perception", values)
    assert params == {**to_mapping(PerceptionConfig()), **changed, "use_sim_time": True}
    assert type(params["crop_threshold"]) is float and type(params["timesteps"]) is int
    assert launch_support.node_overrides("timestep_manager", values) == {"mission_time_s": 1800.0}
    assert launch_support.node_overrides("online_learner", values) == {}


def test_the_sim_robots_scenario_parameters_are_flat_launch_arguments(repo_root: Path) -> None:
    values = {
        **defaults(repo_root),
        "sim_robot.rate_hz": "30",
        "sim_robot.battery_capacity_wh": "2",
        "sim_robot.environment_s": "5",
    }
    changed = {"rate_hz": 30.0, "battery_capacity_wh": 2.0, "environment_s": 5.0}
    assert launch_support.node_overrides("sim_robot", values) == changed
    params = launch_support.node_parameters("sim_robot", values)
    assert params == {**to_mapping(SimRobotConfig()), **changed, "use_sim_time": False}
    assert "scenario" not in params and "duration_s" not in params
    with pytest.raises(ConfigError, match=r"sim_robot: rate_hz = 1000\.0 is outside \[0\.1, 100"):
        launch_support.node_parameters("sim_robot", {**values, "sim_robot.rate_hz": "1000"})


def test_params_file_sections_apply_in_a_namespace(repo_root: Path, tmp_path: Path) -> None:
    path = tmp_path / "perception.yaml"
    path.write_text(
        "/**:\n  ros__parameters: {seed: 5, use_sim_time: true}\n"
        "perception:\n  ros__parameters: {timesteps: 30, queue_size: 4}\n"
        "/robot1/perception:\n  ros__parameters: {timesteps: 40}\n",
        encoding="utf-8",
    )
    values = {**defaults(repo_root), "perception_params_file": str(path), "namespace": "robot1"}
    params = launch_support.node_parameters("perception", values)
    assert (params["seed"], params["queue_size"], params["timesteps"]) == (5, 4, 40)
    assert params["use_sim_time"] is False  # the launch argument decides
    values["perception.timesteps"] = "50"
    assert launch_support.node_parameters("perception", values)["timesteps"] == 50


def test_a_bad_params_file_stops_the_launch(repo_root: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("perception:\n  ros__parameters: {timesteps: 0}\n", encoding="utf-8")
    values = {**defaults(repo_root), "perception_params_file": str(path)}
    with pytest.raises(ConfigError, match=r"bad\.yaml \[perception\]: timesteps = 0 is outside"):
        launch_support.node_parameters("perception", values)
    path.write_text("perception:\n  ros__parameters: {frame_rate: 30}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key"):
        launch_support.node_parameters("perception", values)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("timesteps", "abc", r"launch argument perception\.timesteps must be an int, got 'abc'"),
        ("timesteps", "2.5", r"perception\.timesteps must be an int, got '2\.5'"),
        ("timesteps", "0", r"perception: timesteps = 0 is outside \[1, 1000\]"),
        ("crop_threshold", "high", r"perception\.crop_threshold must be a float, got 'high'"),
        ("crop_threshold", "nan", r"crop_threshold must be finite"),
        ("early_exit", "yes", r"perception\.early_exit must be true or false, got 'yes'"),
        ("image_reliability", "fast", r"must be one of best_effort, reliable, got 'fast'"),
        ("frame_rate", "30", r"perception has no parameter 'frame_rate'"),
    ],
)
def test_bad_overrides_raise_one_line(name: str, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        launch_support.parse_override("perception", name, text)
    assert "\n" not in str(info.value)


def test_unknown_node_and_bad_switches_raise(repo_root: Path) -> None:
    with pytest.raises(ConfigError, match="unknown node 'camera'"):
        launch_support.parse_override("camera", "timesteps", "1")
    with pytest.raises(ConfigError, match="use_sim_time must be true or false, got 'on'"):
        launch_support.node_parameters("perception", {**defaults(repo_root), "use_sim_time": "on"})
    with pytest.raises(ConfigError, match="log_level must be one of debug, info"):
        launch_support.node_arguments({**defaults(repo_root), "log_level": "loud"})
    with pytest.raises(ConfigError, match="image_topic must not be empty"):
        launch_support.remappings({**defaults(repo_root), "image_topic": ""})


def test_remaps_and_managed_mode(repo_root: Path) -> None:
    values = {
        **defaults(repo_root),
        "image_topic": "/camera",
        "label_topic": "labels",
        "managed": "true",
    }
    assert launch_support.remappings(values) == [("image", "/camera"), ("label", "labels")]
    assert launch_support.node_arguments(values)[0] == "--managed"

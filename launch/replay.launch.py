"""Bag replay: ``ros2 bag play BAG --clock`` and the three topspark nodes on the bag's time.

ros2 launch topspark_ros replay.launch.py bag:=/path/to/bag rate:=1.0
The nodes read the topics of a ``topspark make-bag`` bag (/camera/image_raw, /battery_state,
/label, /environment); remap for other bags, e.g. image_topic:=/front/image_raw. play:=false
starts only the nodes, for a bag played some other way (it must publish /clock). A bag player
that fails (no rosbag2 installed) stops the launch with one line. Every topspark.launch.py
argument (namespace, <node>.<param>, ...) passes through.
"""

from __future__ import annotations

from launch import LaunchContext, LaunchDescription
from launch.actions import (
    DeclareLaunchArgument,
    ExecuteProcess,
    IncludeLaunchDescription,
    RegisterEventHandler,
)
from launch.conditions import IfCondition
from launch.event_handlers import OnProcessExit
from launch.events.process import ProcessExited
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.substitutions import FindPackageShare

from topspark_ros.ros import launch_support


def _player_exited(event: ProcessExited, context: LaunchContext) -> None:
    """Stop the launch, exit code 1, with the reason when the bag player failed."""
    problem = launch_support.bag_player_problem(event.returncode)
    if problem is not None:
        raise RuntimeError(problem)


def generate_launch_description() -> LaunchDescription:
    """The bag player (publishing /clock) and topspark.launch.py with use_sim_time."""
    play = ExecuteProcess(
        cmd=[
            "ros2",
            "bag",
            "play",
            LaunchConfiguration("bag"),
            "--rate",
            LaunchConfiguration("rate"),
            "--clock",
        ],
        output="screen",
        condition=IfCondition(LaunchConfiguration("play")),
    )
    topspark = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            [FindPackageShare("topspark_ros"), "/launch/topspark.launch.py"]
        ),
        launch_arguments={"use_sim_time": "true"}.items(),
    )
    # Declared before the include, these defaults win over the bringup's relative topics.
    topics = [
        DeclareLaunchArgument(arg.name, default_value=arg.default, description=arg.description)
        for arg in launch_support.replay_topic_arguments()
    ]
    return LaunchDescription(
        [
            DeclareLaunchArgument("bag", description="rosbag2 directory or file to play"),
            DeclareLaunchArgument("rate", default_value="1.0", description="playback rate factor"),
            DeclareLaunchArgument(
                "play",
                default_value="true",
                description="start ros2 bag play; false: only the nodes [true | false]",
            ),
            *topics,
            topspark,
            RegisterEventHandler(OnProcessExit(target_action=play, on_exit=_player_exited)),
            play,
        ]
    )

"""Bag replay: ``ros2 bag play BAG --clock`` and the three topspark nodes on the bag's time.

ros2 launch topspark_ros replay.launch.py bag:=/path/to/bag rate:=1.0 \
    image_topic:=/camera/image_raw battery_state_topic:=/battery_state
Every topspark.launch.py argument (namespace, <node>.<param>, ...) passes through.
"""

from __future__ import annotations

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.substitutions import FindPackageShare


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
    )
    topspark = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            [FindPackageShare("topspark_ros"), "/launch/topspark.launch.py"]
        ),
        launch_arguments={"use_sim_time": "true"}.items(),
    )
    return LaunchDescription(
        [
            DeclareLaunchArgument("bag", description="rosbag2 directory or file to play"),
            DeclareLaunchArgument("rate", default_value="1.0", description="playback rate factor"),
            topspark,
            play,
        ]
    )

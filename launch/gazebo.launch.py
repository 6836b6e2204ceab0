"""Gazebo simulation: gz sim with a world, a ros_gz_bridge for camera, battery and /clock, and the
three topspark nodes on simulated time.

ros2 launch topspark_ros gazebo.launch.py world:=/path/robot_world.sdf \
    camera_topic:=/camera battery_topic:=/model/robot/battery/linear_battery/state
Every topspark.launch.py argument (namespace, <node>.<param>, ...) passes through.
"""

from __future__ import annotations

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

ARGUMENTS = (
    ("world", "empty.sdf", "SDF world to load: it provides the camera and the battery plugin"),
    ("gz_extra_args", "", "more gz sim arguments, e.g. '-s --headless-rendering' (no GUI)"),
    ("camera_topic", "/camera", "Gazebo camera image topic (bridged under the same name)"),
    (
        "battery_topic",
        "/model/robot/battery/linear_battery/state",
        "Gazebo battery state topic (bridged under the same name)",
    ),
)


def generate_launch_description() -> LaunchDescription:
    """gz sim, the bridge (gz -> ROS for image, battery, clock) and topspark.launch.py."""
    camera = LaunchConfiguration("camera_topic")
    battery = LaunchConfiguration("battery_topic")
    gz_sim = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            [FindPackageShare("ros_gz_sim"), "/launch/gz_sim.launch.py"]
        ),
        launch_arguments={
            "gz_args": [LaunchConfiguration("world"), " -r ", LaunchConfiguration("gz_extra_args")]
        }.items(),
    )
    bridge = Node(
        package="ros_gz_bridge",
        executable="parameter_bridge",
        name="topspark_gz_bridge",
        arguments=[
            [camera, "@sensor_msgs/msg/Image[gz.msgs.Image"],
            [battery, "@sensor_msgs/msg/BatteryState[gz.msgs.BatteryState"],
            "/clock@rosgraph_msgs/msg/Clock[gz.msgs.Clock",
        ],
        parameters=[{"use_sim_time": True}],
        output="screen",
    )
    topspark = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            [FindPackageShare("topspark_ros"), "/launch/topspark.launch.py"]
        ),
        launch_arguments={
            "image_topic": camera,
            "battery_state_topic": battery,
            "use_sim_time": "true",
        }.items(),
    )
    declared = [
        DeclareLaunchArgument(name, default_value=default, description=description)
        for name, default, description in ARGUMENTS
    ]
    return LaunchDescription([*declared, gz_sim, bridge, topspark])

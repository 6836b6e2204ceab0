"""Simulated robot: the sim_robot node (a camera watching MNIST, then Fashion-MNIST, a battery
drained by a base load plus the SNN's reported energy, environment events) and the three topspark
nodes, on wall time: topspark.launch.py with simulate:=true.

ros2 launch topspark_ros sim.launch.py sim_robot.environment_s:=30.0 \
    sim_robot.environments:=mnist,fashion-mnist,mnist
Every topspark.launch.py argument (namespace, <node>.<param>, ...) passes through.
"""

from __future__ import annotations

from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch_ros.substitutions import FindPackageShare


def generate_launch_description() -> LaunchDescription:
    """topspark.launch.py with the simulated robot added."""
    topspark = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            [FindPackageShare("topspark_ros"), "/launch/topspark.launch.py"]
        ),
        launch_arguments={"simulate": "true"}.items(),
    )
    return LaunchDescription([topspark])

"""Robot bringup: the perception, timestep manager and online learner nodes (and with
simulate:=true the simulated robot, as sim.launch.py does).

ros2 launch topspark_ros topspark.launch.py namespace:=robot1 image_topic:=/camera/image_raw \
    perception.timesteps:=60 timestep_manager.mission_time_s:=1800.0
Every argument and its default: ros2 launch topspark_ros topspark.launch.py --show-args
"""

from __future__ import annotations

from ament_index_python.packages import get_package_share_directory
from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

from topspark_ros.ros import launch_support


def _typed(params: dict) -> dict:
    """Keep string parameters strings (launch would otherwise read '123' or 'true' as YAML)."""
    return {
        k: ParameterValue(v, value_type=str) if isinstance(v, str) else v
        for k, v in params.items()
    }


def _nodes(context: LaunchContext) -> list[Node]:
    """One Node action per node launched (launch_support.launched_nodes), from the values."""
    values = {
        name: LaunchConfiguration(name).perform(context)
        for name in launch_support.argument_names()
    }
    return [
        Node(
            package=launch_support.PACKAGE,
            executable=spec.executable,
            name=spec.name,
            namespace=values["namespace"],
            parameters=[_typed(launch_support.node_parameters(spec.name, values))],
            remappings=launch_support.remappings(values),
            arguments=launch_support.node_arguments(values),
            output="screen",
            emulate_tty=True,
        )
        for spec in launch_support.launched_nodes(values)
    ]


def generate_launch_description() -> LaunchDescription:
    """Declare every argument (launch_support.launch_arguments), then start the nodes."""
    share = get_package_share_directory(launch_support.PACKAGE)
    declared = [
        DeclareLaunchArgument(arg.name, default_value=arg.default, description=arg.description)
        for arg in launch_support.launch_arguments(share)
    ]
    return LaunchDescription([*declared, OpaqueFunction(function=_nodes)])

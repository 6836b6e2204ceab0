"""The rclpy adapter: each node of ``topspark_ros.graph.wiring`` as an rclpy lifecycle node.

Needs ROS 2 (rclpy and the built ``topspark_ros.msg``): ``params``, ``node`` and ``main`` raise
ImportError without it. This package itself imports nothing from ROS.
"""

__all__: list[str] = []

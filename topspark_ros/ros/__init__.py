"""Thin transport adapters for the node logic: rclpy (ROS 2) and DDS (cyclonedds, ROS 2 wire)."""

"""Offline evaluation: the nodes' logic run over a recorded rosbag2 bag in bag time."""

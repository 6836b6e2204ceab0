"""Message types from ``msg/`` and the standard ROS 2 ones: typestore (rosbags), DDS classes
(cyclonedds), conversion; each in its own module, so an importer loads only what it uses."""

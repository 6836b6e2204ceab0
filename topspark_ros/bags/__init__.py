"""rosbag2 bags (sqlite3 and MCAP) read and written through ``rosbags``, as plain dataclasses."""

#!/usr/bin/env bash
# colcon-build this package into DIR/build and DIR/install with the ROS 2 venv DIR made by
# tools/ros2_venv.sh (incremental: a few seconds when little changed). With $TOPSPARK_ROS_INSTALL
# set, build/, install/ and log/ go there instead (several checkouts or builds beside one venv).
#
#   tools/ros2_build.sh DIR
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$(cd "$1" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$dir/bin/colcon" ] || { echo "error: $dir is not a venv made by tools/ros2_venv.sh" >&2; exit 1; }
export AMENT_PREFIX_PATH=$dir CMAKE_PREFIX_PATH=$dir  # the venv root is the wheels' ament prefix
# shellcheck disable=SC1091
source "$dir/bin/activate"
out=${TOPSPARK_ROS_INSTALL:-$dir}
mkdir -p "$out"
cd "$repo"
colcon --log-base "$out/log" build --base-paths "$repo" --packages-select topspark_ros \
    --build-base "$out/build" --install-base "$out/install" \
    --cmake-args -DPython3_EXECUTABLE="$dir/bin/python" -DBUILD_TESTING=OFF

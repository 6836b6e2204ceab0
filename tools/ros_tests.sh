#!/usr/bin/env bash
# The ROS 2 tier: test/ros2/ against real ROS 2 (a venv made by tools/ros2_venv.sh), inside a
# private network namespace that holds only loopback, so DDS discovery cannot leave the machine.
#
#   tools/ros_tests.sh DIR [pytest arguments...]
#
# Rebuilds the package into DIR/install first (incremental), so the tier tests this checkout
# ($TOPSPARK_ROS_INSTALL, if set, holds build/ and install/ instead of DIR). Paths under test/
# among the arguments replace the default test/ros2.
# As root the namespace is `unshare -n`; otherwise `unshare -rn` (an unprivileged user namespace).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" != "--inside-netns" ]; then
    [ $# -ge 1 ] || { echo "usage: $0 DIR [pytest args...]" >&2; exit 2; }
    dir=$(cd "$1" && pwd)
    shift
    [ -f "$dir/setup.bash" ] || { echo "error: $dir/setup.bash missing: run tools/ros2_venv.sh first" >&2; exit 1; }
    "$repo/tools/ros2_build.sh" "$dir" >/dev/null
    if [ "$(id -u)" -eq 0 ]; then ns=(unshare -n); else ns=(unshare -rn); fi
    exec "${ns[@]}" bash "$0" --inside-netns "$dir" "$@"
fi
dir=$2
shift 2

ip link set lo up
ip link set lo multicast on
# shellcheck disable=SC1091
source "$dir/setup.bash"
export TOPSPARK_ROS_TIER=1
cd "$repo"
# The installed tree (DIR/install), not the checkout, is the package under test: no "." on
# sys.path. launch_testing's pytest plugins are off: importing launch makes every logger created
# afterwards stop propagating (launch.logging), which blinds caplog; launch is tested by running
# `ros2 launch` itself.
paths=(test/ros2)
for arg in "$@"; do case $arg in test/*) paths=() ;; esac; done
exec pytest -p no:cacheprovider -p no:launch_testing -p no:launch_ros -o pythonpath=test/support \
    "$@" ${paths[@]+"${paths[@]}"}

"""``python -m topspark_ros``: the ``topspark`` command."""

import sys

if __name__ == "__main__":
    try:
        from topspark_ros.cli.main import run
    except KeyboardInterrupt:  # Ctrl-C while the (light) entry module loads
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    run()

"""``python -m topspark_ros``: the ``topspark`` command."""

from topspark_ros.cli.main import run

if __name__ == "__main__":
    run()

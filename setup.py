"""Install topspark_ros with pip (``pip install -e '.[test]'``) or colcon (ament_python)."""

from __future__ import annotations

import re
from glob import glob
from pathlib import Path

from setuptools import find_namespace_packages, setup

PACKAGE = "topspark_ros"
HERE = Path(__file__).resolve().parent


def read_version() -> str:
    """The ``__version__`` string of the package, read without importing it."""
    text = (HERE / PACKAGE / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no __version__ in {PACKAGE}/__init__.py")
    return match.group(1)


def share_files() -> list[tuple[str, list[str]]]:
    """ament data files: the package marker, package.xml, configs and any launch files."""
    share = f"share/{PACKAGE}"
    entries = [
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (share, ["package.xml"]),
        (f"{share}/config", sorted(glob("config/*.yaml") + glob("config/*.xml"))),
        (f"{share}/launch", sorted(glob("launch/*.launch.py") + glob("launch/*.launch.xml"))),
    ]
    return [(target, files) for target, files in entries if files]


setup(
    name=PACKAGE,
    version=read_version(),
    description="Energy-efficient spiking-neural-network perception for robots (TopSpark)",
    long_description=(HERE / "README.md").read_text(encoding="utf-8")
    if (HERE / "README.md").is_file()
    else "",
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    maintainer="topspark_ros maintainers",
    maintainer_email="topspark-ros@example.com",
    python_requires=">=3.10",
    # Namespace discovery, so a sub-package is installed even before it has an __init__.py.
    packages=find_namespace_packages(
        include=[PACKAGE, f"{PACKAGE}.*"], exclude=["*.__pycache__", "test", "test.*"]
    ),
    package_data={PACKAGE: ["data/sample/*.npz", "resources/**/*"]},
    data_files=share_files(),
    install_requires=[
        "numpy>=1.23",
        "numba>=0.57",
        "pyyaml>=6.0",
        "tqdm>=4.60",
        "opencv-python-headless>=4.5",
        "matplotlib>=3.5",
        "cyclonedds>=11.0",  # the first release with wheels for CPython 3.10-3.12
        "rosbags>=0.10",  # explicit typestores (get_typestore, Typestore.serialize_cdr)
        "psutil>=5.9",  # the demo's per-process memory sampling (soak)
        "dask[distributed]>=2024.1",  # sweep, sensitivity, reproduce: runs on a Dask cluster
    ],
    extras_require={
        "test": [
            "pytest>=7.0",
            "hypothesis>=6.70",
            "ruff>=0.5",
            "mypy>=1.10",
            "types-PyYAML",
            "types-tqdm",
            "types-psutil",
            "catkin_pkg>=0.5",
            "colcon-core",
            "colcon-ros",
        ],
    },
    entry_points={"console_scripts": ["topspark = topspark_ros.cli.main:run"]},
    zip_safe=False,
)

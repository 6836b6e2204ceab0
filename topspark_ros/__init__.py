"""topspark_ros: energy-efficient spiking-neural-network perception for robots (TopSpark)."""

__version__ = "0.1.0"

__all__ = ["__version__"]

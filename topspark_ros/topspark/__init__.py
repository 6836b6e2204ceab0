"""The TopSpark method: timestep sweep, parameter significance, enhancement rules, trade-off."""

from topspark_ros.topspark.profile import (
    DEFAULT_BASELINE_TIMESTEPS,
    SWEEP_FILES,
    OperatingPoint,
    Profile,
    ProfileError,
    Series,
    default_baseline,
    load_profile,
    profile_from_records,
    read_sweep_records,
    save_profile,
    sweep_series,
)
from topspark_ros.topspark.tradeoff import (
    Constraints,
    InfeasibleError,
    Selection,
    Weights,
    cost,
    feasible,
    select,
)

__all__ = [
    "DEFAULT_BASELINE_TIMESTEPS",
    "SWEEP_FILES",
    "Constraints",
    "InfeasibleError",
    "OperatingPoint",
    "Profile",
    "ProfileError",
    "Selection",
    "Series",
    "Weights",
    "cost",
    "default_baseline",
    "feasible",
    "load_profile",
    "profile_from_records",
    "read_sweep_records",
    "save_profile",
    "select",
    "sweep_series",
]

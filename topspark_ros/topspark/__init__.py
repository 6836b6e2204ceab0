"""The TopSpark method: timestep sweep, parameter significance, enhancement rules, trade-off."""

from topspark_ros.topspark.profile import (
    DEFAULT_BASELINE_TIMESTEPS,
    Constraints,
    InfeasibleError,
    OperatingPoint,
    Profile,
    ProfileError,
    Selection,
    Weights,
    cost,
    feasible,
    load_profile,
    profile_from_records,
    save_profile,
    select,
)

__all__ = [
    "DEFAULT_BASELINE_TIMESTEPS",
    "Constraints",
    "InfeasibleError",
    "OperatingPoint",
    "Profile",
    "ProfileError",
    "Selection",
    "Weights",
    "cost",
    "feasible",
    "load_profile",
    "profile_from_records",
    "save_profile",
    "select",
]

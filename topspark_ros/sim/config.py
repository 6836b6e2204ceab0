"""Parameters of the simulated robot node (``sim/robot.py``), loaded from
``config/sim_robot.yaml`` like the other nodes' configs.

The camera, environments and battery are a scenario's (``ScenarioConfig``, declared there once):
``SimRobotConfig.scenario`` holds one, and its fields in ``SCENARIO_PARAMETERS`` are the node's
own flat parameters (``rate_hz``, ``width``, ``battery_capacity_wh``, ...). The scenario's other
fields keep ``SIM_SCENARIO``'s values and the robot does not use them: it shows each environment
``environment_s`` (not an equal share of ``duration_s``), its battery is the energy account of
``sim/robot.py`` (not ``battery_end`` and ``battery_noise``) and its topics are relative.

The defaults suit ``topspark demo`` on a 2-core machine running five processes: a 320x240 camera
(the 28x28 image at scale 4) at 10 Hz instead of a robot's 640x480 at 30 Hz, two environments of
60 s each, and a battery small enough (0.5 Wh) to drain visibly within those two minutes: the
demo compresses a mission of hours into minutes.

Why ``snn_energy_scale``: the network's modelled energy is microjoules per frame (~0.15 mJ at
T=350, ~0.04 mJ at T=100 in the default profile), so at 10 Hz it draws about a milliwatt, 0.1 %
of a few-watt base load: a battery curve would not show what the timestep T saves. The scale
makes that share visible (default x2000: ~3 W at T=350 and ~0.8 W at T=100 at 10 Hz, against the
3 W base load). Set it to 1 for the modelled energy as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from topspark_ros.config import nested, spec
from topspark_ros.messages import NS_PER_S
from topspark_ros.sim.scenario import ScenarioConfig

TICK_S = 0.01  # the node's worker calls ``SimRobot.tick`` this often (wiring.SIM_ROBOT)
# The ScenarioConfig fields that are sim_robot parameters.
SCENARIO_PARAMETERS = (
    "rate_hz",
    "environments",
    "width",
    "height",
    "encoding",
    "scale",
    "random_position",
    "frame_id",
    "battery_start",
    "battery_rate_hz",
    "battery_capacity_wh",
    "battery_voltage_full",
    "battery_voltage_empty",
    "battery_frame_id",
    "seed",
)
# The simulated robot's defaults: a small camera at 10 Hz, a battery that drains in the demo.
SIM_SCENARIO = ScenarioConfig(
    rate_hz=10.0, width=320, height=240, scale=4, battery_end=0.0, battery_capacity_wh=0.5
)


@dataclass(frozen=True)
class SimRobotConfig:
    """The simulated robot: camera, environments and battery (see the module docstring)."""

    scenario: ScenarioConfig = field(
        default=SIM_SCENARIO,
        metadata=nested("camera, environments and battery", SCENARIO_PARAMETERS),
    )
    environment_s: float = field(
        default=60.0,
        metadata=spec("time each environment is shown (s); the last one is then held", 0.1, 1e6),
    )
    environment_period_s: float = field(
        default=1.0,
        metadata=spec(
            "repeat the current environment name this often (s), for late subscribers; "
            "0: only at the start and at switches",
            0.0,
            3600.0,
        ),
    )
    data_dir: str = field(
        default="",
        metadata=spec("dataset directory (idx files; test split); empty: the embedded sample"),
    )
    base_load_w: float = field(
        default=3.0,
        metadata=spec(
            "power the rest of the robot draws (motors, computer, camera) (W)", 0.0, 1e5
        ),
    )
    snn_energy_scale: float = field(
        default=2000.0,
        metadata=spec(
            "factor on the SNN energy each classification reports: compresses a long mission "
            "into a short demo (1: as modelled)",
            0.0,
            1e12,
        ),
    )
    diagnostics_period_s: float = field(
        default=1.0, metadata=spec("period of /diagnostics messages (s)", 0.1, 3600.0)
    )

    @property
    def environment_ns(self) -> int:
        """How long each environment is shown (ns)."""
        return round(self.environment_s * NS_PER_S)


__all__ = ["SCENARIO_PARAMETERS", "SIM_SCENARIO", "TICK_S", "SimRobotConfig"]

"""Parameters of the simulated robot node (``sim/robot.py``), loaded from
``config/sim_robot.yaml`` like the other nodes' configs.

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

from dataclasses import dataclass, field, replace

from topspark_ros.config import spec
from topspark_ros.messages import NS_PER_S
from topspark_ros.sim.render import RENDER_ENCODINGS
from topspark_ros.sim.scenario import ScenarioConfig

TICK_S = 0.01  # the node's worker calls ``SimRobot.tick`` this often (wiring.SIM_ROBOT)


@dataclass(frozen=True)
class SimRobotConfig:
    """The simulated robot: camera, environments and battery (see the module docstring)."""

    rate_hz: float = field(
        default=10.0,
        metadata=spec("camera frame rate (Hz); the node ticks every 10 ms", 0.1, 100.0),
    )
    environments: str = field(
        default="mnist,fashion-mnist",
        metadata=spec("datasets shown in turn (comma list of mnist, fashion-mnist)"),
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
    width: int = field(default=320, metadata=spec("camera image width (px)", 1, 10_000))
    height: int = field(default=240, metadata=spec("camera image height (px)", 1, 10_000))
    encoding: str = field(
        default="bgr8", metadata=spec("camera encoding", choices=RENDER_ENCODINGS)
    )
    scale: int = field(
        default=4, metadata=spec("the 28x28 image is enlarged this many times", 1, 300)
    )
    random_position: bool = field(
        default=True, metadata=spec("place each image at a random position; false: centred")
    )
    frame_id: str = field(default="camera", metadata=spec("frame_id of the camera images"))
    battery_capacity_wh: float = field(
        default=0.5, metadata=spec("battery energy when full (Wh)", 0.001, 1e6)
    )
    battery_start: float = field(
        default=1.0, metadata=spec("battery charge fraction at the start", 0.0, 1.0)
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
    battery_rate_hz: float = field(
        default=2.0, metadata=spec("battery state rate (Hz)", 0.01, 100.0)
    )
    battery_voltage_full: float = field(
        default=12.6, metadata=spec("battery voltage when full (V); 3S LiPo", 0.1, 1000.0)
    )
    battery_voltage_empty: float = field(
        default=10.5, metadata=spec("battery voltage when empty (V)", 0.0, 1000.0)
    )
    battery_frame_id: str = field(
        default="battery", metadata=spec("frame_id of the battery states")
    )
    seed: int = field(
        default=0, metadata=spec("seed of the image order and placement", 0, 2**31 - 1)
    )
    diagnostics_period_s: float = field(
        default=1.0, metadata=spec("period of /diagnostics messages (s)", 0.1, 3600.0)
    )

    def __post_init__(self) -> None:
        # ValueError: config.from_mapping turns it into a ConfigError naming the source. The
        # scenario checks the environment names, the image size and the voltages.
        self.scenario()

    def scenario(self) -> ScenarioConfig:
        """The camera and environments as a ``ScenarioConfig`` (what ``FrameSource`` renders),
        lasting until every environment has been shown."""
        shown = ScenarioConfig(
            duration_s=self.environment_s,
            rate_hz=self.rate_hz,
            environments=self.environments,
            width=self.width,
            height=self.height,
            encoding=self.encoding,
            scale=self.scale,
            random_position=self.random_position,
            frame_id=self.frame_id,
            battery_start=self.battery_start,
            battery_end=0.0,
            battery_voltage_full=self.battery_voltage_full,
            battery_voltage_empty=self.battery_voltage_empty,
            battery_frame_id=self.battery_frame_id,
            seed=self.seed,
        )
        return replace(shown, duration_s=self.environment_s * len(shown.environment_names))

    @property
    def environment_ns(self) -> int:
        """How long each environment is shown (ns)."""
        return round(self.environment_s * NS_PER_S)

    @property
    def capacity_j(self) -> float:
        """The battery energy when full (J)."""
        return self.battery_capacity_wh * 3600.0

    @property
    def nominal_voltage(self) -> float:
        """The mean of full and empty voltage (V): converts Wh to the Ah BatteryState reports."""
        return 0.5 * (self.battery_voltage_full + self.battery_voltage_empty)


__all__ = ["TICK_S", "SimRobotConfig"]

"""Node parameters as frozen dataclasses: one class per node, loaded from ``config/<node>.yaml``.

The ROS adapters declare one ROS parameter per field (description and range from the field's
``spec`` metadata), so the YAML files, launch arguments and code share one definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from topspark_ros.config import spec
from topspark_ros.snn.params import MAX_TIMESTEPS, MIN_TIMESTEPS

RELIABILITY = ("best_effort", "reliable")


@dataclass(frozen=True)
class ImageConfig:
    """How a camera image becomes the network's 28x28 input (shared by perception and learner)."""

    roi_x: int = field(default=0, metadata=spec("ROI left column (px)", 0, 100_000))
    roi_y: int = field(default=0, metadata=spec("region of interest: top row (px)", 0, 100_000))
    roi_width: int = field(
        default=0, metadata=spec("region of interest width (px); 0: to the right edge", 0, 100_000)
    )
    roi_height: int = field(
        default=0, metadata=spec("region of interest height (px); 0: to the bottom", 0, 100_000)
    )
    invert: bool = field(
        default=False,
        metadata=spec("dark objects on a light background: invert so objects are bright"),
    )
    auto_crop: bool = field(
        default=True,
        metadata=spec("crop to the bright object and centre it in 28x28 as MNIST is"),
    )
    crop_threshold: float = field(
        default=0.25,
        metadata=spec("auto_crop: object pixels exceed this share of the brightest", 0.0, 1.0),
    )
    image_reliability: str = field(
        default="best_effort",
        metadata=spec("QoS reliability of the image subscription", choices=RELIABILITY),
    )


@dataclass(frozen=True)
class PerceptionConfig(ImageConfig):
    """The perception node: images -> classes at the commanded T."""

    model_path: str = field(
        default="", metadata=spec("model file (.npz); empty: the packaged default model")
    )
    timesteps: int = field(
        default=100,
        metadata=spec("T to run until a timestep command arrives", MIN_TIMESTEPS, MAX_TIMESTEPS),
    )
    enhance: bool = field(
        default=True, metadata=spec("apply the TopSpark enhancement rules at the commanded T")
    )
    early_exit: bool = field(
        default=False,
        metadata=spec("stop an input early once one neuron leads by early_exit_margin spikes"),
    )
    early_exit_margin: int = field(
        default=3, metadata=spec("early exit: spikes the leading neuron must be ahead", 1, 1000)
    )
    queue_size: int = field(
        default=2, metadata=spec("images waiting for the network; the oldest is dropped", 1, 100)
    )
    seed: int = field(default=0, metadata=spec("seed of the Poisson input spikes", 0, 2**31 - 1))
    diagnostics_period_s: float = field(
        default=1.0, metadata=spec("period of /diagnostics messages (s)", 0.1, 3600.0)
    )


@dataclass(frozen=True)
class TimestepManagerConfig:
    """The adaptive-timestep manager: battery and latency -> timestep command."""

    profile_path: str = field(
        default="", metadata=spec("operating-point profile YAML; empty: the packaged default")
    )
    mission_time_s: float = field(
        default=3600.0, metadata=spec("mission length the battery must last (s)", 1.0, 1e7)
    )
    battery_capacity_wh: float = field(
        default=50.0,
        metadata=spec("battery energy when BatteryState carries no capacity (Wh)", 0.001, 1e6),
    )
    base_load_w: float = field(
        default=0.0,
        metadata=spec("power the rest of the robot draws, left out of the budget (W)", 0.0, 1e5),
    )
    frame_rate_hz: float = field(
        default=30.0, metadata=spec("expected camera rate for the energy budget (Hz)", 0.01, 1e4)
    )
    nominal_max_drop: float = field(
        default=0.02,
        metadata=spec("nominal mode: accuracy drop allowed vs the profile baseline", 0.0, 1.0),
    )
    saving_below: float = field(
        default=0.5, metadata=spec("battery fraction below which saving mode starts", 0.0, 1.0)
    )
    saving_max_drop: float = field(
        default=0.05, metadata=spec("saving mode: accuracy drop allowed", 0.0, 1.0)
    )
    critical_below: float = field(
        default=0.2, metadata=spec("battery fraction below which critical mode starts", 0.0, 1.0)
    )
    critical_max_drop: float = field(
        default=0.15, metadata=spec("critical mode: accuracy drop allowed", 0.0, 1.0)
    )
    hysteresis: float = field(
        default=0.05,
        metadata=spec("battery must rise this far above a threshold to leave its mode", 0.0, 0.5),
    )
    min_dwell_s: float = field(
        default=2.0, metadata=spec("minimum time between two changes of T (s)", 0.0, 3600.0)
    )
    latency_deadline_ms: float = field(
        default=0.0, metadata=spec("latency bound per input (ms); 0: none", 0.0, 1e6)
    )
    latency_window: int = field(
        default=30,
        metadata=spec("recent results whose median measured/profile latency scales", 1, 10_000),
    )
    raise_margin: float = field(
        default=0.1,
        metadata=spec("to raise T, its energy and latency must fit within (1 - this)", 0.0, 0.9),
    )
    battery_timeout_s: float = field(
        default=5.0, metadata=spec("battery data older than this is stale (s)", 0.1, 3600.0)
    )
    fallback_timesteps: int = field(
        default=0,
        metadata=spec(
            "T on missing or stale battery data; 0: cheapest critical point", 0, MAX_TIMESTEPS
        ),
    )
    publish_period_s: float = field(
        default=1.0, metadata=spec("period of repeated timestep commands (s)", 0.05, 3600.0)
    )
    diagnostics_period_s: float = field(
        default=1.0, metadata=spec("period of /diagnostics messages (s)", 0.1, 3600.0)
    )

    def __post_init__(self) -> None:
        # ValueError: config.from_mapping turns it into a ConfigError naming the file.
        for low, high in (
            ("critical_below", "saving_below"),
            ("nominal_max_drop", "saving_max_drop"),
            ("saving_max_drop", "critical_max_drop"),
        ):
            if getattr(self, low) > getattr(self, high):
                raise ValueError(
                    f"{low} ({getattr(self, low)}) must be <= {high} ({getattr(self, high)})"
                )


@dataclass(frozen=True)
class OnlineLearnerConfig(ImageConfig):
    """The online learner: STDP on a new environment at the reduced training T."""

    model_path: str = field(
        default="", metadata=spec("initial model file (.npz); empty: the packaged default model")
    )
    checkpoint_dir: str = field(
        default="checkpoints", metadata=spec("directory of the learner's model checkpoints")
    )
    train_timesteps: int = field(
        default=100,
        metadata=spec("STDP T until a timestep command arrives", MIN_TIMESTEPS, MAX_TIMESTEPS),
    )
    enhance: bool = field(
        default=True, metadata=spec("apply the TopSpark enhancement rules at the training T")
    )
    learn_samples: int = field(
        default=500, metadata=spec("samples learnt per new environment", 1, 1_000_000)
    )
    batch_size: int = field(
        default=25, metadata=spec("samples per STDP batch between checks", 1, 10_000)
    )
    checkpoint_every: int = field(
        default=100, metadata=spec("samples between checkpoints while learning", 1, 1_000_000)
    )
    keep_checkpoints: int = field(
        default=3, metadata=spec("checkpoint files kept; older ones are deleted", 1, 1000)
    )
    plastic_fraction: float = field(
        default=0.5,
        metadata=spec("share of neurons (least used) that may learn; the rest are kept", 0.0, 1.0),
    )
    detect: bool = field(
        default=True,
        metadata=spec("detect a new environment from a drop in response evidence (novelty.py)"),
    )
    reference_window: int = field(
        default=300, metadata=spec("results forming the detector's reference", 2, 100_000)
    )
    detector_window: int = field(
        default=100, metadata=spec("recent results compared with the reference", 1, 100_000)
    )
    novelty_threshold: float = field(
        default=0.25,
        metadata=spec(
            "relative drop of mean evidence (confidence x ln(1 + top score)) that signals a new "
            "environment",
            0.0,
            1.0,
        ),
    )
    min_labelled: int = field(
        default=50,
        metadata=spec(
            "labelled samples of the environment needed (and new ones between) to re-assign "
            "labels",
            1,
            100_000,
        ),
    )
    max_labelled: int = field(
        default=1000, metadata=spec("labelled samples kept (oldest dropped)", 1, 1_000_000)
    )
    buffer_size: int = field(
        default=256,
        metadata=spec("recent images kept for learning and for pairing with labels", 1, 100_000),
    )
    seed: int = field(default=0, metadata=spec("seed of the STDP input spikes", 0, 2**31 - 1))
    diagnostics_period_s: float = field(
        default=1.0, metadata=spec("period of /diagnostics messages (s)", 0.1, 3600.0)
    )


__all__ = [
    "RELIABILITY",
    "ImageConfig",
    "OnlineLearnerConfig",
    "PerceptionConfig",
    "TimestepManagerConfig",
]

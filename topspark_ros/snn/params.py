"""All network and learning parameters in one frozen dataclass; defaults are Diehl & Cook (2015).

Units: mV, ms, Hz. The network is current-based (an input spike adds its weight to the membrane
potential), as in BindsNET's ``DiehlAndCook2015``; the inhibitory weights are therefore BindsNET's
current-based values (22.5, 17.5) rather than the original conductances (10.4, 17.0).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from topspark_ros import config
from topspark_ros.config import spec
from topspark_ros.errors import ConfigError

PRESETS = ("tuned", "fashion", "diehl-cook")
RULES = ("pair", "weight_dependent")
INHIBITIONS = ("layer", "direct")
# T, simulation steps per sample: the range every statement of it (configs, flags, commands) uses.
MIN_TIMESTEPS, MAX_TIMESTEPS = 1, 1000


@dataclass(frozen=True)
class NetworkParams:
    """Diehl & Cook network parameters; ``timesteps`` (T) x ``dt`` is the presentation time."""

    n_inputs: int = field(default=784, metadata=spec("input neurons (pixels)", 1, 100_000))
    n_neurons: int = field(default=100, metadata=spec("excitatory neurons (N)", 1, 20_000))
    timesteps: int = field(
        default=350,
        metadata=spec("simulation steps per sample (T)", MIN_TIMESTEPS, MAX_TIMESTEPS),
    )
    dt: float = field(default=1.0, metadata=spec("simulation step (ms)", 0.01, 10.0))
    input_rate: float = field(
        default=63.75, metadata=spec("Poisson rate of a 255 pixel (Hz); D&C: pixel/4", 0.0, 2000.0)
    )
    input_mean: float = field(
        default=0.0,
        metadata=spec(
            "scale each image's rates to this mean pixel value (0: raw, as D&C)", 0.0, 255.0
        ),
    )
    min_spikes: int = field(
        default=5, metadata=spec("fewer excitatory spikes than this -> present again", 0, 1000)
    )
    retry_rate_step: float = field(
        default=31.875, metadata=spec("input rate added per re-presentation (Hz)", 0.0, 2000.0)
    )
    max_retries: int = field(default=10, metadata=spec("re-presentations per sample", 0, 100))
    deadline_spike: bool = field(
        default=False,
        metadata=spec("a silent presentation ends with a spike of the neuron nearest threshold"),
    )
    early_exit_margin: int = field(
        default=0,
        metadata=spec(
            "inference: end a presentation once one neuron leads every other by this many spikes "
            "(0: off)",
            0,
            1000,
        ),
    )
    v_rest_exc: float = field(default=-65.0, metadata=spec("excitatory rest (mV)", -200.0, 0.0))
    v_reset_exc: float = field(default=-65.0, metadata=spec("excitatory reset (mV)", -200.0, 0.0))
    v_thresh_exc: float = field(
        default=-52.0, metadata=spec("excitatory threshold without theta (mV)", -200.0, 50.0)
    )
    tau_exc: float = field(
        default=100.0, metadata=spec("excitatory membrane time constant (ms)", 0.1, 1e5)
    )
    refrac_exc: float = field(default=5.0, metadata=spec("excitatory refractory (ms)", 0.0, 1e3))
    theta_plus: float = field(
        default=0.05, metadata=spec("adaptive threshold increase per spike (mV)", 0.0, 100.0)
    )
    tau_theta: float = field(
        default=1e7, metadata=spec("adaptive threshold decay time constant (ms)", 1.0, 1e12)
    )
    v_rest_inh: float = field(default=-60.0, metadata=spec("inhibitory rest (mV)", -200.0, 0.0))
    v_reset_inh: float = field(default=-45.0, metadata=spec("inhibitory reset (mV)", -200.0, 0.0))
    v_thresh_inh: float = field(
        default=-40.0, metadata=spec("inhibitory threshold (mV)", -200.0, 50.0)
    )
    tau_inh: float = field(
        default=10.0, metadata=spec("inhibitory membrane time constant (ms)", 0.1, 1e5)
    )
    refrac_inh: float = field(default=2.0, metadata=spec("inhibitory refractory (ms)", 0.0, 1e3))
    inhibition: str = field(
        default="layer",
        metadata=spec("'layer': exc->inh->exc as D&C; 'direct': exc->exc", choices=INHIBITIONS),
    )
    w_exc_inh: float = field(
        default=22.5, metadata=spec("exc -> inh one-to-one weight (mV)", 0.0, 1000.0)
    )
    w_inh_exc: float = field(
        default=17.5,
        metadata=spec("inh -> other exc weight, or direct inhibition (mV)", 0.0, 1000.0),
    )
    rule: str = field(default="pair", metadata=spec("STDP rule", choices=RULES))
    nu_pre: float = field(default=1e-4, metadata=spec("depression rate on pre spikes", 0.0, 1.0))
    nu_post: float = field(
        default=1e-2, metadata=spec("potentiation rate on post spikes", 0.0, 1.0)
    )
    tau_pre_trace: float = field(
        default=20.0, metadata=spec("presynaptic trace time constant (ms)", 0.1, 1e5)
    )
    tau_post_trace: float = field(
        default=20.0, metadata=spec("postsynaptic trace time constant (ms)", 0.1, 1e5)
    )
    w_min: float = field(default=0.0, metadata=spec("weight lower bound", -10.0, 10.0))
    w_max: float = field(default=1.0, metadata=spec("weight upper bound", -10.0, 10.0))
    norm_total: float = field(
        default=78.0, metadata=spec("sum of each neuron's input weights after a sample", 0.0, 1e6)
    )
    w_init: float = field(
        default=0.3, metadata=spec("initial weights are w_init * U(0, 1)", 0.0, 10.0)
    )

    def __post_init__(self) -> None:
        if self.w_max <= self.w_min:
            raise ValueError(f"w_max ({self.w_max}) must exceed w_min ({self.w_min})")
        if self.v_thresh_exc <= self.v_reset_exc:
            raise ValueError("v_thresh_exc must exceed v_reset_exc")

    def replace(self, **changes: object) -> NetworkParams:
        """A copy with some fields changed, validated like a loaded config."""
        merged = {**config.to_mapping(self), **changes}
        return config.from_mapping(NetworkParams, merged, "parameters")

    @property
    def duration_ms(self) -> float:
        """Presentation time of one sample in ms (T x dt)."""
        return self.timesteps * self.dt


def load_params(path: str | Path, section: str | None = "network") -> NetworkParams:
    """Load NetworkParams from a YAML file (the ``network:`` section by default)."""
    return config.load(NetworkParams, path, section)


def load_preset(name: str) -> NetworkParams:
    """A named parameter set shipped with the package (``PRESETS``): defaults plus its changes."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    ref = resources.files("topspark_ros") / "resources" / "presets" / f"{name}.yaml"
    with resources.as_file(ref) as path:
        return load_params(path)


def param_names() -> tuple[str, ...]:
    """Names of all parameters, in declaration order."""
    return tuple(f.name for f in dataclasses.fields(NetworkParams))


__all__ = [
    "INHIBITIONS",
    "MAX_TIMESTEPS",
    "MIN_TIMESTEPS",
    "PRESETS",
    "RULES",
    "NetworkParams",
    "load_params",
    "load_preset",
    "param_names",
]

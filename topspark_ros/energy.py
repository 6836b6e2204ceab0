"""Energy, latency and memory cost model: counted operations per sample -> joules.

The Numba kernels count what a sample did (``snn.layout.STAT_*``, averaged per sample in
``snn.run_stats.RunStats``). ``count_ops`` turns those counts into operations and memory accesses
(synaptic events, neuron updates, STDP updates, ...), ``EnergyModel`` prices each in picojoules
(defaults: Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014,
45 nm, 0.9 V) and ``estimate`` returns modelled joules per sample, training or inference, plus
``measured latency x platform power`` for a named platform. ``memory_bytes`` is the model's
footprint. The formulas and the table of constants are in docs/energy.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from topspark_ros import config
from topspark_ros.config import spec
from topspark_ros.snn.params import NetworkParams
from topspark_ros.snn.run_stats import RunStats

WEIGHT_STORES = ("dram", "sram")
PJ = 1e-12  # joules per picojoule
RESCALE_OPS_PAIR = 6.0  # float ops of one column rescale (see count_ops)
RESCALE_OPS_WEIGHT_DEPENDENT = 4.0

_HOROWITZ = "Horowitz ISSCC 2014"


@dataclass(frozen=True)
class OpCounts:
    """Operations and 32-bit memory accesses of one sample (means over samples, so floats).

    Compute: synaptic events (accumulations), neuron updates, post-trace updates, STDP synapse
    updates, normalisation ops and random numbers. Memory: weight and neuron-state words read and
    written. See ``count_ops`` for how each is derived from the kernel counts.
    """

    synaptic_events: float
    neuron_updates: float
    trace_updates: float
    stdp_updates: float
    normalisation_ops: float
    random_numbers: float
    weight_reads: float
    weight_writes: float
    state_reads: float
    state_writes: float

    @property
    def total_ops(self) -> float:
        """All compute operations (synaptic events to random numbers; not memory accesses)."""
        return (
            self.synaptic_events
            + self.neuron_updates
            + self.trace_updates
            + self.stdp_updates
            + self.normalisation_ops
            + self.random_numbers
        )

    @property
    def memory_accesses(self) -> float:
        """All 32-bit memory reads and writes (weights and neuron state)."""
        return self.weight_reads + self.weight_writes + self.state_reads + self.state_writes


def count_ops(params: NetworkParams, stats: RunStats, learn: bool) -> OpCounts:
    """Per-sample operations of a run with parameters ``params`` and kernel counts ``stats``.

    With N = n_neurons, S_in/S_exc/S_inh the input/exc/inh spikes, T_tot = ``stats.steps`` (all
    presentations, re-presentations included), D/P the depressions/potentiations, and for the
    lazy normalisation (``kernels`` docstring) F the weights folded, W the weights summed at
    batch start and C = ``stats.normalised`` the column rescales (N per sample); all of these
    and the trace updates are counted as zero unless ``learn``:

    - synaptic events = S_in * N (an input spike reads one weight row and adds it to N inputs)
      + lateral: layer mode S_exc (exc -> inh, one-to-one) + S_inh * (N - 1) (inh -> other exc);
      direct mode S_exc * (N - 1) (exc -> other exc);
    - neuron updates = T_tot * N excitatory, plus T_tot * N inhibitory in layer mode, plus N per
      presentation that reaches its last step silent with ``deadline_spike`` (the scan for the
      neuron nearest threshold, ``stats.deadline``);
    - trace updates = T_tot * N when learning (each exc neuron's post trace decays every step);
    - STDP updates = D + P (each also adds its change to its column's running sum);
    - normalisation ops = 3 * T_tot * N (every step multiplies each neuron's raw synaptic input
      by its column's scale and adds it, and adds the step's change of each column sum, which
      steps without STDP updates skip: an upper bound) + r * C
      (a rescale: two divisions for the scale and its reciprocal, then the raw-unit bounds and,
      for the pair rule, rates: r = 6 pair, 4 weight-dependent) + W (one add into the sum)
      + 2 * F (a multiply and an add into the sum); with ``input_mean`` > 0, n_in more per
      sample (the image's pixel sum that sets its input gain);
    - random numbers = S_in (the encoder draws one geometric gap per spike; the one closing
      draw per active pixel is ignored);
    - weight reads = S_in * N (input events; the lateral weights are one shared constant)
      + P (a potentiation reads its weight; a depression reuses the read of the input event it
      rides on, as ``stdp.depress_rows`` does) + W + F;
    - weight writes = D + P + F;
    - state reads = state writes = neuron updates + trace updates (one 32-bit word each).
    """
    n = float(params.n_neurons)
    layer = params.inhibition == "layer"
    input_events = stats.input_spikes * n
    if layer:
        lateral = stats.exc_spikes + stats.inh_spikes * (n - 1.0)
    else:
        lateral = stats.exc_spikes * (n - 1.0)
    neuron_updates = (stats.steps * (2.0 if layer else 1.0) + stats.deadline) * n
    depressions = stats.depressions if learn else 0.0
    potentiations = stats.potentiations if learn else 0.0
    folded = stats.folded if learn else 0.0
    summed = stats.summed if learn else 0.0
    rescales = stats.normalised if learn else 0.0
    pixel_sums = float(params.n_inputs) if params.input_mean > 0 else 0.0
    rescale_ops = RESCALE_OPS_PAIR if params.rule == "pair" else RESCALE_OPS_WEIGHT_DEPENDENT
    trace_updates = stats.steps * n if learn else 0.0
    scaled_inputs = stats.steps * n if learn else 0.0
    state_words = neuron_updates + trace_updates
    return OpCounts(
        synaptic_events=input_events + lateral,
        neuron_updates=neuron_updates,
        trace_updates=trace_updates,
        stdp_updates=depressions + potentiations,
        normalisation_ops=3.0 * scaled_inputs
        + rescale_ops * rescales
        + summed
        + 2.0 * folded
        + pixel_sums,
        random_numbers=stats.input_spikes,
        weight_reads=input_events + potentiations + summed + folded,
        weight_writes=depressions + potentiations + folded,
        state_reads=state_words,
        state_writes=state_words,
    )


def _pj(doc: str, default: float) -> Any:
    """A per-operation energy field in picojoules, in [0, 1e6]."""
    return field(default=default, metadata=spec(doc, 0.0, 1e6))


@dataclass(frozen=True)
class EnergyModel:
    """Energy per primitive operation (pJ) and the platform used for ``latency x power``.

    Compound operations (properties below) are built from the primitives; every default names
    its source in the field's ``doc``. Load from YAML with ``load_energy_model``.
    """

    fp_add_pj: float = _pj(f"32-bit float add (pJ); {_HOROWITZ}", 0.9)
    fp_mul_pj: float = _pj(f"32-bit float multiply (pJ); {_HOROWITZ}", 3.7)
    int_add_pj: float = _pj(f"32-bit integer add (pJ); {_HOROWITZ}", 0.1)
    int_mul_pj: float = _pj(f"32-bit integer multiply (pJ); {_HOROWITZ}", 3.1)
    compare_pj: float = _pj(f"float compare = a subtract, as float add (pJ); {_HOROWITZ}", 0.9)
    sram_read_pj: float = _pj(f"32-bit 8 KB SRAM read (pJ); 10 pJ/64 bit / 2, {_HOROWITZ}", 5.0)
    sram_write_pj: float = _pj(f"32-bit 8 KB SRAM write (pJ); = read, {_HOROWITZ}", 5.0)
    dram_pj: float = _pj(f"32-bit DRAM access (pJ); ~1.3 nJ/64 bit / 2, {_HOROWITZ}", 640.0)
    weights_in: str = field(
        default="dram",
        metadata=spec("weight store; dram: N400's 1.25 MB >> an 8 KB SRAM", choices=WEIGHT_STORES),
    )
    platform: str = field(
        default="jetson-nano-10w", metadata=spec("named platform for measured latency x power")
    )
    platform_power_w: float = field(
        default=10.0,
        metadata=spec("platform power (W); Jetson Nano's 10 W (MAXN) power mode", 0.0, 1e4),
    )

    def __post_init__(self) -> None:
        if not self.platform.strip():
            raise ValueError("platform must be a non-empty name")

    @property
    def synaptic_event_pj(self) -> float:
        """Accumulate a weight into a neuron's input: one float add (the read is memory)."""
        return self.fp_add_pj

    @property
    def neuron_update_pj(self) -> float:
        """One LIF step, v = v * d + c + I, then v > v_th: multiply, 2 adds, compare, and an
        integer add for the refractory counter."""
        return self.fp_mul_pj + 2.0 * self.fp_add_pj + self.compare_pj + self.int_add_pj

    @property
    def trace_update_pj(self) -> float:
        """Post-trace decay x *= d: one float multiply."""
        return self.fp_mul_pj

    @property
    def stdp_update_pj(self) -> float:
        """w += nu * x, clipped to [w_min, w_max], and the change (a subtraction) added to the
        column's running sum: multiply, 3 adds, compare (memory separately)."""
        return self.fp_mul_pj + 3.0 * self.fp_add_pj + self.compare_pj

    @property
    def normalisation_op_pj(self) -> float:
        """A float add or multiply (divisions priced as multiplies) at their mean cost,
        (add + multiply) / 2; about two in three ops are adds, so this errs high."""
        return 0.5 * (self.fp_add_pj + self.fp_mul_pj)

    @property
    def random_number_pj(self) -> float:
        """One xorshift64* draw: 6 shifts/xors at the int add cost + a 64-bit multiply, taken as
        4 x the 32-bit one (four 32 x 32 partial products): 13.0 pJ with the defaults."""
        return 6.0 * self.int_add_pj + 4.0 * self.int_mul_pj

    @property
    def weight_read_pj(self) -> float:
        """One 32-bit weight read from ``weights_in``."""
        return self.dram_pj if self.weights_in == "dram" else self.sram_read_pj

    @property
    def weight_write_pj(self) -> float:
        """One 32-bit weight write to ``weights_in``."""
        return self.dram_pj if self.weights_in == "dram" else self.sram_write_pj


@dataclass(frozen=True)
class EnergyEstimate:
    """Energy of one sample: modelled (compute + memory) and, if a latency was measured,
    ``latency_s x platform_power_w`` for the model's platform. Joules per sample.

    ``terms`` holds the modelled joules per term: synaptic, neuron, trace, stdp, normalisation,
    random (compute) and weight_memory, state_memory (memory).
    """

    ops: OpCounts
    learn: bool
    joules_compute: float
    joules_memory: float
    terms: dict[str, float] = field(hash=False)
    platform: str
    latency_s: float | None = None
    platform_joules: float | None = None

    @property
    def joules(self) -> float:
        """Modelled energy per sample: compute + memory."""
        return self.joules_compute + self.joules_memory

    def as_dict(self) -> dict[str, Any]:
        """A flat, YAML/JSON-friendly summary (joules, op counts, platform figures)."""
        ops = {name: getattr(self.ops, name) for name in OpCounts.__dataclass_fields__}
        return {
            "learn": self.learn,
            "joules": self.joules,
            "joules_compute": self.joules_compute,
            "joules_memory": self.joules_memory,
            "platform": self.platform,
            "latency_s": self.latency_s,
            "platform_joules": self.platform_joules,
            "ops": ops,
            "terms": dict(self.terms),
        }


COMPUTE_TERMS = ("synaptic", "neuron", "trace", "stdp", "normalisation", "random")
MEMORY_TERMS = ("weight_memory", "state_memory")


def estimate(
    params: NetworkParams,
    stats: RunStats,
    learn: bool,
    model: EnergyModel | None = None,
    latency_s: float | None = None,
) -> EnergyEstimate:
    """Joules per sample of a run (training if ``learn``, else inference).

    compute = sum over compute ops of count x its energy (``EnergyModel`` properties);
    memory = weight reads/writes x ``weight_read_pj``/``weight_write_pj``
    + state reads/writes x ``sram_read_pj``/``sram_write_pj`` (neuron state is always on chip).
    ``latency_s``: measured wall time per sample; gives ``platform_joules`` = latency x power.
    """
    model = model if model is not None else EnergyModel()
    if latency_s is not None and not latency_s >= 0.0:
        raise ValueError(f"latency_s must be >= 0, got {latency_s}")
    ops = count_ops(params, stats, learn)
    terms = {
        "synaptic": ops.synaptic_events * model.synaptic_event_pj * PJ,
        "neuron": ops.neuron_updates * model.neuron_update_pj * PJ,
        "trace": ops.trace_updates * model.trace_update_pj * PJ,
        "stdp": ops.stdp_updates * model.stdp_update_pj * PJ,
        "normalisation": ops.normalisation_ops * model.normalisation_op_pj * PJ,
        "random": ops.random_numbers * model.random_number_pj * PJ,
        "weight_memory": (
            ops.weight_reads * model.weight_read_pj + ops.weight_writes * model.weight_write_pj
        )
        * PJ,
        "state_memory": (
            ops.state_reads * model.sram_read_pj + ops.state_writes * model.sram_write_pj
        )
        * PJ,
    }
    return EnergyEstimate(
        ops=ops,
        learn=learn,
        joules_compute=sum(terms[name] for name in COMPUTE_TERMS),
        joules_memory=sum(terms[name] for name in MEMORY_TERMS),
        terms=terms,
        platform=model.platform,
        latency_s=latency_s,
        platform_joules=None if latency_s is None else latency_s * model.platform_power_w,
    )


def memory_bytes(params: NetworkParams) -> int:
    """Bytes of a network in memory: the model and the kernel's per-neuron state.

    weights float32 [n_inputs, N] + theta float32 [N] + assignments int16 [N]
    + float32 state [5, N] (exc and inh potentials, input current, post trace, threshold)
    + int32 state [6, max(N, n_inputs)] (refractory counters, spike lists, last input spike
    times, active inputs): the state any implementation keeps. The simulator's own scratch is
    not counted: the rows ``kernels.run_batch`` adds for its event-driven shortcuts (held
    potentials F_HELD, the lists I_FIRED and I_REFRACTORY), the encoder's spike buffers (sized
    for the worst case n_inputs x T), and training's lazy normalisation state (float32 [7, N]
    + float64 [N], 36 B per neuron).
    """
    n_in, n = params.n_inputs, params.n_neurons
    return 4 * n_in * n + 4 * n + 2 * n + 4 * 5 * n + 4 * 6 * max(n, n_in)


def load_energy_model(path: str | Path, section: str | None = "energy") -> EnergyModel:
    """Load an EnergyModel from YAML (the ``energy:`` section by default); raise ConfigError."""
    return config.load(EnergyModel, path, section)


def energy_model_names() -> tuple[str, ...]:
    """Names of the EnergyModel fields, in declaration order."""
    return tuple(EnergyModel.__dataclass_fields__)


__all__ = [
    "COMPUTE_TERMS",
    "MEMORY_TERMS",
    "WEIGHT_STORES",
    "EnergyEstimate",
    "EnergyModel",
    "OpCounts",
    "count_ops",
    "energy_model_names",
    "estimate",
    "load_energy_model",
    "memory_bytes",
]

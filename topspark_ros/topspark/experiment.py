"""One measured operating point: train at T, assign labels, evaluate at T, measure and model costs.

The sweep and the sensitivity analysis are loops over ``run_point``; every figure they report
comes from here: accuracy on the test samples, measured inference latency per sample, modelled
training and inference energy per sample (``topspark_ros.energy``), and model memory.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from topspark_ros.data import Dataset
from topspark_ros.energy import EnergyModel, estimate, memory_bytes
from topspark_ros.snn.network import Network, Progress
from topspark_ros.snn.params import NetworkParams
from topspark_ros.snn.training import assign, evaluate, train_epochs


@dataclass(frozen=True)
class PointSpec:
    """What to run: parameters (with T), the data sizes, epochs, seed and labels for the table."""

    params: NetworkParams
    dataset: str
    train_samples: int
    test_samples: int
    assign_samples: int = 10000
    epochs: int = 1
    seed: int = 0
    enhanced: bool = False


# The wall-clock measurements of a result (and what is derived from them): they differ between
# two runs of the same spec. Every other field is a function of the spec and the data alone.
MEASURED_FIELDS = ("latency_ms", "train_latency_ms", "train_platform_j", "infer_platform_j")


@dataclass(frozen=True)
class PointResult:
    """A row of the sweep table; energies in joules per sample, latency in ms per sample."""

    dataset: str
    n_neurons: int
    rule: str
    enhanced: bool
    timesteps: int
    accuracy: float
    latency_ms: float
    train_latency_ms: float
    train_energy_j: float
    infer_energy_j: float
    train_platform_j: float
    infer_platform_j: float
    memory_bytes: int
    train_samples: int
    test_samples: int
    epochs: int
    seed: int
    infer_input_spikes: float
    infer_exc_spikes: float
    infer_steps: float
    train_steps: float

    def as_dict(self) -> dict[str, Any]:
        """A flat dict for CSV and JSON."""
        return asdict(self)


def run_point(
    spec: PointSpec,
    train: Dataset,
    test: Dataset,
    energy: EnergyModel | None = None,
    progress: Progress | None = None,
) -> PointResult:
    """Train a fresh network at ``spec.params`` (its T), assign labels, evaluate, cost it."""
    p = spec.params
    model = energy or EnergyModel()
    train_set = train.subset(min(spec.train_samples, len(train)))
    test_set = test.subset(min(spec.test_samples, len(test)))
    net = Network.fresh(p, spec.seed)
    trained = train_epochs(net, train_set.images, spec.epochs, progress)
    n_assign = min(spec.assign_samples, len(train_set))
    assign(net, train_set.images[:n_assign], train_set.labels[:n_assign], progress)
    result = evaluate(net, test_set.images, test_set.labels, progress)
    infer = result.stats
    train_latency = trained.seconds / max(trained.samples, 1)
    infer_latency = infer.seconds / max(infer.samples, 1)
    train_cost = estimate(p, trained, True, model, train_latency)
    infer_cost = estimate(p, infer, False, model, infer_latency)
    return PointResult(
        dataset=spec.dataset,
        n_neurons=p.n_neurons,
        rule=p.rule,
        enhanced=spec.enhanced,
        timesteps=p.timesteps,
        accuracy=result.accuracy,
        latency_ms=1000.0 * infer_latency,
        train_latency_ms=1000.0 * train_latency,
        train_energy_j=train_cost.joules,
        infer_energy_j=infer_cost.joules,
        train_platform_j=train_cost.platform_joules or 0.0,
        infer_platform_j=infer_cost.platform_joules or 0.0,
        memory_bytes=memory_bytes(p),
        train_samples=len(train_set),
        test_samples=len(test_set),
        epochs=spec.epochs,
        seed=spec.seed,
        infer_input_spikes=infer.input_spikes,
        infer_exc_spikes=infer.exc_spikes,
        infer_steps=infer.steps,
        train_steps=trained.steps,
    )


__all__ = ["MEASURED_FIELDS", "PointResult", "PointSpec", "run_point"]

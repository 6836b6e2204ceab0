"""The learnt state of a network: weights, thresholds, label assignments and provenance."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from topspark_ros.snn.params import NetworkParams

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int16]


@dataclass
class ModelState:
    """Everything a model file holds.

    weights: float32 [n_inputs, n_neurons] (input-major, so one input spike reads one row);
    theta: float32 [n_neurons] adaptive threshold (mV); assignments: int16 [n_neurons], the class
    each neuron votes for (-1 = unassigned).
    """

    params: NetworkParams
    weights: FloatArray
    theta: FloatArray
    assignments: IntArray
    dataset: str = ""
    samples_seen: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n_in, n = self.params.n_inputs, self.params.n_neurons
        self.weights = np.ascontiguousarray(self.weights, dtype=np.float32)
        self.theta = np.ascontiguousarray(self.theta, dtype=np.float32)
        self.assignments = np.ascontiguousarray(self.assignments, dtype=np.int16)
        if self.weights.shape != (n_in, n):
            raise ValueError(f"weights have shape {self.weights.shape}, expected {(n_in, n)}")
        if self.theta.shape != (n,):
            raise ValueError(f"theta has shape {self.theta.shape}, expected {(n,)}")
        if self.assignments.shape != (n,):
            raise ValueError(f"assignments have shape {self.assignments.shape}, expected {(n,)}")

    @classmethod
    def initial(cls, params: NetworkParams, seed: int) -> ModelState:
        """A fresh network: weights w_init * U(0, 1), theta 0, no assignments."""
        rng = np.random.default_rng(seed)
        weights = (params.w_init * rng.random((params.n_inputs, params.n_neurons))).astype(
            np.float32
        )
        return cls(
            params=params,
            weights=weights,
            theta=np.zeros(params.n_neurons, np.float32),
            assignments=np.full(params.n_neurons, -1, np.int16),
        )

    def copy(self) -> ModelState:
        """A deep copy (arrays copied), so training one does not touch the other."""
        return ModelState(
            params=self.params,
            weights=self.weights.copy(),
            theta=self.theta.copy(),
            assignments=self.assignments.copy(),
            dataset=self.dataset,
            samples_seen=self.samples_seen,
            extra=dict(self.extra),
        )


__all__ = ["ModelState"]

"""Protection of earlier learning: only the least-used neurons may learn a new environment.

As in SpikeDyn's limited plasticity, a new environment is learnt by a subset of the excitatory
neurons while the rest keep exactly what they learnt before. The subset is the neurons used least
so far, measured by the adaptive threshold theta: every spike adds theta_plus to it and it decays
with tau_theta (1e7 ms, i.e. hardly at all), so theta is a running count of how often a neuron has
won the competition, and a neuron with a low theta holds little of what the network knows.
Learning a new environment raises the thresholds of the neurons that learn it, so the next
environment picks others.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from topspark_ros.errors import ModelError
from topspark_ros.snn.state import ModelState

Mask = npt.NDArray[np.bool_]


def least_used(theta: npt.NDArray[np.float32], fraction: float) -> Mask:
    """Mask bool [N] of the round(fraction x N) lowest-theta neurons (ties: lower index first)."""
    n = theta.shape[0]
    count = min(n, max(0, round(fraction * n)))
    mask = np.zeros(n, np.bool_)
    mask[np.argsort(theta, kind="stable")[:count]] = True
    return mask


def encode_mask(mask: Mask) -> str:
    """A neuron mask as hex text (bits packed, neuron 0 first), to store in a model's ``extra``."""
    return np.packbits(mask.astype(np.uint8)).tobytes().hex()


def decode_mask(text: str, n: int) -> Mask:
    """The mask of ``n`` neurons written by ``encode_mask``; ModelError if it does not fit."""
    try:
        packed = np.frombuffer(bytes.fromhex(text), np.uint8)
    except ValueError as err:
        raise ModelError(f"plastic-neuron mask is not hex text ({err})") from err
    if packed.size != (n + 7) // 8:
        raise ModelError(f"plastic-neuron mask holds {packed.size * 8} bits, the model has {n}")
    return np.unpackbits(packed)[:n].astype(np.bool_)


class Protection:
    """A copy of the protected neurons' weight columns and thresholds, to restore after learning.

    ``plastic``: bool [N], True for the neurons allowed to learn; the others are protected.
    """

    def __init__(self, state: ModelState, plastic: Mask) -> None:
        self.plastic = plastic.copy()
        self._protected = np.flatnonzero(~plastic)
        self._weights = state.weights[:, self._protected].copy()
        self._theta = state.theta[self._protected].copy()

    @property
    def plastic_count(self) -> int:
        """Number of neurons allowed to learn."""
        return int(self.plastic.sum())

    def restore(self, state: ModelState) -> None:
        """Put the protected neurons' weights and thresholds back, bit for bit."""
        state.weights[:, self._protected] = self._weights
        state.theta[self._protected] = self._theta


__all__ = ["Mask", "Protection", "decode_mask", "encode_mask", "least_used"]

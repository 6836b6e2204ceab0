"""Limited plasticity: the least-used neurons learn, the others are restored bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from topspark_ros.errors import ModelError
from topspark_ros.nodes.plasticity import Protection, decode_mask, encode_mask, least_used
from topspark_ros.snn.params import NetworkParams
from topspark_ros.snn.state import ModelState


def test_least_used_picks_the_lowest_thresholds() -> None:
    theta = np.array([0.3, 0.1, 0.5, 0.1, 0.0], np.float32)
    assert least_used(theta, 0.4).tolist() == [False, True, False, False, True]
    assert least_used(theta, 0.6).tolist() == [False, True, False, True, True]  # tie: index
    assert not least_used(theta, 0.0).any()
    assert least_used(theta, 1.0).all()


@pytest.mark.parametrize("n", [1, 7, 8, 9, 400])
def test_mask_text_round_trips(n: int) -> None:
    mask = np.random.default_rng(n).random(n) < 0.5
    assert np.array_equal(decode_mask(encode_mask(mask), n), mask)


def test_mask_text_of_another_size_or_not_hex_is_refused() -> None:
    with pytest.raises(ModelError, match="holds 8 bits, the model has 9"):
        decode_mask(encode_mask(np.ones(8, np.bool_)), 9)
    with pytest.raises(ModelError, match="not hex"):
        decode_mask("zz", 8)


def test_restore_puts_back_only_the_protected_neurons() -> None:
    state = ModelState.initial(NetworkParams(n_inputs=6, n_neurons=4), seed=0)
    before = state.copy()
    plastic = np.array([True, False, True, False])
    protection = Protection(state, plastic)
    state.weights += 0.5
    state.theta += 1.0
    protection.restore(state)
    assert protection.plastic_count == 2
    assert np.array_equal(state.weights[:, ~plastic], before.weights[:, ~plastic])
    assert np.array_equal(state.theta[~plastic], before.theta[~plastic])
    assert np.allclose(state.weights[:, plastic], before.weights[:, plastic] + 0.5)
    assert np.allclose(state.theta[plastic], 1.0)

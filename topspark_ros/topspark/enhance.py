"""TopSpark step 3, parameter enhancement: explicit functions of T for learning and inference.

Every rule maps a parameter's full-T value and the reduction factor r = T_ref / T (T_ref = 350
by default; r = 1 at or above it) to the value used at T. At r = 1 each rule returns its input,
so enhancing at the reference T changes nothing. The same enhanced parameters are used to train
and to infer at T. The evidence behind each rule is in docs/enhancement.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass

from topspark_ros import config
from topspark_ros.errors import ModelError
from topspark_ros.snn.params import NetworkParams

REFERENCE_TIMESTEPS = 350
BASE_PARAMS_KEY = "base_params"  # model-file ``extra`` key: the full-T parameters before the rules


@dataclass(frozen=True)
class Rule:
    """One enhancement: ``parameter`` becomes ``apply(value, r)`` at reduction factor r."""

    parameter: str
    formula: str
    why: str
    apply: Callable[[float, float], float]


def _min_spikes(value: float, r: float) -> float:
    """The re-presentation floor shrinks with the presentation time, never below one spike."""
    return float(max(1, round(value / r))) if value > 0 else value


def _nu_pre(value: float, r: float) -> float:
    """The depression rate grows with r squared, capped at the parameter's bound of 1."""
    return min(1.0, value * r * r)


def _theta_plus(value: float, r: float) -> float:
    """The adaptive threshold's step grows with r, capped at the parameter's bound of 100 mV."""
    return min(100.0, value * r)


RULES: tuple[Rule, ...] = (
    Rule(
        "min_spikes",
        "max(1, round(min_spikes / r))",
        "a sample quieter than min_spikes is presented again; with a 5-spike floor at short T "
        "most samples are presented 2-5 times and the timestep saving is lost",
        _min_spikes,
    ),
    Rule(
        "nu_pre",
        "nu_pre * r^2",
        "fewer input spikes and a shorter active window per sample weaken depression, so "
        "weights learnt at short T keep more background; depression is the learning rate "
        "the short-T accuracy is most sensitive to",
        _nu_pre,
    ),
    Rule(
        "theta_plus",
        "theta_plus * r",
        "a winner fires about r times fewer spikes per sample at short T, so theta, the "
        "homeostasis that stops a few neurons winning everything, would grow r times slower",
        _theta_plus,
    ),
)


def reduction(timesteps: int, reference: int = REFERENCE_TIMESTEPS) -> float:
    """r = reference / T, at least 1 (the rules only act below the reference T)."""
    if timesteps < 1:
        raise ValueError(f"timesteps must be >= 1, got {timesteps}")
    return max(1.0, reference / timesteps)


def enhanced_values(
    params: NetworkParams, timesteps: int, reference: int = REFERENCE_TIMESTEPS
) -> dict[str, float | int]:
    """The parameter values the rules give at ``timesteps`` from the full-T ``params``."""
    r = reduction(timesteps, reference)
    values: dict[str, float | int] = {}
    for rule in RULES:
        current = getattr(params, rule.parameter)
        value = rule.apply(float(current), r)
        values[rule.parameter] = round(value) if isinstance(current, int) else value
    return values


def enhance(
    params: NetworkParams, timesteps: int | None = None, reference: int = REFERENCE_TIMESTEPS
) -> NetworkParams:
    """``params`` at ``timesteps`` (default: params.timesteps) with every rule applied."""
    t = params.timesteps if timesteps is None else timesteps
    return params.replace(timesteps=t, **enhanced_values(params, t, reference))


def record_base(extra: MutableMapping[str, str], base: NetworkParams) -> None:
    """Store the full-T ``base`` parameters in a model's ``extra``, so it can be re-targeted."""
    extra[BASE_PARAMS_KEY] = json.dumps(config.to_mapping(base), sort_keys=True)


def recorded_base(params: NetworkParams, extra: Mapping[str, str]) -> NetworkParams:
    """The full-T parameters a model's ``extra`` records (``record_base``), sized as ``params``;
    ``params`` themselves when none is recorded. ModelError if the record is not valid."""
    if BASE_PARAMS_KEY not in extra:
        return params
    try:
        mapping = json.loads(extra[BASE_PARAMS_KEY])
    except json.JSONDecodeError as err:
        raise ModelError(f"model extra '{BASE_PARAMS_KEY}' is not JSON ({err.msg})") from err
    base = config.from_mapping(NetworkParams, mapping, f"model extra '{BASE_PARAMS_KEY}'")
    return base.replace(n_inputs=params.n_inputs, n_neurons=params.n_neurons)


__all__ = [
    "BASE_PARAMS_KEY",
    "REFERENCE_TIMESTEPS",
    "RULES",
    "Rule",
    "enhance",
    "enhanced_values",
    "record_base",
    "recorded_base",
    "reduction",
]

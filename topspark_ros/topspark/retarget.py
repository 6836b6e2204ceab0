"""The network at T: a model's parameters re-targeted to any T by the method's rules.

A model file keeps the parameters it was trained with (already enhanced for its training T) and,
when trained with the rules, the full-T base they came from (``extra``, see ``record_base``).
``Retarget`` owns what the parameters at another T depend on: those saved parameters, the base,
whether the enhancement rules apply, settings that hold at every T (a node's early-exit margin, a
command's ``--set``) and a cache of each T asked for. T's range is NetworkParams'
(``MIN_TIMESTEPS``..``MAX_TIMESTEPS``); a T commanded outside it is ignored with a warning
(``accept_timesteps``), the same policy in every node.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping

from topspark_ros.errors import ConfigError
from topspark_ros.snn.params import MAX_TIMESTEPS, MIN_TIMESTEPS, NetworkParams
from topspark_ros.topspark.enhance import enhance, record_base, recorded_base

Warn = Callable[[str, str], object]  # (kind, message): a node's rate-limited warning


class Retarget:
    """A model's parameters at any T in MIN_TIMESTEPS..MAX_TIMESTEPS, each T computed once.

    ``saved``: the parameters as in the model file; ``extra``: its extra record (the full-T base
    is read from it once, here: a bad record raises ModelError or ConfigError now, not at the
    first T). With ``enhanced`` the rules are applied to that base (else to ``saved``); without,
    only T changes. ``overrides`` (parameter name -> value, e.g. ``early_exit_margin``) are set
    last, at every T, whatever the rules give.
    """

    def __init__(
        self,
        saved: NetworkParams,
        extra: Mapping[str, str] | None = None,
        enhanced: bool = False,
        overrides: Mapping[str, object] | None = None,
    ) -> None:
        self.saved = saved
        self.enhanced = enhanced
        self.overrides = dict(overrides or {})
        self._base = recorded_base(saved, extra or {}) if enhanced else saved
        self._cache: dict[int, NetworkParams] = {}

    @property
    def base(self) -> NetworkParams:
        """The full-T parameters the rules start from (``saved`` when not enhanced)."""
        return self._base

    def at(self, timesteps: int | None = None) -> NetworkParams:
        """The parameters at ``timesteps`` (default: the saved T); ConfigError if out of range."""
        if timesteps is None:
            timesteps = self.saved.timesteps
        params = self._cache.get(timesteps)
        if params is None:
            if not in_range(timesteps):
                raise ConfigError(_outside(timesteps))
            if self.enhanced:
                params = enhance(self._base, timesteps)
            else:
                params = self.saved.replace(timesteps=timesteps)
            if self.overrides:
                params = params.replace(**self.overrides)
            self._cache[timesteps] = params
        return params

    def record(self, extra: MutableMapping[str, str]) -> None:
        """Store the base in a new model's ``extra`` when enhanced, so it can be re-targeted."""
        if self.enhanced:
            record_base(extra, self._base)


def in_range(timesteps: int) -> bool:
    """Whether ``timesteps`` is a T the network can run (MIN_TIMESTEPS..MAX_TIMESTEPS)."""
    return MIN_TIMESTEPS <= timesteps <= MAX_TIMESTEPS


def _outside(timesteps: int, what: str = "T") -> str:
    """Why ``timesteps`` cannot be used: 'T=0 not in 1..1000'."""
    return f"{what}={timesteps} not in {MIN_TIMESTEPS}..{MAX_TIMESTEPS}"


def accept_timesteps(timesteps: int, warn: Warn, what: str = "T") -> bool:
    """The nodes' policy for a commanded T: True when it is in range; else one ``warn`` (the
    node's rate-limited warning) saying the command's ``what`` is ignored, and False."""
    if in_range(timesteps):
        return True
    warn(f"command {what}", f"timestep command ignored: {_outside(timesteps, what)}")
    return False


__all__ = ["Retarget", "Warn", "accept_timesteps", "in_range"]

"""The network object: owns the model state and a seed, runs the Numba kernels."""

from __future__ import annotations

import math
from collections.abc import Callable

import numba
import numpy as np
import numpy.typing as npt

from topspark_ros.snn import kernels as kn
from topspark_ros.snn import layout
from topspark_ros.snn.encoding import spike_probability_scale
from topspark_ros.snn.params import INHIBITIONS, RULES, NetworkParams
from topspark_ros.snn.run_stats import SampleStats
from topspark_ros.snn.state import ModelState

Progress = Callable[[int], None]


def pack_constants(p: NetworkParams) -> npt.NDArray[np.float64]:
    """The kernel constants (decay factors per step, thresholds, rates) for parameters ``p``."""
    k = np.zeros(layout.K_SIZE, np.float64)
    k[layout.K_DEC_EXC] = math.exp(-p.dt / p.tau_exc)
    k[layout.K_DEC_INH] = math.exp(-p.dt / p.tau_inh)
    k[layout.K_DEC_PRE] = math.exp(-p.dt / p.tau_pre_trace)
    k[layout.K_DEC_POST] = math.exp(-p.dt / p.tau_post_trace)
    k[layout.K_DEC_THETA] = math.exp(-p.duration_ms / p.tau_theta)
    k[layout.K_REST_E] = p.v_rest_exc
    k[layout.K_RESET_E] = p.v_reset_exc
    k[layout.K_THRESH_E] = p.v_thresh_exc
    k[layout.K_REST_I] = p.v_rest_inh
    k[layout.K_RESET_I] = p.v_reset_inh
    k[layout.K_THRESH_I] = p.v_thresh_inh
    k[layout.K_REF_E] = math.ceil(p.refrac_exc / p.dt - 1e-9)
    k[layout.K_REF_I] = math.ceil(p.refrac_inh / p.dt - 1e-9)
    k[layout.K_THETA_PLUS] = p.theta_plus
    k[layout.K_W_EI] = p.w_exc_inh
    k[layout.K_W_IE] = p.w_inh_exc
    k[layout.K_NU_PRE] = p.nu_pre
    k[layout.K_NU_POST] = p.nu_post
    k[layout.K_W_MIN] = p.w_min
    k[layout.K_W_MAX] = p.w_max
    k[layout.K_NORM] = p.norm_total
    k[layout.K_P_SCALE] = spike_probability_scale(p.input_rate, p.dt)
    k[layout.K_P_RETRY] = spike_probability_scale(p.retry_rate_step, p.dt)
    k[layout.K_MIN_SPIKES] = p.min_spikes
    k[layout.K_MAX_RETRIES] = p.max_retries
    k[layout.K_RULE] = RULES.index(p.rule)
    k[layout.K_INHIB] = INHIBITIONS.index(p.inhibition)
    k[layout.K_DEADLINE] = 1.0 if p.deadline_spike else 0.0
    k[layout.K_INPUT_MEAN] = p.input_mean
    k[layout.K_EXIT_MARGIN] = p.early_exit_margin
    return k


def flatten_images(images: npt.ArrayLike, n_inputs: int) -> npt.NDArray[np.uint8]:
    """Images [B, 28, 28] or [B, 784] uint8 as a C-contiguous [B, n_inputs] array."""
    arr = np.asarray(images)
    if arr.dtype != np.uint8:
        raise ValueError(f"images must be uint8, got {arr.dtype}")
    flat = np.ascontiguousarray(arr.reshape(arr.shape[0], -1))
    if flat.shape[1] != n_inputs:
        raise ValueError(f"images have {flat.shape[1]} pixels, the network expects {n_inputs}")
    return flat


class Network:
    """A Diehl & Cook network bound to a model state; deterministic for a given seed.

    ``train`` applies STDP (unsupervised); ``respond`` only infers, returning spike counts.
    The state's parameters, including T, may be swapped with ``set_params`` between calls.
    The i-th sample it is given (counting from 0 over all calls) draws its input spikes from
    stream i of ``seed`` (``rng.seed_sample``): however calls are batched, and on however many
    threads ``respond`` runs, the results are the same. ``first_sample`` continues a run: the
    first sample given is stream ``first_sample``.
    """

    def __init__(self, state: ModelState, seed: int = 0, first_sample: int = 0) -> None:
        self.state = state
        self._seed = int(seed) % 2**63
        self._presented = first_sample  # the next sample's stream index
        self._k = pack_constants(state.params)

    @classmethod
    def fresh(cls, params: NetworkParams, seed: int = 0) -> Network:
        """A new untrained network with initial weights drawn from ``seed``."""
        return cls(ModelState.initial(params, seed), seed)

    @property
    def params(self) -> NetworkParams:
        """The parameters in force."""
        return self.state.params

    def set_params(self, params: NetworkParams) -> None:
        """Change parameters (e.g. T or enhanced values) keeping weights; sizes must match."""
        old = self.state.params
        if (params.n_inputs, params.n_neurons) != (old.n_inputs, old.n_neurons):
            raise ValueError("set_params cannot change the network size")
        self.state.params = params
        self._k = pack_constants(params)

    def _run(
        self, images: npt.ArrayLike, learn: bool, batch: int, progress: Progress | None
    ) -> tuple[npt.NDArray[np.int32], SampleStats]:
        p = self.state.params
        flat = flatten_images(images, p.n_inputs)
        counts = np.zeros((flat.shape[0], p.n_neurons), np.int32)
        stats = np.zeros((flat.shape[0], layout.STAT_SIZE), np.int64)
        state = self.state
        for start in range(0, flat.shape[0], batch):
            stop = min(start + batch, flat.shape[0])
            first = self._presented + start
            threads = min(numba.get_num_threads(), stop - start)
            batch_in = (flat[start:stop], state.weights, state.theta, self._k, p.timesteps)
            batch_out = (counts[start:stop], stats[start:stop])
            if learn or threads == 1:  # one thread: no parallel region, no idle pool threads
                kn.run_batch(*batch_in, learn, self._seed, first, *batch_out)
            else:
                kn.infer_batch(*batch_in, self._seed, first, *batch_out, threads)
            if progress is not None:
                progress(stop - start)
        self._presented += flat.shape[0]
        if learn:
            self.state.samples_seen += flat.shape[0]
        return counts, SampleStats.from_array(stats)

    def train(
        self, images: npt.ArrayLike, batch: int = 250, progress: Progress | None = None
    ) -> tuple[npt.NDArray[np.int32], SampleStats]:
        """Present images with STDP on; return spike counts [B, N] and what each sample did."""
        return self._run(images, True, batch, progress)

    def respond(
        self, images: npt.ArrayLike, batch: int = 1000, progress: Progress | None = None
    ) -> tuple[npt.NDArray[np.int32], SampleStats]:
        """Present images, learning off; return spike counts [B, N] and what each sample did."""
        return self._run(images, False, batch, progress)


__all__ = ["Network", "flatten_images", "pack_constants"]

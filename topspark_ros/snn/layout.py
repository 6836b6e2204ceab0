"""The kernels' array types and the index names of their packed arrays (constants, state, stats).

The kernels take their constants as one float64 array indexed by ``K_*`` (built by
``network.pack_constants``), keep per-neuron state in 2-D arrays whose rows are named here, and
count their work into an int64 array indexed by ``STAT_*``: their signatures stay short and
Numba sees every index as a compile-time constant.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]

K_DEC_EXC = 0  # per-step membrane decay factor, excitatory
K_DEC_INH = 1  # per-step membrane decay factor, inhibitory
K_DEC_PRE = 2  # per-step presynaptic trace decay
K_DEC_POST = 3  # per-step postsynaptic trace decay
K_DEC_THETA = 4  # theta decay over one presentation (learning only)
K_REST_E = 5
K_RESET_E = 6
K_THRESH_E = 7
K_REST_I = 8
K_RESET_I = 9
K_THRESH_I = 10
K_REF_E = 11  # refractory period in steps
K_REF_I = 12
K_THETA_PLUS = 13
K_W_EI = 14
K_W_IE = 15
K_NU_PRE = 16
K_NU_POST = 17
K_W_MIN = 18
K_W_MAX = 19
K_NORM = 20
K_P_SCALE = 21  # spike probability per step per unit pixel value
K_P_RETRY = 22  # added to K_P_SCALE per re-presentation
K_MIN_SPIKES = 23
K_MAX_RETRIES = 24
K_RULE = 25  # 0 pair STDP, 1 weight-dependent STDP
K_INHIB = 26  # 0 inhibitory layer, 1 direct lateral inhibition
K_DEADLINE = 27  # 1: a silent presentation ends with a spike from the neuron nearest threshold
K_INPUT_MEAN = 28  # > 0: each image's drive is scaled to this mean pixel value
K_EXIT_MARGIN = (
    29  # > 0, inference only: stop once one neuron leads all others by this many spikes
)
K_SIZE = 30

RULE_PAIR = 0
RULE_WEIGHT_DEPENDENT = 1
INHIB_LAYER = 0
INHIB_DIRECT = 1

STAT_INPUT_SPIKES = 0
STAT_EXC_SPIKES = 1
STAT_INH_SPIKES = 2
STAT_STEPS = 3  # steps simulated (fewer than T x presentations after an early exit)
STAT_PRESENTATIONS = 4
STAT_DEPRESSIONS = 5  # synapse updates by presynaptic (depression) STDP
STAT_POTENTIATIONS = 6  # synapse updates by postsynaptic (potentiation) STDP
STAT_NORMALISED = 7  # column rescales of the lazy normalisation (N per learning sample)
STAT_FOLDED = 8  # weights rescaled in place by fold_scales (read, multiply, write, add to sum)
STAT_SUMMED = 9  # weights read into the column sums at the start of a learning batch
STAT_DEADLINE = 10  # presentations that reached their last step silent (one argmax over N)
STAT_SIZE = 11

# Rows of the per-column lazy normalisation state, float32 [L_SIZE, N] (learning only).
L_SCALE = 0  # effective weight = raw weight x scale
L_LO = 1  # w_min / scale: the lower bound in raw units
L_HI = 2  # w_max / scale: the upper bound in raw units
L_AMP_PRE = 3  # post trace on a spike: nu_pre / scale (pair) or nu_pre (weight-dependent)
L_AMP_POST = 4  # potentiation rate: nu_post / scale (pair) or nu_post (weight-dependent)
L_SYN = 5  # scratch: this step's raw synaptic input, times scale when integrated
L_DELTA = 6  # this step's change of the raw column sums (moved to colsum after the step)
L_SIZE = 7

# Rows of a presentation's scratch: float32 [F_SIZE, N] and int32 [I_SIZE, max(N, n_in)].
F_V_EXC = 0  # excitatory membrane potentials
F_V_INH = 1  # inhibitory membrane potentials
F_CURRENT = 2  # next step's inhibition, plus the synaptic input when not learning
F_X_POST = 3  # post traces (learning), times each neuron's L_AMP_PRE
F_V_TH = 4  # excitatory thresholds, v_thresh + theta
F_HELD = 5  # the potentials of the refractory exc neurons (as listed in I_REFRACTORY)
F_SIZE = 6
I_REF_EXC = 0  # refractory steps left, excitatory
I_REF_INH = 1  # refractory steps left, inhibitory
I_EXC_SPIKES = 2  # the previous step's exc spikes (neuron indices)
I_INH_SPIKES = 3  # the previous step's inh spikes (neuron indices)
I_LAST_PRE = 4  # per input: the step of its last spike, -1 before its first
I_ACTIVE = 5  # the inputs that fired this presentation, in order of their first spike
I_FIRED = 6  # the exc neurons that fired this presentation, in order of their first spike
I_REFRACTORY = 7  # the refractory exc neurons (refractory counter > 0), in no set order
I_SIZE = 8

SCALE_MIN = 1e-3  # a scale outside [SCALE_MIN, SCALE_MAX] is folded into w at once
SCALE_MAX = 1e3

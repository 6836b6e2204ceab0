"""The SNN core: Diehl & Cook network, Poisson encoding, STDP, labelling, training, model files.

Import the modules themselves (``snn.network``, ``snn.params`` ...): this face loads nothing, so
reading a parameter bound does not load numba."""

"""The SNN core: Diehl & Cook network, Poisson encoding, STDP, labelling, training, model files."""

from topspark_ros.snn.labelling import accuracy, assign_labels, predict
from topspark_ros.snn.model_io import FORMAT_VERSION, load_model, save_model
from topspark_ros.snn.network import Network
from topspark_ros.snn.params import INHIBITIONS, RULES, NetworkParams, load_params
from topspark_ros.snn.run_stats import RunStats, SampleStats
from topspark_ros.snn.state import ModelState
from topspark_ros.snn.training import EvalResult, assign, evaluate, train_epochs

__all__ = [
    "FORMAT_VERSION",
    "INHIBITIONS",
    "RULES",
    "EvalResult",
    "ModelState",
    "Network",
    "NetworkParams",
    "RunStats",
    "SampleStats",
    "accuracy",
    "assign",
    "assign_labels",
    "evaluate",
    "load_model",
    "load_params",
    "predict",
    "save_model",
    "train_epochs",
]

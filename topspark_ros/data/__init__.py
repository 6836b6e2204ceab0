"""Datasets (IDX files, data directories, embedded sample, download) and image preprocessing."""

from topspark_ros.data.datasets import (
    DATASETS,
    SPLITS,
    Dataset,
    load_dataset,
    resolve_data_dir,
    user_cache_dir,
)
from topspark_ros.data.download import MIRRORS, download_dataset
from topspark_ros.data.idx import read_idx, write_idx
from topspark_ros.data.preprocess import ENCODINGS, preprocess
from topspark_ros.data.sample import load_data, load_sample, make_sample, sample_meta

__all__ = [
    "DATASETS",
    "ENCODINGS",
    "MIRRORS",
    "SPLITS",
    "Dataset",
    "download_dataset",
    "load_data",
    "load_dataset",
    "load_sample",
    "make_sample",
    "preprocess",
    "read_idx",
    "resolve_data_dir",
    "sample_meta",
    "user_cache_dir",
    "write_idx",
]

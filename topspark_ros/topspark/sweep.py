"""TopSpark step 1, timestep impact: accuracy, latency and energy against T, saved as files.

A sweep is the grid (network size x learning rule x T) of ``run_point`` results for one dataset,
independent runs (serial or on Dask, ``runs``); it writes ``sweep.csv``, ``sweep.json`` and plots
of accuracy and energy against T.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path

from topspark_ros.data import Dataset
from topspark_ros.energy import EnergyModel
from topspark_ros.snn.params import NetworkParams
from topspark_ros.topspark.enhance import enhance
from topspark_ros.topspark.experiment import PointResult, PointSpec, run_point
from topspark_ros.topspark.outputs import pyplot, save_figure, write_rows
from topspark_ros.topspark.runs import Batch, Runner

DEFAULT_TIMESTEPS = (350, 250, 200, 150, 100, 80, 60, 40, 30, 20)


def sweep_specs(
    base: NetworkParams,
    dataset: str,
    sizes: Sequence[int],
    rules: Sequence[str],
    timesteps: Sequence[int],
    train_samples: int,
    test_samples: int,
    epochs: int = 1,
    seed: int = 0,
    enhanced: bool = False,
) -> list[PointSpec]:
    """One spec per (N, rule, T): a fresh network trained and evaluated at that T, with the
    enhancement rules applied at T when ``enhanced``."""

    def at(n: int, rule: str, t: int) -> NetworkParams:
        params = base.replace(n_neurons=n, rule=rule, timesteps=t)
        return enhance(params) if enhanced else params

    return [
        PointSpec(
            params=at(n, rule, t),
            dataset=dataset,
            train_samples=train_samples,
            test_samples=test_samples,
            epochs=epochs,
            seed=seed,
            enhanced=enhanced,
        )
        for n in sizes
        for rule in rules
        for t in timesteps
    ]


def submit_sweep(
    runner: Runner,
    specs: Sequence[PointSpec],
    train: Dataset,
    test: Dataset,
    energy: EnergyModel | None = None,
) -> Batch[PointResult]:
    """Hand every spec to ``runner`` (the datasets reach each worker once)."""
    return runner.submit(run_point, specs, (train, test, energy))


def run_sweep(
    specs: Sequence[PointSpec],
    train: Dataset,
    test: Dataset,
    energy: EnergyModel | None = None,
    on_result: Callable[[int, PointResult], None] | None = None,
    runner: Runner | None = None,
) -> list[PointResult]:
    """Run every spec on ``runner`` (serially when None); the results in spec order.
    ``on_result(index, row)`` sees each row as it completes (in any order on a cluster)."""
    return submit_sweep(runner or Runner(), specs, train, test, energy).results(on_result)


def write_results(out_dir: Path, results: Sequence[PointResult]) -> list[Path]:
    """Write sweep.csv and sweep.json (atomically) and the two plots; return the paths."""
    names = [f.name for f in fields(PointResult)]
    tables = write_rows(out_dir, "sweep", names, [r.as_dict() for r in results])
    return [*tables, *plot_results(out_dir, results)]


def _series(results: Sequence[PointResult]) -> dict[str, list[PointResult]]:
    """Results grouped by curve label (N, rule, enhanced), each sorted by T."""
    groups: dict[str, list[PointResult]] = {}
    for r in results:
        label = f"N{r.n_neurons} {r.rule}" + (" enhanced" if r.enhanced else "")
        groups.setdefault(label, []).append(r)
    return {k: sorted(v, key=lambda r: r.timesteps) for k, v in groups.items()}


def plot_results(out_dir: Path, results: Sequence[PointResult]) -> list[Path]:
    """PNG plots: accuracy vs T, and modelled training/inference energy vs T."""
    plt = pyplot()
    series = _series(results)
    dataset = results[0].dataset if results else ""
    paths = []
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, rs in series.items():
        ax.plot([r.timesteps for r in rs], [100 * r.accuracy for r in rs], "o-", label=label)
    ax.set(xlabel="timesteps T", ylabel="test accuracy (%)", title=f"{dataset}: accuracy vs T")
    ax.grid(True, alpha=0.3)
    ax.legend()
    paths.append(save_figure(fig, out_dir / "accuracy_vs_t.png"))
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, rs in series.items():
        t = [r.timesteps for r in rs]
        ax.plot(t, [1e6 * r.train_energy_j for r in rs], "o-", label=f"{label} train")
        ax.plot(t, [1e6 * r.infer_energy_j for r in rs], "s--", label=f"{label} infer")
    ax.set(xlabel="timesteps T", ylabel="modelled energy (uJ/sample)", title=f"{dataset}: energy")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    paths.append(save_figure(fig, out_dir / "energy_vs_t.png"))
    return paths


__all__ = [
    "DEFAULT_TIMESTEPS",
    "plot_results",
    "run_sweep",
    "submit_sweep",
    "sweep_specs",
    "write_results",
]

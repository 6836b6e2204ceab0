"""TopSpark step 2, parameter significance: one-at-a-time perturbation of neuron and learning
parameters at chosen T, ranked by the change in test accuracy.

Each perturbation scales one parameter (``SCALES``, e.g. x0.5 and x2) in a fresh network trained
and evaluated at that T; impact = the largest absolute accuracy change from the unperturbed run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from topspark_ros.data import Dataset
from topspark_ros.io_utils import atomic_write_bytes
from topspark_ros.snn.params import NetworkParams
from topspark_ros.topspark.experiment import PointSpec, run_point
from topspark_ros.topspark.outputs import pyplot, save_figure, write_rows
from topspark_ros.topspark.runs import Collected, Runner

PARAMETERS = (
    "v_thresh_exc",
    "theta_plus",
    "tau_exc",
    "v_reset_exc",
    "refrac_exc",
    "input_rate",
    "w_inh_exc",
    "nu_pre",
    "nu_post",
    "min_spikes",
)
SCALES = (0.5, 2.0)


@dataclass(frozen=True)
class Perturbation:
    """One run: ``parameter`` scaled by ``scale`` at ``timesteps``, and its accuracy change."""

    timesteps: int
    parameter: str
    scale: float
    value: float
    accuracy: float
    delta: float


def perturbed(params: NetworkParams, name: str, scale: float) -> NetworkParams:
    """``params`` with one field scaled; the threshold scales its distance above rest and the
    reset its distance below the threshold (the reset is often equal to rest)."""
    value = getattr(params, name)
    if name == "v_thresh_exc":
        new = params.v_rest_exc + (value - params.v_rest_exc) * scale
    elif name == "v_reset_exc":
        new = params.v_thresh_exc - (params.v_thresh_exc - value) * scale
    elif isinstance(value, int):
        new = max(round(value * scale), 0)
    else:
        new = value * scale
    return params.replace(**{name: new})


class SensitivityRuns(Collected[Perturbation]):
    """The runs of a sensitivity analysis, handed to a runner: for each T the unperturbed network,
    then every parameter at every scale. Iterating yields ``(index, row)`` as rows become known
    (a row needs its run and its T's unperturbed run); ``finished()`` gives the known rows in
    order, ``results()`` waits for all."""

    def __init__(
        self,
        runner: Runner,
        base: NetworkParams,
        dataset: str,
        train: Dataset,
        test: Dataset,
        timesteps: Sequence[int],
        parameters: Sequence[str] = PARAMETERS,
        scales: Sequence[float] = SCALES,
        seed: int = 0,
    ) -> None:
        super().__init__()
        # (T, parameter, scale, params); the parameter is None for a T's unperturbed run.
        self._cases: list[tuple[int, str | None, float, NetworkParams]] = []
        for t in timesteps:
            ref = base.replace(timesteps=t)
            self._cases.append((t, None, 1.0, ref))
            for name in parameters:
                for scale in scales:
                    self._cases.append((t, name, scale, perturbed(ref, name, scale)))
        specs = [PointSpec(p, dataset, len(train), len(test), seed=seed) for *_, p in self._cases]
        self._batch = runner.submit(run_point, specs, (train, test))
        self._refs = {t: i for i, (t, name, _, _) in enumerate(self._cases) if name is None}
        # Case index -> row index, for the perturbed cases.
        self._rows = {
            i: k for k, i in enumerate(i for i, c in enumerate(self._cases) if c[1] is not None)
        }

    def __len__(self) -> int:
        return len(self._rows)

    def collect(self) -> None:
        """Record every run finished by now and every row they complete (``Batch.collect``)."""
        self._batch.collect()
        for case, row_index in self._rows.items():
            row = self._row(case)
            if row is not None:
                self.done.setdefault(row_index, row)

    def _row(self, case: int) -> Perturbation | None:
        t, name, scale, p = self._cases[case]
        ref, run = self._batch.done.get(self._refs[t]), self._batch.done.get(case)
        if name is None or ref is None or run is None:
            return None
        value = float(getattr(p, name))
        return Perturbation(t, name, scale, value, run.accuracy, run.accuracy - ref.accuracy)

    def __iter__(self) -> Iterator[tuple[int, Perturbation]]:
        for case, _ in self._batch:
            t = self._cases[case][0]
            ready = [case] if self._cases[case][1] is not None else []
            if case == self._refs[t]:  # its T's rows that waited for it
                ready = [i for i in self._rows if self._cases[i][0] == t]
            for i in ready:
                row = self._row(i)
                if row is not None and self._rows[i] not in self.done:
                    self.done[self._rows[i]] = row
                    yield self._rows[i], row


def run_sensitivity(
    base: NetworkParams,
    dataset: str,
    train: Dataset,
    test: Dataset,
    timesteps: Sequence[int],
    parameters: Sequence[str] = PARAMETERS,
    scales: Sequence[float] = SCALES,
    seed: int = 0,
    on_result: Callable[[int, Perturbation], None] | None = None,
    runner: Runner | None = None,
) -> list[Perturbation]:
    """For each T: the unperturbed accuracy, then every parameter at every scale, on ``runner``
    (serially when None); the rows in that order. ``on_result(index, row)`` sees each row as it
    becomes known."""
    runs = SensitivityRuns(
        runner or Runner(), base, dataset, train, test, timesteps, parameters, scales, seed
    )
    return runs.results(on_result)


def ranking(results: Sequence[Perturbation], timesteps: int) -> list[tuple[str, float]]:
    """Parameters at one T by impact (largest absolute accuracy change), most significant first."""
    impact: dict[str, float] = {}
    for r in results:
        if r.timesteps == timesteps:
            impact[r.parameter] = max(impact.get(r.parameter, 0.0), abs(r.delta))
    return sorted(impact.items(), key=lambda kv: -kv[1])


def write_sensitivity(out_dir: Path, results: Sequence[Perturbation]) -> list[Path]:
    """sensitivity.csv, sensitivity.json, a ranked table (ranking.md) and a heat-map PNG."""
    names = [f.name for f in fields(Perturbation)]
    paths = write_rows(out_dir, "sensitivity", names, [asdict(r) for r in results])
    steps = sorted({r.timesteps for r in results}, reverse=True)
    lines = ["# Parameter significance (max |accuracy change| over scales, points)", ""]
    for t in steps:
        lines += [f"## T={t}", "", "| rank | parameter | impact (points) |", "|---|---|---|"]
        for i, (name, impact) in enumerate(ranking(results, t), 1):
            lines.append(f"| {i} | {name} | {100 * impact:.2f} |")
        lines.append("")
    paths.append(atomic_write_bytes(out_dir / "ranking.md", "\n".join(lines).encode()))
    paths.append(_heatmap(out_dir / "sensitivity.png", results, steps))
    return paths


def _heatmap(path: Path, results: Sequence[Perturbation], steps: Sequence[int]) -> Path:
    """Heat map: parameters (rows) x T (columns), colour = impact in accuracy points."""
    import numpy as np

    plt = pyplot()
    names = [n for n, _ in ranking(results, steps[0])] if steps else []
    grid = np.zeros((len(names), len(steps)))
    for j, t in enumerate(steps):
        impact = dict(ranking(results, t))
        for i, n in enumerate(names):
            grid[i, j] = 100 * impact.get(n, 0.0)
    fig, ax = plt.subplots(figsize=(1.2 * len(steps) + 3, 0.4 * len(names) + 1.5))
    image = ax.imshow(grid, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(steps)), [f"T={t}" for t in steps])
    ax.set_yticks(range(len(names)), names)
    for i in range(len(names)):
        for j in range(len(steps)):
            ax.text(j, i, f"{grid[i, j]:.1f}", ha="center", va="center", color="w", fontsize=8)
    fig.colorbar(image, ax=ax, label="max |accuracy change| (points)")
    ax.set_title("parameter significance")
    return save_figure(fig, path)


__all__ = [
    "PARAMETERS",
    "SCALES",
    "Perturbation",
    "SensitivityRuns",
    "perturbed",
    "ranking",
    "run_sensitivity",
    "write_sensitivity",
]

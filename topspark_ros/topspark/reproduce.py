"""``topspark reproduce``: the four method steps end to end, and the paper's claims as tables.

Step 1 sweeps T without and with enhancement, step 2 ranks parameter significance at the
reference and the reduced T, step 3 trains and evaluates every (dataset, N, rule) at the
reference T, at the reduced T with enhancement and at the reduced T without it (the claims),
step 4 builds the operating-point profile from the enhanced sweep and selects from it. Every
step's files land under one output directory; ``report.render`` writes report.md from them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from topspark_ros.data import Dataset
from topspark_ros.energy import EnergyModel
from topspark_ros.snn.params import NetworkParams
from topspark_ros.topspark.enhance import REFERENCE_TIMESTEPS, enhance
from topspark_ros.topspark.experiment import PointResult, PointSpec, run_point
from topspark_ros.topspark.outputs import write_rows
from topspark_ros.topspark.profile import Profile, profile_from_records, save_profile
from topspark_ros.topspark.runs import Batch, Collected, Runner
from topspark_ros.topspark.sensitivity import Perturbation, SensitivityRuns, write_sensitivity
from topspark_ros.topspark.sweep import submit_sweep, sweep_specs, write_results
from topspark_ros.topspark.tradeoff import Constraints, InfeasibleError, Selection, select

Loader = Callable[[str, str, int], Dataset]
Log = Callable[[str], None]


@dataclass(frozen=True)
class Plan:
    """What a reproduction runs; ``quick()`` and ``full()`` are the two shipped plans.

    The claims are means over ``seeds``; the sweep and sensitivity steps run once, with the
    first seed.
    """

    datasets: tuple[str, ...]
    sizes: tuple[int, ...]
    rules: tuple[str, ...]
    short_t: int
    claim_train: int
    claim_test: int
    sweep_size: int
    sweep_timesteps: tuple[int, ...]
    sweep_train: int
    sweep_test: int
    sensitivity_train: int
    sensitivity_test: int
    seeds: tuple[int, ...] = (0,)
    reference_t: int = REFERENCE_TIMESTEPS

    def __post_init__(self) -> None:
        if not self.seeds or len(set(self.seeds)) != len(self.seeds) or min(self.seeds) < 0:
            raise ValueError(f"seeds must be distinct non-negative integers, got {self.seeds}")

    @property
    def seed(self) -> int:
        """The seed of the single-run steps (sweep, sensitivity): the first of ``seeds``."""
        return self.seeds[0]

    @classmethod
    def full(cls) -> Plan:
        """The paper's grid on the full datasets: under an hour on two cores."""
        return cls(
            datasets=("mnist", "fashion-mnist"),
            sizes=(100, 400),
            rules=("pair", "weight_dependent"),
            short_t=90,
            claim_train=60000,
            claim_test=10000,
            sweep_size=100,
            sweep_timesteps=(350, 250, 200, 150, 100, 80, 60, 40, 30, 20),
            sweep_train=20000,
            sweep_test=10000,
            sensitivity_train=10000,
            sensitivity_test=2000,
            seeds=(0, 1, 2),
        )

    @classmethod
    def quick(cls) -> Plan:
        """A smoke run on the embedded samples: every step and file, in a minute or two."""
        return cls(
            datasets=("mnist", "fashion-mnist"),
            sizes=(30,),
            rules=("pair", "weight_dependent"),
            short_t=90,
            claim_train=1000,
            claim_test=300,
            sweep_size=30,
            sweep_timesteps=(350, 150, 90, 40),
            sweep_train=600,
            sweep_test=200,
            sensitivity_train=400,
            sensitivity_test=150,
            seeds=(0, 1),
        )


@dataclass(frozen=True)
class Claim:
    """One (dataset, N, rule): per seed, the reference run and the reduced-T runs with/without
    rules. Accuracies, latencies and energies are means over the seeds, so one unlucky
    initialisation does not decide the verdict; the worst seed is reported beside the mean."""

    baseline: tuple[PointResult, ...]
    enhanced: tuple[PointResult, ...]
    plain: tuple[PointResult, ...]

    def __post_init__(self) -> None:
        if not self.baseline or not len(self.baseline) == len(self.enhanced) == len(self.plain):
            raise ValueError("a claim needs the same non-zero number of runs of each kind")

    @property
    def seeds(self) -> tuple[int, ...]:
        """The seeds the runs used, in order."""
        return tuple(r.seed for r in self.baseline)

    @property
    def baseline_accuracy(self) -> float:
        """Mean test accuracy at the reference T (0-1)."""
        return _mean(self.baseline, "accuracy")

    @property
    def enhanced_accuracy(self) -> float:
        """Mean test accuracy at the reduced T with the rules (0-1)."""
        return _mean(self.enhanced, "accuracy")

    @property
    def plain_accuracy(self) -> float:
        """Mean test accuracy at the reduced T without the rules (0-1)."""
        return _mean(self.plain, "accuracy")

    @property
    def accuracy_drop(self) -> float:
        """Baseline minus enhanced mean accuracy, in percentage points."""
        return 100.0 * (self.baseline_accuracy - self.enhanced_accuracy)

    @property
    def seed_drops(self) -> tuple[float, ...]:
        """Baseline minus enhanced accuracy of each seed, in percentage points."""
        return tuple(
            100.0 * (b.accuracy - e.accuracy)
            for b, e in zip(self.baseline, self.enhanced, strict=True)
        )

    @property
    def plain_drop(self) -> float:
        """Baseline minus unenhanced reduced-T mean accuracy, in percentage points."""
        return 100.0 * (self.baseline_accuracy - self.plain_accuracy)

    @property
    def latency_saving(self) -> float:
        """Measured mean inference latency at the reference T over that at the reduced T."""
        return _saving(self.baseline, self.enhanced, "latency_ms")

    @property
    def train_energy_saving(self) -> float:
        """Modelled training energy per sample, reference over enhanced reduced T."""
        return _saving(self.baseline, self.enhanced, "train_energy_j")

    @property
    def infer_energy_saving(self) -> float:
        """Modelled inference energy per sample, reference over enhanced reduced T."""
        return _saving(self.baseline, self.enhanced, "infer_energy_j")

    def row(self) -> dict[str, Any]:
        """A flat table row for claims.csv/json."""
        b, e = self.baseline[0], self.enhanced[0]
        return {
            "dataset": b.dataset,
            "n_neurons": b.n_neurons,
            "rule": b.rule,
            "reference_t": b.timesteps,
            "short_t": e.timesteps,
            "seeds": " ".join(str(s) for s in self.seeds),
            "baseline_accuracy": self.baseline_accuracy,
            "enhanced_accuracy": self.enhanced_accuracy,
            "plain_accuracy": self.plain_accuracy,
            "accuracy_drop_points": self.accuracy_drop,
            "worst_seed_drop_points": max(self.seed_drops),
            "plain_drop_points": self.plain_drop,
            "latency_saving": self.latency_saving,
            "train_energy_saving": self.train_energy_saving,
            "infer_energy_saving": self.infer_energy_saving,
            "plain_latency_saving": _saving(self.baseline, self.plain, "latency_ms"),
            "plain_infer_energy_saving": _saving(self.baseline, self.plain, "infer_energy_j"),
            "train_samples": b.train_samples,
            "test_samples": b.test_samples,
        }

    def runs(self) -> list[dict[str, Any]]:
        """Every run behind the claim, one row each with its kind, for claim_runs.csv/json."""
        return [
            {"kind": kind, **r.as_dict()}
            for kind, runs in (
                ("baseline", self.baseline),
                ("enhanced", self.enhanced),
                ("plain", self.plain),
            )
            for r in runs
        ]


CLAIM_FIELDS = (
    "dataset",
    "n_neurons",
    "rule",
    "reference_t",
    "short_t",
    "seeds",
    "baseline_accuracy",
    "enhanced_accuracy",
    "plain_accuracy",
    "accuracy_drop_points",
    "worst_seed_drop_points",
    "plain_drop_points",
    "latency_saving",
    "train_energy_saving",
    "infer_energy_saving",
    "plain_latency_saving",
    "plain_infer_energy_saving",
    "train_samples",
    "test_samples",
)
RUN_FIELDS = ("kind", *(f.name for f in fields(PointResult)))


def _mean(runs: Sequence[PointResult], attr: str) -> float:
    return sum(float(getattr(r, attr)) for r in runs) / len(runs)


def _saving(full: Sequence[PointResult], reduced: Sequence[PointResult], attr: str) -> float:
    """Mean ``attr`` of the reference runs over that of the reduced-T runs."""
    cost = _mean(reduced, attr)
    return _mean(full, attr) / cost if cost > 0 else float("inf")


KINDS = ("baseline", "enhanced", "plain")  # the runs of a claim, per seed


class ClaimRuns(Collected[Claim]):
    """Step 3's runs, handed to a runner: per dataset, (N, rule), seed and kind, a fresh network
    at the reference T, at the reduced T with the rules and at the reduced T without them.
    Iterating logs each seed's and each claim's result as its runs complete and yields
    ``(index, claim)`` as claims become complete; ``finished()`` gives them in plan order."""

    def __init__(
        self,
        plan: Plan,
        base: NetworkParams,
        load: Loader,
        runner: Runner,
        energy: EnergyModel | None = None,
        log: Log | None = None,
    ) -> None:
        super().__init__()
        self.plan = plan
        self._say = log or (lambda _msg: None)
        self._groups = [(n, rule) for n in plan.sizes for rule in plan.rules]
        self._batches: list[Batch[PointResult]] = []
        for dataset in plan.datasets:
            train = load(dataset, "train", plan.claim_train)
            test = load(dataset, "test", plan.claim_test)
            specs = [
                PointSpec(p, dataset, len(train), len(test), seed=seed, enhanced=enh)
                for n, rule in self._groups
                for seed in plan.seeds
                for p, enh in self._kinds(base.replace(n_neurons=n, rule=rule))
            ]
            self._batches.append(runner.submit(run_point, specs, (train, test, energy)))

    def _kinds(self, params: NetworkParams) -> list[tuple[NetworkParams, bool]]:
        full = params.replace(timesteps=self.plan.reference_t)
        short = full.replace(timesteps=self.plan.short_t)
        enhanced = enhance(short, reference=self.plan.reference_t)
        return [(full, False), (enhanced, True), (short, False)]

    def __iter__(self) -> Iterator[tuple[int, Claim]]:
        seeds, nk = len(self.plan.seeds), len(KINDS)
        for d, batch in enumerate(self._batches):
            for index, _ in batch:
                group, rest = divmod(index, seeds * nk)
                s = rest // nk
                runs = [batch.done.get((group * seeds + s) * nk + k) for k in range(nk)]
                if all(r is not None for r in runs):
                    self._log_seed(self.plan.seeds[s], runs)  # type: ignore[arg-type]
                claim = self._claim(batch, group)
                if claim is not None:
                    key = d * len(self._groups) + group
                    self.done[key] = claim
                    self._log_claim(claim)
                    yield key, claim

    def _claim(self, batch: Batch[PointResult], group: int) -> Claim | None:
        """The claim of ``group`` if all of its runs are done."""
        seeds, nk = len(self.plan.seeds), len(KINDS)
        start = group * seeds * nk
        runs = [batch.done.get(i) for i in range(start, start + seeds * nk)]
        if any(r is None for r in runs):
            return None
        kinds = [tuple(r for r in runs[k::nk] if r is not None) for k in range(nk)]
        return Claim(*kinds)

    def _log_seed(self, seed: int, runs: Sequence[PointResult]) -> None:
        b, e, u = (r.accuracy for r in runs)
        r = runs[0]
        self._say(
            f"claims {r.dataset} N{r.n_neurons} {r.rule} seed {seed}: T={self.plan.reference_t} "
            f"{100 * b:.2f}% | T={self.plan.short_t} enhanced {100 * e:.2f}%, "
            f"plain {100 * u:.2f}%"
        )

    def _log_claim(self, claim: Claim) -> None:
        r = claim.baseline[0]
        self._say(
            f"claims {r.dataset} N{r.n_neurons} {r.rule}, mean of {len(claim.seeds)} seed(s): "
            f"T={self.plan.reference_t} {100 * claim.baseline_accuracy:.2f}% | "
            f"T={self.plan.short_t} enhanced {100 * claim.enhanced_accuracy:.2f}% "
            f"(drop {claim.accuracy_drop:.2f}, worst seed {max(claim.seed_drops):.2f}), "
            f"plain {100 * claim.plain_accuracy:.2f}% | latency x"
            f"{claim.latency_saving:.2f}, energy train x"
            f"{claim.train_energy_saving:.2f} infer x{claim.infer_energy_saving:.2f}"
        )

    def collect(self) -> None:
        """Record every run finished by now and every claim they complete (``Batch.collect``)."""
        for d, batch in enumerate(self._batches):
            batch.collect()
            for group in range(len(self._groups)):
                claim = self._claim(batch, group)
                if claim is not None:
                    self.done.setdefault(d * len(self._groups) + group, claim)

    def finished_runs(self) -> list[dict[str, Any]]:
        """Every finished run as a claim_runs row, ordered as ``Claim.runs`` orders them."""
        seeds, nk = len(self.plan.seeds), len(KINDS)
        rows = []
        for batch in self._batches:
            for group in range(len(self._groups)):
                for k, kind in enumerate(KINDS):
                    for s in range(seeds):
                        r = batch.done.get((group * seeds + s) * nk + k)
                        if r is not None:
                            rows.append({"kind": kind, **r.as_dict()})
        return rows


def run_claims(
    plan: Plan,
    base: NetworkParams,
    load: Loader,
    energy: EnergyModel | None = None,
    log: Log | None = None,
    runner: Runner | None = None,
) -> list[Claim]:
    """Step 3: per (dataset, N, rule) and seed, the reference, enhanced and unenhanced
    reduced-T runs, on ``runner`` (serially when None)."""
    return ClaimRuns(plan, base, load, runner or Runner(), energy, log).results()


def write_claims(
    out_dir: Path, claims: Sequence[Claim], runs: Sequence[dict[str, Any]] | None = None
) -> list[Path]:
    """claims.csv/json (a row per claim, means over seeds) and claim_runs.csv/json (every run:
    ``runs`` when given, e.g. those of claims not complete yet, else the claims' runs)."""
    rows = [r for c in claims for r in c.runs()] if runs is None else runs
    return [
        *write_rows(out_dir, "claims", CLAIM_FIELDS, [c.row() for c in claims]),
        *write_rows(out_dir, "claim_runs", RUN_FIELDS, rows),
    ]


@dataclass(frozen=True)
class Outcome:
    """Everything a reproduction measured, for the report."""

    plan: Plan
    sweep: list[PointResult]
    sensitivity: list[Perturbation]
    claims: list[Claim]
    profile: Profile
    profile_path: Path
    constraints: Constraints
    selection: Selection | None  # None when no point meets the constraints
    infeasible: str = ""  # why, when selection is None


def run_all(
    plan: Plan,
    base: NetworkParams,
    load: Loader,
    out_dir: Path,
    energy: EnergyModel | None = None,
    log: Log | None = None,
    command: str = "topspark reproduce",
    runner: Runner | None = None,
) -> Outcome:
    """Steps 1-4, writing each step's files as soon as it is done.

    Every run of steps 1-3 is handed to ``runner`` (serially when None) at the start, so that a
    cluster is never idle between steps. Stopped early (Ctrl-C, a failed run), the steps not
    written yet write what finished: the finished sweep and sensitivity rows, the complete
    claims and every finished claim run. Step 4 profiles the enhanced sweep (``profile.yaml``,
    its notes naming ``command``) and selects from it with the default constraints.
    """
    say = log or (lambda _msg: None)
    runner = runner or Runner()
    dataset = plan.datasets[0]
    train = load(dataset, "train", plan.sweep_train)
    test = load(dataset, "test", plan.sweep_test)
    specs = [
        spec
        for enhanced in (False, True)
        for spec in sweep_specs(
            base,
            dataset,
            [plan.sweep_size],
            [base.rule],
            plan.sweep_timesteps,
            len(train),
            len(test),
            seed=plan.seed,
            enhanced=enhanced,
        )
    ]
    sweep_runs = submit_sweep(runner, specs, train, test, energy)
    sens_runs = SensitivityRuns(
        runner,
        base.replace(n_neurons=plan.sweep_size),
        dataset,
        train.subset(min(plan.sensitivity_train, len(train))),
        test.subset(min(plan.sensitivity_test, len(test))),
        (plan.reference_t, plan.short_t),
        seed=plan.seed,
    )
    claim_runs = ClaimRuns(plan, base, load, runner, energy, say)
    pending = {"sweep", "sensitivity", "claims"}
    try:
        for _, r in sweep_runs:
            say(
                f"sweep {dataset} N{r.n_neurons} T={r.timesteps}"
                f"{' enhanced' if r.enhanced else ''}: {100 * r.accuracy:.2f}%"
            )
        sweep = sweep_runs.finished()
        pending.discard("sweep")
        write_results(out_dir / "sweep", sweep)
        for _, p in sens_runs:
            say(
                f"sensitivity T={p.timesteps} {p.parameter} x{p.scale:g}: "
                f"{100 * p.delta:+.2f} points"
            )
        sensitivity = sens_runs.finished()
        pending.discard("sensitivity")
        write_sensitivity(out_dir / "sensitivity", sensitivity)
        claims = claim_runs.results()
        pending.discard("claims")
        write_claims(out_dir, claims)
    except BaseException:
        _write_partial(out_dir, pending, sweep_runs, sens_runs, claim_runs)
        raise
    profile = profile_from_records(
        [r.as_dict() for r in sweep],
        dataset,
        plan.sweep_size,
        base.rule,
        enhanced=True,
        baseline_timesteps=plan.reference_t,
    )
    profile_path = save_profile(out_dir / "profile.yaml", profile, notes=[command])
    constraints = Constraints()
    try:
        chosen: Selection | None = select(profile, constraints)
        why = ""
    except InfeasibleError as err:
        chosen, why = None, str(err)
    return Outcome(
        plan, sweep, sensitivity, claims, profile, profile_path, constraints, chosen, why
    )


def _write_partial(
    out_dir: Path,
    pending: set[str],
    sweep: Batch[PointResult],
    sensitivity: SensitivityRuns,
    claims: ClaimRuns,
) -> None:
    """The finished part of each step in ``pending`` (a step not written yet), if any: every
    run finished by now, including those of steps whose results were not read yet."""
    for step in (sweep, sensitivity, claims):
        step.collect()
    if "sweep" in pending and sweep.finished():
        write_results(out_dir / "sweep", sweep.finished())
    if "sensitivity" in pending and sensitivity.finished():
        write_sensitivity(out_dir / "sensitivity", sensitivity.finished())
    runs = claims.finished_runs()
    if "claims" in pending and runs:
        write_claims(out_dir, claims.finished(), runs)


__all__ = [
    "CLAIM_FIELDS",
    "KINDS",
    "RUN_FIELDS",
    "Claim",
    "ClaimRuns",
    "Outcome",
    "Plan",
    "run_all",
    "run_claims",
    "write_claims",
]

"""report.md for ``topspark reproduce``: the measured tables that answer the paper's claims."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from topspark_ros.io_utils import atomic_write_bytes
from topspark_ros.snn.params import NetworkParams
from topspark_ros.topspark.enhance import RULES, enhanced_values
from topspark_ros.topspark.experiment import PointResult
from topspark_ros.topspark.reproduce import Claim, Outcome
from topspark_ros.topspark.sensitivity import ranking
from topspark_ros.topspark.tradeoff import profile_table

ACCURACY_MARGIN = 2.0  # points: the paper's "within 2% of the full-timestep network"
LATENCY_TARGET = 3.5
ENERGY_TARGET = 3.3


def _mark(ok: bool) -> str:
    return "yes" if ok else "**no**"


def claims_table(claims: Sequence[Claim]) -> list[str]:
    """The headline table: mean accuracy over the seeds at T_ref and T_short (with/without
    rules), each seed's drop, and the savings; the verdict is on the mean drop."""
    lines = [
        (
            "| dataset | N | rule | acc T_ref | acc T_short enhanced | drop | within 2 | "
            "drop per seed | acc T_short plain | plain drop | latency saving | "
            "train energy saving | infer energy saving |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in claims:
        b = c.baseline[0]
        per_seed = " / ".join(f"{d:.2f}" for d in c.seed_drops)
        lines.append(
            f"| {b.dataset} | {b.n_neurons} | {b.rule} | {100 * c.baseline_accuracy:.2f} | "
            f"{100 * c.enhanced_accuracy:.2f} | {c.accuracy_drop:.2f} | "
            f"{_mark(c.accuracy_drop <= ACCURACY_MARGIN)} | {per_seed} | "
            f"{100 * c.plain_accuracy:.2f} | {c.plain_drop:.2f} | {c.latency_saving:.2f}x "
            f"({_mark(c.latency_saving >= LATENCY_TARGET)}) | "
            f"{c.train_energy_saving:.2f}x ({_mark(c.train_energy_saving >= ENERGY_TARGET)}) | "
            f"{c.infer_energy_saving:.2f}x ({_mark(c.infer_energy_saving >= ENERGY_TARGET)}) |"
        )
    return lines


def sweep_table(results: Sequence[PointResult]) -> list[str]:
    """Step 1 as a table: one row per (enhanced, T)."""
    lines = [
        (
            "| enhanced | T | accuracy (%) | latency (ms) | train energy (uJ) | "
            "infer energy (uJ) | steps/sample (infer) |"
        ),
        "|---|---|---|---|---|---|---|",
    ]
    lines.extend(
        f"| {'yes' if r.enhanced else 'no'} | {r.timesteps} | {100 * r.accuracy:.2f} | "
        f"{r.latency_ms:.3f} | {1e6 * r.train_energy_j:.1f} | "
        f"{1e6 * r.infer_energy_j:.1f} | {r.infer_steps:.0f} |"
        for r in sorted(results, key=lambda r: (r.enhanced, -r.timesteps))
    )
    return lines


def rules_table(base: NetworkParams, steps: Sequence[int]) -> list[str]:
    """Step 3's rules and their values at each T of the sweep."""
    lines = [
        "| parameter | rule | " + " | ".join(f"T={t}" for t in steps) + " |",
        "|---|---|" + "---|" * len(steps),
    ]
    values = [enhanced_values(base, t) for t in steps]
    for rule in RULES:
        cells = " | ".join(f"{v[rule.parameter]:g}" for v in values)
        lines.append(f"| {rule.parameter} | `{rule.formula}` | {cells} |")
    return lines


def profile_section(outcome: Outcome) -> list[str]:
    """Step 4: the profile's table and the point the default constraints select."""
    chosen = outcome.selection
    drop = outcome.constraints.max_accuracy_drop
    floor = "no accuracy floor" if drop is None else f"accuracy within {100 * drop:g} points"
    verdict = (
        f"Selected: {chosen.reason}"
        if chosen is not None
        else f"No feasible point: {outcome.infeasible}"
    )
    return [
        (
            f"Profile of the enhanced sweep: `{outcome.profile_path.name}` (T, accuracy, "
            "latency, energy, memory per point). Selection with the default constraints "
            f"({floor} of T={outcome.profile.baseline_timesteps}), cost = latency + inference "
            "energy relative to the baseline:"
        ),
        "",
        "```",
        *profile_table(outcome.profile, outcome.constraints),
        "```",
        "",
        verdict,
    ]


def render(out_dir: Path, outcome: Outcome, base: NetworkParams, command: str) -> Path:
    """Write ``out_dir/report.md`` from a finished reproduction and return its path."""
    plan = outcome.plan
    sens_steps = sorted({p.timesteps for p in outcome.sensitivity}, reverse=True)
    lines = [
        "# TopSpark reproduction report",
        "",
        (
            f"Command: `{command}`. Reference T = {plan.reference_t}, reduced T = {plan.short_t} "
            f"({plan.reference_t / plan.short_t:.2f}x fewer timesteps). The claims are means "
            f"over seeds {', '.join(str(s) for s in plan.seeds)} (every run in claim_runs.csv); "
            f"steps 1 and 2 are single runs with seed {plan.seed}. Latency is measured wall "
            "time per inference sample on one core of this machine, energies are modelled "
            "(docs/energy.md)."
        ),
        "",
        "## Claims: accuracy within 2 points, latency and energy savings",
        "",
        (
            f"Each row trains, per seed, a fresh network on the same {plan.claim_train} "
            "training samples at "
            f"T={plan.reference_t} (baseline), at T={plan.short_t} with the enhancement rules and "
            f"at T={plan.short_t} without them, and tests on {plan.claim_test} test samples. "
            "Accuracies, latencies and energies are means over the seeds. "
            f"Targets: mean drop <= {ACCURACY_MARGIN:g} points, latency saving >= "
            f"{LATENCY_TARGET:g}x, energy savings >= {ENERGY_TARGET:g}x."
        ),
        "",
        *claims_table(outcome.claims),
        "",
        "## Step 1: timestep impact",
        "",
        (
            f"{plan.datasets[0]}, N{plan.sweep_size}, {base.rule} STDP, {plan.sweep_train} "
            f"training / {plan.sweep_test} test samples. Files: sweep/."
        ),
        "",
        *sweep_table(outcome.sweep),
        "",
        "![accuracy vs T](sweep/accuracy_vs_t.png)",
        "![energy vs T](sweep/energy_vs_t.png)",
        "",
        "## Step 2: parameter significance",
        "",
        (
            f"One-at-a-time x0.5 / x2 perturbations, {plan.sensitivity_train} training / "
            f"{plan.sensitivity_test} test samples. Files: sensitivity/."
        ),
        "",
    ]
    for t in sens_steps:
        top = ", ".join(f"{n} ({100 * v:.2f})" for n, v in ranking(outcome.sensitivity, t)[:5])
        lines.append(f"- T={t}: {top}")
    lines += [
        "",
        "![sensitivity](sensitivity/sensitivity.png)",
        "",
        "## Step 3: enhancement rules",
        "",
        "r = 350 / T (at least 1). Evidence: docs/enhancement.md.",
        "",
        *rules_table(base, plan.sweep_timesteps),
        "",
        "## Step 4: operating-point profile and selection",
        "",
        *profile_section(outcome),
        "",
    ]
    return atomic_write_bytes(out_dir / "report.md", "\n".join(lines).encode())


__all__ = ["claims_table", "profile_section", "render", "rules_table", "sweep_table"]

"""Time the lifetime-value fits against the reference ``lifetimes``; write BENCHMARKS.md.

BG/NBD and Gamma-Gamma are fitted on one per-customer summary (frequency, recency, age,
monetary value) by ``segment_warehouse.modelling.clv`` and by ``lifetimes`` (penalizer 0, tight
tolerances), each implementation once, in its own forked process so that its wall time
and peak resident memory are its own. The summary is simulated by default: day-granular
like ``int_customer_clv_summary`` (times in weeks, whole days / 7, ages up to three years),
drawn from BG/NBD and Gamma-Gamma with a fixed seed. ``--database`` reads the summary of a
built warehouse instead. The results replace the ``clv-fit`` section of BENCHMARKS.md.

    python scripts/benchmark_clv.py                        # 1,000,000 simulated customers
    python scripts/benchmark_clv.py --customers 100000     # quicker
    python scripts/benchmark_clv.py --database warehouse/segment_warehouse.duckdb
    python scripts/benchmark_clv.py --no-reference --output /tmp/BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from segment_warehouse.documentation.readme import write_section
from segment_warehouse.modelling import clv
from segment_warehouse.modelling.clv_simulation import simulate_day_summary
from segment_warehouse.pipeline import measure

PROJECT_DIR = Path(__file__).resolve().parent.parent
SECTION = "clv-fit"
SECTION_HEADING = "## Lifetime-value fit"
DEFAULT_CUSTOMERS = 1_000_000
# realistic weekly parameters (a < 1, as fitted on the demo data) and spend per repeat day
SIMULATED_BG_NBD = {"r": 0.75, "alpha": 8.0, "a": 0.8, "b": 2.5}
SIMULATED_GAMMA_GAMMA = {"p": 6.0, "q": 4.0, "gamma": 15.0}
MAX_AGE_DAYS = 3 * 365
# lifetimes stops BFGS when the gradient of the mean negative log-likelihood is below tol
# (default 1e-7); Gamma-Gamma stalls with "precision loss" much below 1e-7.
REFERENCE_BG_NBD_TOLERANCE = 1e-8
REFERENCE_GAMMA_GAMMA_TOLERANCE = 1e-7
MODELS = {"bg_nbd": "BG/NBD", "gamma_gamma": "Gamma-Gamma"}
PARAMETER_NAMES = {"bg_nbd": clv.BG_NBD_PARAMETERS, "gamma_gamma": clv.GAMMA_GAMMA_PARAMETERS}


@dataclass(frozen=True)
class Summary:
    """Per-customer CLV summary and where it came from."""

    frequency: np.ndarray
    recency: np.ndarray
    age: np.ndarray
    monetary_value: np.ndarray
    description: str

    @property
    def repeat_buyers(self) -> np.ndarray:
        """Return the mask of customers Gamma-Gamma is fitted on."""
        return (self.frequency > 0) & (self.monetary_value > 0)


@dataclass(frozen=True)
class ModelFit:
    """One model fitted by one implementation."""

    parameters: dict[str, float]
    seconds: float
    n_customers: int
    n_distinct: int | None = None
    cpu_seconds: float | None = None


@dataclass(frozen=True)
class Run:
    """Both models fitted by one implementation in one child process."""

    fits: dict[str, ModelFit]
    peak_rss_mib: float


def simulate_summary(customers: int, seed: int) -> Summary:
    """Draw the summary (segment_warehouse.modelling.clv_simulation, three years of ages)."""
    simulated = simulate_day_summary(
        SIMULATED_BG_NBD, SIMULATED_GAMMA_GAMMA, customers, seed, MAX_AGE_DAYS
    )
    description = (
        f"a simulated summary of {customers:,} customers (seed {seed}): day-granular, in "
        "weeks (recency and age are whole days / 7), ages spread evenly over three years, "
        "drawn from BG/NBD (r = 0.75, alpha = 8, a = 0.8, b = 2.5) and Gamma-Gamma (p = 6, "
        "q = 4, gamma = 15)"
    )
    return Summary(
        simulated.frequency,
        simulated.recency,
        simulated.age,
        simulated.monetary_value,
        description,
    )


def read_summary(database: Path) -> Summary:
    """Read ``intermediate.int_customer_clv_summary`` from a built warehouse, read-only."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as connection:
        columns = connection.sql(
            """
            select
                cast(frequency as double) as frequency,
                cast(recency as double) as recency,
                cast(age as double) as age,
                cast(coalesce(monetary_value, 0) as double) as monetary_value,
                time_unit
            from intermediate.int_customer_clv_summary
            """
        ).fetchnumpy()
    units = sorted({str(unit) for unit in columns["time_unit"]})
    description = (
        f"the `intermediate.int_customer_clv_summary` of `{database.name}` "
        f"({len(columns['frequency']):,} customers, time unit {', '.join(units)})"
    )
    return Summary(
        *(np.asarray(columns[name]) for name in ("frequency", "recency", "age", "monetary_value")),
        description=description,
    )


def fit_ours(summary: Summary) -> dict[str, ModelFit]:
    """Fit both models with ``segment_warehouse.modelling.clv``."""
    start, cpu_start = time.perf_counter(), time.process_time()
    bg_nbd = clv.fit_bg_nbd(summary.frequency, summary.recency, summary.age)
    middle, cpu_middle = time.perf_counter(), time.process_time()
    gamma_gamma = clv.fit_gamma_gamma(summary.frequency, summary.monetary_value)
    end, cpu_end = time.perf_counter(), time.process_time()
    return {
        name: ModelFit(fit.parameters, seconds, fit.n_customers, fit.n_distinct, cpu_seconds)
        for name, fit, seconds, cpu_seconds in (
            ("bg_nbd", bg_nbd, middle - start, cpu_middle - cpu_start),
            ("gamma_gamma", gamma_gamma, end - middle, cpu_end - cpu_middle),
        )
    }


def fit_reference(summary: Summary) -> dict[str, ModelFit]:
    """Fit both models with ``lifetimes``, one row per customer, as its users call it."""
    import lifetimes

    repeat = summary.repeat_buyers
    start, cpu_start = time.perf_counter(), time.process_time()
    bg_nbd = lifetimes.BetaGeoFitter(penalizer_coef=0.0).fit(
        summary.frequency, summary.recency, summary.age, tol=REFERENCE_BG_NBD_TOLERANCE
    )
    middle, cpu_middle = time.perf_counter(), time.process_time()
    gamma_gamma = lifetimes.GammaGammaFitter(penalizer_coef=0.0).fit(
        summary.frequency[repeat],
        summary.monetary_value[repeat],
        tol=REFERENCE_GAMMA_GAMMA_TOLERANCE,
    )
    end, cpu_end = time.perf_counter(), time.process_time()
    gamma_gamma_parameters = gamma_gamma.params_.rename({"v": "gamma"})
    return {
        "bg_nbd": ModelFit(
            {name: float(bg_nbd.params_[name]) for name in clv.BG_NBD_PARAMETERS},
            middle - start,
            len(summary.frequency),
            cpu_seconds=cpu_middle - cpu_start,
        ),
        "gamma_gamma": ModelFit(
            {name: float(gamma_gamma_parameters[name]) for name in clv.GAMMA_GAMMA_PARAMETERS},
            end - middle,
            int(repeat.sum()),
            cpu_seconds=cpu_end - cpu_middle,
        ),
    }


def run_in_child(fit: Callable[[Summary], dict[str, ModelFit]], summary: Summary) -> Run:
    """Run one implementation in a forked child; return its fits and its peak RSS.

    The child inherits the summary, so its peak memory includes it (and the interpreter).
    """
    child = measure.run_in_child(fit, summary)
    return Run(fits=child.result, peak_rss_mib=child.peak_rss_mib)


def log_likelihood(model: str, parameters: dict[str, float], summary: Summary) -> float:
    """Return the total log-likelihood of ``parameters`` with our likelihood function."""
    values = np.array([parameters[name] for name in PARAMETER_NAMES[model]])
    if model == "bg_nbd":
        rows = clv.bg_nbd_log_likelihood(values, summary.frequency, summary.recency, summary.age)
    else:
        repeat = summary.repeat_buyers
        rows = clv.gamma_gamma_log_likelihood(
            values, summary.frequency[repeat], summary.monetary_value[repeat]
        )
    return float(rows.sum())


def relative_differences(ours: Run, reference: Run) -> dict[str, dict[str, float]]:
    """Return |ours / reference - 1| per model and parameter."""
    return {
        model: {
            name: abs(ours.fits[model].parameters[name] / value - 1)
            for name, value in reference.fits[model].parameters.items()
        }
        for model in MODELS
    }


def versions() -> str:
    """Return the versions of the libraries that do the work."""
    return measure.library_versions(("numpy", "scipy", "lifetimes", "autograd"))


def render(
    summary: Summary,
    ours: Run,
    reference: Run | None,
    command: str,
    started: datetime,
    load_average: float,
) -> str:
    """Render the measurements as the Markdown of the ``clv-fit`` section."""
    lines = [
        f"Measured by `{command}` on {started:%Y-%m-%d}: {os.cpu_count()} cores, "
        f"{platform.machine()}, Python {platform.python_version()}, {versions()}. "
        f"Both models are fitted by maximum likelihood on {summary.description}; "
        "Gamma-Gamma on the repeat buyers only. Ours (`segment_warehouse.modelling.clv`) "
        "compresses identical summary rows up to "
        f"{clv.LARGE_FIT_ROWS:,} rows and fits the distinct ones with L-BFGS-B; above that, "
        "as here, it evaluates every row (hashing a million summaries costs more than the "
        "fit), as few times as possible: L-BFGS-B on every k-th row (about "
        f"{clv.SUBSAMPLE_ROWS:,}), then Newton steps on samples {clv.SUBSAMPLE_GROWTH} times "
        "larger up to all rows, each from the previous optimum with a BFGS-updated Hessian, "
        "until a step moves no log parameter by "
        f"{clv.NEWTON_STEP_TOLERANCE:.0e} or the next is predicted to (that last step is "
        "taken unevaluated; exact gradients; Gamma functions once per distinct frequency; "
        "for BG/NBD the logarithms and reciprocals of alpha + T and alpha + t_x once per "
        "distinct value when the times take few, as day-granular ones do, and gathered per "
        "row, which leaves a repeat buyer one exponential and one logarithm; rows in blocks "
        f"of {clv.BLOCK_ROWS:,} in buffers allocated once; one BLAS thread); "
        "lifetimes is called as in its quick-start, one row per customer "
        f"(penalizer 0, `tol` {REFERENCE_BG_NBD_TOLERANCE:.0e} for BG/NBD and "
        f"{REFERENCE_GAMMA_GAMMA_TOLERANCE:.0e} for Gamma-Gamma; its `fit` also computes the "
        "Hessian for standard errors). Each implementation fits once, in its own forked "
        "process; seconds are the fit alone, peak memory is the process's maximum resident "
        "set size, including the summary and libraries it inherits. The log-likelihood "
        "difference is ours minus lifetimes', both evaluated with our likelihood on every "
        "customer.",
        "",
    ]
    if reference is None:
        lines += [
            "| model | customers fitted | rows evaluated | seconds |",
            "| --- | --- | --- | --- |",
        ]
        for model, label in MODELS.items():
            fit = ours.fits[model]
            lines.append(
                f"| {label} | {fit.n_customers:,} | {fit.n_distinct:,} | {fit.seconds:.2f} |"
            )
        lines += ["", f"Peak memory: {ours.peak_rss_mib:,.0f} MiB. lifetimes was not run.", ""]
        return "\n".join(lines)

    differences = relative_differences(ours, reference)
    lines += [
        "| model | customers fitted | rows evaluated (ours) | ours s | lifetimes s "
        "| lifetimes / ours | max relative parameter difference | log-likelihood difference |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for model, label in MODELS.items():
        mine, theirs = ours.fits[model], reference.fits[model]
        likelihood_gap = log_likelihood(model, mine.parameters, summary) - log_likelihood(
            model, theirs.parameters, summary
        )
        lines.append(
            f"| {label} | {mine.n_customers:,} | {mine.n_distinct:,} | {mine.seconds:.2f} "
            f"| {theirs.seconds:.2f} | {theirs.seconds / mine.seconds:.1f}x "
            f"| {max(differences[model].values()):.1e} | {likelihood_gap:+.1e} |"
        )
    ours_seconds = sum(fit.seconds for fit in ours.fits.values())
    reference_seconds = sum(fit.seconds for fit in reference.fits.values())
    largest = max(value for model in differences.values() for value in model.values())
    ours_cpu = sum(fit.cpu_seconds or 0.0 for fit in ours.fits.values())
    reference_cpu = sum(fit.cpu_seconds or 0.0 for fit in reference.fits.values())
    cpu_ratios = ", ".join(
        f"{label} {reference.fits[model].cpu_seconds / ours.fits[model].cpu_seconds:.1f}x"
        for model, label in MODELS.items()
    )
    lines += [
        f"| both | | | {ours_seconds:.2f} | {reference_seconds:.2f} "
        f"| {reference_seconds / ours_seconds:.1f}x | {largest:.1e} | |",
        "",
        f"Load average when the run started: {load_average:.1f} on {os.cpu_count()} cores. "
        "CPU seconds (the process's, all threads; unlike wall time, not inflated by waiting "
        f"for a core on a busy machine): ours {ours_cpu:.2f}, lifetimes {reference_cpu:.2f}, "
        f"lifetimes / ours {reference_cpu / ours_cpu:.1f}x ({cpu_ratios}).",
        "",
        f"Peak memory: ours {ours.peak_rss_mib:,.0f} MiB, lifetimes "
        f"{reference.peak_rss_mib:,.0f} MiB.",
        "",
        "| parameter | ours | lifetimes | relative difference |",
        "| --- | --- | --- | --- |",
    ]
    for model, label in MODELS.items():
        for name, value in reference.fits[model].parameters.items():
            lines.append(
                f"| {label} {name} | {ours.fits[model].parameters[name]:.6g} | {value:.6g} "
                f"| {differences[model][name]:.1e} |"
            )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Fit both implementations on one summary and write the ``clv-fit`` section."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--customers",
        type=int,
        default=DEFAULT_CUSTOMERS,
        help=f"customers in the simulated summary (default {DEFAULT_CUSTOMERS:,})",
    )
    source.add_argument(
        "--database",
        type=Path,
        help="read intermediate.int_customer_clv_summary from this DuckDB warehouse instead",
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the simulated summary")
    parser.add_argument(
        "--output",
        type=Path,
        default=PROJECT_DIR / "BENCHMARKS.md",
        help="Markdown file whose clv-fit section to replace (default BENCHMARKS.md)",
    )
    parser.add_argument("--no-reference", action="store_true", help="time our implementation only")
    args = parser.parse_args(argv)

    started = datetime.now(UTC)
    load_average = os.getloadavg()[0]
    if args.database is not None:
        summary = read_summary(args.database)
    else:
        summary = simulate_summary(args.customers, args.seed)
    print(f"summary: {len(summary.frequency):,} customers", flush=True)
    ours = run_in_child(fit_ours, summary)
    print(f"ours: {sum(fit.seconds for fit in ours.fits.values()):.2f} s", flush=True)
    reference = None
    if not args.no_reference:
        reference = run_in_child(fit_reference, summary)
        print(f"lifetimes: {sum(fit.seconds for fit in reference.fits.values()):.2f} s")
    command = shlex.join(["python", "scripts/benchmark_clv.py", *argv])
    markdown = render(summary, ours, reference, command, started, load_average)
    write_section(args.output, SECTION, SECTION_HEADING, markdown)
    print(markdown)
    print(f"wrote the {SECTION} section of {args.output}")


if __name__ == "__main__":
    main()

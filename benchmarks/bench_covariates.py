"""Benchmark: BG/NBD and Pareto/NBD with static covariates, side by side with plain fits.

No tool that runs here fits these models with covariates: lifetimes has no covariates,
CLVTools is R (not installed), pymc-marketing is not installed (and fits by MCMC). So the
anchors are the nearest fits of the **same data without covariates**: lifetimes'
``BetaGeoFitter`` / ``ParetoNBDFitter`` and churnlab's own ``BetaGeoModel`` /
``ParetoNBDModel``. The comparison shows what the covariates cost in time and memory, and
the covariate fits' recovery of the true coefficients.

Data (simulated once, cached under ``benchmarks/.cache/``): ``--customers`` customers with two
covariates, ``income ~ N(0, 1)`` and ``offline ~ Bernoulli(0.5)``, both acting on the purchase
and the dropout process (CLVTools' parameterisation), T of 1-104 whole weeks and recency as
simulated (continuous, so the data follow the model exactly). BG/NBD: r=0.25, alpha=4,
a=0.8, b=2.5, purchase (0.3, -0.2), dropout (0.2, 0.5). Pareto/NBD: r=0.55, alpha=10.5,
s=0.6, beta=11.7, same coefficients.

Each measurement runs in a fresh subprocess (wall time inside the child from after data
loading to the result; peak RSS of the child from ``os.wait4``); runs are interleaved and the
median of ``--repeats`` is reported (lifetimes' Pareto/NBD: ``--slow-repeats`` runs, stopped
after ``--timeout`` seconds). Intervals: ``prediction_intervals`` (P(alive) and expected
purchases in 52 weeks, 200 draws) on 10,000 customers and ``aggregate_forecast`` (52 weeks,
200 draws) on all of them, with the model fitted outside the timer.

Usage::

    .venv/bin/python benchmarks/bench_covariates.py
    .venv/bin/python benchmarks/bench_covariates.py --customers 20000 --repeats 1

Prints a markdown table and writes ``benchmarks/results/bench_covariates.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
RESULTS = HERE / "results" / "bench_covariates.json"
COVARIATES = ["income", "offline"]
EFFECTS = {"purchase": {"income": 0.3, "offline": -0.2}, "dropout": {"income": 0.2, "offline": 0.5}}
TRUE = {
    "bgnbd": {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5},
    "pareto": {"r": 0.55, "alpha": 10.5, "s": 0.6, "beta": 11.7},
}
#: task -> (family, tool, what)
TASKS = {
    "bgnbd_cov_fit": ("bgnbd", "churnlab-cov", "fit"),
    "bgnbd_plain_fit": ("bgnbd", "churnlab", "fit"),
    "bgnbd_lifetimes_fit": ("bgnbd", "lifetimes", "fit"),
    "pareto_cov_fit": ("pareto", "churnlab-cov", "fit"),
    "pareto_plain_fit": ("pareto", "churnlab", "fit"),
    "pareto_lifetimes_fit": ("pareto", "lifetimes", "fit"),
    "bgnbd_cov_intervals": ("bgnbd", "churnlab-cov", "intervals"),
    "bgnbd_plain_intervals": ("bgnbd", "churnlab", "intervals"),
}
SLOW = {"pareto_lifetimes_fit"}


def simulate(family: str, n_customers: int) -> Path:
    """Simulate (once) the data set of ``family``; return its Parquet path."""
    import pandas as pd

    from churnlab.models._simulate_covariates import (
        simulate_bgnbd_covariates,
        simulate_pareto_covariates,
    )

    path = CACHE / f"covariates_{family}_{n_customers}.parquet"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    covariates = pd.DataFrame(
        {"income": rng.normal(size=n_customers), "offline": rng.integers(0, 2, n_customers)}
    ).astype(float)
    big_t = rng.integers(1, 105, n_customers).astype(float)
    simulator = simulate_bgnbd_covariates if family == "bgnbd" else simulate_pareto_covariates
    data = simulator(covariates, **TRUE[family], **EFFECTS, T=big_t, random_state=1)
    data.to_parquet(path)
    return path


def _classes(family: str) -> tuple[type, type, type]:
    from lifetimes import BetaGeoFitter, ParetoNBDFitter

    from churnlab.models import (
        BetaGeoCovariateModel,
        BetaGeoModel,
        ParetoNBDCovariateModel,
        ParetoNBDModel,
    )

    if family == "bgnbd":
        return BetaGeoCovariateModel, BetaGeoModel, BetaGeoFitter
    return ParetoNBDCovariateModel, ParetoNBDModel, ParetoNBDFitter


def _child(task: str, path: str) -> None:
    """Run one measurement and print its result as JSON (called in a subprocess)."""
    import warnings

    warnings.filterwarnings("ignore")
    import pandas as pd

    from churnlab.models import aggregate_forecast, prediction_intervals

    family, tool, what = TASKS[task]
    data = pd.read_parquet(path)
    data.attrs["time_unit"] = "W"
    rfm = data[["frequency", "recency", "T"]]
    cov_cls, plain_cls, lifetimes_cls = _classes(family)
    options = {"purchase_covariates": COVARIATES, "dropout_covariates": COVARIATES}
    out: dict = {}
    if what == "intervals":
        model = cov_cls().fit(data, **options) if tool == "churnlab-cov" else plain_cls().fit(rfm)
        start = time.perf_counter()
        prediction_intervals(model, data.iloc[:10_000], t=52.0, n_draws=200)
        out["intervals_10k_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        table = aggregate_forecast(model, data, 52.0, n_draws=200)
        out["aggregate_seconds"] = time.perf_counter() - start
        out["seconds"] = out["intervals_10k_seconds"] + out["aggregate_seconds"]
        out["aggregate"] = table.loc["purchases"].to_dict()
        print(json.dumps(out))
        return
    start = time.perf_counter()
    if tool == "churnlab-cov":
        fitted = cov_cls().fit(data, **options)
    elif tool == "churnlab":
        fitted = plain_cls().fit(rfm)
    else:
        fitted = lifetimes_cls().fit(data["frequency"], data["recency"], data["T"])
    out["seconds"] = time.perf_counter() - start
    params = {k: float(v) for k, v in fitted.params_.items()}
    if tool == "lifetimes":  # scored with churnlab's likelihood (held against mpmath)
        scorer = plain_cls().fit(rfm.iloc[:2000])
        out["log_likelihood"] = scorer.log_likelihood(rfm, params=params)
    else:
        out["log_likelihood"] = float(fitted.log_likelihood_)
    out["params"] = params
    if tool == "churnlab-cov":
        out["std_errors"] = fitted.summary_["std_error"].to_dict()
        out["converged"] = bool(fitted.converged_)
    print(json.dumps(out))


def _run(args: list[str], timeout: float | None = None) -> dict:
    """Run this script in a fresh interpreter; return its JSON and the child's peak RSS."""
    proc = subprocess.Popen(
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if deadline is not None and time.monotonic() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            return {"timeout": timeout, "seconds": float("nan"), "peak_rss_mb": float("nan")}
        time.sleep(0.1)
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    if status != 0:
        raise RuntimeError(f"child {args} failed:\n{stderr.decode()[-3000:]}")
    result = json.loads(stdout.decode().strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    return result


def _median(runs: list[dict], key: str) -> float:
    values = [r[key] for r in runs if key in r and np.isfinite(r[key])]
    return statistics.median(values) if values else float("nan")


def main() -> None:
    """Run the benchmark and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--slow-repeats", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    paths = {family: simulate(family, args.customers) for family in TRUE}
    runs: dict[str, list[dict]] = {task: [] for task in args.tasks}
    for round_ in range(args.repeats):
        for task in args.tasks:
            if task in SLOW and round_ >= args.slow_repeats:
                continue
            path = paths[TASKS[task][0]]
            timeout = args.timeout if task in SLOW else None
            runs[task].append(_run(["--child", task, str(path)], timeout=timeout))
            print(f"round {round_ + 1} {task}: {runs[task][-1]['seconds']:.3f} s", file=sys.stderr)
    summary = {}
    for task, results in runs.items():
        summary[task] = {
            "seconds_median": _median(results, "seconds"),
            "seconds_runs": [r["seconds"] for r in results],
            "peak_rss_mb_median": _median(results, "peak_rss_mb"),
            "timed_out": any("timeout" in r for r in results),
            "last": results[-1],
            "runs": results,
        }
    report = {
        "customers": args.customers,
        "repeats": args.repeats,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "tasks": summary,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=float))
    print("| task | median (s) | runs | peak RSS (MB) | log-likelihood |")
    print("|---|---:|---:|---:|---:|")
    for task, row in summary.items():
        ll = row["last"].get("log_likelihood", float("nan"))
        shown = "timeout" if row["timed_out"] else f"{row['seconds_median']:.3f}"
        print(
            f"| {task} | {shown} | {len(row['seconds_runs'])} | "
            f"{row['peak_rss_mb_median']:.0f} | {ll:.2f} |"
        )
    for family in TRUE:
        task = f"{family}_cov_fit"
        if task in summary:
            last = summary[task]["last"]
            for name, est in last["params"].items():
                truth = TRUE[family].get(name)
                if truth is None:
                    process, cov = name.split(":")
                    truth = EFFECTS[process][cov]
                se = last["std_errors"][name]
                print(f"{family} {name}: {est:.4f} (se {se:.4f}), true {truth}, "
                      f"{(est - truth) / se:+.2f} se")  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        main()

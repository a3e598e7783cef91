"""Benchmark: churnlab BG/NBD + Gamma-Gamma against lifetimes, and the full pipeline.

Part 1, models on 1 million simulated customers (side by side, same run):

* the RFM summary is simulated once from the BG/NBD and Gamma-Gamma processes at
  CDNOW-like parameters (r=0.25, alpha=4, a=0.8, b=2.5; p=6, q=4, v=15), with
  customer ages T of 1-104 whole weeks and recency rounded up to whole weeks (as
  in a weekly RFM summary), and cached under ``benchmarks/.cache/``;
* measured per tool: BG/NBD fit, Gamma-Gamma fit, and scoring (P(alive),
  expected purchases in 52 weeks, 12-month CLV) at fixed fitted parameters;
* each measurement runs in a fresh subprocess (wall time inside the child from
  after data loading to the result; peak RSS of the child from ``os.wait4``),
  runs are interleaved and the median of ``--repeats`` is reported
  (``--lifetimes-repeats`` for lifetimes' fits, which are slow);
* the fitted log-likelihoods of churnlab and lifetimes are compared (goal: equal
  within 1e-6 relative) and the fit speed-up is reported (goal: >= 20x).

Part 2, the whole pipeline on 10 million transactions (1 million customers,
3 years; ``benchmarks/_synthetic.py``): Parquet path -> ``rfm_summary`` (weekly)
-> BG/NBD + Gamma-Gamma fit -> P(alive), expected purchases, CLV, timed per
stage in one subprocess.

Usage::

    .venv/bin/python benchmarks/bench_models.py                 # full run
    .venv/bin/python benchmarks/bench_models.py --customers 100000 --transactions 1000000

Part 3, real resolution and boundaries (issue #13): 1 million customers with **daily**
periods over three years (~420k distinct (frequency, recency, T) rows after compression),
fitted with BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma; Pareto/NBD on the weekly summary
and on a summary of customers who never drop out (the s -> 0, beta -> inf boundary).
lifetimes' Pareto/NBD fits run once each (``--lifetimes-slow-repeats``) and are stopped
after ``--lifetimes-timeout`` seconds; both tools' parameters are scored with churnlab's
log-likelihood (checked against mpmath in the tests).

Prints a markdown table and writes ``benchmarks/results/bench_models.json``.
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
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
RESULTS = HERE / "results" / "bench_models.json"
BG_TRUE = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
GG_TRUE = {"p": 6.0, "q": 4.0, "v": 15.0}
TASKS = ["bgnbd_fit", "gg_fit", "scoring"]
#: Real-resolution and boundary cases (issue #13): task -> dataset.
EXTRA_TASKS = {
    "bgnbd_fit_daily": "daily",
    "bgnbd_fit_tenth": "tenth",
    "mbgnbd_fit_daily": "daily",
    "gg_fit_daily": "daily",
    "pareto_fit_weekly": "weekly",
    "pareto_fit_nodropout": "nodropout",
    "pareto_fit_daily": "daily",
}
#: Model class names in churnlab and lifetimes for each fit task.
FITTERS = {
    "bgnbd": ("BetaGeoModel", "BetaGeoFitter"),
    "mbgnbd": ("ModifiedBetaGeoModel", "ModifiedBetaGeoFitter"),
    "pareto": ("ParetoNBDModel", "ParetoNBDFitter"),
    "gg": ("GammaGammaModel", "GammaGammaFitter"),
}


def _cached(frame: pd.DataFrame, path: Path) -> Path:
    """Name the simulated customers C00000000..., write ``frame`` to ``path``; return it."""
    import pandas as pd

    frame.index = pd.Index([f"C{i:08d}" for i in range(len(frame))], name="customer_id")
    CACHE.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)
    return path


def simulate_summary(n_customers: int, random_state: int = 0) -> Path:
    """Simulate (once) a weekly RFM summary from BG/NBD + Gamma-Gamma; return its path."""
    import pandas as pd

    path = CACHE / f"bgnbd_summary_{n_customers}_seed{random_state}.parquet"
    if path.exists():
        return path
    rng = np.random.default_rng(random_state)
    big_t = rng.integers(1, 105, size=n_customers).astype(float)
    lam = rng.gamma(BG_TRUE["r"], 1 / BG_TRUE["alpha"], size=n_customers)
    p_drop = rng.beta(BG_TRUE["a"], BG_TRUE["b"], size=n_customers)
    x = np.zeros(n_customers)
    last = np.zeros(n_customers)
    clock = np.zeros(n_customers)
    active = np.arange(n_customers)
    while active.size:
        clock[active] += rng.exponential(1 / lam[active])
        bought = clock[active] <= big_t[active]
        active = active[bought]
        x[active] += 1
        last[active] = clock[active]
        active = active[rng.random(active.size) >= p_drop[active]]
    nu = rng.gamma(GG_TRUE["q"], 1 / GG_TRUE["v"], size=n_customers)
    mean_spend = rng.gamma(GG_TRUE["p"] * np.maximum(x, 1), 1 / (nu * np.maximum(x, 1)))
    frame = pd.DataFrame(
        {
            "frequency": x,
            "recency": np.where(x > 0, np.ceil(last), 0.0),
            "T": big_t,
            "monetary_value": np.where(x > 0, np.round(mean_spend, 2) + 0.01, 0.0),
        },
    )
    return _cached(frame, path)


def simulate_daily(n_customers: int, random_state: int = 0) -> Path:
    """Simulate (once) a daily RFM summary over three years: ~420k distinct rows at 1M."""

    sys.path.insert(0, str(HERE.parent))
    from churnlab.models._simulate import simulate_bgnbd

    path = CACHE / f"daily_summary_{n_customers}_seed{random_state}.parquet"
    if path.exists():
        return path
    rng = np.random.default_rng(random_state)
    big_t = rng.integers(1, 1096, size=n_customers).astype(float)
    params = {**BG_TRUE, "alpha": BG_TRUE["alpha"] * 7}  # the weekly rate, in days
    frame = simulate_bgnbd(n_customers, **params, T=big_t, random_state=random_state + 1)
    frame["recency"] = np.minimum(np.ceil(frame["recency"]), frame["T"])
    x = frame["frequency"].to_numpy(float)
    nu = rng.gamma(GG_TRUE["q"], 1 / GG_TRUE["v"], size=n_customers)
    spend = rng.gamma(GG_TRUE["p"] * np.maximum(x, 1), 1 / (nu * np.maximum(x, 1)))
    frame["monetary_value"] = np.where(x > 0, np.round(spend, 2) + 0.01, 0.0)
    return _cached(frame, path)


def simulate_tenth(n_customers: int, random_state: int = 0) -> Path:
    """Simulate (once) a weekly summary with T and recency in tenths of a week (issue #13)."""

    sys.path.insert(0, str(HERE.parent))
    from churnlab.models._simulate import simulate_bgnbd

    path = CACHE / f"tenth_summary_{n_customers}_seed{random_state}.parquet"
    if path.exists():
        return path
    rng = np.random.default_rng(random_state)
    big_t = rng.integers(10, 1041, size=n_customers) / 10.0
    frame = simulate_bgnbd(n_customers, **BG_TRUE, T=big_t, random_state=random_state + 2)
    frame["recency"] = np.minimum(np.ceil(frame["recency"] * 10) / 10, frame["T"])
    return _cached(frame, path)


def simulate_nodropout(n_customers: int, random_state: int = 0) -> Path:
    """Simulate (once) a weekly summary of customers who never drop out (Pareto/NBD boundary)."""
    import pandas as pd

    path = CACHE / f"nodropout_summary_{n_customers}_seed{random_state}.parquet"
    if path.exists():
        return path
    rng = np.random.default_rng(random_state)
    big_t = rng.integers(1, 105, size=n_customers).astype(float)
    count = rng.poisson(rng.gamma(BG_TRUE["r"] * 3, 1 / BG_TRUE["alpha"], n_customers) * big_t)
    last = np.where(count > 0, np.ceil(big_t * rng.beta(np.maximum(count, 1), 1)), 0.0)
    frame = pd.DataFrame(
        {"frequency": count.astype(float), "recency": np.minimum(last, big_t), "T": big_t},
    )
    return _cached(frame, path)


def _fit_child(tool: str, task: str, path: str) -> dict:
    """Fit one model (task ``<model>_fit_<dataset>``) and return time, LL and parameters."""
    import pandas as pd

    data = pd.read_parquet(path)
    data.attrs["time_unit"] = "D" if task.endswith("daily") else "W"
    model = task.split("_")[0]
    ours, theirs = FITTERS[model]
    out: dict = {}
    if model == "gg":
        data = data[data["frequency"] > 0]
    if tool == "lifetimes":
        import lifetimes

        fitter = getattr(lifetimes, theirs)()
        start = time.perf_counter()
        if model == "gg":
            fitter.fit(data["frequency"], data["monetary_value"])
        else:
            fitter.fit(data["frequency"], data["recency"], data["T"])
        out["seconds"] = time.perf_counter() - start
        params = fitter.params_
    else:
        import churnlab.models as models

        start = time.perf_counter()
        fitted = getattr(models, ours)().fit(data)
        out["seconds"] = time.perf_counter() - start
        params = fitted.params_
        out["health_ok"] = bool(fitted.health_.ok)
        out["at_boundary"] = list(fitted.health_.at_boundary)
    # Both tools' parameters scored by churnlab's (mpmath-checked) log-likelihood.
    import churnlab.models as models

    scorer = getattr(models, ours)()
    scorer.params_ = pd.Series(params.to_dict()).reindex(list(scorer._param_names))
    out["log_likelihood"] = scorer.log_likelihood(data)
    out["params"] = {k: float(v) for k, v in params.items()}
    return out


def _child(tool: str, task: str, path: str) -> None:
    """Run one measurement and print its result as JSON (called in a subprocess)."""
    import warnings

    warnings.filterwarnings("ignore")
    import pandas as pd

    if task in EXTRA_TASKS:
        print(json.dumps(_fit_child(tool, task, path)))
        return
    data = pd.read_parquet(path)
    data.attrs["time_unit"] = "W"
    repeat = data[data["frequency"] > 0]
    out: dict[str, float] = {}
    if tool == "lifetimes":
        from lifetimes import BetaGeoFitter, GammaGammaFitter

        start = time.perf_counter()
        if task == "bgnbd_fit":
            fitted = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
            out["seconds"] = time.perf_counter() - start
            # lifetimes fits on rescaled time; evaluate its likelihood on the original scale
            log_params = np.log(fitted.params_[["r", "alpha", "a", "b"]].to_numpy())
            columns = [data[c].to_numpy() for c in ("frequency", "recency", "T")]
            nll = BetaGeoFitter._negative_log_likelihood(
                log_params, *columns, np.ones(len(data)), 0.0
            )
            out["log_likelihood"] = -float(nll) * len(data)
        elif task == "gg_fit":
            fitted = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
            out["log_likelihood"] = -fitted._negative_log_likelihood_ * len(repeat)
        else:
            bg, gg = BetaGeoFitter(), GammaGammaFitter()
            bg.params_ = pd.Series(BG_TRUE)
            gg.params_ = pd.Series(GG_TRUE)
            bg.predict = bg.conditional_expected_number_of_purchases_up_to_time
            start = time.perf_counter()
            f, r, t = data["frequency"], data["recency"], data["T"]
            bg.conditional_probability_alive(f, r, t)
            bg.conditional_expected_number_of_purchases_up_to_time(52, f, r, t)
            gg.customer_lifetime_value(bg, f, r, t, data["monetary_value"], time=12, freq="W")
        if task != "scoring":
            out["params"] = fitted.params_.to_dict()
    else:
        from churnlab.models.bgnbd import BetaGeoModel
        from churnlab.models.clv import customer_lifetime_value
        from churnlab.models.gamma_gamma import GammaGammaModel

        if task == "scoring":  # fit outside the timer; scoring is what is measured
            bg, gg = BetaGeoModel().fit(data), GammaGammaModel().fit(data)
        start = time.perf_counter()
        if task == "bgnbd_fit":
            fitted = BetaGeoModel().fit(data)
        elif task == "gg_fit":
            fitted = GammaGammaModel().fit(repeat)
        else:
            bg.probability_alive(data)
            bg.expected_purchases(data, 52.0)
            customer_lifetime_value(bg, gg, data, horizon=12, horizon_unit="M")
        if task != "scoring":
            out["log_likelihood"] = float(fitted.log_likelihood_)
            out["params"] = fitted.params_.to_dict()
    out.setdefault("seconds", time.perf_counter() - start)
    print(json.dumps(out))


def _pipeline_child(path: str) -> None:
    """Time transactions -> RFM -> fit -> scores on a Parquet log (called in a subprocess)."""
    import warnings

    warnings.filterwarnings("ignore")
    from churnlab.features.rfm import rfm_summary
    from churnlab.models.bgnbd import BetaGeoModel
    from churnlab.models.clv import customer_lifetime_value
    from churnlab.models.gamma_gamma import GammaGammaModel

    stages: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = now - clock
        clock = now

    summary = rfm_summary(path, time_unit="W")
    lap("rfm_summary")
    bg = BetaGeoModel().fit(summary)
    gg = GammaGammaModel().fit(summary)
    lap("fit")
    bg.probability_alive(summary)
    bg.expected_purchases(summary, 52.0)
    customer_lifetime_value(bg, gg, summary, horizon=12, horizon_unit="M")
    lap("scores")
    stages["total"] = sum(stages.values())
    stages["customers"] = len(summary)
    print(json.dumps(stages))


def _run(args: list[str], timeout: float | None = None) -> dict:
    """Run this script in a fresh interpreter; return its JSON and the child's peak RSS.

    With ``timeout`` (seconds) a child still running is killed and ``{"timeout": timeout}``
    is returned.
    """
    proc = subprocess.Popen(
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    if timeout is not None:
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                return {"timeout": timeout, "seconds": float("nan"), "peak_rss_mb": float("nan")}
            time.sleep(0.2)
    else:
        _, status, usage = os.wait4(proc.pid, 0)
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    if status != 0:
        raise RuntimeError(f"child {args} failed:\n{stderr.decode()[-3000:]}")
    result = json.loads(stdout.decode().strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    return result


def main() -> None:
    """Run the benchmark and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lifetimes-repeats", type=int, default=3)
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument(
        "--tasks",
        nargs="+",
        default=TASKS + list(EXTRA_TASKS),
        help="subset of tasks to run (default: all)",
    )
    parser.add_argument(
        "--lifetimes-timeout",
        type=float,
        default=600.0,
        help="seconds after which a lifetimes run is stopped and reported as a timeout",
    )
    parser.add_argument(
        "--lifetimes-slow-repeats",
        type=int,
        default=1,
        help="repeats of lifetimes' Pareto/NBD fits (minutes each)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--pipeline-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    if args.pipeline_child:
        _pipeline_child(args.pipeline_child)
        return

    paths = {
        "weekly": simulate_summary(args.customers),
        "daily": simulate_daily(args.customers),
        "nodropout": simulate_nodropout(args.customers),
        "tenth": simulate_tenth(args.customers),
    }
    tasks = [t for t in TASKS + list(EXTRA_TASKS) if t in args.tasks]
    runs: dict[str, dict[str, list[dict]]] = {"churnlab": {}, "lifetimes": {}}
    load = {"start": os.getloadavg()}
    for i in range(max(args.repeats, args.lifetimes_repeats)):
        for task in tasks:
            path = paths[EXTRA_TASKS.get(task, "weekly")]
            for tool in ("churnlab", "lifetimes"):
                limit = args.repeats
                if tool == "lifetimes" and task != "scoring":
                    slow = task.startswith("pareto")
                    limit = args.lifetimes_slow_repeats if slow else args.lifetimes_repeats
                if i >= limit:
                    continue
                timeout = args.lifetimes_timeout if tool == "lifetimes" else None
                result = _run(["--child", tool, task, str(path)], timeout=timeout)
                runs[tool].setdefault(task, []).append(result)
                shown = "timeout" if "timeout" in result else f"{result['seconds']:.3f} s"
                print(f"  {tool:9s} {task:20s} run {i + 1}: {shown}", flush=True)
    load["end"] = os.getloadavg()

    table = {}
    for task in tasks:
        row = {"dataset": EXTRA_TASKS.get(task, "weekly")}
        for tool in ("churnlab", "lifetimes"):
            res = runs[tool][task]
            done = [r for r in res if "timeout" not in r]
            row[tool] = {
                "median_s": statistics.median(r["seconds"] for r in done) if done else None,
                "runs_s": [r["seconds"] for r in res],
                "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in done) if done else None,
            }
            if len(done) < len(res):
                row[tool]["timeout_s"] = res[0].get("timeout", args.lifetimes_timeout)
            for key in ("log_likelihood", "params", "health_ok", "at_boundary"):
                if done and key in done[0]:
                    row[tool][key] = done[0][key]
        c_med, l_med = row["churnlab"]["median_s"], row["lifetimes"]["median_s"]
        if l_med is None:  # lifetimes timed out: the speed-up is at least timeout / ours
            row["speedup_at_least"] = row["lifetimes"]["timeout_s"] / c_med
        else:
            row["speedup"] = l_med / c_med
        if "log_likelihood" in row["churnlab"] and "log_likelihood" in row["lifetimes"]:
            ll_c, ll_l = row["churnlab"]["log_likelihood"], row["lifetimes"]["log_likelihood"]
            row["log_likelihood_rel_diff"] = abs(ll_c - ll_l) / abs(ll_l)
            row["churnlab_log_likelihood_minus_lifetimes"] = ll_c - ll_l
        table[task] = row

    pipeline = None
    if not args.skip_pipeline:
        sys.path.insert(0, str(HERE))
        from _synthetic import synthetic_log

        log = synthetic_log(args.customers, 3.0, n_transactions=args.transactions)
        pipeline = _run(["--pipeline-child", str(log)])
        pipeline["transactions"] = args.transactions

    print(f"\n### Model fits and scoring on {args.customers:,} simulated customers\n")
    print(
        "| task | data | churnlab (s) | lifetimes (s) | speed-up | churnlab peak RSS (MB) "
        "| lifetimes peak RSS (MB) | log-lik. rel. diff |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for task, row in table.items():
        c, lt = row["churnlab"], row["lifetimes"]
        diff = row.get("log_likelihood_rel_diff")
        if lt["median_s"] is None:
            lt_s, ratio, lt_mb = (
                f"> {lt['timeout_s']:.0f} (timeout)",
                f">= {row['speedup_at_least']:.0f}x",
                "-",
            )
        else:
            lt_s, ratio = f"{lt['median_s']:.2f} (n={len(lt['runs_s'])})", f"{row['speedup']:.0f}x"
            lt_mb = f"{lt['peak_rss_mb']:.0f}"
        print(
            f"| {task} | {row['dataset']} | {c['median_s']:.3f} (n={len(c['runs_s'])}) | {lt_s} "
            f"| {ratio} | {c['peak_rss_mb']:.0f} | {lt_mb} | "
            f"{'' if diff is None else f'{diff:.1e}'} |"
        )
    print(f"\nload average (1, 5, 15 min) at start {load['start']}, at end {load['end']}")
    if pipeline:
        print(
            f"\n### Pipeline on {args.transactions:,} transactions "
            f"({pipeline['customers']:,} customers)\n"
        )
        print("| stage | seconds |\n| --- | ---: |")
        for stage in ("rfm_summary", "fit", "scores", "total"):
            print(f"| {stage} | {pipeline[stage]:.2f} |")
        print(f"\npeak RSS: {pipeline['peak_rss_mb']:.0f} MB")

    output = args.output
    output.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "customers": args.customers,
        "repeats": args.repeats,
        "lifetimes_fit_repeats": args.lifetimes_repeats,
        "true_params": {**BG_TRUE, **GG_TRUE},
        "models": table,
        "load_average": load,
        "pipeline": pipeline,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    output.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwrote {output}")


if __name__ == "__main__":
    main()

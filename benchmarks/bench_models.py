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

import numpy as np

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
RESULTS = HERE / "results" / "bench_models.json"
BG_TRUE = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
GG_TRUE = {"p": 6.0, "q": 4.0, "v": 15.0}
TASKS = ["bgnbd_fit", "gg_fit", "scoring"]


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
        index=pd.Index([f"C{i:08d}" for i in range(n_customers)], name="customer_id"),
    )
    CACHE.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)
    return path


def _child(tool: str, task: str, path: str) -> None:
    """Run one measurement and print its result as JSON (called in a subprocess)."""
    import warnings

    warnings.filterwarnings("ignore")
    import pandas as pd

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


def _run(args: list[str]) -> dict:
    """Run this script in a fresh interpreter; return its JSON and the child's peak RSS."""
    proc = subprocess.Popen(
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
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
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--pipeline-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    if args.pipeline_child:
        _pipeline_child(args.pipeline_child)
        return

    path = simulate_summary(args.customers)
    runs: dict[str, dict[str, list[dict]]] = {"churnlab": {}, "lifetimes": {}}
    for i in range(max(args.repeats, args.lifetimes_repeats)):
        for task in TASKS:
            for tool in ("churnlab", "lifetimes"):
                limit = (
                    args.lifetimes_repeats
                    if tool == "lifetimes" and task != "scoring"
                    else args.repeats
                )
                if i >= limit:
                    continue
                result = _run(["--child", tool, task, str(path)])
                runs[tool].setdefault(task, []).append(result)
                print(f"  {tool:9s} {task:9s} run {i + 1}: {result['seconds']:.3f} s", flush=True)

    table = {}
    for task in TASKS:
        row = {}
        for tool in ("churnlab", "lifetimes"):
            res = runs[tool][task]
            row[tool] = {
                "median_s": statistics.median(r["seconds"] for r in res),
                "runs_s": [r["seconds"] for r in res],
                "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in res),
            }
            if "log_likelihood" in res[0]:
                row[tool]["log_likelihood"] = res[0]["log_likelihood"]
                row[tool]["params"] = res[0]["params"]
        row["speedup"] = row["lifetimes"]["median_s"] / row["churnlab"]["median_s"]
        if "log_likelihood" in row["churnlab"]:
            ll_c, ll_l = row["churnlab"]["log_likelihood"], row["lifetimes"]["log_likelihood"]
            row["log_likelihood_rel_diff"] = abs(ll_c - ll_l) / abs(ll_l)
        table[task] = row

    pipeline = None
    if not args.skip_pipeline:
        sys.path.insert(0, str(HERE))
        from _synthetic import synthetic_log

        log = synthetic_log(args.customers, 3.0, n_transactions=args.transactions)
        pipeline = _run(["--pipeline-child", str(log)])
        pipeline["transactions"] = args.transactions

    print(f"\n### BG/NBD + Gamma-Gamma on {args.customers:,} simulated customers\n")
    print(
        "| task | churnlab (s) | lifetimes (s) | speed-up | churnlab peak RSS (MB) "
        "| lifetimes peak RSS (MB) | log-lik. rel. diff |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for task, row in table.items():
        c, lt = row["churnlab"], row["lifetimes"]
        diff = row.get("log_likelihood_rel_diff")
        print(
            f"| {task} | {c['median_s']:.3f} (n={len(c['runs_s'])}) | {lt['median_s']:.2f} "
            f"(n={len(lt['runs_s'])}) | {row['speedup']:.0f}x | {c['peak_rss_mb']:.0f} | "
            f"{lt['peak_rss_mb']:.0f} | {'' if diff is None else f'{diff:.1e}'} |"
        )
    if pipeline:
        print(
            f"\n### Pipeline on {args.transactions:,} transactions "
            f"({pipeline['customers']:,} customers)\n"
        )
        print("| stage | seconds |\n| --- | ---: |")
        for stage in ("rfm_summary", "fit", "scores", "total"):
            print(f"| {stage} | {pipeline[stage]:.2f} |")
        print(f"\npeak RSS: {pipeline['peak_rss_mb']:.0f} MB")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "customers": args.customers,
        "repeats": args.repeats,
        "lifetimes_fit_repeats": args.lifetimes_repeats,
        "true_params": {**BG_TRUE, **GG_TRUE},
        "models": table,
        "pipeline": pipeline,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    RESULTS.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()

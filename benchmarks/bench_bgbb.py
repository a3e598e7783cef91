"""Benchmark: churnlab's BG/BB fit against lifetimes' BetaGeoBetaBinomFitter.

Data sets:

* **donations** -- lifetimes' ``donations.csv``, the 11,104 first-time donors of Fader,
  Hardie & Shang (2010), six yearly opportunities, 22 distinct (x, t_x, n) rows with weights;
* **simulated** -- ``--customers`` customers (default 1,000,000) drawn from the BG/BB process
  at the donations estimates (alpha 1.204, beta 0.750, gamma 0.657, delta 2.783), each with
  ``n`` of 1-``--max-n`` opportunities (default 20); cached under ``benchmarks/.cache/``.

Per data set and tool, each measurement runs in a fresh subprocess (wall time inside the
child from after loading the data to the fitted model, compression included; peak RSS of the
child from ``os.wait4``); runs are interleaved and the median of ``--repeats`` is reported.
lifetimes gets the simulated data twice: compressed to distinct rows with weights (as its
docstring recommends; the grouping is timed) for ``--repeats`` runs, and as one row per
customer, once, stopped after ``--lifetimes-timeout`` seconds. Both tools' estimates are
scored with churnlab's log-likelihood (FHS 2010 eq. 7, held against mpmath in the tests).

Usage::

    .venv/bin/python benchmarks/bench_bgbb.py
    .venv/bin/python benchmarks/bench_bgbb.py --customers 100000 --repeats 3

Prints a markdown table and writes ``benchmarks/results/bench_bgbb.json``.
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
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from churnlab.models.bgbb import BetaGeoBetaBinomModel  # noqa: E402

CACHE = HERE / ".cache"
RESULTS = HERE / "results" / "bench_bgbb.json"
DONATIONS_TRUE = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}


def donations_path() -> Path:
    """Path of lifetimes' donations.csv (the FHS 2010 data)."""
    import lifetimes

    return Path(lifetimes.__file__).parent / "datasets" / "donations.csv"


def simulate(n_customers: int, max_n: int, random_state: int = 0) -> Path:
    """Simulate (once) BG/BB histories at the donations estimates; return the Parquet path."""
    path = CACHE / f"bgbb_{n_customers}_n{max_n}_seed{random_state}.parquet"
    if path.exists():
        return path
    rng = np.random.default_rng(random_state)
    parts = []
    for start in range(0, n_customers, 200_000):
        size = min(200_000, n_customers - start)
        p = rng.beta(DONATIONS_TRUE["alpha"], DONATIONS_TRUE["beta"], size)
        theta = rng.beta(DONATIONS_TRUE["gamma"], DONATIONS_TRUE["delta"], size)
        n = rng.integers(1, max_n + 1, size)
        opportunity = np.arange(1, max_n + 1)
        alive = np.cumprod(rng.random((size, max_n)) >= theta[:, None], axis=1).astype(bool)
        buys = alive & (rng.random((size, max_n)) < p[:, None]) & (opportunity <= n[:, None])
        x = buys.sum(axis=1)
        last = np.where(x > 0, max_n - np.argmax(buys[:, ::-1], axis=1), 0)
        parts.append(pd.DataFrame({"frequency": x, "recency": last, "T": n}, dtype=float))
    frame = pd.concat(parts, ignore_index=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)
    return path


def _load(dataset: str, path: str) -> tuple[pd.DataFrame, np.ndarray]:
    if dataset == "donations":
        data = pd.read_csv(path).rename(columns={"periods": "T"})
        return data[["frequency", "recency", "T"]], data["weights"].to_numpy(dtype=float)
    data = pd.read_parquet(path)
    return data, np.ones(len(data))


def _child(tool: str, dataset: str, path: str) -> None:
    """Fit once and print seconds, estimates and log-likelihood as JSON (in a subprocess)."""
    import warnings

    warnings.simplefilter("ignore")
    data, weights = _load(dataset, path)
    start = time.perf_counter()
    if tool == "churnlab":
        model = BetaGeoBetaBinomModel().fit(data, weights=weights)
        params = model.params_.to_dict()
    else:
        from lifetimes import BetaGeoBetaBinomFitter

        fitter_input = data.assign(_w=weights)
        if tool == "lifetimes":  # distinct rows with weights, as lifetimes recommends
            fitter_input = fitter_input.groupby(["frequency", "recency", "T"], as_index=False)[
                "_w"
            ].sum()
        fitter = BetaGeoBetaBinomFitter().fit(
            fitter_input["frequency"],
            fitter_input["recency"],
            fitter_input["T"],
            weights=fitter_input["_w"],
        )
        params = fitter.params_.to_dict()
    seconds = time.perf_counter() - start
    scorer = BetaGeoBetaBinomModel()  # the likelihood at given parameters needs no fit
    expanded = data.loc[data.index.repeat(weights.astype(int))] if dataset == "donations" else data
    ll = scorer.log_likelihood(expanded, params={k: float(v) for k, v in params.items()})
    print(json.dumps({"seconds": seconds, "params": params, "log_likelihood": ll}))


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
        time.sleep(0.05)
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    if status != 0:
        raise RuntimeError(f"child {args} failed:\n{stderr.decode()[-3000:]}")
    result = json.loads(stdout.decode().strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    return result


def _summarise(runs: list[dict]) -> dict:
    done = [r for r in runs if "timeout" not in r]
    if not done:
        return {"seconds": None, "timeout": runs[0]["timeout"], "runs": runs}
    return {
        "seconds": statistics.median(r["seconds"] for r in done),
        "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in done),
        "log_likelihood": done[0]["log_likelihood"],
        "params": done[0]["params"],
        "runs": [r["seconds"] for r in done],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--max-n", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lifetimes-timeout", type=float, default=300.0)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    datasets = {
        "donations": str(donations_path()),
        "simulated": str(simulate(args.customers, args.max_n)),
    }
    plan = [
        ("donations", "churnlab"),
        ("donations", "lifetimes"),
        ("simulated", "churnlab"),
        ("simulated", "lifetimes"),
    ]
    raw: dict[tuple[str, str], list[dict]] = {key: [] for key in plan}
    for _ in range(args.repeats):  # interleaved
        for dataset, tool in plan:
            raw[(dataset, tool)].append(_run(["--child", tool, dataset, datasets[dataset]]))
    one_row = _run(
        ["--child", "lifetimes-raw", "simulated", datasets["simulated"]],
        timeout=args.lifetimes_timeout,
    )
    results = {f"{d}/{t}": _summarise(r) for (d, t), r in raw.items()}
    results["simulated/lifetimes-raw"] = _summarise([one_row])
    distinct = len(pd.read_parquet(datasets["simulated"]).drop_duplicates())
    meta = {
        "command": " ".join(["benchmarks/bench_bgbb.py", *sys.argv[1:]]),
        "customers": args.customers,
        "max_n": args.max_n,
        "distinct_rows": distinct,
        "repeats": args.repeats,
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    print(json.dumps(meta))
    print("| data | tool | fit (s) | peak RSS (MB) | log-likelihood at its estimates |")
    print("|---|---|---:|---:|---:|")
    for key, value in results.items():
        seconds = "stopped" if value["seconds"] is None else f"{value['seconds']:.3f}"
        rss = value.get("peak_rss_mb")
        ll = value.get("log_likelihood")
        print(
            f"| {key.split('/')[0]} | {key.split('/')[1]} | {seconds} | "
            f"{'' if rss is None else f'{rss:.0f}'} | {'' if ll is None else f'{ll:,.3f}'} |"
        )


if __name__ == "__main__":
    main()

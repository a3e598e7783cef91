"""Benchmark: the base KPIs of a large Parquet log, the old pandas route against the engine route.

* ``pandas``: what the scoring pass did before issue 13: ``pandas.read_parquet`` of the
  whole log (customer_id, date, amount) and ``base_kpis`` of the previous
  ``churnlab/kpis.py`` (``--old-ref``, taken from git) on the DataFrame;
* ``engine``: today's ``base_kpis`` given the Parquet path: only the distinct
  (customer code, month) pairs and one row of totals leave DuckDB.

Each run is a fresh process under ``/usr/bin/time -v`` (peak RSS of the whole process,
wall time of the whole process); the child also reports the seconds from the start of
the work (after the imports) to the KPI record. Both get the same 1-row-per-customer
``customers`` table (only its length and column sums are used). The median of
``--repeats`` runs is reported, and the records of the two routes are compared.

Usage::

    .venv/bin/python benchmarks/bench_kpis.py                 # 10M rows, 3 runs each
    .venv/bin/python benchmarks/bench_kpis.py --repeats 5 --modes engine
    .venv/bin/python benchmarks/bench_kpis.py --modes engine --memory-limit 500MB

Prints a markdown table and writes ``benchmarks/results/bench_kpis.json`` (with a
memory limit: ``bench_kpis_limit_<limit>.json``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "bench_kpis.json"
DEFAULT_PATH = HERE / ".cache" / "synthetic_10000000tx_1000000c_3y_seed0.parquet"
MODES = ("pandas", "engine")


def _child(mode: str, path: str, old_module: str, customers: int, limit: str | None) -> None:
    """One measured run of ``mode``; prints the record and the seconds as JSON."""
    import numpy as np
    import pandas as pd

    from churnlab import engine

    if limit:
        engine.configure(memory_limit=limit, temp_directory=tempfile.gettempdir())

    if mode == "pandas":
        spec = importlib.util.spec_from_file_location("kpis_old", old_module)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        import churnlab.kpis as module
    table = pd.DataFrame(
        {"clv": np.ones(customers), "revenue_at_risk": 0.5, "action": pd.NA},
    )
    start = time.perf_counter()
    if mode == "pandas":
        log = pd.read_parquet(path, columns=["customer_id", "date", "amount"])
        end = log["date"].max()
    else:
        end = pd.Timestamp(engine.execute(engine.as_table(path)["date"].max()))
        log = path
    kpis, monthly = module.base_kpis(log, table, observation_end=end, churn_horizon_months=3)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "kpis": kpis, "months": len(monthly)}))


def _measure(mode: str, path: Path, old_module: str, customers: int, limit: str) -> dict:
    command = [
        "/usr/bin/time", "-v", sys.executable, __file__, "--child", mode, "--path", str(path),
        "--old-module", old_module, "--customers", str(customers), "--memory-limit", limit,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    record = json.loads(done.stdout.strip().splitlines()[-1])
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", done.stderr)
    parts = [float(p) for p in wall.group(1).split(":")]
    record["process_s"] = sum(p * 60**i for i, p in enumerate(reversed(parts)))
    record["peak_rss_mb"] = int(rss.group(1)) / 1024
    return record


def main() -> None:
    """Run the benchmark and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default=str(DEFAULT_PATH))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--old-ref", default="821c984^", help="git revision of the old code")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--memory-limit", default="", help="DuckDB memory_limit, engine route")
    parser.add_argument("--child", choices=MODES)
    parser.add_argument("--old-module", default="")
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.path, args.old_module, args.customers, args.memory_limit)
        return
    old = subprocess.run(
        ["git", "show", f"{args.old_ref}:churnlab/kpis.py"],
        cwd=HERE.parent, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(old)
    runs: dict[str, list[dict]] = {}
    try:
        for _ in range(args.repeats):  # interleaved, so a load change hits both routes
            for mode in args.modes:
                runs.setdefault(mode, []).append(
                    _measure(mode, Path(args.path), handle.name, args.customers, args.memory_limit)
                )
    finally:
        os.unlink(handle.name)
    limit = f", DuckDB memory_limit {args.memory_limit}" if args.memory_limit else ""
    print(f"{args.path}, {args.repeats} runs each{limit}, load {os.getloadavg()[0]:.2f}")
    print("| route | KPI seconds (median) | process seconds (median) | peak RSS MB (median) |")
    print("|---|---:|---:|---:|")
    summary = {}
    for mode, records in runs.items():
        row = {
            key: statistics.median(r[key] for r in records)
            for key in ("seconds", "process_s", "peak_rss_mb")
        }
        summary[mode] = {**row, "runs": records}
        print(
            f"| {mode} | {row['seconds']:.2f} | {row['process_s']:.2f} "
            f"| {row['peak_rss_mb']:,.0f} |"
        )
    records = [r["kpis"] for rs in runs.values() for r in rs]
    print("records equal across routes and runs:", all(r == records[0] for r in records))
    RESULTS.parent.mkdir(exist_ok=True)
    out = (
        RESULTS.with_stem(f"bench_kpis_limit_{args.memory_limit}") if args.memory_limit else RESULTS
    )
    out.write_text(
        json.dumps(
            {
                "path": args.path,
                "memory_limit": args.memory_limit or None,
                "machine": platform.platform(),
                "cpus": os.cpu_count(),
                **summary,
            },
            indent=2,
            default=str,
        )
    )


if __name__ == "__main__":
    main()

"""Benchmark: churnlab ``rfm_summary`` against lifetimes ``summary_data_from_transaction_data``.

Generates (once, cached under ``benchmarks/.cache/``) a synthetic log of 10 million
transactions by 1 million customers over 3 years, then measures side by side in the
same run, each measurement in a fresh subprocess so its peak RSS is its own:

* ``lifetimes``: ``pd.read_parquet`` + ``summary_data_from_transaction_data``;
* ``churnlab (DataFrame)``: ``pd.read_parquet`` + ``rfm_summary(frame)``;
* ``churnlab (Parquet path)``: ``rfm_summary(path)`` (DuckDB reads the file itself).

Wall time is measured inside the child from after the imports (pandas, lifetimes,
churnlab, Ibis's DuckDB backend) to the finished summary DataFrame; the table also
shows the whole process time (interpreter start-up and imports included). Peak RSS
is the child's ``ru_maxrss`` from ``os.wait4`` (whole process, imports included).
Runs are interleaved and the median of ``--repeats`` runs is reported. The first run
of each tool saves its result, and the results are checked to be equal (exact
counts/durations, rtol 1e-9 for money).

Usage::

    .venv/bin/python benchmarks/bench_rfm.py                      # 10M rows, 3 repeats
    .venv/bin/python benchmarks/bench_rfm.py --transactions 1000000 --repeats 5

Prints a markdown table and writes ``benchmarks/results/bench_rfm.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "bench_rfm.json"
TOOLS = {
    "lifetimes": "lifetimes (pandas)",
    "churnlab-dataframe": "churnlab rfm_summary (DataFrame in)",
    "churnlab-parquet": "churnlab rfm_summary (Parquet path in)",
}
COLUMNS = ["customer_id", "date", "amount"]


def _child(
    tool: str, path: str, time_unit: str, save: str | None, memory_limit: str | None
) -> None:
    """Run one measurement and print its timings as JSON (called in a subprocess)."""
    import warnings

    warnings.filterwarnings("ignore")
    import pandas as pd

    if tool == "lifetimes":
        from lifetimes.utils import summary_data_from_transaction_data
    else:
        # imported here like lifetimes above: import time stays outside the timer
        import ibis.backends.duckdb  # noqa: F401

        from churnlab import engine as _engine
        from churnlab.features.rfm import rfm_summary

        if memory_limit:
            _engine.configure(memory_limit=memory_limit)

    start = time.perf_counter()
    read = 0.0
    if tool == "churnlab-parquet":
        result = rfm_summary(path, time_unit=time_unit)
    else:
        frame = pd.read_parquet(path, columns=COLUMNS)
        read = time.perf_counter() - start
        if tool == "lifetimes":
            result = summary_data_from_transaction_data(
                frame, "customer_id", "date", monetary_value_col="amount", freq=time_unit
            )
        else:
            result = rfm_summary(frame, time_unit=time_unit)
    total = time.perf_counter() - start
    if save:
        result.to_parquet(save)
    print(json.dumps({"total_s": total, "read_s": read, "customers": len(result)}))


def _measure(
    tool: str, path: Path, time_unit: str, save: Path | None, memory_limit: str | None
) -> dict[str, float]:
    """Run ``_child`` in a fresh interpreter; return its timings and peak RSS."""
    command = [sys.executable, __file__, "--child", tool, "--path", str(path)]
    command += ["--time-unit", time_unit] + (["--save", str(save)] if save else [])
    command += ["--duckdb-memory-limit", memory_limit] if memory_limit else []
    with tempfile.TemporaryFile("w+") as out:
        launched = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, cwd=HERE.parent)
        _, status, usage = os.wait4(process.pid, 0)
        process_wall = time.perf_counter() - launched
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if process.returncode:
        raise RuntimeError(f"{tool} failed with exit code {process.returncode}:\n{text}")
    record = json.loads(text.strip().splitlines()[-1])
    record["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    record["process_wall_s"] = process_wall
    return record


def _check_equal(reference: Path, candidate: Path) -> bool:
    import numpy as np
    import pandas as pd

    ref, got = pd.read_parquet(reference), pd.read_parquet(candidate)
    ref = ref.set_axis(ref.index.map(str)).sort_index()
    got = got.set_axis(got.index.map(str)).sort_index()
    if not ref.index.equals(got.index) or list(ref.columns) != list(got.columns):
        return False
    for column in ref.columns:
        if column == "monetary_value":
            if not np.allclose(got[column], ref[column], rtol=1e-9, atol=0):
                return False
        elif not np.array_equal(got[column].to_numpy(), ref[column].to_numpy()):
            return False
    return True


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {p: version(p) for p in ("pandas", "duckdb", "ibis-framework", "lifetimes", "numpy")}


def _machine() -> dict[str, object]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory, 1),
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
    }


def main() -> None:
    """Parse arguments, run the interleaved measurements and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=None, help="default: transactions/10")
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--time-unit", default="D", choices=["D", "W"])
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--duckdb-memory-limit", default=None, help="e.g. 500MB: churnlab's DuckDB spills beyond it"
    )
    parser.add_argument("--child", choices=list(TOOLS), help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--save", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.path, args.time_unit, args.save, args.duckdb_memory_limit)
        return

    sys.path.insert(0, str(HERE))
    from _synthetic import synthetic_log

    customers = args.customers or max(1, args.transactions // 10)
    started = time.time()
    path = synthetic_log(customers, args.years, n_transactions=args.transactions, random_state=0)
    tools = [t for t in args.tools.split(",") if t]
    machine = _machine()
    runs: dict[str, list[dict[str, float]]] = {t: [] for t in tools}
    with tempfile.TemporaryDirectory() as scratch:
        saved = {t: Path(scratch) / f"{t}.parquet" for t in tools}
        for repeat in range(args.repeats):
            for tool in tools:
                save = saved[tool] if repeat == 0 else None
                record = _measure(tool, path, args.time_unit, save, args.duckdb_memory_limit)
                runs[tool].append(record)
                print(
                    f"run {repeat + 1}/{args.repeats} {tool:20s} {record['total_s']:8.2f} s "
                    f"{record['peak_rss_mb']:8.0f} MB",
                    file=sys.stderr,
                )
        equal = {
            t: _check_equal(saved["lifetimes"], saved[t])
            for t in tools
            if t != "lifetimes" and "lifetimes" in tools
        }

    summary = {
        t: {
            "label": TOOLS[t],
            "median_wall_s": statistics.median(r["total_s"] for r in runs[t]),
            "median_read_s": statistics.median(r["read_s"] for r in runs[t]),
            "median_process_wall_s": statistics.median(r["process_wall_s"] for r in runs[t]),
            "median_peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs[t]),
            "runs": runs[t],
        }
        for t in tools
    }
    if "lifetimes" in summary:
        base = summary["lifetimes"]
        for row in summary.values():
            row["speedup_vs_lifetimes"] = base["median_wall_s"] / row["median_wall_s"]
            row["memory_ratio_vs_lifetimes"] = (
                row["median_peak_rss_mb"] / base["median_peak_rss_mb"]
            )

    command = "python benchmarks/bench_rfm.py " + " ".join(sys.argv[1:])
    print(
        f"\nRFM summary, {args.transactions:,} transactions, {customers:,} customers, "
        f"{args.years:g} years, time_unit={args.time_unit!r}, median of {args.repeats} runs "
        f"(each in a fresh process); {machine['cores']} cores, {machine['cpu']}.\n"
    )
    print(
        "| tool | median wall (s) | of which read (s) | process incl. start-up (s) "
        "| median peak RSS (MB) | speed-up | memory |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in summary.values():
        speed = row.get("speedup_vs_lifetimes")
        memory = row.get("memory_ratio_vs_lifetimes")
        print(
            f"| {row['label']} | {row['median_wall_s']:.2f} | {row['median_read_s']:.2f} | "
            f"{row['median_process_wall_s']:.2f} | "
            f"{row['median_peak_rss_mb']:.0f} | "
            f"{'' if speed is None else f'{speed:.1f}x'} | "
            f"{'' if memory is None else f'{memory:.2f}x'} |"
        )
    if equal:
        print(f"\nResults equal to lifetimes (exact counts, rtol 1e-9 money): {equal}")
    print(f"Command: {command}")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "command": command,
        "transactions": args.transactions,
        "customers": customers,
        "years": args.years,
        "time_unit": args.time_unit,
        "repeats": args.repeats,
        "duckdb_memory_limit": args.duckdb_memory_limit,
        "data": str(path.relative_to(HERE.parent))
        if path.is_relative_to(HERE.parent)
        else str(path),
        "equal_to_lifetimes": equal,
        "machine": machine,
        "versions": _versions(),
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "elapsed_s": time.time() - started,
        "results": summary,
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"Wrote {args.output}")


if __name__ == "__main__":
    main()

"""Benchmark: the whole scoring pass on a large Parquet log, side by side with its references.

Uses the cached synthetic log of ``benchmarks/_synthetic.py`` (default 10 million
transactions by 1 million customers over 2021-2023, weekly periods) and measures,
each in a fresh subprocess (peak RSS of that process from ``os.wait4``):

* ``churnlab``: ``churnlab.scoring.score(path)`` (load from Parquet, RFM, model choice
  on a holdout, spend model, classifier training snapshots and fit, backtest, model
  outputs, segments, per-customer reasons, KPIs) plus ``write_outputs(...,
  keep_result=False)`` (``scores.parquet`` and ``kpis.json``), with the pass's own
  per-stage timings (``ScoringResult.timings``);
* ``lifetimes``: what a user would otherwise do: ``pandas.read_parquet``,
  ``summary_data_from_transaction_data`` (weekly), ``BetaGeoFitter`` and
  ``GammaGammaFitter`` (penalizer 0.001) and a 12-month ``customer_lifetime_value``;
* ``duckdb_groupby``: a hand-written DuckDB per-customer group-by over the same file
  (count, spend, first and last purchase): the physical floor of one aggregation;
* ``duckdb_pass``: ``SELECT count(*), sum(amount)`` over the file: one pass over the data;
* ``spark`` (not in the default modes): ``churnlab.scoring_spark.score_spark`` on a local
  Spark session (``local[2]``, 4 GB driver) reading the same log (a microsecond-timestamp
  copy: Spark reads no nanoseconds), writing the scores to Parquet. Its peak RSS is the
  Python driver's only (the JVM is a further process).

Wall time is measured inside the child after the imports. The median of
``--repeats`` runs is reported (``--pass-repeats`` for the scoring pass itself).

Usage::

    .venv/bin/python benchmarks/bench_scoring.py                         # 10M rows
    .venv/bin/python benchmarks/bench_scoring.py --transactions 1000000 --repeats 3
    .venv/bin/python benchmarks/bench_scoring.py --path benchmarks/.cache/folder \\
        --memory-limit 4GB --modes churnlab duckdb_pass --pass-repeats 1   # out-of-core

Prints a markdown table and writes ``benchmarks/results/bench_scoring.json``.
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
RESULTS = HERE / "results" / "bench_scoring.json"
MODES = ("churnlab", "lifetimes", "duckdb_groupby", "duckdb_pass", "spark")


def _parquet_source(path: str) -> str:
    """A DuckDB ``read_parquet`` argument for a file or a folder of files."""
    return str(Path(path) / "**" / "*.parquet") if Path(path).is_dir() else path


def _run_churnlab(path: str, memory_limit: str | None, threads: int) -> dict:
    import warnings

    warnings.filterwarnings("ignore")
    from churnlab import engine
    from churnlab.scoring import ScoringSettings, score, write_outputs

    if memory_limit:
        engine.configure(memory_limit=memory_limit, temp_directory=tempfile.gettempdir())
    settings = ScoringSettings(classifier_threads=threads)
    start = time.perf_counter()
    result = score(path, settings)
    with tempfile.TemporaryDirectory() as folder:
        written = time.perf_counter()
        write_outputs(result, folder, keep_result=False)
        write_s = time.perf_counter() - written
    total = time.perf_counter() - start
    stages = {**result.timings, "write_outputs": write_s}
    return {
        "seconds": total,
        "stages_s": stages,
        "customers": len(result.customers),
        "transaction_model": result.kpis["transaction_model"],
        "churn_probability_source": result.kpis["churn_probability_source"],
        "classifier_rows": int(result.models["classifier"].n_customers_),
        "classifier_rows_offered": int(
            getattr(result.models["classifier"], "n_training_rows_", -1)
        ),
    }


def _run_lifetimes(path: str) -> dict:
    import warnings

    warnings.filterwarnings("ignore")
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    start = time.perf_counter()
    data = pd.read_parquet(path, columns=["customer_id", "date", "amount"])
    summary = summary_data_from_transaction_data(
        data, "customer_id", "date", monetary_value_col="amount", freq="W"
    )
    bgf = BetaGeoFitter(penalizer_coef=0.001).fit(
        summary["frequency"], summary["recency"], summary["T"]
    )
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    ggf = GammaGammaFitter(penalizer_coef=0.001).fit(repeat["frequency"], repeat["monetary_value"])
    clv = ggf.customer_lifetime_value(
        bgf, summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"],
        time=12, freq="W", discount_rate=0.01,
    )  # fmt: skip
    return {"seconds": time.perf_counter() - start, "customers": len(clv)}


def _run_spark(path: str, threads: int) -> dict:
    import warnings

    warnings.filterwarnings("ignore")
    from pyspark.sql import SparkSession

    from churnlab.scoring import ScoringSettings
    from churnlab.scoring_spark import score_spark

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers need churnlab too
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "4g")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    # Spark reads no nanosecond timestamps: a microsecond copy, made before the clock starts
    import duckdb

    copy = Path(tempfile.mkdtemp()) / "log.parquet"
    source = _parquet_source(path).replace("'", "''")
    duckdb.sql(
        f"COPY (SELECT * REPLACE (CAST(date AS TIMESTAMP) AS date) FROM read_parquet('{source}')) "
        f"TO '{copy}' (FORMAT parquet)"
    )
    log = spark.read.parquet(str(copy))
    start = time.perf_counter()
    scores = score_spark(log, ScoringSettings(classifier_threads=threads))
    with tempfile.TemporaryDirectory() as folder:
        scores.write.parquet(f"{folder}/scores")
        customers = spark.read.parquet(f"{folder}/scores").count()
    seconds = time.perf_counter() - start
    spark.stop()
    return {"seconds": seconds, "customers": customers}


def _run_duckdb(path: str, query: str) -> dict:
    import duckdb

    source = _parquet_source(path).replace("'", "''")
    sql = {
        "duckdb_pass": f"SELECT count(*), sum(amount) FROM read_parquet('{source}')",
        "duckdb_groupby": (
            "SELECT customer_id, count(*) AS n, sum(amount) AS spend, min(date) AS first, "
            f"max(date) AS last FROM read_parquet('{source}') GROUP BY customer_id"
        ),
    }[query]
    con = duckdb.connect()
    start = time.perf_counter()
    rows = len(con.sql(sql).fetchnumpy()["n" if query == "duckdb_groupby" else "count_star()"])
    return {"seconds": time.perf_counter() - start, "rows": rows}


def _child(mode: str, path: str, memory_limit: str | None, threads: int) -> None:
    """One measured run of ``mode``; prints its record as JSON (called in a subprocess)."""
    if mode == "churnlab":
        record = _run_churnlab(path, memory_limit, threads)
    elif mode == "lifetimes":
        record = _run_lifetimes(path)
    elif mode == "spark":
        record = _run_spark(path, threads)
    else:
        record = _run_duckdb(path, mode)
    print(json.dumps(record))


def _measure(mode: str, path: Path, memory_limit: str | None, threads: int) -> dict:
    command = [sys.executable, __file__, "--child", mode, "--path", str(path)]
    command += ["--threads", str(threads)]
    command += ["--memory-limit", memory_limit] if memory_limit else []
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(command, stdout=out, cwd=HERE.parent)
        _, status, usage = os.wait4(process.pid, 0)
        out.seek(0)
        text = out.read()
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"benchmark run {mode} failed:\n{text}")
    record = json.loads(text.strip().splitlines()[-1])
    record["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    print(f"  {mode}: {record['seconds']:.1f} s, {record['peak_rss_mb']:.0f} MB", flush=True)
    return record


def main() -> None:
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--path", default=None, help="a Parquet file or folder instead")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pass-repeats", type=int, default=None)
    parser.add_argument("--modes", nargs="+", default=list(MODES[:4]), choices=MODES)
    parser.add_argument("--memory-limit", default=None, help='DuckDB limit, e.g. "4GB"')
    parser.add_argument("--threads", type=int, default=1, help="classifier threads")
    parser.add_argument("--output", default=str(RESULTS))
    parser.add_argument("--child", choices=MODES, default=None)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.path, args.memory_limit, args.threads)
        return

    if args.path:
        path = Path(args.path)
        customers = args.customers
    else:
        sys.path.insert(0, str(HERE))
        from _synthetic import synthetic_log

        customers = args.customers or args.transactions // 10
        path = synthetic_log(customers, 3.0, n_transactions=args.transactions)
    runs: dict[str, list[dict]] = {}
    for mode in args.modes:
        repeats = args.pass_repeats if mode == "churnlab" and args.pass_repeats else args.repeats
        print(f"{mode}: {repeats} run(s)", flush=True)
        runs[mode] = [_measure(mode, path, args.memory_limit, args.threads) for _ in range(repeats)]
    medians = {m: statistics.median(r["seconds"] for r in rs) for m, rs in runs.items()}
    peaks = {m: max(r["peak_rss_mb"] for r in rs) for m, rs in runs.items()}
    stages = {}
    if "churnlab" in runs:
        names = runs["churnlab"][0]["stages_s"]
        stages = {s: statistics.median(r["stages_s"][s] for r in runs["churnlab"]) for s in names}
    result = {
        "path": str(path),
        "transactions": None if args.path else args.transactions,
        "customers": customers,
        "memory_limit": args.memory_limit,
        "classifier_threads": args.threads,
        "median_s": medians,
        "peak_rss_mb": peaks,
        "churnlab_stages_median_s": stages,
        "runs": runs,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average": os.getloadavg(),
        },
    }
    Path(args.output).parent.mkdir(exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2))
    print("| tool | median s | peak RSS (MB) | vs churnlab |\n| --- | ---: | ---: | ---: |")
    base = medians.get("churnlab")
    for mode, seconds in medians.items():
        ratio = f"{seconds / base:.2f}x" if base else ""
        print(f"| {mode} | {seconds:.2f} | {peaks[mode]:.0f} | {ratio} |")
    if stages:
        print("\n| stage | median s |\n| --- | ---: |")
        for name, seconds in stages.items():
            print(f"| {name} | {seconds:.2f} |")


if __name__ == "__main__":
    main()

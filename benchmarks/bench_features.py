"""Benchmark: point-in-time behaviour features and churn scoring at scale.

Uses the cached synthetic log of ``benchmarks/_synthetic.py`` (default 10 million
transactions by 1 million customers over 2021-2023) and, in a fresh subprocess per
run (so peak RSS is the run's own), times:

* ``features_train``: ``model_features(path, cutoff=train)``: behaviour features, BG/NBD outputs
  (the Parquet path goes straight to DuckDB);
* ``labels_train``: ``churn_labels`` for the training snapshot;
* ``fit``: ``ChurnClassifier`` (calibrated gradient boosting) on a random sample of
  ``--fit-sample`` training customers;
* ``features_score``: ``model_features`` at the later scoring cutoff, every customer;
* ``score``: ``churn_probability`` for every customer at the scoring cutoff.

Wall time is measured inside the child after the imports; peak RSS is the child's
``ru_maxrss`` (whole process). The median of ``--repeats`` runs is reported.

Usage::

    .venv/bin/python benchmarks/bench_features.py                       # 10M rows, 3 repeats
    .venv/bin/python benchmarks/bench_features.py --transactions 1000000 --repeats 3

Prints a markdown table and writes ``benchmarks/results/bench_features.json``.
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
RESULTS = HERE / "results" / "bench_features.json"
STAGES = ["features_train", "labels_train", "fit", "features_score", "score"]
TRAIN_CUTOFF = "2023-07-01"
SCORE_CUTOFF = "2023-10-01"


def _child(path: str, fit_sample: int, threads: int | None) -> None:
    """One measured run; prints its timings as JSON (called in a subprocess)."""
    import warnings

    warnings.filterwarnings("ignore")
    import ibis.backends.duckdb  # noqa: F401

    from churnlab.classifier.model_features import model_features
    from churnlab.classifier.pipeline import ChurnClassifier, churn_labels

    times: dict[str, float] = {}
    options = {"time_unit": "W", "transaction_model": "fit"}

    start = time.perf_counter()
    train_x = model_features(path, cutoff=TRAIN_CUTOFF, **options)
    times["features_train"] = time.perf_counter() - start

    start = time.perf_counter()
    train_y = churn_labels(path, cutoff=TRAIN_CUTOFF, horizon=3, horizon_unit="M")
    train_y = train_y.reindex(train_x.index)
    times["labels_train"] = time.perf_counter() - start

    start = time.perf_counter()
    sample = train_x.sample(n=min(fit_sample, len(train_x)), random_state=0)
    model = ChurnClassifier(random_state=0, n_threads=threads)
    model.fit(sample, train_y.loc[sample.index])
    times["fit"] = time.perf_counter() - start

    start = time.perf_counter()
    score_x = model_features(path, cutoff=SCORE_CUTOFF, **options)
    times["features_score"] = time.perf_counter() - start

    start = time.perf_counter()
    probability = model.churn_probability(score_x.reindex(columns=train_x.columns))
    times["score"] = time.perf_counter() - start

    times["total"] = sum(times.values())
    record = {
        "times_s": times,
        "train_customers": len(train_x),
        "scored_customers": len(probability),
        "train_churn_rate": float(train_y.mean()),
        "features": len(train_x.columns),
    }
    print(json.dumps(record))


def _measure(path: Path, fit_sample: int, threads: int | None) -> dict:
    command = [sys.executable, __file__, "--child", "--path", str(path)]
    command += ["--fit-sample", str(fit_sample)]
    command += ["--threads", str(threads)] if threads else []
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(command, stdout=out, cwd=HERE.parent)
        _, status, usage = os.wait4(process.pid, 0)
        out.seek(0)
        text = out.read()
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"benchmark run failed:\n{text}")
    record = json.loads(text.strip().splitlines()[-1])
    record["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return record


def main() -> None:
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fit-sample", type=int, default=200_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--path", default=None)
    args = parser.parse_args()
    if args.child:
        _child(args.path, args.fit_sample, args.threads)
        return

    sys.path.insert(0, str(HERE))
    from _synthetic import synthetic_log

    customers = args.customers or args.transactions // 10
    path = synthetic_log(customers, 3.0, n_transactions=args.transactions)
    runs = [_measure(path, args.fit_sample, args.threads) for _ in range(args.repeats)]
    medians = {s: statistics.median(r["times_s"][s] for r in runs) for s in [*STAGES, "total"]}
    result = {
        "transactions": args.transactions,
        "customers": customers,
        "repeats": args.repeats,
        "fit_sample": args.fit_sample,
        "classifier_threads": args.threads,
        "cutoffs": {"train": TRAIN_CUTOFF, "score": SCORE_CUTOFF},
        "median_s": medians,
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "runs": runs,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(f"{args.transactions:,} transactions, {customers:,} customers, median of {args.repeats}")
    print("| stage | median s |\n| --- | ---: |")
    for stage in [*STAGES, "total"]:
        print(f"| {stage} | {medians[stage]:.1f} |")
    print(f"| peak RSS (MB) | {result['peak_rss_mb']:.0f} |")


if __name__ == "__main__":
    main()

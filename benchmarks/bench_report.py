"""The full report on the bundled data: one notebook at a time vs two at once (``--jobs``).

Each run is a fresh ``churnlab report`` process into its own folder (median of runs);
the figures are the run's own manifest (scoring pass, notebooks, whole run) and the
wall time of the command, which adds loading and checking the data. The reference is
the run's scoring pass alone: the part no notebook layout can shorten.
Usage: ``.venv/bin/python benchmarks/bench_report.py [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHURNLAB = str(Path(sys.executable).with_name("churnlab"))


def _run(jobs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        command = [CHURNLAB, "report", "--no-progress", "--jobs", str(jobs), "--output-dir", folder]
        subprocess.run(command, check=True, capture_output=True)
        wall = time.perf_counter() - start
        manifest = json.loads((Path(folder) / "latest" / "manifest.json").read_text())
    return {
        "command (s)": wall,
        "run (s)": manifest["duration_seconds"],
        "scoring pass (s)": manifest["scoring"]["seconds"],
        "notebooks, sum of their times (s)": sum(n["seconds"] for n in manifest["notebooks"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, dict] = {"load_average_at_start": os.getloadavg()[0]}
    for jobs in (1, 2):
        runs = [_run(jobs) for _ in range(args.repeat)]  # interleaving would mix caches
        results[f"--jobs {jobs}"] = {
            key: statistics.median(r[key] for r in runs) for key in runs[0]
        } | {"runs": runs}
        print(f"--jobs {jobs}: " + ", ".join(
            f"{k} {v:.1f}" for k, v in results[f"--jobs {jobs}"].items() if k != "runs"
        ))  # fmt: skip
    results["load_average_at_end"] = os.getloadavg()[0]
    out = Path(__file__).with_name("results") / "bench_report.json"
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

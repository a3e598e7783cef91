"""Start-up time of the ``churnlab`` command and of ``import churnlab`` (median of runs).

The reference is the bare interpreter (``python -c pass``): the time no Python tool can
beat. Usage: ``.venv/bin/python benchmarks/bench_startup.py [--repeat 7]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHURNLAB = str(Path(sys.executable).with_name("churnlab"))
CASES = {
    "python -c pass (reference)": [sys.executable, "-c", "pass"],
    "import churnlab": [sys.executable, "-c", "import churnlab"],
    "churnlab --help": [CHURNLAB, "--help"],
    "churnlab report --help": [CHURNLAB, "report", "--help"],
    "churnlab score --help": [CHURNLAB, "score", "--help"],
}


def _seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    results = {}
    for name, command in CASES.items():
        _seconds(command)  # warm the file cache
        results[name] = statistics.median(_seconds(command) for _ in range(args.repeat))
        print(f"{name:32s} {results[name]:.3f} s")
    out = Path(__file__).with_name("results") / "bench_startup.json"
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

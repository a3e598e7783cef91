"""`churnlab report --jobs 2`: notebooks in child processes, the same run as one at a time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.report.conftest import write_notebook

RECORD = "from churnlab.report import record_kpis\nrecord_kpis({name}={value})"
# the transport the kernel was started with, from its own connection file
TRANSPORT = (
    "import json\nfrom ipykernel.connect import get_connection_file\n"
    "with open(get_connection_file()) as f:\n    transport = json.load(f)['transport']"
)


def _report(tmp_path: Path, out: str, *extra: str, env: dict | None = None) -> subprocess.Popen:
    log = tmp_path / "log.csv"
    pd.DataFrame(
        {"customer_id": ["a", "b", "a"], "date": ["2024-01-01", "2024-01-05", "2024-02-01"],
         "amount": [1.0, 2.0, 3.0]}
    ).to_csv(log, index=False)  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "churnlab.cli", "report", "--no-progress",
         "--notebooks-dir", str(tmp_path / "notebooks"), "--output-dir", str(tmp_path / out),
         "--data-source", str(log), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def _manifest(folder: Path) -> dict:
    (run,) = [p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()]
    return json.loads((run / "manifest.json").read_text())


@pytest.mark.slow
def test_parallel_run_equals_the_sequential_one(tmp_path: Path) -> None:
    notebooks = tmp_path / "notebooks"
    write_notebook(notebooks, "00-a", ["# A", RECORD.format(name="shared", value=1)])
    write_notebook(notebooks, "10-b", ["# B", "import time\ntime.sleep(2)", RECORD.format(
        name="shared", value=2)])  # fmt: skip
    write_notebook(notebooks, "20-c", ["# C", TRANSPORT, RECORD.format(
        name="only_c", value="transport")])  # fmt: skip
    for out, jobs in (("one", "1"), ("two", "2")):
        process = _report(tmp_path, out, "--jobs", jobs)
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
    one, two = _manifest(tmp_path / "one"), _manifest(tmp_path / "two")
    # KPIs merge in the run's order (10-b's value wins) even though 20-c ends first
    assert two["kpis"] == one["kpis"] and two["kpis"]["shared"] == 2
    # Unix sockets, not TCP ports two kernels starting at once could race for (CI once
    # saw 10-b's kernel die with "Address already in use" while 20-c's started)
    assert two["kpis"]["only_c"] == "ipc"
    assert [n["status"] for n in two["notebooks"]] == ["succeeded"] * 3
    run = next(p for p in (tmp_path / "two").iterdir() if p.is_dir() and not p.is_symlink())
    assert {p.name for p in run.glob("*.html")} >= {"00-a.html", "10-b.html", "20-c.html"}


@pytest.mark.slow
def test_a_failure_in_one_child_is_reported_with_its_cell(tmp_path: Path) -> None:
    notebooks = tmp_path / "notebooks"
    write_notebook(notebooks, "00-a", ["# A", "x = 1"])
    write_notebook(notebooks, "10-b", ["# B", "raise ValueError('boom in b')"])
    write_notebook(notebooks, "20-c", ["# C", "y = 2"])
    process = _report(tmp_path, "out", "--jobs", "2")
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 4, stderr
    assert "notebook '10-b' failed at cell 4" in stderr and "ValueError: boom in b" in stderr
    (failed,) = (tmp_path / "out").glob("*-failed")
    manifest = json.loads((failed / "manifest.json").read_text())
    statuses = {n["name"]: n["status"] for n in manifest["notebooks"]}
    assert statuses["10-b"] == "failed" and statuses["00-a"] == "succeeded"
    assert manifest["error"]["notebook"] == "10-b" and manifest["error"]["cell"] == 4
    assert (failed / "10-b.debug.html").exists()


@pytest.mark.slow
def test_a_stop_signal_stops_every_child(tmp_path: Path) -> None:
    notebooks = tmp_path / "notebooks"
    for name in ("00-slow", "10-slow"):
        write_notebook(notebooks, name, ["# Slow", "import time\ntime.sleep(300)"])
    temporary = tmp_path / "tmp"  # where the kernels' sockets go
    temporary.mkdir()
    process = _report(tmp_path, "out", "--jobs", "2", env={**os.environ, "TMPDIR": str(temporary)})
    reports = tmp_path / "out"
    deadline = time.monotonic() + 120
    while len(list(reports.glob(".tmp-*/*-slow.ipynb"))) < 2:  # both notebooks running
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the notebooks never started"
        time.sleep(0.3)
    time.sleep(2)
    begin = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert time.monotonic() - begin < 60  # not the 300 s the cells would take
    assert process.returncode == 4 and "stopped by SIGTERM" in stderr, stderr
    (failed,) = reports.glob("*-failed")
    manifest = json.loads((failed / "manifest.json").read_text())
    assert manifest["error"]["notebook"] == "00-slow"
    assert {n["status"] for n in manifest["notebooks"]} == {"failed"}
    assert not list(temporary.iterdir())  # the killed kernels' socket folder is gone

"""Runs stopped from outside (SIGTERM, SIGINT, kill -9) are recorded, never lost."""

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


def _log(path: Path) -> Path:
    pd.DataFrame(
        {"customer_id": ["a", "b", "a"], "date": ["2024-01-01", "2024-01-05", "2024-02-01"],
         "amount": [1.0, 2.0, 3.0]}
    ).to_csv(path, index=False)  # fmt: skip
    return path


def _report(tmp_path: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "churnlab.cli", "report", "--no-progress",
         "--notebooks-dir", str(tmp_path / "notebooks"), "--output-dir", str(tmp_path / "reports"),
         "--data-source", str(_log(tmp_path / "log.csv")), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signalled_run_is_recorded_as_failed(tmp_path: Path, signum: int) -> None:
    write_notebook(tmp_path / "notebooks", "00-slow", ["# Slow", "import time\ntime.sleep(120)"])
    process = _report(tmp_path)
    reports = tmp_path / "reports"
    deadline = time.monotonic() + 120
    while not list(reports.glob(".tmp-*/00-slow.ipynb")):  # the notebook is running
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the notebook never started"
        time.sleep(0.3)
    time.sleep(2)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 4, stderr
    assert f"stopped by {signal.Signals(signum).name}" in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not list(reports.glob(".tmp-*"))
    (failed,) = reports.glob("*-failed")
    manifest = json.loads((failed / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["error"]["notebook"] == "00-slow"
    assert (failed / "00-slow.debug.html").exists()
    assert failed.name in (reports / "index.html").read_text()


@pytest.mark.slow
def test_a_killed_run_is_recorded_by_the_next_run(tmp_path: Path) -> None:
    write_notebook(tmp_path / "notebooks", "00-fast", ["# Fast", "1 + 1"])
    reports = tmp_path / "reports"
    # What kill -9 leaves: a temporary folder with the manifest written at the start.
    killed = reports / ".tmp-20240101T000000Z"
    killed.mkdir(parents=True)
    started = {"run_id": "20240101T000000Z", "status": "running", "kpis": {}}
    (killed / "manifest.json").write_text(json.dumps(started))
    process = _report(tmp_path)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert not killed.exists()
    manifest = json.loads((reports / "20240101T000000Z-failed" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "killed" in manifest["error"]["message"]
    assert "20240101T000000Z-failed" in (reports / "index.html").read_text()
    assert os.readlink(reports / "latest") != "20240101T000000Z-failed"


def test_the_run_timeout_covers_loading_the_data(tmp_path: Path, monkeypatch) -> None:
    from churnlab.exceptions import ReportExecutionError
    from churnlab.report import ReportConfig, run_report, runner

    def slow(source, **kwargs):
        time.sleep(5)
        return pd.DataFrame({"customer_id": ["a"], "amount": [1.0]})

    write_notebook(tmp_path / "notebooks", "00-fast", ["# Fast", "1 + 1"])
    monkeypatch.setattr(runner, "load_data", slow)
    config = ReportConfig(
        notebooks_dir=tmp_path / "notebooks", output_dir=tmp_path / "reports", run_timeout=1,
        progress=False,
    )  # fmt: skip
    with pytest.raises(ReportExecutionError, match="while loading and checking the data"):
        run_report(config)

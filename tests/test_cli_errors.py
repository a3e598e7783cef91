"""Bad input on the command line ends in one plain line and the right exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _churnlab(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "churnlab.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300,
        env={**os.environ, "CHURNLAB_DEBUG": ""},
    )  # fmt: skip


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "log.csv"
    path.write_text("customer_id,date,amount\nA,2021-01-05,10\nA,2021-02-06,10\nB,2021-01-13,10\n")
    return path


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--observation-end", "garbage"], 2, "is not a date"),
        (["--observation-end", "2022-06-01T00:00+05:00"], 2, "timezone-naive"),
        (["--observation-end", "01/02/2021"], 2, "--dayfirst"),
        (["-o", "/proc/x.csv"], 2, "cannot be written"),
        (["-o", "log.csv"], 2, "is the input file"),
        (["--encoding", "klingon"], 2, "not a known text encoding"),
        (["--currency", "pounds"], 2, "three-letter ISO 4217 code"),
        (["--amount", "amuont"], 3, "amount"),
    ],
)
def test_score_refuses_bad_options_in_one_line(
    log: Path, args: list[str], code: int, message: str
) -> None:
    argv = ["score", log.name, *args]
    if "-o" not in args:
        argv += ["-o", "out.csv"]
    done = _churnlab(*argv, cwd=log.parent)
    assert done.returncode == code, done.stderr
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_report_refuses_a_file_as_reports_folder(log: Path) -> None:
    done = _churnlab("report", "--output-dir", log.name, "--data-source", log.name, cwd=log.parent)
    assert done.returncode == 2 and "cannot be written" in done.stderr


def test_report_refuses_parameters_that_are_not_a_table(log: Path) -> None:
    config = log.parent / "bad.toml"
    config.write_text("parameters = 5\n")
    done = _churnlab("report", "--config", config.name, cwd=log.parent)
    assert done.returncode == 2 and "'parameters' must be a table" in done.stderr


def test_error_lines_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    huge = "x" * 200_000
    path.write_text(f"customer_id,date,amount\n{huge},not-a-date,1\n{huge},also-not,2\n")
    done = _churnlab("score", path.name, "-o", "out.csv", cwd=tmp_path)
    assert done.returncode == 3
    assert len(done.stderr) < 3_000

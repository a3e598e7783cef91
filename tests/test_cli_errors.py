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


def test_a_european_csv_is_read_with_the_options_the_error_names(tmp_path: Path) -> None:
    # ';'-separated, decimal commas, day-first dates and German column names, as Excel
    # writes a CSV in much of Europe
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(8)
    rows = []
    for c in range(300):
        start = int(rng.integers(0, 200))
        for d in start + np.cumsum(rng.exponential(40, size=int(rng.integers(1, 12)))).astype(int):
            day = pd.Timestamp("2022-01-01") + pd.Timedelta(days=int(min(d, 700)))
            amount = f"{rng.gamma(2, 25):.2f}".replace(".", ",")
            rows.append(f"K{c:04d};{day:%d.%m.%Y};{amount}")
    path = tmp_path / "umsatz.csv"
    path.write_text("Kunde;Datum;Betrag\n" + "\n".join(rows) + "\n", encoding="utf-8")
    mapping = ["--customer-id", "Kunde", "--date", "Datum", "--amount", "Betrag", "--dayfirst"]
    refused = _churnlab("score", path.name, "-o", "out.csv", *mapping, cwd=tmp_path)
    assert refused.returncode == 3 and "--sep ';'" in refused.stderr, refused.stderr
    done = _churnlab("score", path.name, "-o", "out.csv", *mapping, "--sep", ";",
                     "--decimal", ",", "--currency", "EUR", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    scores = pd.read_csv(tmp_path / "out.csv")
    assert len(scores) == 300 and scores["clv"].notna().all()
    spend = pd.read_csv(path, sep=";", decimal=",").groupby("Kunde")["Betrag"].sum()
    assert np.allclose(
        scores.set_index("customer_id")["total_spend"], spend.loc[scores["customer_id"]]
    )

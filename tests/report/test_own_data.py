"""A user's own log: other column names, day-first dates, Latin-1, euros; CLI and config file."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cd_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CD retailer's export: client,purchase_day,number_of_cds,dollar_value (DD/MM/YYYY)."""
    rng = np.random.default_rng(5)
    rows = []
    for c in range(160):
        client = f"Zoë-{c}" if c % 10 == 0 else f"client-{c}"
        rate, stop = rng.gamma(2, 1 / 40), int(rng.integers(100, 900))
        day = int(rng.integers(0, 200))
        while day < min(stop, 900):
            cds = int(rng.integers(1, 5))
            rows.append((client, pd.Timestamp("2022-01-03") + pd.Timedelta(days=day), cds,
                         round(cds * float(rng.uniform(8, 15)), 2)))  # fmt: skip
            day += int(rng.exponential(1 / rate)) + 1
    frame = pd.DataFrame(rows, columns=["client", "purchase_day", "number_of_cds", "dollar_value"])
    frame["purchase_day"] = frame["purchase_day"].dt.strftime("%d/%m/%Y")
    folder = tmp_path_factory.mktemp("cd-shop")
    path = folder / "cds.csv"
    frame.to_csv(path, index=False, encoding="latin-1")
    assert frame["purchase_day"].str[:2].astype(int).max() > 12  # the data settles day-first
    return path


MAPPING = ["--customer-id", "client", "--date", "purchase_day", "--amount", "dollar_value",
           "--quantity", "number_of_cds", "--dayfirst", "--encoding", "latin-1"]  # fmt: skip


def _churnlab(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "churnlab.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def test_score_reads_a_foreign_csv(cd_shop: Path) -> None:
    out = cd_shop.parent / "scores.csv"
    done = _churnlab("score", cd_shop.name, "-o", out.name, *MAPPING, "--currency", "EUR",
                     cwd=cd_shop.parent)  # fmt: skip
    assert done.returncode == 0, done.stderr
    scores = pd.read_csv(out, index_col="customer_id", encoding="utf-8")
    clients = pd.read_csv(cd_shop, encoding="latin-1")["client"]
    assert len(scores) == clients.nunique() and "Zoë-0" in scores.index
    assert re.search(r"rows read, [\d,]+ kept", done.stdout)


def test_score_without_the_mapping_says_which_option_to_pass(cd_shop: Path) -> None:
    done = _churnlab("score", cd_shop.name, "-o", "x.csv", cwd=cd_shop.parent)
    assert done.returncode in (2, 3)
    assert len(done.stderr.strip().splitlines()) == 1
    assert "--" in done.stderr  # names a command-line option, not only an API keyword


def test_report_from_a_config_file_is_in_euros_with_no_sample_data(cd_shop: Path) -> None:
    config = cd_shop.parent / "cds.toml"
    config.write_text(
        'output_dir = "reports"\n'
        "[parameters]\n"
        f'data_source = "{cd_shop.name}"\n'
        "[data]\n"
        'customer_id = "client"\ndate = "purchase_day"\namount = "dollar_value"\n'
        'quantity = "number_of_cds"\ndayfirst = true\nencoding = "latin-1"\ncurrency = "EUR"\n',
        encoding="utf-8",
    )
    done = _churnlab("report", "--config", config.name, "--no-progress", cwd=cd_shop.parent)
    assert done.returncode == 0, done.stderr
    run_dir = next(p for p in (cd_shop.parent / "reports").iterdir() if p.name[:2] == "20")
    pages = {p.name: p.read_text(encoding="utf-8") for p in run_dir.glob("[0-9][0-9]-*.html")}
    assert len(pages) == 6
    for name, text in pages.items():
        assert "£" not in text, name
        assert "Telco" not in text and "1,869" not in text, name
    assert "€" in pages["90-executive-summary.html"] and "€" in pages["10-segmentation.html"]
    assert "cds.csv" in pages["40-churn-reasons.html"]  # page 40 says which data it describes
    customers = pd.read_csv(cd_shop, encoding="latin-1")["client"].nunique()
    assert f">{customers}<" in pages["00-data-quality.html"]

"""Every page of a run shows the one scoring pass: same numbers everywhere, run after run."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from churnlab.kpis import KPI_GLOSSARY, kpi_label

pytestmark = pytest.mark.slow

_ROW = re.compile(r"<th[^>]*row_heading[^>]*>(.*?)</th>\s*<td[^>]*>(.*?)</td>", re.S)


def _first_cells(page: Path) -> dict[str, str]:
    """Row label -> first cell of every table row on a stakeholder page."""
    text = page.read_text(encoding="utf-8")
    return {html.unescape(k).strip(): html.unescape(v).strip() for k, v in _ROW.findall(text)}


def test_outputs_are_identical_between_runs(full_runs) -> None:
    first, second = full_runs.run_dir(0), full_runs.run_dir(1)
    for name in ("scores.parquet", "kpis.json", "actions.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert not (first / "scoring.pkl").exists()  # raw ids and models are not published
    # the second run compares itself with the first: every change is exactly zero
    changes = (second / "90-executive-summary.html").read_text(encoding="utf-8")
    assert "no change" in changes
    manifest = json.loads((second / "manifest.json").read_text())
    summary = next(n for n in manifest["notebook_parameters"] if n.startswith("90"))
    previous = json.loads(manifest["notebook_parameters"][summary]["previous_kpis"])
    assert previous == json.loads((first / "manifest.json").read_text())["kpis"]


def test_a_kpi_has_one_value_on_every_page(full_runs) -> None:
    run_dir = full_runs.run_dir(0)
    kpis = json.loads((run_dir / "kpis.json").read_text())
    labels = {kpi_label(n, points=kpis["retention_what_if_points"]): n for n in KPI_GLOSSARY}
    seen: dict[str, dict[str, str]] = defaultdict(dict)
    for page in sorted(run_dir.glob("[0-9][0-9]-*.html")):
        for label, value in _first_cells(page).items():
            if label in labels:
                seen[label][page.name] = value
    shared = {label: pages for label, pages in seen.items() if len(pages) > 1}
    assert shared, "no KPI appears on two pages"
    for label, pages in shared.items():
        assert len(set(pages.values())) == 1, f"{label}: {pages}"
    assert seen["Customers to contact"]["90-executive-summary.html"] == (
        f"{kpis['customers_to_contact']:,}"
    )


def test_one_customer_has_one_lifetime_value(full_runs) -> None:
    run_dir = full_runs.run_dir(0)
    scores = pd.read_parquet(run_dir / "scores.parquet")
    top = scores[scores["action"].notna()].sort_values("revenue_at_risk").index[-1]
    rows = {}
    for name in ("10-segmentation", "20-clv-and-churn-probability"):  # 90 lists actions
        text = (run_dir / f"{name}.html").read_text(encoding="utf-8")
        row = re.search(rf">{re.escape(html.escape(str(top)))}</th>(.*?)</tr>", text, re.S)
        assert row, f"{top} is not on {name}"
        rows[name] = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))[:4]
    assert len({tuple(r) for r in rows.values()}) == 1, rows
    segment, clv, churn, _ = next(iter(rows.values()))
    assert segment == scores.loc[top, "segment"]
    value = scores.loc[top, "clv"]  # whole pounds from 1,000 up, pence below
    assert clv == (f"£{value:,.0f}" if value >= 1000 else f"£{value:,.2f}")
    assert churn == f"{scores.loc[top, 'churn_probability']:.1%}"


def test_score_command_gives_the_runs_table(full_runs, tmp_path: Path) -> None:
    run_dir = full_runs.run_dir(0)
    out = tmp_path / "scores.parquet"
    completed = subprocess.run(
        [sys.executable, "-m", "churnlab.cli", "score", "online_retail",
         "--sample-customers", "300", "-o", str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "customers scored" in completed.stdout and "rows read" in completed.stdout
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(run_dir / "scores.parquet"))


def test_model_health_problems_are_on_the_pages(full_runs) -> None:
    run_dir = full_runs.run_dir(0)
    kpis = json.loads((run_dir / "kpis.json").read_text())
    assert kpis["caveats"], "the Online Retail sample should raise at least one caveat"
    for name in ("10-segmentation", "20-clv-and-churn-probability", "90-executive-summary"):
        text = html.unescape((run_dir / f"{name}.html").read_text(encoding="utf-8"))
        assert "Read these figures with care" in text, name
        for caveat in kpis["caveats"]:  # the summary gives each caveat's opening words
            assert caveat[:35] in text, (name, caveat[:35])
    scores = pd.read_parquet(run_dir / "scores.parquet")
    if any("No purchase model fits" in c for c in kpis["caveats"]):
        page = html.unescape((run_dir / "20-clv-and-churn-probability.html").read_text())
        assert "are not shown" in page  # a degenerate fit is never plotted as a finding
        assert scores["p_alive"].isna().all()

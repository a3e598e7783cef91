"""Per-customer scores, executive-summary figures and ``churnlab score``."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from churnlab.cli import main
from churnlab.exceptions import ConfigError
from churnlab.report.scoring import check_output_path
from churnlab.report.summary import SCORE_COLUMNS, kpi_changes, score_base


@pytest.fixture(scope="module")
def random_transactions_module() -> pd.DataFrame:
    # same recipe as the root conftest's random_transactions, module-scoped for speed
    import numpy as np

    rng = np.random.default_rng(20240101)
    counts = rng.geometric(0.2, size=500)
    customer = np.repeat([f"cust{i:04d}" for i in range(500)], counts)
    first = rng.integers(0, 600, size=500)
    offsets = np.repeat(first, counts) + rng.integers(0, 130, size=counts.sum())
    return pd.DataFrame(
        {
            "customer_id": customer,
            "order_id": [f"ord{i}" for i in range(counts.sum())],
            "date": pd.Timestamp("2022-01-01") + pd.to_timedelta(offsets, unit="D"),
            "amount": np.round(rng.gamma(2.0, 25.0, size=counts.sum()), 2),
        }
    ).sort_values(["date", "customer_id"], ignore_index=True)


@pytest.fixture(scope="module")
def base(random_transactions_module: pd.DataFrame):
    return score_base(random_transactions_module, top_n=5, random_state=0)


def test_scores_table(base, random_transactions_module: pd.DataFrame) -> None:
    scores = base.scores
    assert set(SCORE_COLUMNS) <= set(scores.columns)
    assert scores.index.name == "customer_id"
    assert len(scores) == random_transactions_module["customer_id"].nunique()
    assert scores["p_alive"].between(0, 1).all()
    assert scores["churn_probability"].between(0, 1).all()
    assert (scores["clv"] >= 0).all()
    assert scores["revenue_at_risk"].equals(scores["clv"] * scores["churn_probability"])
    assert set(scores["health_tier"].dropna().astype(str)) <= {"Good", "Average", "Poor"}


def test_kpis_are_consistent(base) -> None:
    kpis = base.kpis
    assert kpis["customers"] == len(base.scores)
    assert 0 <= kpis["active_share"] <= 1
    assert math.isclose(kpis["retention_rate"] + kpis["churn_rate"], 1.0, abs_tol=1e-3)
    assert kpis["expected_value_12m"] == pytest.approx(base.scores["clv"].sum(), abs=0.01)
    assert kpis["revenue_at_risk"] <= kpis["expected_value_12m"]
    assert kpis["retention_what_if_value"] > 0


def test_segments_actions_reasons(base) -> None:
    assert list(base.segments["revenue_at_risk"]) == sorted(
        base.segments["revenue_at_risk"], reverse=True
    )
    assert len(base.actions) <= 5
    assert "reason_1" in base.actions
    assert {"customers", "share"} <= set(base.reasons.columns)
    assert len(base.what_if) == 1


def test_kpi_changes() -> None:
    table = kpi_changes({"customers": 10, "revenue_12m": 5.0, "new": 1}, '{"customers": 8}')
    assert table.loc["customers", "change"] == 2
    assert math.isnan(table.loc["revenue_12m", "change"])
    assert kpi_changes({"a": 1}, "{}").loc["a", "value"] == 1
    with pytest.raises(ConfigError, match="previous_kpis is not valid JSON"):
        kpi_changes({"a": 1}, "{oops")
    with pytest.raises(ConfigError, match="must be a JSON object"):
        kpi_changes({"a": 1}, "[1]")


def test_score_base_rejects_bad_options(random_transactions_module: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="reasons must be 'actions', 'all' or 'none'"):
        score_base(random_transactions_module, reasons="some")
    with pytest.raises(ConfigError, match="time_unit must be one of"):
        score_base(random_transactions_module, time_unit="Y")


@pytest.mark.parametrize(
    ("name", "match"),
    [("scores.xlsx", "use a .parquet or .csv"), ("missing/scores.csv", "does not exist")],
)
def test_score_output_path(tmp_path: Path, name: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        check_output_path(tmp_path / name)


def test_score_command(
    random_transactions_module: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "log.csv"
    random_transactions_module.to_csv(source, index=False)
    out = tmp_path / "scores.parquet"
    assert main(["score", str(source), "-o", str(out), "--sample-customers", "200"]) == 0
    table = pd.read_parquet(out)
    assert len(table) == 200
    assert {"p_alive", "churn_probability", "clv", "segment", "health_tier", "reason_1"} <= set(
        table.columns
    )
    assert "200 customers scored" in capsys.readouterr().out
    assert main(["score", str(source), "-o", str(tmp_path / "s.txt")]) == 2
    assert "use a .parquet or .csv" in capsys.readouterr().err

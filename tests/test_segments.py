import numpy as np
import pandas as pd
import pytest

from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.segments import (
    SEGMENT_RULES,
    customer_clusters,
    health_tiers,
    rfm_scores,
    rfm_segments,
    value_loyalty_grid,
    value_loyalty_summary,
)


@pytest.fixture
def summary() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 200
    frequency = rng.poisson(3, n).astype(float)
    T = rng.uniform(10, 52, n)
    recency = np.where(frequency > 0, T * rng.uniform(0, 1, n), 0.0)
    frame = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": recency,
            "T": T,
            "monetary_value": np.where(frequency > 0, rng.gamma(2, 30, n), 0.0),
        },
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )
    return frame


def test_rfm_scores_direction(summary):
    scores = rfm_scores(summary)
    assert scores[["r_score", "f_score", "m_score", "fm_score"]].isin(range(1, 6)).all().all()
    since_last = summary["T"] - summary["recency"]
    assert scores.loc[since_last.idxmin(), "r_score"] == 5
    assert scores.loc[since_last.idxmax(), "r_score"] == 1
    assert scores.loc[summary["frequency"].idxmax(), "f_score"] == 5
    assert scores["rfm_score"].str.len().eq(3).all()


def test_every_score_combination_has_a_segment():
    # the editable table covers all 5 x 5 (R, FM) combinations
    for r in range(1, 6):
        for fm in range(1, 6):
            hits = SEGMENT_RULES[
                SEGMENT_RULES.r_min.le(r)
                & SEGMENT_RULES.r_max.ge(r)
                & SEGMENT_RULES.fm_min.le(fm)
                & SEGMENT_RULES.fm_max.ge(fm)
            ]
            assert len(hits) >= 1, (r, fm)
    assert len(SEGMENT_RULES) == 11


def test_rfm_segments(summary):
    segments = rfm_segments(summary)
    assert segments["segment"].notna().all()
    champions = segments[segments["segment"] == "Champions"]
    assert (champions["r_score"] == 5).all() and (champions["fm_score"] >= 4).all()
    lost = segments[segments["segment"] == "Lost"]
    assert (lost["r_score"] == 1).all()


def test_incomplete_rules_are_refused(summary):
    with pytest.raises(ConfigError, match="without a segment"):
        rfm_segments(summary, rules=SEGMENT_RULES.head(2))


def test_rfm_scores_errors(summary):
    with pytest.raises(DataValidationError, match="needs column"):
        rfm_scores(summary.drop(columns="T"))
    with pytest.raises(DataValidationError, match="empty summary"):
        rfm_scores(summary.iloc[:0])


def test_health_tiers():
    p = pd.Series([0.1, 0.1, 0.5, 0.9], index=list("abcd"))
    regularity = pd.Series([0.9, 0.2, 0.9, np.nan], index=list("abcd"))
    health = health_tiers(p, regularity=regularity)
    assert health["tier"].astype(str).tolist() == ["Good", "Average", "Average", "Poor"]
    assert health.loc["a", "health_score"] == pytest.approx(100 * (0.7 * 0.9 + 0.3 * 0.9))
    assert health.loc["d", "regularity"] == 0.5
    with pytest.raises(ConfigError, match="good_below"):
        health_tiers(p, good_below=0.8, poor_from=0.5)
    with pytest.raises(DataValidationError, match="share no customer_id"):
        health_tiers(p, regularity=regularity.set_axis(list("wxyz")))


def test_value_loyalty_grid():
    clv = pd.Series([10.0, 20, 30, 40, 50, 60], index=list("abcdef"))
    risk = pd.Series([0.9, 0.1, 0.5, 0.9, 0.1, 0.8], index=list("abcdef"))
    grid = value_loyalty_grid(clv, risk)
    assert grid.loc["f", "cell"] == "High value / High risk"
    assert grid.loc["a", "cell"] == "Low value / High risk"
    assert grid.loc["b", "cell"] == "Low value / Low risk"
    counts = value_loyalty_summary(grid)
    assert counts.to_numpy().sum() == 6 and counts.index[0] == "High"
    assert value_loyalty_summary(grid, values="clv").to_numpy().sum() == pytest.approx(210)
    with pytest.raises(ConfigError, match="values="):
        value_loyalty_summary(grid, values="money")


def test_clusters(summary):
    a = customer_clusters(summary, n_clusters=3, random_state=0)
    b = customer_clusters(summary, n_clusters=3, random_state=0)
    assert a.labels.equals(b.labels)
    assert a.profiles["customers"].sum() == len(summary)
    assert a.profiles["share"].sum() == pytest.approx(1.0)
    assert a.profiles.index.is_unique and all(isinstance(n, str) for n in a.profiles.index)
    with pytest.raises(DataValidationError, match="at least n_clusters"):
        customer_clusters(summary.head(2), n_clusters=3)


def test_cluster_names_say_how_clusters_differ() -> None:
    from churnlab.segments import cluster_names

    profiles = pd.DataFrame(
        {
            "days_since_last": [10.0, 300.0, 60.0, 60.0],
            "frequency": [8.0, 1.0, 3.0, 3.0],
            "total_spend": [900.0, 40.0, 200.0, 210.0],
        },
    )
    overall = pd.Series({"days_since_last": 60.0, "frequency": 3.0, "total_spend": 200.0})
    assert cluster_names(profiles, overall) == [
        "Recent, frequent, big spenders",
        "Lapsed, occasional, small spenders",
        "Typical customers",
        "Typical customers (2)",
    ]

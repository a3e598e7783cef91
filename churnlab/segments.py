"""Customer segments: RFM scores and names, health tiers, value x loyalty grid, clusters.

Value (what a customer is worth) and loyalty (how likely they are to stay) are
different things, so the grid keeps them on separate axes. The named RFM segments
live in one editable table, :data:`SEGMENT_RULES`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler

from churnlab.config import FREQUENCY, MONETARY_VALUE, RECENCY, T
from churnlab.data.validation import format_examples, require_columns
from churnlab.exceptions import ConfigError, DataValidationError

__all__ = [
    "HEALTH_TIERS",
    "SEGMENT_RULES",
    "ClusterResult",
    "cluster_names",
    "customer_clusters",
    "health_tiers",
    "rfm_scores",
    "rfm_segments",
    "value_loyalty_grid",
    "value_loyalty_summary",
]

#: Named segments by recency score (R) and the rounded mean of frequency and
#: monetary scores (FM), both 1-5. First matching row wins; edit to taste.
SEGMENT_RULES: pd.DataFrame = pd.DataFrame(
    [
        ("Champions", 5, 5, 4, 5, "bought recently, buy often and spend the most"),
        ("Loyal", 3, 4, 4, 5, "buy often and spend well, fairly recently"),
        ("Potential loyalist", 4, 5, 2, 3, "recent customers with average frequency"),
        ("New", 5, 5, 1, 1, "bought very recently for the first time(s)"),
        ("Promising", 4, 4, 1, 1, "recent shoppers who have not spent much"),
        ("Need attention", 3, 3, 3, 3, "average recency, frequency and spend"),
        ("About to sleep", 3, 3, 1, 2, "below-average recency and frequency"),
        ("Can't lose them", 1, 2, 5, 5, "used to buy often and spend most, long ago"),
        ("At risk", 1, 2, 3, 4, "spent well and often, but long ago"),
        ("Hibernating", 2, 2, 1, 2, "last purchase long ago, few orders, low spend"),
        ("Lost", 1, 1, 1, 2, "lowest recency, frequency and spend"),
    ],
    columns=["segment", "r_min", "r_max", "fm_min", "fm_max", "description"],
)

#: Health tiers, best first.
HEALTH_TIERS: tuple[str, ...] = ("Good", "Average", "Poor")


def _score(values: pd.Series, *, higher_is_better: bool = True, bins: int = 5) -> pd.Series:
    """Quantile score 1..bins; ties share a score (average rank)."""
    ranks = values.rank(method="average", pct=True, ascending=higher_is_better)
    return np.ceil(ranks * bins).clip(1, bins).astype("int64")


def rfm_scores(summary: pd.DataFrame, *, bins: int = 5) -> pd.DataFrame:
    """Return RFM quintile scores (5 = best) for each customer.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``frequency``, ``recency``, ``T`` and ``monetary_value`` indexed by
        customer_id (e.g. from ``rfm_summary`` or ``behaviour_features``).
    bins : int, default 5
        Number of score levels.

    Returns
    -------
    pandas.DataFrame
        ``r_score`` (from time since the last purchase, ``T - recency``; more recent
        is better), ``f_score``, ``m_score``, ``fm_score`` (rounded half up mean of F
        and M) and ``rfm_score`` (e.g. ``"545"``).
    """
    require_columns(summary, [FREQUENCY, RECENCY, T, MONETARY_VALUE], where="rfm_scores")
    if summary.empty:
        raise DataValidationError("rfm_scores got an empty summary; there is nobody to score.")
    since_last = summary[T] - summary[RECENCY]
    out = pd.DataFrame(index=summary.index)
    out["r_score"] = _score(-since_last, bins=bins)
    out["f_score"] = _score(summary[FREQUENCY], bins=bins)
    out["m_score"] = _score(summary[MONETARY_VALUE], bins=bins)
    out["fm_score"] = (out["f_score"] + out["m_score"] + 1) // 2
    # each of the at most bins**3 combinations is written once, then looked up
    base = bins + 1
    r, f, m = (out[c].to_numpy() for c in ("r_score", "f_score", "m_score"))
    codes, keys = pd.factorize((r * base + f) * base + m)
    texts = np.array([f"{k // base**2}{k // base % base}{k % base}" for k in keys], dtype=object)
    out["rfm_score"] = texts[codes]
    return out


def rfm_segments(summary: pd.DataFrame, *, rules: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return RFM scores plus the named segment of each customer.

    Parameters
    ----------
    summary : pandas.DataFrame
        As for :func:`rfm_scores`.
    rules : pandas.DataFrame, optional
        Segment table with columns ``segment, r_min, r_max, fm_min, fm_max``;
        defaults to :data:`SEGMENT_RULES`. The first matching row wins.

    Returns
    -------
    pandas.DataFrame
        :func:`rfm_scores` columns plus ``segment`` (ordered categorical, in the
        order of the rules table).

    Raises
    ------
    ConfigError
        If the rules leave some score combination without a segment.
    """
    table = SEGMENT_RULES if rules is None else rules
    require_columns(table, ["segment", "r_min", "r_max", "fm_min", "fm_max"], where="rfm_segments")
    scores = rfm_scores(summary)
    order = list(dict.fromkeys(table["segment"]))
    r, fm = scores["r_score"].to_numpy(), scores["fm_score"].to_numpy()
    codes = np.full(len(scores), -1, dtype=np.int64)  # -1: no rule matched yet
    for row in table.itertuples(index=False):
        hit = (codes < 0) & (r >= row.r_min) & (r <= row.r_max)
        hit &= (fm >= row.fm_min) & (fm <= row.fm_max)
        codes[hit] = order.index(row.segment)
    unmatched = scores.loc[codes < 0, ["r_score", "fm_score"]]
    if len(unmatched):
        combos = {f"R{r}/FM{fm}" for r, fm in unmatched.itertuples(index=False)}
        raise ConfigError(
            f"The segment rules leave {len(unmatched)} customer(s) without a segment, "
            f"score combinations {format_examples(sorted(combos))}. Add rows that cover them."
        )
    scores["segment"] = pd.Categorical.from_codes(codes, categories=order, ordered=True)
    return scores


def _aligned_series(*series: pd.Series, where: str) -> list[pd.Series]:
    index = series[0].index
    for s in series[1:]:
        index = index.intersection(s.index)
    if len(index) == 0:
        raise DataValidationError(
            f"{where}: the inputs share no customer_id. Index every input by customer_id."
        )
    return [s.reindex(index) for s in series]


def health_tiers(
    churn_probability: pd.Series,
    *,
    regularity: pd.Series | None = None,
    poor_from: float = 0.7,
    good_below: float = 0.3,
    regular_from: float = 0.5,
    risk_weight: float = 0.7,
) -> pd.DataFrame:
    """Return a 0-100 health score and Good / Average / Poor tiers.

    Parameters
    ----------
    churn_probability : pandas.Series
        Churn probability per customer (classifier or BG/NBD).
    regularity : pandas.Series, optional
        Purchase regularity in [0, 1] (``behaviour_features``' ``regularity``,
        1 = clockwork). Missing (fewer than three purchases) counts as 0.5.
    poor_from : float, default 0.7
        Churn probability from which a customer "has stopped" (Poor).
    good_below : float, default 0.3
        Churn probability below which a *regular* buyer is Good.
    regular_from : float, default 0.5
        Regularity from which a buyer counts as regular.
    risk_weight : float, default 0.7
        Weight of ``1 - churn_probability`` in the score; the rest is regularity.

    Returns
    -------
    pandas.DataFrame
        ``health_score`` (0-100, higher is healthier), ``tier`` (ordered
        categorical Good > Average > Poor), ``churn_probability``, ``regularity``.
    """
    if not 0 <= good_below <= poor_from <= 1:
        raise ConfigError(
            f"Need 0 <= good_below <= poor_from <= 1; got good_below={good_below}, "
            f"poor_from={poor_from}."
        )
    p = churn_probability.astype("float64")
    reg = pd.Series(0.5, index=p.index) if regularity is None else regularity
    p, reg = _aligned_series(p, reg.astype("float64"), where="health_tiers")
    reg = reg.fillna(0.5).clip(0, 1)
    score = 100 * (risk_weight * (1 - p) + (1 - risk_weight) * reg)
    tier = np.where(
        p >= poor_from,
        "Poor",
        np.where((p < good_below) & (reg >= regular_from), "Good", "Average"),
    )
    return pd.DataFrame(
        {
            "health_score": score.round(1),
            "tier": pd.Categorical(tier, categories=list(HEALTH_TIERS), ordered=True),
            "churn_probability": p,
            "regularity": reg,
        },
        index=p.index,
    )


def value_loyalty_grid(
    clv: pd.Series,
    churn_probability: pd.Series,
    *,
    value_quantiles: tuple[float, ...] = (1 / 3, 2 / 3),
    risk_edges: tuple[float, ...] = (0.3, 0.7),
) -> pd.DataFrame:
    """Place each customer on a value (CLV tier) x loyalty (churn risk) grid.

    Parameters
    ----------
    clv : pandas.Series
        Customer lifetime value per customer.
    churn_probability : pandas.Series
        Churn probability per customer.
    value_quantiles : tuple of float, default (1/3, 2/3)
        CLV quantiles that split Low / Medium / High value.
    risk_edges : tuple of float, default (0.3, 0.7)
        Churn probabilities that split Low / Medium / High risk.

    Returns
    -------
    pandas.DataFrame
        ``clv``, ``churn_probability``, ``value_tier``, ``risk_tier`` (ordered
        categoricals Low < Medium < High) and ``cell`` such as
        ``"High value / High risk"``.
    """
    value, risk = _aligned_series(
        clv.astype("float64"), churn_probability.astype("float64"), where="value_loyalty_grid"
    )
    labels = ["Low", "Medium", "High"]
    if len(value_quantiles) != 2 or len(risk_edges) != 2:
        raise ConfigError("value_quantiles and risk_edges need exactly two cut points each.")
    cuts = value.quantile(list(value_quantiles)).to_numpy()
    value_tier = (
        pd.cut(value, [-np.inf, cuts[0], cuts[1], np.inf], labels=labels, duplicates="drop")
        if cuts[0] < cuts[1]
        else pd.Series("Medium", value.index)
    )
    risk_tier = pd.cut(risk, [-np.inf, risk_edges[0], risk_edges[1], np.inf], labels=labels)
    frame = pd.DataFrame({"clv": value, "churn_probability": risk})
    frame["value_tier"] = pd.Categorical(value_tier, categories=labels, ordered=True)
    frame["risk_tier"] = pd.Categorical(risk_tier, categories=labels, ordered=True)
    frame["cell"] = (
        frame["value_tier"].astype(str) + " value / " + frame["risk_tier"].astype(str) + " risk"
    )
    return frame


def value_loyalty_summary(grid: pd.DataFrame, *, values: str = "customers") -> pd.DataFrame:
    """Cross-tab a :func:`value_loyalty_grid`: value tiers (rows) x risk tiers (columns).

    Parameters
    ----------
    grid : pandas.DataFrame
        Output of :func:`value_loyalty_grid`.
    values : {"customers", "clv"}, default "customers"
        Count customers or sum their CLV per cell.

    Returns
    -------
    pandas.DataFrame
        Rows High..Low value, columns Low..High risk.
    """
    require_columns(grid, ["value_tier", "risk_tier", "clv"], where="value_loyalty_summary")
    if values not in ("customers", "clv"):
        raise ConfigError(f"values={values!r}: use 'customers' or 'clv'.")
    table = pd.crosstab(
        grid["value_tier"],
        grid["risk_tier"],
        values=grid["clv"] if values == "clv" else None,
        aggfunc="sum" if values == "clv" else None,
        dropna=False,
    ).fillna(0)
    return table.sort_index(ascending=False)


class ClusterResult(NamedTuple):
    """K-means clusters: ``labels`` per customer, ``profiles`` per cluster, the ``model``."""

    labels: pd.Series
    profiles: pd.DataFrame
    model: Any


def customer_clusters(
    features: pd.DataFrame,
    *,
    n_clusters: int = 4,
    columns: list[str] | None = None,
    random_state: int | None = None,
) -> ClusterResult:
    """Cluster customers with K-means on log-scaled, standardised features.

    Parameters
    ----------
    features : pandas.DataFrame
        Numeric features per customer (e.g. ``behaviour_features``).
    n_clusters : int, default 4
        Number of clusters.
    columns : list of str, optional
        Columns to use; default frequency, recency, T, monetary_value and, when
        present, days_since_last, regularity, total_spend.
    random_state : int, optional
        Seed of K-means' initialisation.

    Returns
    -------
    ClusterResult
        ``labels`` (int Series named ``cluster``), ``profiles`` (median of each
        column per cluster, plus ``customers`` and ``share``), ``model`` (a
        fitted sklearn KMeans).
    """
    default = [
        FREQUENCY,
        RECENCY,
        T,
        MONETARY_VALUE,
        "days_since_last",
        "regularity",
        "total_spend",
    ]
    use = columns or [c for c in default if c in features.columns]
    require_columns(features, use, where="customer_clusters")
    if len(features) < n_clusters:
        raise DataValidationError(
            f"customer_clusters needs at least n_clusters={n_clusters} customers, got "
            f"{len(features)}. Lower n_clusters or use more data."
        )
    data = features[use].astype("float64")
    signed_log = np.sign(data) * np.log1p(data.abs())
    imputed = SimpleImputer(strategy="median", keep_empty_features=True).fit_transform(signed_log)
    scaled = StandardScaler().fit_transform(imputed)
    model = KMeans(n_clusters=n_clusters, n_init=10, random_state=random_state).fit(scaled)
    labels = pd.Series(model.labels_, index=features.index, name="cluster")
    profiles = data.groupby(labels).median()
    profiles.insert(0, "customers", labels.value_counts().sort_index())
    profiles.insert(1, "share", profiles["customers"] / len(labels))
    profiles.index = pd.Index(cluster_names(profiles, data.median()), name="cluster")
    return ClusterResult(labels, profiles, model)


#: Words for a cluster's median against the base's median: (column, low word, high word).
_CLUSTER_WORDS = (
    ("days_since_last", "recent", "lapsed"),
    (FREQUENCY, "occasional", "frequent"),
    ("total_spend", "small spenders", "big spenders"),
)


def cluster_names(profiles: pd.DataFrame, overall: pd.Series) -> list[str]:
    """Name clusters in words from their medians, e.g. "Lapsed, occasional, small spenders".

    A cluster's median counts as low below 2/3 of the base's median and as high above
    1.5 times it; average values are left out of the name.

    Parameters
    ----------
    profiles : pandas.DataFrame
        Median of each feature per cluster.
    overall : pandas.Series
        Median of each feature over all customers.

    Returns
    -------
    list of str
        One distinct name per cluster, in order.
    """
    names: list[str] = []
    for _, row in profiles.iterrows():
        words = []
        for column, low, high in _CLUSTER_WORDS:
            if column not in row or pd.isna(row[column]) or not overall.get(column):
                continue
            ratio = row[column] / overall[column]
            words += [low] if ratio < 2 / 3 else [high] if ratio > 1.5 else []
        name = ", ".join(words).capitalize() or "Typical customers"
        repeats = sum(n == name or n.startswith(f"{name} (") for n in names)
        names.append(f"{name} ({repeats + 1})" if repeats else name)
    return names

"""Reason distribution, reasons by customer group, and value lost by reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from churnlab.data.validation import require_columns
from churnlab.exceptions import ConfigError
from churnlab.reasons.addressable import is_addressable
from churnlab.reasons.records import CATEGORY, REASON, UNKNOWN_REASON
from churnlab.reasons.stats import (
    adjust_pvalues,
    adjusted_residuals,
    association_test,
    wilson_interval,
)

__all__ = [
    "DEFAULT_FACTORS",
    "addressable_share",
    "reason_associations",
    "reason_crosstab",
    "reason_differences",
    "reason_distribution",
    "value_lost_by_reason",
]

#: Customer groups tested against the reason, when the record has them.
DEFAULT_FACTORS = (
    "tenure_band",
    "contract",
    "segment",
    "value_tier",
    "satisfaction_band",
    "nps_band",
)


def _check_by(by: str) -> None:
    if by not in (CATEGORY, REASON):
        raise ConfigError(f"by must be 'category' or 'reason', got {by!r}.")


def reason_distribution(
    records: pd.DataFrame, *, by: str = "category", confidence: float = 0.95
) -> pd.DataFrame:
    """Count churned customers per reason, with shares and Wilson intervals.

    Parameters
    ----------
    records : pandas.DataFrame
        Output of :func:`churnlab.reasons.churn_record`.
    by : {"category", "reason"}, default "category"
        Reason category or detailed reason.
    confidence : float, default 0.95
        Level of the Wilson score interval of each share.

    Returns
    -------
    pandas.DataFrame
        Index = reason; customers, share, share_lower, share_upper (and the
        category of each detailed reason when ``by="reason"``), most frequent first.
    """
    _check_by(by)
    require_columns(records, [CATEGORY, REASON], where="reason_distribution")
    counts = records.groupby(by).size().rename("customers")
    n = int(counts.sum())
    lower, upper = wilson_interval(counts.to_numpy(), n, confidence=confidence)
    out = counts.to_frame()
    out["share"] = counts / n
    out["share_lower"], out["share_upper"] = lower, upper
    if by == REASON:
        cat = records.groupby(REASON)[CATEGORY].agg(lambda s: s.mode().iloc[0])
        out.insert(0, CATEGORY, cat)
    out.attrs["confidence"] = confidence
    return out.sort_values(["customers"], ascending=False, kind="stable")


def reason_crosstab(
    records: pd.DataFrame, factor: str, *, by: str = "category", normalize: bool = True
) -> pd.DataFrame:
    """Reasons (rows) by a customer group (columns).

    Parameters
    ----------
    records : pandas.DataFrame
        Output of :func:`churn_record`.
    factor : str
        Grouping column, e.g. ``"tenure_band"`` or ``"contract"``.
    by : {"category", "reason"}, default "category"
        Reason level.
    normalize : bool, default True
        Shares within each group (columns sum to 1) instead of counts.

    Returns
    -------
    pandas.DataFrame
        Reasons by group levels; customers without the factor are left out.
    """
    _check_by(by)
    require_columns(records, [by, factor], where="reason_crosstab")
    table = pd.crosstab(records[by], records[factor])
    table = table.loc[:, table.sum() > 0]
    return table / table.sum() if normalize else table


def reason_associations(
    records: pd.DataFrame,
    *,
    factors: Sequence[str] | None = None,
    by: str = "category",
    correction: str = "fdr_bh",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Test whether the reason mix differs between customer groups.

    Parameters
    ----------
    records : pandas.DataFrame
        Output of :func:`churn_record`.
    factors : sequence of str, optional
        Grouping columns; default :data:`DEFAULT_FACTORS` that exist and have
        at least two levels.
    by : {"category", "reason"}, default "category"
        Reason level.
    correction : {"fdr_bh", "holm", "none"}, default "fdr_bh"
        Multiple-comparison correction across the factors.
    alpha : float, default 0.05
        Level at which a corrected p-value counts as significant.

    Returns
    -------
    pandas.DataFrame
        Index = factor; test, statistic, dof, p_value, p_adjusted, cramers_v,
        customers, low_expected and significant.
    """
    _check_by(by)
    if factors is None:
        factors = [f for f in DEFAULT_FACTORS if f in records.columns and records[f].nunique() > 1]
    require_columns(records, [by, *factors], where="reason_associations")
    rows = []
    for factor in factors:
        res = association_test(pd.crosstab(records[by], records[factor]))
        rows.append(
            {
                "factor": factor,
                "test": res.test,
                "statistic": res.statistic,
                "dof": res.dof,
                "p_value": res.p_value,
                "cramers_v": res.cramers_v,
                "customers": res.n,
                "low_expected": res.low_expected,
            }
        )
    out = pd.DataFrame(
        rows,
        columns=[
            "factor",
            "test",
            "statistic",
            "dof",
            "p_value",
            "cramers_v",
            "customers",
            "low_expected",
        ],
    )
    out = out.set_index("factor")
    out.insert(4, "p_adjusted", adjust_pvalues(out["p_value"].to_numpy(), method=correction))
    out["significant"] = out["p_adjusted"] < alpha
    out.attrs["correction"], out.attrs["alpha"] = correction, alpha
    return out


def reason_differences(
    records: pd.DataFrame,
    *,
    associations: pd.DataFrame | None = None,
    by: str = "category",
    alpha: float = 0.05,
    min_customers: int = 10,
) -> pd.DataFrame:
    """List the cells that drive a significant association: only surviving differences.

    Only factors whose corrected test is significant are inspected. Within each,
    a cell is highlighted when its adjusted standardised residual exceeds the
    Bonferroni-corrected normal critical value for that table's cells.

    Parameters
    ----------
    records : pandas.DataFrame
        Output of :func:`churn_record`.
    associations : pandas.DataFrame, optional
        Output of :func:`reason_associations`; computed when not given.
    by : {"category", "reason"}, default "category"
        Reason level.
    alpha : float, default 0.05
        Family-wise level of the cell screening.
    min_customers : int, default 10
        Smallest group size reported.

    Returns
    -------
    pandas.DataFrame
        Columns factor, level, reason, customers, share_in_group, overall_share,
        lift and residual; largest absolute residual first.
    """
    if associations is None:
        associations = reason_associations(records, by=by, alpha=alpha)
    rows = []
    overall = records[by].value_counts(normalize=True)
    for factor in associations.index[associations["significant"]]:
        table = pd.crosstab(records[by], records[factor])
        table = table.loc[table.sum(axis=1) > 0, table.sum() > 0]
        resid = adjusted_residuals(table)
        z = stats.norm.ppf(1 - alpha / (2 * table.size))
        sizes = table.sum()
        for level in table.columns:
            if sizes[level] < min_customers:
                continue
            for reason in table.index:
                if abs(resid.loc[reason, level]) > z:
                    share = table.loc[reason, level] / sizes[level]
                    rows.append(
                        (
                            factor,
                            level,
                            reason,
                            int(table.loc[reason, level]),
                            share,
                            overall[reason],
                            share / overall[reason],
                            resid.loc[reason, level],
                        )
                    )
    out = pd.DataFrame(
        rows,
        columns=[
            "factor",
            "level",
            "reason",
            "customers",
            "share_in_group",
            "overall_share",
            "lift",
            "residual",
        ],
    )
    order = np.argsort(-out["residual"].abs().to_numpy(), kind="stable")
    return out.iloc[order].reset_index(drop=True)


def value_lost_by_reason(
    records: pd.DataFrame,
    *,
    by: str = "category",
    mapping: Mapping[str, bool] | None = None,
) -> pd.DataFrame:
    """Revenue to date and CLV lost per reason, with the addressable flag.

    Parameters
    ----------
    records : pandas.DataFrame
        Output of :func:`churn_record` (revenue_to_date, clv_lost).
    by : {"category", "reason"}, default "category"
        Reason level.
    mapping : mapping of str to bool, optional
        Reason -> addressable, see :func:`churnlab.reasons.addressable_mapping`.

    Returns
    -------
    pandas.DataFrame
        Index = reason; customers, revenue_lost, revenue_share, clv_lost,
        clv_share, clv_per_customer and addressable (True when most of the
        reason's customers are addressable), largest revenue first (most
        customers first when there is no revenue). Revenue sums to the revenue
        of all churned customers.
    """
    _check_by(by)
    require_columns(
        records, [CATEGORY, REASON, "revenue_to_date", "clv_lost"], where="value_lost_by_reason"
    )
    flag = is_addressable(records, mapping=mapping)
    grouped = records.groupby(by)
    out = pd.DataFrame(
        {
            "customers": grouped.size(),
            "revenue_lost": grouped["revenue_to_date"].sum(min_count=1),
            "clv_lost": grouped["clv_lost"].sum(min_count=1),
        }
    )
    out["revenue_share"] = out["revenue_lost"] / out["revenue_lost"].sum()
    out["clv_share"] = out["clv_lost"] / out["clv_lost"].sum()
    out["clv_per_customer"] = out["clv_lost"] / out["customers"]
    out["addressable"] = flag.groupby(records[by]).mean() > 0.5
    cols = [
        "customers",
        "revenue_lost",
        "revenue_share",
        "clv_lost",
        "clv_share",
        "clv_per_customer",
        "addressable",
    ]
    key = ["revenue_lost", "customers"] if out["revenue_lost"].notna().any() else ["customers"]
    return out[cols].sort_values(key, ascending=False, kind="stable")


def addressable_share(
    records: pd.DataFrame, *, mapping: Mapping[str, bool] | None = None
) -> pd.Series:
    """Share of churned customers, revenue and CLV whose reason is addressable.

    Parameters
    ----------
    records : pandas.DataFrame
        Output of :func:`churn_record`.
    mapping : mapping of str to bool, optional
        Reason -> addressable; see :func:`churnlab.reasons.addressable_mapping`.

    Returns
    -------
    pandas.Series
        customers, customers_addressable, share_customers, revenue_addressable,
        share_revenue, clv_addressable, share_clv and share_unknown (customers
        with no reason at all).
    """
    flag = is_addressable(records, mapping=mapping)
    rev = records["revenue_to_date"]
    clv = records["clv_lost"]
    unknown = records[CATEGORY].eq(UNKNOWN_REASON)
    return pd.Series(
        {
            "customers": float(len(records)),
            "customers_addressable": float(flag.sum()),
            "share_customers": float(flag.mean()) if len(flag) else np.nan,
            "revenue_addressable": float(rev[flag].sum()),
            "share_revenue": float(rev[flag].sum() / rev.sum()) if rev.sum() else np.nan,
            "clv_addressable": float(clv[flag].sum()),
            "share_clv": float(clv[flag].sum() / clv.sum()) if clv.sum() else np.nan,
            "share_unknown": float(unknown.mean()) if len(flag) else np.nan,
        }
    )

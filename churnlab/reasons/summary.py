"""Stakeholder outputs: the per-reason summary table and data-driven recommendations."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from churnlab.data.validation import require_columns
from churnlab.markup import escape_markdown
from churnlab.money import format_money
from churnlab.reasons.analysis import (
    addressable_share,
    reason_associations,
    reason_differences,
    value_lost_by_reason,
)
from churnlab.reasons.build import UNSEGMENTED
from churnlab.reasons.records import CATEGORY, CHURN_DATE, EVIDENCE, REASON, STATED, UNKNOWN_REASON

__all__ = ["reason_summary", "recommendations"]

#: Suggested action per reason keyword (first match wins); used by recommendations().
ACTIONS = (
    (
        r"competitor|offer|device|download|data",
        "match the competing offers (devices, data, speed) for at-risk customers before renewal",
    ),
    (
        r"pric|charge|cost|afford",
        "review pricing and extra charges, e.g. a bundled plan or loyalty discount",
    ),
    (
        r"attitude|support|expertise",
        "coach support staff and follow up every complaint within a day",
    ),
    (
        r"dissatisf|product|network|servic|reliab|website",
        "fix the product and service gaps customers name, starting with the most cited",
    ),
)


CORRECTION_NAMES = {"fdr_bh": "Benjamini-Hochberg", "holm": "Holm", "none": "no"}


def reason_summary(
    records: pd.DataFrame,
    *,
    by: str = "category",
    mapping: Mapping[str, bool] | None = None,
    period: str = "M",
    min_customers: int = 10,
    differences: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One table for stakeholders: what each reason cost and whom it hit.

    Parameters
    ----------
    records : pandas.DataFrame
        Output of :func:`churnlab.reasons.churn_record`.
    by : {"category", "reason"}, default "category"
        Reason level.
    mapping : mapping of str to bool, optional
        Reason -> addressable (see :func:`churnlab.reasons.addressable_mapping`).
    period : str, default "M"
        Pandas period alias for the trend (last period with churn vs the one before).
    min_customers : int, default 10
        Smallest segment considered for "most affected segment".
    differences : pandas.DataFrame, optional
        Output of :func:`churnlab.reasons.reason_differences` (computed when not
        given); marks whether the most affected segment survives the correction.

    Returns
    -------
    pandas.DataFrame
        Index = reason; customers_lost, share_of_churn, revenue_lost, clv_lost,
        addressable ("yes"/"no"), most_affected_segment (the segment where the
        reason's share of churn is highest relative to its overall share, marked
        "significant" only when that difference survives the correction) and
        trend ("n/a (no churn dates)" when the records have none).
    """
    require_columns(records, [by, CHURN_DATE, "segment"], where="reason_summary")
    value = value_lost_by_reason(records, by=by, mapping=mapping)
    out = pd.DataFrame(
        {
            "customers_lost": value["customers"],
            "share_of_churn": value["customers"] / value["customers"].sum(),
            "revenue_lost": value["revenue_lost"],
            "clv_lost": value["clv_lost"],
            "addressable": np.where(value["addressable"], "yes", "no"),
        }
    )
    if differences is None:
        differences = reason_differences(records, by=by)
    flagged = differences[(differences["factor"] == "segment") & (differences["lift"] > 1)]
    marks = set(zip(flagged["reason"], flagged["level"].astype(str), strict=True))
    affected = _most_affected(records, by, min_customers, marks)
    out["most_affected_segment"] = affected.reindex(out.index)
    out["trend"] = _trends(records, by, period).reindex(out.index)
    out.attrs["evidence"] = dict(records[EVIDENCE].value_counts())
    return out


def _most_affected(
    records: pd.DataFrame, by: str, min_customers: int, marks: set[tuple[str, str]]
) -> pd.Series:
    """Segment with the highest lift of each reason (with at least min_customers)."""
    segments = records["segment"].astype(str)
    if (segments == UNSEGMENTED).all():
        return pd.Series("n/a (no segments)", index=records[by].unique())
    table = pd.crosstab(records[by], segments)
    table = table.loc[:, table.sum() >= min_customers]
    if table.empty:
        return pd.Series("n/a (segments too small)", index=records[by].unique())
    lift = (table / table.sum()).div(records[by].value_counts(normalize=True), axis=0)
    best = lift.idxmax(axis=1)
    text = {}
    for r in best.index:
        sig = "significant" if (r, best[r]) in marks else "not significant"
        text[r] = f"{best[r]} ({lift.loc[r, best[r]]:.1f}x its overall share; {sig})"
    return pd.Series(text)


def _trends(records: pd.DataFrame, by: str, period: str) -> pd.Series:
    """Last period with churn vs the period before, per reason."""
    reasons = records[by].unique()
    dates = pd.to_datetime(records[CHURN_DATE])
    if dates.notna().sum() == 0:
        return pd.Series("n/a (no churn dates)", index=reasons)
    periods = dates.dt.to_period(period)
    last = periods.max()
    prev = last - 1
    now = records[periods == last].groupby(by).size().reindex(reasons, fill_value=0)
    before = records[periods == prev].groupby(by).size().reindex(reasons, fill_value=0)
    text = {}
    for r in reasons:
        a, b = int(now[r]), int(before[r])
        change = "new" if b == 0 and a else ("flat" if a == b else f"{(a - b) / b:+.0%}")
        text[r] = f"{change} ({a} in {last} vs {b} in {prev})"
    return pd.Series(text)


def _action(label: str) -> str:
    """Suggested action for a reason label."""
    for pattern, action in ACTIONS:
        if re.search(pattern, label.lower()):
            return action
    return "investigate this reason with the customers who gave it"


def recommendations(
    records: pd.DataFrame,
    *,
    mapping: Mapping[str, bool] | None = None,
    associations: pd.DataFrame | None = None,
    min_customers: int = 20,
    unknown_threshold: float = 0.10,
    early_share: float = 0.40,
    currency: str = "",
) -> list[str]:
    """Three recommendations, each built from the computed results.

    1. The addressable category that lost the most revenue, with its top detailed reasons.
    2. The customer group whose reason mix differs most (surviving the correction),
       or a note that no group differs.
    3. Better evidence when many reasons are unknown or model-based; else, when at
       least ``early_share`` of churn happens in the first tenure band, onboarding for
       new customers; otherwise the addressable detailed reason with the highest CLV
       (or revenue) lost per customer.

    Parameters
    ----------
    records : pandas.DataFrame
        Output of :func:`churnlab.reasons.churn_record`.
    mapping : mapping of str to bool, optional
        Reason -> addressable.
    associations : pandas.DataFrame, optional
        Output of :func:`churnlab.reasons.reason_associations`; computed when not given.
    min_customers : int, default 20
        Smallest detailed reason considered in the third recommendation.
    unknown_threshold : float, default 0.10
        Share of reasons without customer-stated evidence that triggers the
        evidence recommendation.
    early_share : float, default 0.40
        Share of churn in the first tenure band that triggers the onboarding one.
    currency : str, default ""
        ISO code (or symbol) of the money amounts.

    Returns
    -------
    list of str
        Three sentences (fewer only when there is nothing addressable).
    """
    out: list[str] = []
    n = len(records)
    value = value_lost_by_reason(records, by=CATEGORY, mapping=mapping)
    addressable = value[value["addressable"]]
    share = addressable_share(records, mapping=mapping)
    prefix = ""
    if (records[EVIDENCE] == STATED).mean() < 0.5:
        prefix = "Based on classifier drivers (model evidence, not stated reasons): "
    if not addressable.empty:
        top = escape_markdown(addressable.index[0])
        row = addressable.iloc[0]
        details = records.loc[records[CATEGORY] == top, REASON].value_counts().head(2)
        named = " and ".join(f"'{escape_markdown(r)}' ({c:,})" for r, c in details.items())
        money = (
            f" and {format_money(row['revenue_lost'], currency, compact=True)} of revenue to date "
            f"({row['revenue_share']:.0%} of revenue lost)"
            if pd.notna(row["revenue_lost"])
            else ""
        )
        out.append(
            f"{prefix}Start with '{top}': {int(row['customers']):,} of {n:,} churned customers "
            f"({row['customers'] / n:.0%}){money}; top reasons {named}. "
            f"Action: {_action(str(top) + ' ' + ' '.join(details.index))}. Addressable reasons "
            f"account for {share['share_customers']:.0%} of churned customers in all."
        )
    if associations is None:
        associations = reason_associations(records)
    diffs = reason_differences(records, associations=associations)
    diffs = diffs[(diffs["lift"] > 1) & (diffs["reason"] != UNKNOWN_REASON)]
    if not diffs.empty:
        d = diffs.iloc[0]
        label = str(d["factor"]).replace("_", " ")
        if d["factor"] == "segment" and records.attrs.get("segment_source"):
            label = str(records.attrs["segment_source"])
        v = associations.loc[d["factor"], "cramers_v"]
        method = CORRECTION_NAMES.get(associations.attrs.get("correction", "fdr_bh"), "the")
        out.append(
            f"Target customers whose {escape_markdown(label)} is '{escape_markdown(d['level'])}': "
            f"'{escape_markdown(d['reason'])}' explains "
            f"{d['share_in_group']:.0%} of their churn vs {d['overall_share']:.0%} overall "
            f"({d['lift']:.1f}x; significant after {method} correction, Cramér's V {v:.2f}). "
            f"Action for this group: {_action(str(d['reason']))}."
        )
    else:
        out.append(
            "No customer group (tenure, contract, segment, value, satisfaction) differs in its "
            "churn reasons after correcting for multiple tests, so act on the top reasons "
            "across the whole base rather than for one group."
        )
    weak = 1 - (records[EVIDENCE] == STATED).mean()
    if weak > unknown_threshold:
        out.append(
            f"{weak:.0%} of churned customers have no stated reason. Add a mandatory reason "
            "field to the cancellation process and a short exit survey, so next month's "
            "analysis rests on what customers say rather than on model drivers."
        )
    elif (early := _early_churn(records, early_share)) is not None:
        out.append(early)
    else:
        per = value_lost_by_reason(records, by=REASON, mapping=mapping)
        per = per[per["addressable"] & (per["customers"] >= min_customers)]
        use_clv = bool(per["clv_lost"].notna().any())
        what = "CLV" if use_clv else "revenue to date"
        per = per.assign(
            per_customer=per["clv_per_customer"]
            if use_clv
            else per["revenue_lost"] / per["customers"]
        ).sort_values("per_customer", ascending=False)
        if not per.empty:
            name, best = escape_markdown(per.index[0]), per.iloc[0]
            avg = records["clv_lost" if use_clv else "revenue_to_date"].mean()
            out.append(
                f"Protect high-value customers from '{name}': the {int(best['customers']):,} "
                f"customers lost to it had the highest {what} per customer "
                f"({format_money(best['per_customer'], currency, compact=True)} vs "
                f"{format_money(avg, currency, compact=True)} for all "
                f"churned customers). Action: {_action(str(name))}."
            )
    missing = [
        label
        for label, column in (
            ("churn dates", CHURN_DATE),
            ("tenure", "tenure_months"),
            ("revenue", "revenue_to_date"),
        )
        if records[column].isna().all()
    ]
    if len(out) < 3 and missing:
        out.append(
            f"Add {', '.join(missing)} to the churn records: without them this analysis "
            "cannot show trends, early-tenure churn or the value at stake per reason."
        )
    return out


def _early_churn(records: pd.DataFrame, threshold: float) -> str | None:
    """Recommendation on churn concentrated in the first tenure band, if it is."""
    bands = records["tenure_band"]
    if bands.notna().sum() == 0:
        return None
    first = bands.cat.categories[0]
    early = records[bands == first]
    share = len(early) / bands.notna().sum()
    if share < threshold or early.empty:
        return None
    top = early["category"].value_counts()
    return (
        f"Strengthen onboarding: {share:.0%} of churned customers ({len(early):,}) left within "
        f"their first {first.split()[0].split('-')[-1]} months, and {top.iloc[0] / len(early):.0%} "
        f"of them for '{escape_markdown(top.index[0])}'. Check in with new customers before "
        f"their first renewal and {_action(str(top.index[0]))}."
    )

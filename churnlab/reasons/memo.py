"""Plain-English pieces of the churn-reason memo (notebook 40), built from results."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from churnlab.markup import escape_markdown
from churnlab.money import format_money
from churnlab.reasons.analysis import addressable_share, value_lost_by_reason
from churnlab.reasons.engagement import engagement_by_reason, engagement_trajectories, usage_by_band
from churnlab.reasons.records import COMMENT, EVIDENCE, STATED
from churnlab.reasons.text import comment_themes
from churnlab.units import unit_name

__all__ = ["addressable_text", "comment_overview", "engagement_overview", "headline"]


def headline(records: pd.DataFrame, *, currency: str = "") -> str:
    """Say what was lost: customers, revenue to date and lifetime value.

    Parameters
    ----------
    records : pandas.DataFrame
        Output of :func:`churnlab.reasons.churn_record`.
    currency : str, default ""
        ISO code (or symbol) of the money amounts.

    Returns
    -------
    str
        One or two sentences with the totals and the largest reason.
    """
    n = len(records)
    revenue = records["revenue_to_date"].sum(min_count=1)
    clv = records["clv_lost"].sum(min_count=1)
    value = value_lost_by_reason(records)
    top, row = escape_markdown(value.index[0]), value.iloc[0]
    if pd.isna(revenue):
        return (
            f"**{n:,} customers churned** (the data holds no revenue, so value lost is not "
            f"known). The most common reason is **{top}**: {int(row['customers']):,} "
            f"customers ({row['customers'] / n:.0%})."
        )
    lost, clv_lost = (format_money(v, currency, compact=True) for v in (revenue, clv))
    text = f"**{n:,} customers churned**, taking {lost} of revenue to date"
    text += f" and {clv_lost} of lifetime value (CLV)." if pd.notna(clv) else "."
    text += (
        f" The costliest reason is **{top}**: {int(row['customers']):,} customers "
        f"({row['customers'] / n:.0%}) and {row['revenue_share']:.0%} of the revenue lost."
    )
    return text


def addressable_text(
    records: pd.DataFrame, *, mapping: Mapping[str, bool] | None = None, currency: str = ""
) -> str:
    """Say how much churn is addressable under the (editable) mapping.

    Parameters
    ----------
    records : pandas.DataFrame
        Output of :func:`churnlab.reasons.churn_record`.
    mapping : mapping of str to bool, optional
        Reason -> addressable.
    currency : str, default ""
        ISO code (or symbol) of the money amounts.

    Returns
    -------
    str
        Shares of customers, revenue and CLV whose reason the business controls.
    """
    s = addressable_share(records, mapping=mapping)
    text = (
        f"**{s['share_customers']:.0%} of churned customers** ({int(s['customers_addressable']):,}"
        f" of {int(s['customers']):,}) left for reasons the business can act on (price, "
        "service, product, competitor offers)"
    )
    if pd.notna(s["share_revenue"]):
        text += (
            f". They took {format_money(s['revenue_addressable'], currency, compact=True)} "
            "of revenue to date "
            f"({s['share_revenue']:.0%})"
        )
        if pd.notna(s["share_clv"]):
            clv = format_money(s["clv_addressable"], currency, compact=True)
            text += f" and {clv} of CLV ({s['share_clv']:.0%})"
    text += ". Life events (moving, death) and unknown reasons are not counted as addressable."
    if (records[EVIDENCE] == STATED).mean() < 0.5:
        text = "Based on classifier drivers (model evidence, not stated reasons): " + text
    if s["share_unknown"] > 0:
        text += f" {s['share_unknown']:.0%} of churned customers have no known reason."
    return text


def engagement_overview(
    records: pd.DataFrame,
    transactions: pd.DataFrame | None = None,
    *,
    n_periods: int = 6,
    time_unit: str = "M",
) -> tuple[pd.DataFrame, str]:
    """Engagement before churn by reason, or the snapshot substitute, with a note.

    Parameters
    ----------
    records : pandas.DataFrame
        Output of :func:`churnlab.reasons.churn_record`.
    transactions : pandas.DataFrame, optional
        The transaction log; without it (Telco) snapshot usage by tenure band is used.
    n_periods : int, default 6
        Periods before churn.
    time_unit : {"D", "W", "M"}, default "M"
        Period length.

    Returns
    -------
    tuple
        ``(table, note)``: engagement trajectories (long table) or mean usage by
        reason and tenure band, and a sentence saying which it is and what it shows.
    """
    if transactions is None or not records.attrs.get("has_log"):
        usage_cols = [c for c in ("gb_download", "monthly_charge") if c in records.columns]
        note = (
            "This data is a snapshot without a transaction log, so usage cannot be traced "
            "month by month before churn. Instead the table shows average monthly usage by "
            "reason and tenure band"
        )
        if not usage_cols:
            return pd.DataFrame(), note.split(". Instead")[0] + ", and it has no usage columns."
        return usage_by_band(records, columns=usage_cols).round(1), note + "."
    traj = engagement_trajectories(transactions, records, n_periods=n_periods, time_unit=time_unit)
    patterns = engagement_by_reason(records)
    parts = [
        f"{escape_markdown(name)}: {row['share_fading']:.0%} faded first"
        for name, row in patterns.iterrows()
        if row["customers_with_history"] >= 5
    ]
    note = (
        f"Spend in the last {n_periods} {unit_name(time_unit, n_periods)} before churn, "
        "indexed to each "
        "reason's window average. A customer 'faded' when spend in the later half of the "
        "window fell below 75% of the earlier half; otherwise the departure was sudden. "
        + ("; ".join(parts) + "." if parts else "Too few customers with history to compare.")
    )
    return traj, note


def comment_overview(
    records: pd.DataFrame, *, n_themes: int = 4, random_state: int = 0
) -> tuple[pd.DataFrame, str]:
    """Comment themes when the records hold free text, with a note.

    Parameters
    ----------
    records : pandas.DataFrame
        Output of :func:`churnlab.reasons.churn_record`.
    n_themes : int, default 4
        Themes to extract.
    random_state : int, default 0
        NMF seed.

    Returns
    -------
    tuple
        ``(themes, note)``; ``themes`` is empty when there are fewer than
        ``5 * n_themes`` comments.
    """
    comments = records[COMMENT].dropna().astype(str).str.strip()
    comments = comments[comments != ""]
    if len(comments) < 5 * n_themes:
        empty = pd.DataFrame(columns=["label", "comments", "share", "examples"])
        return empty, (
            f"This data has {len(comments):,} free-text comments, too few for theme "
            "extraction; collect a comment in the exit survey to enable it."
        )
    result = comment_themes(comments, n_themes=n_themes, random_state=random_state)
    themes = result.themes[["label", "comments", "share", "examples"]]
    return themes, (
        f"Themes found in {len(comments):,} comments (TF-IDF + NMF); each theme lists its "
        "top terms and the most typical comments."
    )

"""What the churn-reason memo (page 40) shows a reader: its tables in words, tests as sentences.

The analysis lives in :mod:`churnlab.reasons`; these functions only reshape and
phrase its results for the page (grouping names in words, no row numbers, the
statistics behind a sentence kept for the analysts' appendix).
"""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

from churnlab.markup import escape_markdown
from churnlab.report.formatting import column_label
from churnlab.report.tables import styled
from churnlab.units import unit_name

__all__ = [
    "association_text",
    "differences_table",
    "engagement_table",
    "reason_table",
    "themes_table",
]


def _strength(cramers_v: float) -> str:
    """Cohen's (1988) conventions for an effect size such as Cramér's V."""
    if cramers_v >= 0.5:
        return "strongly"
    if cramers_v >= 0.3:
        return "clearly"
    return "slightly" if cramers_v >= 0.1 else "barely"


def association_text(associations: pd.DataFrame) -> Markdown:
    """Say which customer groupings differ in their churn reasons, from the corrected tests.

    Parameters
    ----------
    associations : pandas.DataFrame
        Output of :func:`churnlab.reasons.reason_associations` (index = grouping).

    Returns
    -------
    IPython.display.Markdown
        One sentence per grouping whose difference survives the correction, or
        one sentence saying that none does.
    """
    if associations.empty:
        return Markdown("The data has no customer groupings to compare.")
    significant = associations[associations["significant"].astype(bool)]
    significant = significant.sort_values("cramers_v", ascending=False)
    if significant.empty:
        names = ", ".join(escape_markdown(column_label(f)).lower() for f in associations.index)
        return Markdown(
            f"Churn reasons do not differ between customer groups ({names}) once the tests "
            "are corrected for being run together: act on the top reasons across the base."
        )
    parts = [
        f"**{escape_markdown(column_label(factor)).lower()}** ({_strength(row['cramers_v'])}: "
        f"strength {row['cramers_v']:.2f} on a 0-1 scale)"
        for factor, row in significant.iterrows()
    ]
    others = len(associations) - len(significant)
    tail = f" The other {others} grouping(s) tested show no clear difference." if others else ""
    return Markdown(
        "Churn reasons differ between customer groups by " + "; ".join(parts) + "." + tail
    )


def differences_table(differences: pd.DataFrame) -> pd.io.formats.style.Styler:
    """Return the over- and under-represented reasons per group, in words.

    Parameters
    ----------
    differences : pandas.DataFrame
        Output of :func:`churnlab.reasons.reason_differences`.

    Returns
    -------
    pandas.io.formats.style.Styler
        Indexed by grouping and group; the reason, customers, its share in the group
        and overall, and how many times more (or less) common it is in the group.
    """
    table = differences.assign(
        factor=differences["factor"].map(lambda f: column_label(str(f))),
        lift=differences["lift"].map(lambda v: f"{v:.1f}×"),
    )
    table = table.set_index(["factor", "level"]).rename_axis(["Grouping", "Group"])
    table = table[["reason", "customers", "share_in_group", "overall_share", "lift"]]
    table = table.rename(columns={"lift": "Times as common as overall"})
    return styled(table, percent=["share_in_group", "overall_share"])


def engagement_table(engagement: pd.DataFrame, *, time_unit: str = "M") -> pd.DataFrame:
    """Return the spend index per reason (rows) and period before churn (columns).

    Parameters
    ----------
    engagement : pandas.DataFrame
        First output of :func:`churnlab.reasons.engagement_overview`: the long
        trajectories of a transaction log, or the snapshot's usage table (returned
        as it is).
    time_unit : {"D", "W", "M"}, default "M"
        Period length, named in the column headers.

    Returns
    -------
    pandas.DataFrame
        One row per reason: customers in the last period, then the spend index
        (1.0 = the reason's average over the window) from the earliest period to the
        last one before churn.
    """
    if "periods_before_churn" not in engagement.columns:
        return engagement
    wide = engagement.pivot_table(
        index="category", columns="periods_before_churn", values="spend_index", observed=True
    ).sort_index(axis=1)
    unit = unit_name(time_unit, 1)
    wide.columns = [
        f"Last {unit}" if p == -1 else f"{-p} {unit_name(time_unit, -p)} before"
        for p in wide.columns
    ]
    last = engagement.loc[engagement["periods_before_churn"] == -1]
    wide.insert(0, "Customers", last.set_index("category")["customers"].reindex(wide.index))
    wide.index.name = "Reason"
    return wide.round(2)


def _known_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop the columns this data cannot fill (all missing, or all "n/a (...)")."""
    empty = [
        c
        for c in frame.columns
        if frame[c].isna().all() or frame[c].astype(str).str.startswith("n/a").all()
    ]
    return frame.drop(columns=empty)


def reason_table(frame: pd.DataFrame, *, currency: str = "") -> pd.io.formats.style.Styler:
    """Return a per-reason table of value lost, without columns the data cannot fill.

    A transaction log without stated reasons has no lifetime value lost, no
    segment at churn and no churn dates, so those columns are left out rather
    than shown as a column of "n/a".

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`churnlab.reasons.value_lost_by_reason` or
        :func:`churnlab.reasons.reason_summary`.
    currency : str, default ""
        ISO code (or symbol) of the money.

    Returns
    -------
    pandas.io.formats.style.Styler
    """
    return styled(
        _known_columns(frame),
        money=["revenue_lost", "clv_lost", "clv_per_customer"],
        percent=["revenue_share", "clv_share", "share_of_churn"],
        currency=currency,
    )


def themes_table(themes: pd.DataFrame) -> pd.io.formats.style.Styler | Markdown:
    """Return the comment themes as a table, or nothing when there were too few comments."""
    return styled(themes, percent=["share"]) if len(themes) else Markdown("")

"""The action list: valuable customers who have gone quiet, and what to do about each.

Who is on it is decided here once (the scoring pass calls :func:`contact_list`), and
what to do comes from one editable table, :data:`PLAYBOOK`, keyed by segment and
reason: reminders for lapsed customers, a call for valuable ones going quiet, an
interview request for those who have left.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PLAYBOOK", "contact_list", "recommended_actions"]

#: First matching row wins. ``segment`` and ``reason`` are regular expressions matched
#: against the customer's RFM segment and top reason (case-insensitive), and a row applies
#: from ``min_churn_probability`` up; edit to taste.
PLAYBOOK: pd.DataFrame = pd.DataFrame(
    [
        ("Lost", ".*", 0.0, "Ask for a short exit interview: why did they stop buying?"),
        (".*", ".*", 0.7, "Win-back: a personal message with an offer on what they used to buy."),
        (
            "Can't lose them|At risk|Champions|Loyal",
            ".*",
            0.0,
            "Call or write personally this week: ask what changed and offer help.",
        ),
        (".*", "basket|spend|orders", 0.0, "Send a reminder with offers on what they used to buy."),
        (".*", ".*", 0.0, "Send a reminder: new products and a reason to come back."),
    ],
    columns=["segment", "reason", "min_churn_probability", "action"],
)


def recommended_actions(
    segment: pd.Series,
    reason: pd.Series,
    churn_probability: pd.Series,
    *,
    playbook: pd.DataFrame | None = None,
) -> np.ndarray:
    """Return the playbook's action for each customer's segment and top reason.

    The first row of the playbook that matches wins; the rules are applied one playbook
    row at a time, to every customer at once.

    Parameters
    ----------
    segment : pandas.Series
        The customers' RFM segments.
    reason : pandas.Series
        Their top reasons (text), or missing.
    churn_probability : pandas.Series
        Their churn probabilities.
    playbook : pandas.DataFrame, optional
        Columns ``segment``, ``reason`` (regular expressions), ``min_churn_probability``
        and ``action``; default :data:`PLAYBOOK`.

    Returns
    -------
    numpy.ndarray of str
        One action per customer, in the order given.
    """
    table = PLAYBOOK if playbook is None else playbook
    segment = pd.Series(segment, dtype="object").astype(str)
    reason = pd.Series(reason, dtype="object")
    reason = reason.where(reason.notna(), "").astype(str)
    probability = np.asarray(churn_probability, dtype=float)
    actions = np.full(len(segment), str(table["action"].iloc[-1]), dtype=object)
    open_rows = np.ones(len(segment), dtype=bool)
    for row in table.itertuples(index=False):
        hit = open_rows & (probability >= getattr(row, "min_churn_probability", 0.0))
        hit &= segment.str.contains(row.segment, case=False, regex=True).to_numpy(dtype=bool)
        hit &= reason.str.contains(row.reason, case=False, regex=True).to_numpy(dtype=bool)
        actions[hit] = str(row.action)
        open_rows &= ~hit
    return actions


def contact_list(
    customers: pd.DataFrame,
    *,
    valuable_share: float = 0.25,
    min_churn_probability: float = 0.3,
    quiet_factor: float = 1.5,
    playbook: pd.DataFrame | None = None,
) -> pd.Series:
    """Mark the customers to contact and say what to do; NaN for everyone else.

    A customer is on the list when all three hold: *valuable* (what they have spent
    so far is in the top ``valuable_share`` of customers; their future value is what
    is at risk), *at risk* (churn probability at least
    ``min_churn_probability``) and *quiet* (days since the last purchase above
    ``quiet_factor`` times their own typical gap between purchases, or the base's
    median gap for one-time buyers). Customers who bought on schedule, such as most
    Champions, are therefore not on it.

    Parameters
    ----------
    customers : pandas.DataFrame
        The scoring pass's table: ``total_spend``, ``churn_probability``, ``segment``,
        ``days_since_last_purchase``, ``typical_gap_days`` and ``reason_1``.
    valuable_share : float, default 0.25
        Share of customers that counts as valuable.
    min_churn_probability : float, default 0.3
        Lowest churn probability on the list.
    quiet_factor : float, default 1.5
        How much longer than usual a customer must have been silent.
    playbook : pandas.DataFrame, optional
        See :func:`recommended_actions`.

    Returns
    -------
    pandas.Series
        The recommended action per listed customer, NaN elsewhere.
    """
    value = customers["total_spend"].fillna(0.0)
    valuable = value >= value.quantile(1 - valuable_share) if len(value) else value.astype(bool)
    valuable &= value > 0
    at_risk = customers["churn_probability"].fillna(0.0) >= min_churn_probability
    gap = customers["typical_gap_days"]
    gap = gap.fillna(gap.median() if gap.notna().any() else 30.0)
    quiet = customers["days_since_last_purchase"] > quiet_factor * gap
    listed = valuable & at_risk & quiet
    reason = customers.get("reason_1", pd.Series(np.nan, index=customers.index))
    actions = pd.Series(np.nan, index=customers.index, dtype="object")
    chosen = customers.loc[listed]
    actions[listed] = recommended_actions(
        chosen["segment"], reason[listed], chosen["churn_probability"], playbook=playbook
    )
    return actions

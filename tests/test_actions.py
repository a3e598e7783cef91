"""The action list (:mod:`churnlab.actions`): who is listed and what the playbook says."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from churnlab.actions import PLAYBOOK, contact_list

SEGMENTS = ["Champions", "Loyal", "At risk", "Can't lose them", "Hibernating", "New"]
REASONS = [
    "no orders in the last quarter",
    "spent £0.00 in the last quarter (typically £304.20)",
    "basket shrank to 2 items",
    "has bought on only one day so far",
    None,
    "",
]


def _customers(n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "segment": rng.choice(SEGMENTS, n),
            "reason_1": rng.choice(np.array(REASONS, dtype=object), n),
            "churn_probability": rng.uniform(0, 1, n),
            "total_spend": rng.gamma(2, 200, n),
            "typical_gap_days": np.where(rng.random(n) < 0.2, np.nan, rng.uniform(5, 90, n)),
            "days_since_last_purchase": rng.uniform(0, 300, n),
        },
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )


def _first_matching_rule(segment: str, reason: object, probability: float) -> str:
    """The playbook read by hand: the first row whose patterns and threshold match."""
    why = "" if reason is None or pd.isna(reason) else str(reason)
    for row in PLAYBOOK.itertuples(index=False):
        if (
            probability >= row.min_churn_probability
            and re.search(row.segment, segment, re.I)
            and re.search(row.reason, why, re.I)
        ):
            return row.action
    return PLAYBOOK["action"].iloc[-1]


def test_every_listed_customer_gets_the_playbook_row_that_matches_first() -> None:
    customers = _customers()
    actions = contact_list(customers)
    listed = actions.notna()
    assert 20 < listed.sum() < len(customers)
    assert list(actions[listed]) == [
        _first_matching_rule(row.segment, row.reason_1, row.churn_probability)
        for row in customers[listed].itertuples()
    ]
    assert set(actions[listed]) <= set(PLAYBOOK["action"])


def test_the_list_holds_valuable_quiet_customers_at_risk_only() -> None:
    customers = _customers()
    listed = contact_list(customers, valuable_share=0.25, min_churn_probability=0.3).notna()
    chosen = customers[listed]
    assert (chosen["churn_probability"] >= 0.3).all()
    assert (chosen["total_spend"] >= customers["total_spend"].quantile(0.75)).all()
    gap = customers["typical_gap_days"].fillna(customers["typical_gap_days"].median())
    assert (chosen["days_since_last_purchase"] > 1.5 * gap[listed]).all()

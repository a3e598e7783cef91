"""The reversed-purchase rule: a purchase cancelled in full is dropped with its cancellation."""

from __future__ import annotations

import collections

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churnlab import config
from churnlab.data import CleaningPolicy, load_transactions
from churnlab.data.cleaning import REASON_DESCRIPTIONS
from churnlab.data.reversals import match_reversals

RETAIL_MAPPING = {
    "customer_id": "CustomerID",
    "date": "InvoiceDate",
    "quantity": "Quantity",
    "price": "UnitPrice",
    "order_id": "InvoiceNo",
    "product_id": "StockCode",
}
POLICY = CleaningPolicy.online_retail()


@pytest.fixture
def reversal_log() -> pd.DataFrame:
    """Hand-made invoice lines; ``attrs["expected_reasons"]`` gives each row's fate."""
    rows = [
        # full reversal: 10 bought, 10 cancelled -> both sides go
        ("500001", "P1", 10, "2011-03-01 10:00", 2.0, 1.0, "reversed_purchase"),
        ("C500002", "P1", -10, "2011-03-01 10:05", 2.0, 1.0, "cancellation"),
        # partial reversal: 10 bought, 4 cancelled -> the purchase stays whole
        ("500003", "P2", 10, "2011-03-02 10:00", 1.0, 1.0, "kept"),
        ("C500004", "P2", -4, "2011-03-03 10:00", 1.0, 1.0, "cancellation"),
        # cancellation with no earlier purchase (the purchase comes later) -> nothing netted
        ("C500005", "P3", -3, "2011-03-01 09:00", 5.0, 1.0, "cancellation"),
        ("500006", "P3", 3, "2011-03-04 09:00", 5.0, 1.0, "kept"),
        # two identical purchases, one cancellation -> only the later purchase is netted
        ("500007", "P4", 5, "2011-03-01 08:00", 3.0, 1.0, "kept"),
        ("500008", "P4", 5, "2011-03-05 08:00", 3.0, 1.0, "reversed_purchase"),
        ("C500009", "P4", -5, "2011-03-06 08:00", 3.0, 1.0, "cancellation"),
        # same product and quantity, but another customer -> not a reversal
        ("500010", "P1", 10, "2011-03-01 09:00", 2.0, 2.0, "kept"),
        # purchase and cancellation in the same minute still pair up
        ("500011", "P5", 7, "2011-03-07 11:00", 1.5, 2.0, "reversed_purchase"),
        ("C500012", "P5", -7, "2011-03-07 11:00", 1.5, 2.0, "cancellation"),
    ]
    columns = ["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]
    frame = pd.DataFrame(rows, columns=[*columns, "Note"])
    frame.attrs["expected_reasons"] = frame.pop("Note").tolist()
    return frame


def _fates(loaded, n_rows: int) -> list[str]:
    fates = ["kept"] * n_rows
    for position, reason in loaded.dropped["drop_reason"].items():
        fates[position] = reason
    return fates


def test_full_reversals_are_dropped_partial_ones_kept(reversal_log):
    loaded = load_transactions(reversal_log, **RETAIL_MAPPING, policy=POLICY)
    assert _fates(loaded, len(reversal_log)) == reversal_log.attrs["expected_reasons"]
    report = loaded.report
    assert report.dropped["reversed_purchase"] == 3
    assert report.dropped["cancellation"] == 5
    assert report.kept_rows == len(loaded.data) == 4
    assert report.kept_rows + sum(report.dropped.values()) == report.input_rows == 12
    # the netted purchases are in `dropped`, with their positive quantities
    netted = loaded.dropped[loaded.dropped["drop_reason"] == "reversed_purchase"]
    assert sorted(netted[config.ORDER_ID]) == ["500001", "500008", "500011"]
    assert (netted[config.QUANTITY] > 0).all()
    assert "reversed_purchase" in report.to_frame().index
    assert (
        report.to_frame().loc["reversed_purchase", "description"]
        == (REASON_DESCRIPTIONS["reversed_purchase"])
    )


def test_rule_can_be_switched_off(reversal_log):
    policy = CleaningPolicy.online_retail(drop_reversed_purchases=False)
    loaded = load_transactions(reversal_log, **RETAIL_MAPPING, policy=policy)
    assert "reversed_purchase" not in loaded.report.dropped
    assert loaded.report.kept_rows == 7


def test_rule_needs_product_and_dropped_cancellations(reversal_log):
    without_product = {k: v for k, v in RETAIL_MAPPING.items() if k != "product_id"}
    log = reversal_log.drop(columns="StockCode")
    loaded = load_transactions(log, **without_product, policy=POLICY)
    assert loaded.report.dropped["reversed_purchase"] == 0
    # cancellations kept (negative lines net their purchases) -> no purchase is dropped
    keep_cancels = CleaningPolicy.only("reversed_purchase", cancellation_prefixes=("C",))
    loaded = load_transactions(reversal_log, **RETAIL_MAPPING, policy=keep_cancels)
    assert loaded.report.dropped == {"reversed_purchase": 0}
    assert loaded.report.kept_rows == len(reversal_log)


def test_each_cancellation_takes_the_latest_unmatched_purchase():
    frame = pd.DataFrame(
        {
            config.CUSTOMER_ID: ["a"] * 6,
            config.PRODUCT_ID: ["p"] * 6,
            config.DATE: pd.to_datetime(
                ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-06"]
            ),
            config.QUANTITY: [2.0, 2.0, -2.0, 2.0, -2.0, -2.0],
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    cancel = frame[config.QUANTITY] < 0
    pairs = match_reversals(frame, purchases=~cancel, cancellations=cancel)
    # c12 takes p11 (latest), c14 takes p13, c15 takes the one left, p10
    assert pairs.to_dict("list") == {"purchase": [11, 13, 10], "cancellation": [12, 14, 15]}
    none = match_reversals(frame, purchases=~cancel, cancellations=cancel & False)
    assert none.empty and list(none.columns) == ["purchase", "cancellation"]


def _reference_pairs(frame: pd.DataFrame) -> list[tuple[int, int]]:
    """Stack matching, one event at a time (the obvious loop the vectorised code replaces)."""
    events = collections.defaultdict(list)
    for position, row in enumerate(frame.itertuples(index=False)):
        size, is_cancel = abs(row.quantity), int(row.quantity < 0)
        events[(row.customer_id, row.product_id, size)].append((row.date, is_cancel, position))
    pairs = []
    for sequence in events.values():
        stack: list[int] = []
        for _, is_cancel, position in sorted(sequence):
            if not is_cancel:
                stack.append(position)
            elif stack:
                pairs.append((stack.pop(), position))
    return sorted(pairs, key=lambda pair: pair[1])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b"]),
            st.sampled_from(["p", "q"]),
            st.integers(0, 6),
            st.sampled_from([-2.0, -1.0, 1.0, 2.0]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_vectorised_matching_equals_the_stack_loop(rows):
    frame = pd.DataFrame(
        rows, columns=[config.CUSTOMER_ID, config.PRODUCT_ID, config.DATE, config.QUANTITY]
    )
    frame[config.DATE] = pd.Timestamp("2024-01-01") + pd.to_timedelta(frame[config.DATE], "D")
    cancel = frame[config.QUANTITY] < 0
    pairs = match_reversals(frame, purchases=~cancel, cancellations=cancel)
    assert list(zip(pairs["purchase"], pairs["cancellation"], strict=True)) == (
        _reference_pairs(frame)
    )
    assert pairs["purchase"].is_unique and pairs["cancellation"].is_unique

"""Reasons in an account manager's words: the run's currency, grammar, no model artefacts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnlab.classifier.phrases import REASONS, is_risky, reason_text, reason_texts, risky_mask


def test_money_reasons_are_in_the_run_currency():
    assert reason_text("spend_last", 0.0, 304.2, currency="GBP") == (
        "spent £0.00 in the last quarter (typically £304.20)"
    )
    assert reason_text("total_spend", 1250.0, 4800.0, currency="EUR") == (
        "has spent €1,250 in all (typically €4,800)"
    )


def test_counts_agree_with_their_noun():
    assert reason_text("n_products", 1.0, 42.0) == "buys only 1 different product (typically 42)"
    assert reason_text("n_products", 5.0, 42.0) == "buys only 5 different products (typically 42)"
    assert reason_text("n_orders", 1.0, 6.0) == "only 1 order so far (typically 6)"
    assert reason_text("frequency", 1.0, 4.0) == "only 1 repeat purchase so far (typically 4)"
    assert reason_text("orders_last", 1.0, 3.0) == "1 order in the last quarter (typically 3)"
    assert reason_text("avg_basket_items", 1.0, 8.0) == "small baskets (1 item vs 8 typically)"
    assert reason_text("n_returns", 1.0, 0.0) == "1 return or cancellation"
    assert reason_text("n_returns", 2.0, 0.0) == "2 returns or cancellations"
    assert reason_text("days_since_last", 0.3, 0.1) == "no purchase for 1 day (typically 1)"
    assert reason_text("ipt_mean_days", 1.2, 30.0) == "buys every 1 day on average (typically 30)"
    assert reason_text("tenure_days", 1.2, 300.0) == "a recent customer (first purchase 1 day ago)"


def test_mean_repeat_spend_is_never_a_reason():
    # monetary_value is 0 for every one-time buyer, so "spends less per repeat purchase
    # (0 vs 228)" would be said of customers who never made a repeat purchase.
    assert "monetary_value" not in REASONS
    assert reason_text("monetary_value", 0.0, 228.0) == ""
    assert not is_risky("monetary_value", 0.0, 228.0)


def test_no_sentence_mentions_a_code_name():
    for feature in REASONS:
        text = reason_text(feature, 1.0, 2.0, currency="GBP") or reason_text(
            feature, 3.0, 2.0, currency="GBP"
        )
        assert "_" not in text and "nan" not in text.lower(), (feature, text)
        assert reason_text(feature, np.nan, 2.0) in ("", "has bought on only one day so far")


def test_days_since_the_last_purchase_are_calendar_days():
    # A purchase at 14:24 on a day 236 days before a midnight cutoff is 235.4 days old;
    # the action list counts 236 days, and so does the sentence.
    assert reason_text("days_since_last", 235.4, 45.9) == "no purchase for 236 days (typically 46)"
    assert reason_text("days_since_last", 236.0, 46.0) == "no purchase for 236 days (typically 46)"


def test_only_a_missing_mean_gap_means_one_purchase_day():
    # Two purchase days give one gap: its standard deviation is undefined, but the
    # customer did not buy "on only one day".
    assert reason_text("ipt_mean_days", np.nan, 30.0) == "has bought on only one day so far"
    assert reason_text("ipt_std_days", np.nan, 12.0) == ""
    assert is_risky("ipt_mean_days", np.nan, 30.0) and not is_risky("ipt_std_days", np.nan, 12.0)


def test_a_high_chance_of_being_active_is_never_a_reason_to_have_stopped():
    assert not is_risky("p_alive", 0.96, 1.0)  # below the typical 100%, yet no sign
    assert reason_text("p_alive", 0.96, 1.0) == ""
    assert is_risky("p_alive", 0.3, 0.9)
    assert "(30% chance they are still a customer)" in reason_text("p_alive", 0.3, 0.9)


def test_a_fall_of_all_orders_is_said_as_none():
    assert reason_text("orders_change_pct", -100.0, 0.0) == (
        "no orders in the last quarter, after buying in the one before"
    )
    assert (
        reason_text("spend_change_pct", -40.0, 0.0) == "spent 40% less than in the quarter before"
    )


def test_risky_mask_matches_is_risky_cell_by_cell():
    columns = ["days_since_last", "p_alive", "ipt_mean_days", "ipt_std_days", "recency"]
    values = np.array([[200.0, 0.3, np.nan, np.nan, 9.0], [10.0, 0.96, 12.0, 3.0, 1.0]])
    typical = np.array([45.0, 1.0, 30.0, 12.0, 5.0])
    mask = risky_mask(values, columns, typical)
    expected = [
        [is_risky(c, v, t) for c, v, t in zip(columns, row, typical, strict=True)] for row in values
    ]
    assert mask.tolist() == expected == [[True, True, True, False, False], [False] * 5]


def test_many_values_of_one_feature_are_phrased_at_once():
    texts = reason_texts("p_alive", np.array([0.3, 0.96, np.nan]), 0.9)
    assert list(texts) == [
        "their buying pattern suggests they may have stopped (30% chance they are still a "
        "customer)",
        "",  # past the bound: no sign of having stopped
        "",
    ]
    gaps = reason_texts("ipt_mean_days", np.array([np.nan, 44.6]), 30.0)
    assert list(gaps) == ["has bought on only one day so far",
                          "buys every 45 days on average (typically 30)"]  # fmt: skip
    assert list(reason_texts("monetary_value", np.array([0.0]), 228.0)) == [""]


def test_values_shown_alike_get_the_same_sentence_and_others_their_own():
    # many values are phrased by what the sentence shows of them (whole days, counts)
    days = reason_texts("days_since_last", np.array([235.4, 236.0, 236.00001, 0.2, 235.4]), 45.9)
    assert list(days) == [
        "no purchase for 236 days (typically 46)",
        "no purchase for 236 days (typically 46)",
        "no purchase for 237 days (typically 46)",
        "no purchase for 1 day (typically 46)",
        "no purchase for 236 days (typically 46)",
    ]
    orders = reason_texts("n_orders", np.array([2.5, 3.5, 1.0, 2.4]), 6.0)
    assert list(orders) == [  # as f"{v:,.0f}" rounds: half to even
        "only 2 orders so far (typically 6)",
        "only 4 orders so far (typically 6)",
        "only 1 order so far (typically 6)",
        "only 2 orders so far (typically 6)",
    ]


def test_a_missing_value_of_any_kind_is_said_as_missing():
    for missing in (None, np.nan, pd.NA):
        assert reason_text("ipt_mean_days", missing, 30.0) == "has bought on only one day so far"

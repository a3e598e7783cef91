"""Reasons in an account manager's words: the run's currency, grammar, no model artefacts."""

from __future__ import annotations

import numpy as np

from churnlab.classifier.phrases import REASONS, is_risky, reason_text


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

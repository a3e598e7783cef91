"""The one money formatter (churnlab.money), used by the pages and the analysis texts."""

from __future__ import annotations

import numpy as np

from churnlab.money import currency_prefix, format_money


def test_amounts_read_the_same_everywhere():
    assert format_money(3684459.82, "GBP", compact=True) == "£3.68M"
    assert format_money(23400.0, "EUR", compact=True) == "€23.40K"
    assert format_money(12.4, "USD") == "$12.40"
    assert format_money(1234567.891, "GBP") == "£1,234,568"
    assert format_money(-5374.6, "SEK") == "-SEK 5,375"
    assert format_money(float("nan"), "GBP") == "–"
    assert format_money(np.float64("nan")) == "–"
    assert format_money(None) == "–"


def test_currency_prefix_takes_a_code_or_a_symbol():
    assert currency_prefix("gbp") == "£"
    assert currency_prefix("£") == "£"  # already a prefix: unchanged
    assert currency_prefix(currency_prefix("CHF")) == "CHF "
    assert currency_prefix("NOK") == "NOK "
    assert currency_prefix("") == ""

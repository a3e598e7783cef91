"""The editable reason -> addressable mapping and its keyword fallback."""

from __future__ import annotations

import pandas as pd

from churnlab.reasons import UNKNOWN_REASON, addressable_mapping, is_addressable


def _records(pairs):
    return pd.DataFrame(pairs, columns=["category", "reason"])


def test_defaults_cover_telco_labels():
    rec = _records(
        [
            ("Competitor", "Competitor made better offer"),
            ("Other", "Moved"),
            ("Other", "Deceased"),
            ("Other", "Don't know"),
            ("Other", "Poor expertise of online support"),
            ("Attitude", "Attitude of support person"),
            (UNKNOWN_REASON, UNKNOWN_REASON),
        ]
    )
    assert is_addressable(rec).tolist() == [True, False, False, False, True, True, False]


def test_keyword_fallback_for_unmapped_labels():
    rec = _records(
        [
            ("Billing", "Charged twice"),
            ("Life event", "Relocating abroad"),
            ("Life event", "Passed away"),
            ("Misc", "Something else"),
            ("Moving", "Moving but price was also high"),  # non-addressable keywords win
        ]
    )
    assert is_addressable(rec).tolist() == [True, False, False, False, False]


def test_overrides_are_case_insensitive():
    mapping = addressable_mapping({"Network Reliability": False, "Misc": True})
    assert mapping["network reliability"] is False and mapping["competitor"] is True
    rec = _records([("Dissatisfaction", "Network reliability"), ("Misc", "Something else")])
    assert is_addressable(rec, mapping=mapping).tolist() == [False, True]
    assert is_addressable(rec).tolist() == [True, False]

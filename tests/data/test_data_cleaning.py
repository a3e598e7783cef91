"""CleaningPolicy presets and CleaningReport rendering."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churnlab import config
from churnlab.data import DROP_REASONS, CleaningPolicy, CleaningReport, load_transactions
from churnlab.data.cleaning import _matches_codes


def test_policy_is_frozen_and_defaults_drop_everything_bad():
    policy = CleaningPolicy()
    assert policy.enabled_reasons() == DROP_REASONS
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.drop_duplicates = False  # type: ignore[misc]


def test_online_retail_preset():
    policy = CleaningPolicy.online_retail()
    assert policy.cancellation_prefixes == ("C",)
    for code in ("POST", "DOT", "M", "m", "C2", "D", "S", "BANK CHARGES", "AMAZONFEE", "CRUK"):
        assert code in policy.non_product_codes
    assert CleaningPolicy.online_retail(drop_duplicates=False).drop_duplicates is False


def test_non_product_patterns_are_exact_or_shell_style():
    codes = pd.Series(["POST", "POSTAGE", "gift_0001_20", "DCGS0076", "DCGSSBOY", "85123A", None])
    mask = _matches_codes(codes, CleaningPolicy.online_retail().non_product_codes)
    assert mask.tolist() == [True, False, True, True, True, False, False]


def test_only_switches_everything_else_off():
    policy = CleaningPolicy.only("missing_customer_id", "cancellation")
    assert policy.enabled_reasons() == ("missing_customer_id", "cancellation")


def test_report_frame_and_html():
    report = CleaningReport(
        input_rows=10, kept_rows=6, dropped={"missing_customer_id": 3, "duplicate": 1}
    )
    frame = report.to_frame()
    assert list(frame.index) == ["missing_customer_id", "duplicate", "kept", "input"]
    assert list(frame.columns) == ["rows", "share", "description"]
    assert frame.loc["missing_customer_id", "share"] == pytest.approx(0.3)
    assert frame.loc["input", "rows"] == 10
    assert report.dropped_rows == 4
    html = report._repr_html_()
    assert html.startswith("<table") and "missing_customer_id" in html and "30.0%" in html
    assert "kept_rows=6" in repr(report)


def test_empty_report_renders():
    report = CleaningReport(input_rows=0, kept_rows=0, dropped={})
    assert report.to_frame()["rows"].tolist() == [0, 0]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "007", "", None]),
            st.sampled_from(["2024-01-01", "2024-02-03 10:00", "2099-01-01", "nope", None]),
            st.one_of(st.none(), st.floats(-5, 50, allow_nan=False)),
            st.sampled_from(["1", "C2", "POST", None]),
        ),
        min_size=40,
        max_size=60,
    )
)
def test_every_row_is_kept_or_dropped_exactly_once(rows):
    # a few good rows so the date threshold and the all-dropped check never trigger
    good = [("z", "2024-01-01", 1.0, "1")] * 400
    log = pd.DataFrame(good + rows, columns=["customer_id", "date", "amount", "order_id"])
    policy = CleaningPolicy(cancellation_prefixes=("C",), max_unparsable_date_share=0.5)
    data, report, dropped = load_transactions(log, policy=policy)
    assert report.kept_rows + sum(report.dropped.values()) == report.input_rows == len(log)
    assert len(data) == report.kept_rows and len(dropped) == report.dropped_rows
    assert dropped.index.is_unique and dropped.index.isin(range(len(log))).all()
    assert data[config.CUSTOMER_ID].notna().all() and (data[config.AMOUNT] > 0).all()


def test_non_finite_rule_runs_right_after_missing_amounts():
    assert DROP_REASONS.index("non_finite_amount") == DROP_REASONS.index("missing_amount") + 1
    policy = CleaningPolicy.only("non_finite_amount")
    assert policy.enabled_reasons() == ("non_finite_amount",)
    assert policy.drop_non_finite_amounts and not policy.drop_missing_amounts

"""Data-quality tables (churnlab.report.quality), their plots and the readable-table helper."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.plotting import quality as qp
from churnlab.report import quality
from churnlab.report.kpis import extract_kpis, record_kpis
from churnlab.report.tables import format_value, mask_ids, styled


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_order_values_sum_lines_per_order(tiny_transactions: pd.DataFrame) -> None:
    values = quality.order_values(tiny_transactions)
    assert len(values) == 10
    assert values.sum() == pytest.approx(tiny_transactions["amount"].sum())


def test_order_values_without_order_id(tiny_transactions: pd.DataFrame) -> None:
    # c's two purchases on 2024-02-01 become one order
    values = quality.order_values(tiny_transactions.drop(columns="order_id"))
    assert len(values) == 9
    assert 20.0 in set(values)


def test_coverage_summary(tiny_transactions: pd.DataFrame) -> None:
    facts = quality.coverage_summary(tiny_transactions, currency="GBP")["value"]
    assert str(facts["first purchase"]) == "2024-01-01"
    assert str(facts["last purchase"]) == "2024-03-25"
    assert facts["days covered"] == 85
    assert facts["months covered"] == 3
    assert facts["months without orders"] == 0
    assert facts["customers"] == 4
    assert facts["orders"] == 10
    assert facts["revenue"] == "£244.00"  # 10 orders of the tiny log, in its currency


def test_rfm_overview_is_formatted_by_kind() -> None:
    summary = pd.DataFrame(
        {"frequency": [0, 2, 4], "recency": [0.0, 10.0, 30.0], "T": [5.0, 20.0, 40.0],
         "monetary_value": [0.0, 175.03, 1586.08]}
    )  # fmt: skip
    table = quality.rfm_overview(summary, time_unit="W", currency="EUR")
    assert table.loc["Repeat purchases"].tolist() == ["2", "4"]
    assert table.loc["First to last purchase (weeks)", "Typical customer (median)"] == "10.0"
    assert table.loc["Average repeat purchase"].tolist() == ["€175.03", "€1,304"]


def test_monthly_activity(tiny_transactions: pd.DataFrame) -> None:
    monthly = quality.monthly_activity(tiny_transactions)
    assert list(monthly.index.strftime("%Y-%m")) == ["2024-01", "2024-02", "2024-03"]
    # Jan: a (2 orders), b; Feb: a, c (2 orders); Mar: b, c (2), d
    assert monthly["customers"].tolist() == [2, 2, 3]
    assert monthly["new_customers"].tolist() == [2, 1, 1]
    assert monthly["orders"].tolist() == [3, 3, 4]
    assert monthly["revenue"].sum() == pytest.approx(244.0)


def test_monthly_activity_fills_gaps() -> None:
    data = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "date": pd.to_datetime(["2024-01-05", "2024-04-05"]),
            "amount": [1.0, 2.0],
        }
    )
    monthly = quality.monthly_activity(data)
    assert monthly["orders"].tolist() == [1, 0, 0, 1]
    assert quality.coverage_summary(data)["value"]["months without orders"] == 2


def test_repeat_purchase_summary(tiny_transactions: pd.DataFrame) -> None:
    table = quality.repeat_purchase_summary(tiny_transactions)
    # orders per customer: a 3, b 2, c 4, d 1
    assert table["customers"].tolist() == [1, 1, 2, 0, 0]
    assert table.attrs["repeat_share"] == 0.75
    assert table["share"].sum() == pytest.approx(1.0)


def test_returns_summary() -> None:
    dropped = pd.DataFrame(
        {"amount": [-5.0, -1.0, 3.0], "drop_reason": ["cancellation", "cancellation", "duplicate"]}
    )
    table = quality.returns_summary(dropped)
    assert table.loc["cancellation or return", "rows"] == 2  # the reason in words
    assert table.loc["cancellation or return", "amount"] == 6.0


def test_quality_tables_need_columns() -> None:
    with pytest.raises(DataValidationError, match="monthly_activity needs column"):
        quality.monthly_activity(pd.DataFrame({"customer_id": ["a"]}))


def test_plots_return_axes(tiny_transactions: pd.DataFrame) -> None:
    from churnlab.data.cleaning import CleaningReport

    report = CleaningReport(input_rows=12, kept_rows=10, dropped={"duplicate": 2, "future": 0})
    summary = pd.DataFrame(
        {
            "frequency": [2.0, 1.0],
            "recency": [7.0, 3.0],
            "T": [9.0, 5.0],
            "monetary_value": [25, 15],
        }
    )
    summary.attrs["time_unit"] = "W"
    axes = [
        qp.plot_cleaning_report(report),
        qp.plot_date_coverage(tiny_transactions),
        qp.plot_monthly_activity(quality.monthly_activity(tiny_transactions)),
        qp.plot_order_values(quality.order_values(tiny_transactions)),
        qp.plot_repeat_purchases(quality.repeat_purchase_summary(tiny_transactions)),
        qp.plot_rfm_overview(summary),
    ]
    assert all(isinstance(ax, matplotlib.axes.Axes) for ax in axes)
    assert "12 input rows" in axes[0].get_title()
    assert "75%" in axes[4].get_title()
    assert "weeks" in axes[5].get_xlabel()
    _, ax = plt.subplots()
    assert qp.plot_date_coverage(tiny_transactions, ax=ax) is ax


def test_plot_errors() -> None:
    with pytest.raises(DataValidationError, match="no positive order values"):
        qp.plot_order_values(pd.Series([0.0, -1.0]))
    empty = pd.DataFrame({"date": pd.to_datetime([])})
    with pytest.raises(DataValidationError, match="the transactions are empty"):
        qp.plot_date_coverage(empty)


def test_styled_formats_and_escapes() -> None:
    frame = pd.DataFrame(
        {"revenue": [1234.6], "share": [0.125], "orders": [12000], "name": ["<b>x</b>"]},
        index=pd.Index(["<i>id</i>"], name="customer_id"),
    )
    page = styled(frame, money=["revenue"], percent=["share"], currency="£").to_html()
    assert "£1,235" in page and "12.5%" in page and "12,000" in page  # money: one formatter
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert "&lt;i&gt;id&lt;/i&gt;" in page


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (None, {}, "–"),
        (True, {}, "yes"),
        (3, {}, "3"),
        (1234567.0, {}, "1,234,567"),
        (2.5, {}, "2.50"),
        (-3.2, {"kind": "money", "currency": "$"}, "-$3.20"),
        (0.5, {"kind": "percent"}, "50.0%"),
        (pd.Timestamp("2024-01-02"), {}, "2024-01-02"),
        ("text", {}, "text"),
    ],
)
def test_format_value(value: object, kwargs: dict, expected: str) -> None:
    assert format_value(value, **kwargs) == expected


def test_mask_ids_is_stable_and_optional() -> None:
    ids = pd.Series(["a", "b", "a"], name="customer_id")
    masked = mask_ids(ids)
    assert masked[0] == masked[2] != masked[1]
    assert masked[0].startswith("C-") and masked[0] != "a" and len(masked[0]) == 22
    assert mask_ids(ids, enabled=False) is ids
    assert list(mask_ids(pd.Index(["a"]))) == [masked[0]]


def test_masked_ids_are_keyed_and_not_reversible(monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    ids = pd.Index([f"{n:06d}" for n in range(110_000)])
    masked = mask_ids(ids[:50], key=b"k1")
    assert len(masked[0]) == 22  # "C-" + 80 bits
    assert list(mask_ids(ids[:50], key=b"k1")) == list(masked)
    assert not set(mask_ids(ids[:50], key=b"k2")) & set(masked)
    # An attacker hashing every candidate id without the key recovers nothing.
    unkeyed = {"C-" + hashlib.sha256(i.encode()).hexdigest()[:20]: i for i in ids}
    unkeyed |= {
        f"C-{h & 0xFFFFFFFF:08x}": i
        for i, h in zip(ids, pd.util.hash_array(ids.to_numpy()), strict=True)
    }
    assert not set(masked) & set(unkeyed)
    monkeypatch.setenv("CHURNLAB_MASK_KEY", "from-the-environment")
    assert list(mask_ids(ids[:3])) == list(mask_ids(ids[:3], key=b"from-the-environment"))


def test_pseudonym_collisions_are_detected(monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    from churnlab.exceptions import DataValidationError

    class Constant:
        def hexdigest(self) -> str:
            return "0" * 64

    monkeypatch.setattr(hmac, "new", lambda *args, **kwargs: Constant())
    with pytest.raises(DataValidationError, match="same pseudonym"):
        mask_ids(pd.Index(["a", "b"]), key=b"k")


def test_kpis_round_trip() -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"application/vnd.churnlab.kpis+json": {"customers": 4}}
        )
    ]
    nb.cells = [cell]
    assert extract_kpis(nb) == {"customers": 4}
    with pytest.raises(ConfigError, match="KPI 'bad' must be a number or a string"):
        record_kpis(bad=[1, 2])
    assert record_kpis({"a": 1}, b=float("nan")) == {"a": 1, "b": None}

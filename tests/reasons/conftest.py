"""Fixtures for the churn-reason tests: Telco records, a small exit survey and a log."""

from __future__ import annotations

import pandas as pd
import pytest

from churnlab.reasons import churn_record


@pytest.fixture(scope="session")
def telco() -> pd.DataFrame:
    """The bundled IBM Telco snapshot (index customer_id, boolean ``churned``)."""
    from churnlab.datasets import load_telco

    return load_telco()


@pytest.fixture(scope="session")
def telco_records(telco: pd.DataFrame) -> pd.DataFrame:
    """One churn record per churned Telco customer (1,869)."""
    return churn_record(telco, columns="telco")


@pytest.fixture
def survey() -> pd.DataFrame:
    """Ten exit-survey rows in a CRM export layout; rows 7-9 are dirty.

    Row 7 has no customer id, row 8 an unparsable date, row 9 repeats customer
    C02 with a later date (kept over row 1).
    """
    rows = [
        ("C01", "2024-01-15", "Price", "Price too high", "Plan costs too much now", "", 3, 2),
        ("C02", "2024-01-20", "Service", "Support", "", "", 2, 0),
        (
            "C03",
            "2024-02-03",
            "Competitor",
            "Better offer",
            "Switched for a cheaper deal",
            "TelcoX",
            3,
            5,
        ),
        ("C04", "2024-02-10", "", "", "", "", "", ""),
        ("C05", "2024-02-18", "Other", "Moved", "Moving abroad", "", 4, 8),
        ("C06", "2024-02-25", "Price", "Price too high", "", "", 1, 11),
        ("C07", "", "Competitor", "Better devices", "", "PhoneCo", 3, 6),
        ("", "2024-02-01", "Price", "Price too high", "", "", 3, 3),
        ("C08", "31/31/2024", "Service", "Network", "", "", 2, 1),
        ("C02", "2024-02-28", "Service", "Network reliability", "Calls keep dropping", "", 1, 0),
    ]
    return pd.DataFrame(
        rows,
        columns=["Account", "Closed", "Category", "Reason", "Comment", "Competitor", "CSAT", "NPS"],
    )


@pytest.fixture
def churn_log() -> pd.DataFrame:
    """Monthly purchases of four customers; F fades out, S stops suddenly.

    F spends 100, 80, 60, 40, 20, 10 in the six months before churning on
    2024-07-01; S spends 50 every month and churns on 2024-07-01; N is new
    (first purchase 2024-05-10); X never churns.
    """
    rows = []
    for i, amount in enumerate([100, 80, 60, 40, 20, 10]):
        rows.append(("F", f"f{i}", f"2024-{i + 1:02d}-10", float(amount)))
        rows.append(("S", f"s{i}", f"2024-{i + 1:02d}-10", 50.0))
        rows.append(("X", f"x{i}", f"2024-{i + 1:02d}-12", 30.0))
    rows += [("N", "n1", "2024-05-10", 20.0), ("N", "n2", "2024-06-10", 25.0)]
    rows += [("S", "s-late", "2024-07-20", 999.0)]
    frame = pd.DataFrame(rows, columns=["customer_id", "order_id", "date", "amount"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.sort_values("date", ignore_index=True)


@pytest.fixture
def comments() -> pd.Series:
    """Thirty short exit comments in four themes (price, network, support, moving)."""
    price = [
        "The monthly price went up again and it is too expensive",
        "Too expensive for what I get, price increase every year",
        "Bill kept going up, the price is just too high",
        "Found the plan too expensive after the promo price ended",
        "Price too high compared with the value, expensive extras",
        "Expensive plan, price rise was the last straw",
        "Could not afford the price after the discount expired",
        "Price increase made it too expensive for my family",
    ]
    network = [
        "Network coverage at home is terrible, calls drop all the time",
        "Calls drop constantly and the network coverage is poor",
        "Poor network coverage in my area, dropped calls",
        "Internet keeps dropping, network outages every week",
        "Network outages and slow internet speed all the time",
        "Coverage is bad and the network is unreliable",
        "Dropped calls and no network coverage in the basement",
    ]
    support = [
        "Support staff were rude and never solved my problem",
        "Rude support agent, waited an hour on hold",
        "Customer support was unhelpful and rude",
        "Waited on hold for hours, support never called back",
        "The support person was rude and did not help",
        "Support could not fix my billing problem, very unhelpful",
        "Unhelpful support, on hold forever",
    ]
    moving = [
        "Moving to another state where you have no service",
        "We are moving abroad next month",
        "Moving house to an area without coverage from you",
        "Relocating for work, moving overseas",
        "Moving in with family in another country",
        "Moving away, nothing wrong with the service",
        "Moving abroad for a new job",
        "",
    ]
    return pd.Series(price + network + support + moving, name="comment")

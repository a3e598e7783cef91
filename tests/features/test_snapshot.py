import pandas as pd
import pytest

from churnlab.exceptions import DataQualityWarning, DataValidationError, LeakageError
from churnlab.features.snapshot import TELCO_LEAKY_COLUMNS, snapshot_features


@pytest.fixture
def snapshot() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Tenure in Months": [1, 20, 3, 40, 5, 60],
            "Contract": ["Month-to-Month", "Two Year", "Month-to-Month", "One Year", "M", "T"],
            "Churn Label": ["Yes", "No", "Yes", "No", "Yes", "No"],
            "Churn Reason": ["Price", None, "Competitor", None, "Price", None],
            "Satisfaction Score": [1, 5, 2, 4, 1, 5],
            "churned": [True, False, True, False, True, False],
        },
        index=pd.Index([f"c{i}" for i in range(6)], name="customer_id"),
    )


def test_leaky_columns_are_refused(snapshot):
    with pytest.raises(LeakageError, match=r"'Churn Label' is the churn target itself.*drop="):
        snapshot_features(snapshot, target="churned")


def test_drop_and_allow(snapshot):
    with pytest.warns(DataQualityWarning, match="Satisfaction Score"):
        X, y = snapshot_features(snapshot, target="churned", drop=["Churn Label", "Churn Reason"])
    assert list(X.columns) == ["Tenure in Months", "Contract", "Satisfaction Score"]
    assert y.name == "churned" and y.dtype == bool and y.sum() == 3
    X, _ = snapshot_features(
        snapshot,
        target="churned",
        allow_leaky=["churn label", "CHURN_REASON", "Satisfaction Score"],
    )
    assert "Churn Label" in X.columns


def test_telco_names_are_matched_loosely(snapshot):
    renamed = snapshot.rename(columns={"Churn Reason": "churn_reason"}).drop(columns="Churn Label")
    with pytest.raises(LeakageError, match="churn_reason"):
        snapshot_features(renamed, target="churned", drop=["Satisfaction Score"])


def test_column_equal_to_target_is_refused(snapshot):
    table = snapshot.drop(columns=["Churn Label", "Churn Reason", "Satisfaction Score"])
    table["left_us"] = ~table["churned"]
    with pytest.raises(LeakageError, match="'left_us' is identical to the target"):
        snapshot_features(table, target="churned")


def test_string_target(snapshot):
    X, y = snapshot_features(snapshot, target="Churn Label", drop=(*TELCO_LEAKY_COLUMNS, "churned"))
    assert y.tolist() == snapshot["churned"].tolist()
    assert "Churn Label" not in X.columns


def test_target_errors(snapshot):
    with pytest.raises(DataValidationError, match="needs column"):
        snapshot_features(snapshot, target="Churn Flag")
    bad = snapshot.assign(churned=["yes", "no", "maybe", "no", "yes", "no"])
    with pytest.raises(DataValidationError, match=r"must be binary.*'maybe'"):
        snapshot_features(bad, target="churned", drop=TELCO_LEAKY_COLUMNS)


def test_real_telco():
    from churnlab.datasets import load_telco

    X, y = snapshot_features(load_telco(), target="churned", drop=TELCO_LEAKY_COLUMNS)
    assert len(X) == 7043 and y.sum() == 1869
    assert not set(TELCO_LEAKY_COLUMNS) & set(X.columns)

"""Tests of churnlab.models.evaluation (holdout scores and tracking curve)."""

from __future__ import annotations

import copy
from pathlib import Path

import lifetimes
import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter
from lifetimes.utils import expected_cumulative_transactions
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score

from churnlab import config
from churnlab.exceptions import ConfigError, DataQualityWarning, DataValidationError
from churnlab.models import evaluation as ev

CALIBRATION_END = "1997-09-30"
OBSERVATION_END = "1998-06-30"


@pytest.fixture(scope="module")
def cdnow_transactions() -> pd.DataFrame:
    # The 2357-customer CDNOW sample shipped with lifetimes (first purchases in Q1 1997).
    path = Path(lifetimes.__file__).parent / "datasets" / "CDNOW_sample.txt"
    raw = pd.read_csv(path, sep=r"\s+", header=None, names=["cust", "id", "date", "cds", "usd"])
    return pd.DataFrame(
        {
            config.CUSTOMER_ID: raw["cust"].astype(str),
            config.ORDER_ID: raw.index.astype(str),
            config.DATE: pd.to_datetime(raw["date"].astype(str), format="%Y%m%d"),
            config.AMOUNT: raw["usd"].astype(float),
        }
    )


@pytest.fixture(scope="module")
def cdnow_split(cdnow_transactions) -> pd.DataFrame:
    from churnlab.features.rfm import calibration_holdout_split

    return calibration_holdout_split(
        cdnow_transactions,
        calibration_end=CALIBRATION_END,
        observation_end=OBSERVATION_END,
        time_unit="W",
    )


@pytest.fixture(scope="module")
def model(cdnow_split):
    from churnlab.models.bgnbd import BetaGeoModel

    cal = cdnow_split[["frequency_cal", "recency_cal", "T_cal"]]
    cal = cal.rename(columns=lambda c: c.removesuffix("_cal"))
    return BetaGeoModel().fit(cal, time_unit="W")


@pytest.fixture
def toy_predictions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "frequency_cal": [0, 0, 1, 2, 9, 12],
            "actual": [0.0, 1.0, 0.0, 3.0, 5.0, 8.0],
            "predicted": [0.5, 0.5, 1.0, 2.0, 6.0, 7.0],
            "p_no_purchase": [0.8, 0.6, 0.7, 0.2, 0.05, 0.15],
            "no_purchase": [True, False, True, False, False, False],
        },
        index=pd.Index(list("abcdef"), name=config.CUSTOMER_ID),
    )


def test_tracking_curve_matches_lifetimes(cdnow_transactions, model):
    # Known value: lifetimes 0.11.3 expected_cumulative_transactions(freq="W") on the same
    # transactions with a BetaGeoFitter carrying churnlab's fitted parameters.
    curve = ev.tracking_curve(model, cdnow_transactions, observation_end=OBSERVATION_END)
    reference = BetaGeoFitter()
    reference.params_ = pd.Series(
        model.params_[["r", "alpha", "a", "b"]].to_numpy(), index=["r", "alpha", "a", "b"]
    )
    expected = expected_cumulative_transactions(
        reference, cdnow_transactions, config.DATE, config.CUSTOMER_ID, t=len(curve), freq="W"
    )
    assert len(curve) == 78
    np.testing.assert_array_equal(curve["actual"], expected["actual"].to_numpy(dtype=float))
    np.testing.assert_allclose(curve["predicted"], expected["predicted"], rtol=1e-9)
    assert list(curve.columns) == ["date", "actual", "predicted", "in_calibration"]
    assert curve["actual"].is_monotonic_increasing and curve["predicted"].is_monotonic_increasing


def test_tracking_curve_calibration_flag_and_cohort(cdnow_transactions, model):
    curve = ev.tracking_curve(
        model, cdnow_transactions, calibration_end=CALIBRATION_END, observation_end=OBSERVATION_END
    )
    assert curve["in_calibration"].iloc[0] and not curve["in_calibration"].iloc[-1]
    assert curve.loc[curve["in_calibration"], "date"].max() <= pd.Timestamp(CALIBRATION_END)
    # a late cohort ends earlier in the data but the same customers are tracked
    late = ev.tracking_curve(model, cdnow_transactions, calibration_end="1997-01-15")
    assert late["actual"].iloc[-1] < curve["actual"].iloc[-1]


def test_holdout_predictions_match_model(cdnow_split, model):
    preds = ev.holdout_predictions(model, cdnow_split)
    assert preds.index.equals(cdnow_split.index)
    cal = cdnow_split[["frequency_cal", "recency_cal", "T_cal"]].rename(
        columns=lambda c: c.removesuffix("_cal")
    )
    duration = float(cdnow_split["duration_holdout"].iloc[0])
    np.testing.assert_allclose(preds["predicted"], model.expected_purchases(cal, duration))
    np.testing.assert_allclose(preds["p_no_purchase"], model.probability_no_purchase(cal, duration))
    assert (preds["no_purchase"] == (cdnow_split["frequency_holdout"] == 0)).all()


def test_holdout_report_on_cdnow(cdnow_split, model, cdnow_transactions):
    report = ev.holdout_report(
        model,
        cdnow_split,
        transactions=cdnow_transactions,
        calibration_end=CALIBRATION_END,
        observation_end=OBSERVATION_END,
    )
    scores = report.scores["value"]
    assert list(scores.index) == [
        "n_customers", "actual_total", "predicted_total", "total_error_pct", "mae", "rmse",
        "roc_auc", "brier_score", "log_loss", "observed_rate", "mean_predicted",
    ]  # fmt: skip
    assert scores["n_customers"] == 2357
    assert abs(scores["total_error_pct"]) < 15  # BG/NBD tracks CDNOW's holdout closely
    assert scores["roc_auc"] > 0.75
    assert 0 < scores["brier_score"] < 0.25
    assert list(report.conditional.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert report.conditional["n_customers"].sum() == 2357
    assert report.calibration["n_customers"].sum() == 2357
    assert report.tracking is not None and len(report.tracking) == 78
    assert "Holdout scores" in report._repr_html_()


def test_purchase_errors_by_hand(toy_predictions):
    errors = ev.purchase_errors(toy_predictions)["value"]
    diff = np.array([0.5, -0.5, 1.0, -1.0, 1.0, -1.0])
    assert errors["actual_total"] == 17.0
    assert errors["predicted_total"] == 17.0
    assert errors["total_error_pct"] == 0.0
    assert errors["mae"] == pytest.approx(np.abs(diff).mean())
    assert errors["rmse"] == pytest.approx(np.sqrt((diff**2).mean()))


def test_conditional_expectations_by_hand(toy_predictions):
    table = ev.conditional_expectations(toy_predictions, max_frequency=3)
    assert list(table.index) == ["0", "1", "2", "3+"]
    assert table.loc["0", "n_customers"] == 2
    assert table.loc["0", "actual"] == 0.5
    assert table.loc["3+", "actual"] == 6.5
    assert table.loc["3+", "predicted"] == 6.5


def test_churn_metrics_match_sklearn(toy_predictions):
    metrics = ev.churn_metrics(toy_predictions)["value"]
    y, p = toy_predictions["no_purchase"], toy_predictions["p_no_purchase"]
    assert metrics["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert metrics["brier_score"] == pytest.approx(brier_score_loss(y, p))
    assert metrics["observed_rate"] == pytest.approx(2 / 6)


def test_churn_metrics_single_class_warns(toy_predictions):
    same = toy_predictions.assign(no_purchase=False)
    with pytest.warns(DataQualityWarning, match="ROC AUC is undefined"):
        metrics = ev.churn_metrics(same)["value"]
    assert np.isnan(metrics["roc_auc"])


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_calibration_table_matches_sklearn(toy_predictions, strategy):
    table = ev.calibration_table(toy_predictions, n_bins=3, strategy=strategy)
    observed, predicted = calibration_curve(
        toy_predictions["no_purchase"], toy_predictions["p_no_purchase"], n_bins=3,
        strategy=strategy,
    )  # fmt: skip
    np.testing.assert_allclose(table["observed_rate"], observed)
    np.testing.assert_allclose(table["mean_predicted"], predicted)
    assert table["n_customers"].sum() == len(toy_predictions)
    assert (table["lower"] <= table["mean_predicted"] + 1e-12).all()


def test_missing_columns(toy_predictions, model):
    with pytest.raises(DataValidationError, match="'duration_holdout'"):
        ev.holdout_predictions(model, toy_predictions)
    with pytest.raises(DataValidationError, match="'p_no_purchase'"):
        ev.churn_metrics(toy_predictions.drop(columns="p_no_purchase"))
    with pytest.raises(DataValidationError, match="'date'"):
        ev.tracking_curve(model, toy_predictions)


def test_time_unit_mismatch(cdnow_split, model):
    daily = cdnow_split.copy()
    daily.attrs["time_unit"] = "D"
    with pytest.raises(ConfigError, match="time unit 'D' but the model was fitted in 'W'"):
        ev.holdout_predictions(model, daily)


def test_bad_options(toy_predictions, model, cdnow_transactions):
    with pytest.raises(ConfigError, match="max_frequency must be at least 1"):
        ev.conditional_expectations(toy_predictions, max_frequency=0)
    with pytest.raises(ConfigError, match="strategy must be 'uniform' or 'quantile'"):
        ev.calibration_table(toy_predictions, strategy="kmeans")
    with pytest.raises(ConfigError, match="n_bins must be at least 1"):
        ev.calibration_table(toy_predictions, n_bins=0)
    with pytest.raises(ConfigError, match="time_unit must be one of"):
        ev.tracking_curve(model, cdnow_transactions, time_unit="Y")
    unitless = copy.copy(model)
    unitless.time_unit_ = None
    with pytest.raises(ConfigError, match=r"tracking_curve needs the model's time unit"):
        ev.tracking_curve(unitless, cdnow_transactions)


def test_tracking_curve_empty_cohort(cdnow_transactions, model):
    with pytest.raises(DataValidationError, match="no customer made a first purchase on or before"):
        ev.tracking_curve(model, cdnow_transactions, calibration_end="1990-01-01")

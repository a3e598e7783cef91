"""compare_models: one table of likelihood, AIC/BIC, LR tests and holdout scores."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from churnlab import config
from churnlab.exceptions import ConfigError
from churnlab.features.rfm import calibration_holdout_split
from churnlab.models.bgnbd import BetaGeoModel
from churnlab.models.comparison import (
    best_model,
    compare_models,
    comparison_table,
    fit_models,
    likelihood_ratio_test,
)

lifetimes = pytest.importorskip("lifetimes")
CALIBRATION_END, OBSERVATION_END = "1997-09-30", "1998-06-30"


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    # The 2357-customer CDNOW sample shipped with lifetimes.
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
def split(transactions) -> pd.DataFrame:
    return calibration_holdout_split(
        transactions,
        calibration_end=CALIBRATION_END,
        observation_end=OBSERVATION_END,
        time_unit="W",
    )


@pytest.fixture(scope="module")
def table(transactions) -> pd.DataFrame:
    return compare_models(
        transactions, calibration_end=CALIBRATION_END, observation_end=OBSERVATION_END
    )


def test_default_table_against_lifetimes(table, split):
    assert list(table.index) == ["BG/NBD", "MBG/NBD", "Pareto/NBD"]
    # lifetimes 0.11.3 BetaGeoFitter on the same calibration summary is the reference.
    ref = lifetimes.BetaGeoFitter().fit(
        split["frequency_cal"], split["recency_cal"], split["T_cal"]
    )
    # lifetimes' mean negative log-likelihood (FHL 2005, section 7) at its own estimates.
    f, r, t = (split[c].to_numpy() for c in ("frequency_cal", "recency_cal", "T_cal"))
    log_params = np.log(ref.params_[["r", "alpha", "a", "b"]].to_numpy())
    ref_ll = -ref._negative_log_likelihood(log_params, f, r, t, np.ones_like(f), 0.0) * len(f)
    row = table.loc["BG/NBD"]
    assert row["log_likelihood"] == pytest.approx(ref_ll, rel=1e-6)
    assert row["aic"] == pytest.approx(8 - 2 * ref_ll, rel=1e-6)
    assert row["bic"] == pytest.approx(4 * np.log(2357) - 2 * ref_ll, rel=1e-6)
    predicted = ref.conditional_expected_number_of_purchases_up_to_time(
        split["duration_holdout"], split["frequency_cal"], split["recency_cal"], split["T_cal"]
    )
    error = predicted - split["frequency_holdout"]
    assert row["holdout_mae"] == pytest.approx(np.mean(np.abs(error)), rel=1e-5)
    assert row["holdout_rmse"] == pytest.approx(np.sqrt(np.mean(error**2)), rel=1e-5)
    assert row["actual_total"] == split["frequency_holdout"].sum()
    assert row["predicted_total"] == pytest.approx(predicted.sum(), rel=1e-5)
    assert row["holdout_error_pct"] == pytest.approx(
        100 * (predicted.sum() / split["frequency_holdout"].sum() - 1), rel=1e-4
    )
    assert 0.5 < row["roc_auc"] < 1 and 0 < row["brier"] < 0.25
    # BG/NBD, MBG/NBD and Pareto/NBD are not nested: no likelihood-ratio test among them.
    assert table.attrs["nested_pairs"] == []
    assert "lr_p_value" not in table.columns
    assert table.attrs["best"] == str(table["holdout_mae"].idxmin())


def test_split_and_transactions_give_the_same_table(table, split):
    again = compare_models(split)
    pd.testing.assert_frame_equal(again, table)


def test_covariate_model_is_tested_against_its_base(split):
    module = pytest.importorskip("churnlab.models.bgnbd_covariates")
    data = split.copy()
    rng = np.random.default_rng(0)
    data["noise"] = rng.normal(size=len(data))
    models = {
        "BG/NBD": BetaGeoModel(),
        "BG/NBD + noise": lambda cal: module.BetaGeoCovariateModel().fit(
            cal, purchase_covariates=["noise"]
        ),
    }
    table = compare_models(data, models)
    row = table.loc["BG/NBD + noise"]
    assert row["nests"] == "BG/NBD" and row["lr_df"] == 1
    assert row["lr_statistic"] == pytest.approx(
        2 * (row["log_likelihood"] - table.loc["BG/NBD", "log_likelihood"])
    )
    # A pure-noise covariate: the restriction is not rejected.
    assert row["lr_p_value"] > 0.05
    assert np.isfinite(row["holdout_mae"])


def test_likelihood_ratio_known_quantile():
    # chi2(1) 95% quantile 3.841458820694124 (any chi-square table): p = 0.05.
    restricted = SimpleNamespace(params_=pd.Series([1.0] * 4), log_likelihood_=-100.0)
    full = SimpleNamespace(
        params_=pd.Series([1.0] * 5), log_likelihood_=-100 + 3.841458820694124 / 2
    )
    result = likelihood_ratio_test(restricted, full)
    assert result["lr_df"] == 1
    assert result["lr_p_value"] == pytest.approx(0.05, rel=1e-9)
    with pytest.raises(ConfigError, match="needs more parameters"):
        likelihood_ratio_test(full, restricted)


def test_best_model_prefers_healthy_lowest_mae():
    table = pd.DataFrame(
        {"holdout_mae": [0.5, 0.6, 0.7, np.nan], "healthy": [False, True, True, False]},
        index=["a", "b", "c", "failed"],
    )
    assert best_model(table) == "b"
    assert best_model(table.assign(healthy=False)) == "a"


def test_failed_fit_is_a_row_not_an_error(split):
    class Broken(BetaGeoModel):
        def fit(self, summary, *, time_unit=None):
            raise ValueError("no luck")

    fitted, failures = fit_models(split, {"BG/NBD": BetaGeoModel(), "broken": Broken()})
    assert failures == {"broken": "no luck"}
    table = comparison_table(split, fitted, failures=failures)
    assert not table.loc["broken", "healthy"]
    assert table.loc["broken", "problems"] == "the fit failed: no luck"
    assert best_model(table) == "BG/NBD"


def test_bad_arguments_are_explained(transactions, split):
    with pytest.raises(ConfigError, match="without calibration_end"):
        compare_models(transactions)
    with pytest.raises(ConfigError, match="must be an estimator or a callable"):
        compare_models(split, {"x": 3})
    with pytest.raises(ConfigError, match="names a model that was not fitted"):
        compare_models(split, {"BG/NBD": BetaGeoModel()}, nested=[("BG/NBD", "other")])

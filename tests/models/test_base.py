"""The shared estimator machinery: validation, compression, fitting contract, repr."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from churnlab.exceptions import (
    ConfigError,
    ConvergenceWarning,
    DataValidationError,
    ModelNotFittedError,
)
from churnlab.models._base import compress_rows
from churnlab.models._validation import check_counts, check_time
from churnlab.models.bgnbd import BetaGeoModel
from churnlab.models.mbgnbd import ModifiedBetaGeoModel
from churnlab.models.pareto_nbd import ParetoNBDModel

TRANSACTION_MODELS = [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel]


def _summary(**overrides) -> pd.DataFrame:
    data = pd.DataFrame(
        {
            "frequency": [2, 1, 0, 4],
            "recency": [30.0, 1.5, 0.0, 20.0],
            "T": [39.0, 38.0, 39.0, 35.0],
        },
        index=pd.Index(["a", "b", "c", "d"], name="customer_id"),
    )
    for column, values in overrides.items():
        data[column] = values
    return data


def test_compress_rows_counts_identical_rows():
    x = np.array([0, 1, 0, 1, 2, 0.0])
    r = np.array([0, 5, 0, 5, 7, 0.0])
    t = np.array([9, 9, 9, 9, 9, 8.0])
    (ux, ur, ut), w = compress_rows(x, r, t)
    rows = {(a, b, c): n for a, b, c, n in zip(ux, ur, ut, w, strict=True)}
    assert rows == {(0, 0, 9): 2, (1, 5, 9): 2, (2, 7, 9): 1, (0, 0, 8): 1}


def test_compressed_fit_equals_uncompressed_likelihood(cdnow_summary, bg_cdnow):
    cols = tuple(cdnow_summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    ll, _ = BetaGeoModel._loglik(bg_cdnow.params_.to_numpy(), cols)
    assert bg_cdnow.log_likelihood_ == pytest.approx(ll.sum(), rel=1e-12)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"frequency": [2, -1, 0, 4]}, r"1 row\(s\), e.g. 'b' \(frequency=-1.*negative"),
        ({"recency": [40.0, 1.5, 0.0, 20.0]}, r"1 row\(s\), e.g. 'a'.*recency > T"),
        ({"frequency": [2, 1.5, 0, 4]}, "non-integer frequency"),
        ({"recency": [30.0, 1.5, 3.0, 20.0]}, r"'c'.*frequency == 0 but recency != 0"),
        ({"T": [39.0, np.nan, 39.0, 35.0]}, "NaN or infinite"),
        ({"T": ["x", "y", "z", "w"]}, "column 'T' must be numeric"),
        ({"recency": [0.0, 1.5, 0.0, 20.0]}, r"'a'.*frequency > 0 but recency == 0"),
    ],
)
def test_invalid_summaries_are_explained(overrides, match):
    with pytest.raises(DataValidationError, match=match) as info:
        BetaGeoModel().fit(_summary(**overrides))
    assert "rfm_summary" in str(info.value) or "to_numeric" in str(info.value)


def test_missing_column_and_empty_table():
    with pytest.raises(DataValidationError, match=r"needs column\(s\) 'recency'"):
        BetaGeoModel().fit(_summary().drop(columns="recency"))
    with pytest.raises(DataValidationError, match="empty table"):
        BetaGeoModel().fit(_summary().iloc[:0])
    with pytest.raises(DataValidationError, match="expects a pandas DataFrame"):
        BetaGeoModel().fit(np.zeros((3, 3)))


@pytest.mark.parametrize("model_cls", TRANSACTION_MODELS)
def test_all_zero_frequency_is_a_clear_error(model_cls):
    data = _summary(frequency=[0, 0, 0, 0], recency=[0.0, 0.0, 0.0, 0.0])
    with pytest.raises(DataValidationError, match="none of the 4 customers has a repeat purchase"):
        model_cls().fit(data)


def test_predictions_validate_their_input(bg_cdnow):
    with pytest.raises(DataValidationError, match=r"BetaGeoModel.expected_purchases.*recency > T"):
        bg_cdnow.expected_purchases(_summary(recency=[40.0, 1.5, 0.0, 20.0]), 10)
    with pytest.raises(ConfigError, match="t must be a finite number of periods >= 0"):
        bg_cdnow.expected_purchases(_summary(), -1)
    with pytest.raises(ConfigError, match="n must be a non-negative whole number"):
        bg_cdnow.probability_of_purchases(1.5, 10)
    assert check_time(3) == 3.0
    np.testing.assert_array_equal(check_counts([0, 2]), [0.0, 2.0])


@pytest.mark.filterwarnings("ignore::churnlab.exceptions.ConvergenceWarning")
def test_time_unit_from_attrs_or_argument():
    data = _summary()
    assert BetaGeoModel().fit(data, time_unit="W").time_unit_ == "W"
    assert BetaGeoModel().fit(data).time_unit_ is None
    data.attrs["time_unit"] = "D"
    assert BetaGeoModel().fit(data).time_unit_ == "D"
    with pytest.raises(ConfigError, match="time_unit='W' contradicts the summary's attrs"):
        BetaGeoModel().fit(data, time_unit="W")
    with pytest.raises(ConfigError, match="unknown time_unit 'fortnight'"):
        BetaGeoModel().fit(_summary(), time_unit="fortnight")


@pytest.mark.parametrize("model_cls", TRANSACTION_MODELS)
def test_not_fitted_error(model_cls):
    model = model_cls()
    with pytest.raises(ModelNotFittedError, match=f"This {model_cls.__name__} is not fitted yet"):
        model.probability_alive(_summary())
    with pytest.raises(NotFittedError):
        model.expected_purchases_new_customer(1.0)
    assert repr(model).endswith("not fitted")
    assert "not fitted" in model._repr_html_()


def test_estimator_contract_and_repr(bg_cdnow):
    model = BetaGeoModel(penalizer=0.1, tol=1e-8)
    assert model.get_params()["penalizer"] == 0.1
    assert not hasattr(model, "params_")
    fitted_clone = clone(bg_cdnow)
    assert not hasattr(fitted_clone, "params_")
    text = repr(bg_cdnow)
    assert "fitted on 2,357 customers" in text and "r=0.2426" in text
    page = bg_cdnow._repr_html_()
    assert "<table" in page and "std_error" in page and "time unit 'W'" in page
    # Jupyter asks for the mime bundle first: it must show the same table, not sklearn's diagram
    bundle = bg_cdnow._repr_mimebundle_()
    assert bundle["text/html"] == page and bundle["text/plain"] == text
    assert bg_cdnow.params_.index.tolist() == ["r", "alpha", "a", "b"]
    assert bg_cdnow.covariance_.index.tolist() == ["r", "alpha", "a", "b"]


def test_bad_hyperparameters():
    with pytest.raises(ConfigError, match="penalizer must be a finite number >= 0"):
        BetaGeoModel(penalizer=-1).fit(_summary())
    with pytest.raises(ConfigError, match="initial_params must map"):
        BetaGeoModel(initial_params={"q": 1.0}).fit(_summary())


@pytest.mark.filterwarnings("ignore:.*Hessian:churnlab.exceptions.ConvergenceWarning")
def test_non_convergence_warns_with_remedy_and_stays_finite(cdnow_summary):
    with pytest.warns(ConvergenceWarning, match="did not converge.*penalizer=0.001.*time_unit"):
        model = BetaGeoModel(maxiter=1).fit(cdnow_summary)
    assert np.all(np.isfinite(model.params_))
    assert np.all(np.isfinite(model.expected_purchases(cdnow_summary, 10)))


def test_initial_params_are_used(cdnow_summary, bg_cdnow):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = BetaGeoModel(initial_params={"r": 0.3, "alpha": 5.0}).fit(cdnow_summary)
    np.testing.assert_allclose(model.params_, bg_cdnow.params_, rtol=1e-5)

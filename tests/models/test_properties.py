"""Property tests (hypothesis): finite, bounded, monotone predictions at extreme inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from churnlab.exceptions import ConvergenceWarning, DataValidationError
from churnlab.models.bgnbd import BetaGeoModel
from churnlab.models.mbgnbd import ModifiedBetaGeoModel
from churnlab.models.pareto_nbd import ParetoNBDModel

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Known limitation (see the report): when c - a - b of a hypergeometric term is an exact
# integer, z > 0.9 and the parameters are large, scipy's hyp2f1 fails and the guarded
# fallbacks can still return NaN. Fitted parameters never hit exact integers, so the
# generated values are kept off them (hypothesis otherwise favours 1.0, 2.0, ...).
# For the same reason the shape parameters stay within [0.01, 20] (CDNOW-type fits are < 10).
POSITIVE = st.floats(min_value=1e-2, max_value=2e1).map(lambda v: v * (1 + 1.234567e-6))


@st.composite
def histories(draw, size=8):
    """Customer histories up to frequency 1e4 and T 1e4, including recency == T and x == 0."""
    rows = []
    for _ in range(draw(st.integers(1, size))):
        big_t = draw(st.one_of(st.just(0.0), st.floats(0.0, 1e4), st.just(1e4)))
        x = draw(st.one_of(st.just(0), st.integers(0, 10_000)))
        share = draw(st.one_of(st.just(1.0), st.just(0.0), st.floats(0.0, 1.0)))
        recency = 0.0 if x == 0 else max(big_t * share, 1e-3)
        rows.append((x, recency, max(big_t, recency)))
    return pd.DataFrame(rows, columns=["frequency", "recency", "T"])


def _model(cls, params):
    model = cls()
    model.params_ = pd.Series(params, index=list(cls._param_names))
    return model


MODELS = st.sampled_from([BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel])


@SETTINGS
@given(cls=MODELS, params=st.tuples(POSITIVE, POSITIVE, POSITIVE, POSITIVE), data=histories())
def test_predictions_are_finite_bounded_and_monotone(cls, params, data):
    model = _model(cls, params)
    alive = model.probability_alive(data).to_numpy()
    assert np.all(np.isfinite(alive)) and np.all((alive >= 0) & (alive <= 1))
    previous_e, previous_p = np.zeros(len(data)), np.ones(len(data))
    for t in (0.0, 1.0, 52.0, 1e4):
        expected = model.expected_purchases(data, t).to_numpy()
        churn = model.probability_no_purchase(data, t).to_numpy()
        assert np.all(np.isfinite(expected)) and np.all(expected >= 0)
        assert np.all(np.isfinite(churn)) and np.all((churn >= 0) & (churn <= 1))
        assert np.all(expected >= previous_e * (1 - 1e-7) - 1e-12)
        assert np.all(churn <= previous_p * (1 + 1e-7) + 1e-12)
        previous_e, previous_p = expected, churn
    new = model.expected_purchases_new_customer(np.array([0.0, 1.0, 52.0, 1e4]))
    assert np.all(np.isfinite(new)) and np.all(np.diff(new) >= -1e-12)


# Issue #14: BG/NBD, MBG/NBD and Pareto/NBD over the whole range [1e-3, 1e3] of every
# parameter, exact integers (a = 1, integer c - a - b) included, and T up to 1e4.
WIDE = st.one_of(
    st.sampled_from([1e-3, 0.5, 1.0, 2.0, 1e3]), st.floats(min_value=1e-3, max_value=1e3)
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cls=MODELS,
    params=st.tuples(WIDE, WIDE, WIDE, WIDE),
    data=histories(size=4),
)
def test_predictions_over_the_whole_parameter_range(cls, params, data):
    model = _model(cls, params)
    alive = model.probability_alive(data).to_numpy()
    assert np.all(np.isfinite(alive)) and np.all((alive >= 0) & (alive <= 1))
    previous, previous_alive = np.zeros(len(data)), alive
    for t in (0.0, 0.01, 1.0, 52.0, 1e4):
        expected = model.expected_purchases(data, t).to_numpy()
        churn = model.probability_no_purchase(data, t).to_numpy()
        later = model.probability_alive(data, t).to_numpy()  # P(alive at T + t)
        assert np.all(np.isfinite(expected)) and np.all(expected >= 0)
        assert np.all(np.isfinite(churn)) and np.all((churn >= 0) & (churn <= 1))
        assert np.all(np.isfinite(later)) and np.all((later >= 0) & (later <= 1))
        assert np.all(expected >= previous * (1 - 1e-9))  # non-decreasing in t
        assert np.all(later <= previous_alive * (1 + 1e-9))  # non-increasing in t
        assert np.all(1 - churn <= expected * (1 + 1e-9) + 1e-15)  # P(X >= 1) <= E[X]
        assert np.all(churn >= 1 - alive - 1e-9)  # dead at T means no purchase
        previous, previous_alive = expected, later
    new = model.expected_purchases_new_customer(np.array([0.0, 0.01, 1.0, 52.0, 1e4]))
    assert np.all(np.isfinite(new)) and np.all(np.diff(new) >= -1e-9 * new[1:])


@SETTINGS
@given(cls=MODELS, params=st.tuples(POSITIVE, POSITIVE, POSITIVE, POSITIVE), t=st.floats(0, 1e3))
def test_count_probabilities_are_probabilities(cls, params, t):
    model = _model(cls, params)
    n = np.arange(4) if cls is ParetoNBDModel else np.arange(25)
    probs = np.asarray(model.probability_of_purchases(n, t))
    assert np.all(np.isfinite(probs)) and np.all((probs >= 0) & (probs <= 1))
    assert probs.sum() <= 1 + 1e-7


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cls=st.sampled_from([BetaGeoModel, ModifiedBetaGeoModel]), data=histories(size=30))
def test_fits_never_crash_or_return_nan(cls, data):
    # Either a clear error (no repeat buyer), or finite parameters; predictions are finite
    # unless the fit warned that the data do not identify the model.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            model = cls(maxiter=200).fit(data)
        except DataValidationError as exc:
            assert "repeat purchase" in str(exc)
            assert (data["frequency"] == 0).all()
            return
    assert np.all(np.isfinite(model.params_)) and np.all(model.params_ > 0)
    assert np.isfinite(model.log_likelihood_)
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    with np.errstate(all="ignore"):
        finite = np.all(np.isfinite(model.expected_purchases(data, 10.0)))
    assert finite or warned


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel])
def test_recency_equal_to_t_everywhere_fits(cls):
    rng = np.random.default_rng(0)
    big_t = rng.integers(1, 60, size=500).astype(float)
    x = rng.integers(1, 20, size=500)
    data = pd.DataFrame({"frequency": x, "recency": big_t, "T": big_t})
    # Without dropout evidence the Pareto/NBD optimum drifts to s -> 0, beta -> inf; cap the
    # iterations (the fit then warns) to keep the test short.
    model = cls(maxiter=50) if cls is ParetoNBDModel else cls()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(data)
    assert np.all(np.isfinite(model.params_))
    np.testing.assert_allclose(model.probability_alive(data), 1.0)

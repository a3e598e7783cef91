"""BG/BB model: the published donations fit, lifetimes' predictions, mpmath references."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.models.bgbb import BetaGeoBetaBinomModel

lifetimes = pytest.importorskip("lifetimes")
DONATIONS = Path(lifetimes.__file__).parent / "datasets" / "donations.csv"

#: FHS (2010), section 4: the three patterns whose P(alive in 2002) the paper states.
PATTERNS = pd.DataFrame({"frequency": [0, 2, 6], "recency": [0, 4, 6], "T": [6, 6, 6]})


@pytest.fixture(scope="module")
def donations() -> pd.DataFrame:
    """lifetimes' donations.csv: 11,104 first-time donors of 1995, six yearly opportunities."""
    return pd.read_csv(DONATIONS).rename(columns={"periods": "T"})


@pytest.fixture(scope="module")
def fitted(donations) -> BetaGeoBetaBinomModel:
    return BetaGeoBetaBinomModel().fit(donations, weights="weights")


@pytest.fixture(scope="module")
def reference(donations):
    """lifetimes' BetaGeoBetaBinomFitter on the same data."""
    from lifetimes import BetaGeoBetaBinomFitter

    return BetaGeoBetaBinomFitter().fit(
        donations["frequency"], donations["recency"], donations["T"], weights=donations["weights"]
    )


def _set_params(model: BetaGeoBetaBinomModel, **params: float) -> BetaGeoBetaBinomModel:
    """A fitted model moved to chosen parameters (for references away from the optimum)."""
    model.params_ = pd.Series(params, name="estimate")[list(model._param_names)]
    return model


def _mp_loglik(p: dict[str, Any], x: int, tx: int, n: int) -> mpmath.mpf:
    """FHS (2010) eq. 7, term by term in 50-digit arithmetic."""
    a, b, g, d = (mpmath.mpf(p[k]) for k in ("alpha", "beta", "gamma", "delta"))
    beta = mpmath.beta
    total = beta(a + x, b + n - x) / beta(a, b) * beta(g, d + n) / beta(g, d)
    for i in range(n - tx):
        total += beta(a + x, b + tx - x + i) / beta(a, b) * beta(g + 1, d + tx + i) / beta(g, d)
    return total


def _mp_expected(p: dict[str, Any], x: int, tx: int, n: int, t: int) -> float:
    """FHS (2010) eq. 13, the closed form, in 50-digit arithmetic."""
    with mpmath.workdps(50):
        a, b, g, d = (mpmath.mpf(p[k]) for k in ("alpha", "beta", "gamma", "delta"))
        gm = mpmath.gamma
        bracket = gm(1 + d + n) / gm(g + d + n) - gm(1 + d + n + t) / gm(g + d + n + t)
        value = (
            mpmath.beta(a + x + 1, b + n - x) / mpmath.beta(a, b)
            * d / (g - 1) * gm(g + d) / gm(1 + d) * bracket
            / _mp_loglik(p, x, tx, n)
        )  # fmt: skip
        return float(value)


def _mp_dert(p: dict[str, float], x: int, tx: int, n: int, disc: float) -> float:
    """FHS (2010) eq. 14 with mpmath's 2F1, in 50-digit arithmetic."""
    with mpmath.workdps(50):
        a, b, g, d = (mpmath.mpf(p[k]) for k in ("alpha", "beta", "gamma", "delta"))
        value = (
            mpmath.beta(a + x + 1, b + n - x) / mpmath.beta(a, b)
            * mpmath.beta(g, d + n + 1) / (mpmath.beta(g, d) * (1 + mpmath.mpf(disc)))
            * mpmath.hyp2f1(1, d + n + 1, g + d + n + 1, 1 / (1 + mpmath.mpf(disc)))
            / _mp_loglik(p, x, tx, n)
        )  # fmt: skip
        return float(value)


def test_donations_estimates_match_the_paper(fitted):
    # FHS (2010), Table 2 / section 4: alpha 1.204, beta 0.750, gamma 0.657, delta 2.783,
    # LL -33,225.58.
    expected = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
    for name, value in expected.items():
        assert fitted.params_[name] == pytest.approx(value, abs=6e-4)
    assert fitted.log_likelihood_ == pytest.approx(-33225.58, abs=0.01)
    assert fitted.n_customers_ == 11104
    assert fitted.health_.ok


def test_probability_alive_in_2002_matches_the_paper(fitted):
    # FHS (2010), section 4: P(alive in 2002) = 0.11, 0.59, 0.93 for these patterns.
    p = fitted.probability_alive(PATTERNS, 1)
    assert p.round(2).tolist() == [0.11, 0.59, 0.93]
    # Alive at n + 1 requires being alive at n.
    assert np.all(fitted.probability_alive(PATTERNS, 0) >= p)


def test_matches_lifetimes(fitted, reference, donations):
    # lifetimes 0.11.3 BetaGeoBetaBinomFitter at its own optimum.
    ref = reference.params_
    for name in ("alpha", "beta", "gamma", "delta"):
        assert fitted.params_[name] == pytest.approx(ref[name], rel=1e-4)
    f, r, n = donations["frequency"], donations["recency"], donations["T"]
    for m in (0, 1, 3):
        np.testing.assert_allclose(
            fitted.probability_alive(donations, m),
            reference.conditional_probability_alive(m, f, r, n),
            rtol=1e-4,
        )
    for m in (1, 2, 5, 10):
        np.testing.assert_allclose(
            fitted.expected_purchases(donations, m),
            reference.conditional_expected_number_of_purchases_up_to_time(m, f, r, n),
            rtol=1e-4,
        )
    counts = reference.expected_number_of_transactions_in_first_n_periods(6)["model"]
    share = np.asarray(fitted.probability_of_purchases(np.arange(7), 6))
    np.testing.assert_allclose(share * donations["weights"].sum(), counts.to_numpy(), rtol=1e-4)


def test_predictions_match_mpmath_closed_forms(fitted, donations):
    params = fitted.params_.to_dict()
    rows = donations[["frequency", "recency", "T"]].astype(int)
    expected = [_mp_expected(params, *row, 4) for row in rows.itertuples(index=False)]
    np.testing.assert_allclose(fitted.expected_purchases(rows, 4), expected, rtol=1e-10)
    dert = [_mp_dert(params, *row, 0.1) for row in rows.itertuples(index=False)]
    np.testing.assert_allclose(fitted.dert(rows, 0.1), dert, rtol=1e-8)
    ll = sum(
        w * float(mpmath.log(_mp_loglik(params, *row)))
        for w, row in zip(donations["weights"], rows.itertuples(index=False), strict=True)
    )
    assert fitted.log_likelihood(rows.loc[rows.index.repeat(donations["weights"])]) == (
        pytest.approx(ll, rel=1e-12)
    )


def test_expected_purchases_at_gamma_one(donations):
    # eq. 13 divides 0 by 0 at gamma = 1; the mpmath value at gamma = 1 + 1e-30 is its limit.
    model = BetaGeoBetaBinomModel().fit(donations, weights="weights")
    _set_params(model, alpha=1.2, beta=0.75, gamma=1.0, delta=2.8)
    params = {"alpha": 1.2, "beta": 0.75, "gamma": "1." + "0" * 29 + "1", "delta": 2.8}
    value = model.expected_purchases(PATTERNS, 10).to_numpy()
    expected = [_mp_expected(params, *row, 10) for row in PATTERNS.itertuples(index=False)]
    np.testing.assert_allclose(value, expected, rtol=1e-10)
    assert np.all(np.isfinite(model.dert(PATTERNS, 0.01)))


def test_no_purchase_next_opportunity_is_one_minus_expected(fitted, donations):
    # At most one transaction per opportunity: P(none at n + 1) = 1 - E[X(n, n + 1)].
    p_none = fitted.probability_no_purchase(donations, 1)
    np.testing.assert_allclose(p_none, 1 - fitted.expected_purchases(donations, 1), rtol=1e-12)
    longer = fitted.probability_no_purchase(donations, 5)
    assert np.all((longer <= p_none) & (longer > 0))


def test_weights_equal_repeated_rows(fitted, donations):
    expanded = donations.loc[donations.index.repeat(donations["weights"])].reset_index(drop=True)
    model = BetaGeoBetaBinomModel().fit(expanded)
    np.testing.assert_allclose(model.params_, fitted.params_, rtol=1e-6)
    assert model.log_likelihood_ == pytest.approx(fitted.log_likelihood_, rel=1e-12)


def test_recovers_simulated_parameters():
    rng = np.random.default_rng(7)
    true = {"alpha": 1.5, "beta": 2.0, "gamma": 0.6, "delta": 3.0}
    size, n = 40_000, 10
    p = rng.beta(true["alpha"], true["beta"], size)
    theta = rng.beta(true["gamma"], true["delta"], size)
    # Death before opportunity j with probability theta; alive customers buy with p.
    alive = np.cumprod(rng.random((size, n)) >= theta[:, None], axis=1).astype(bool)
    buys = alive & (rng.random((size, n)) < p[:, None])
    x = buys.sum(axis=1)
    last = np.where(x > 0, n - np.argmax(buys[:, ::-1], axis=1), 0)
    data = pd.DataFrame({"frequency": x, "recency": last, "T": n})
    model = BetaGeoBetaBinomModel().fit(data)
    se = model.summary_["std_error"]
    for name, value in true.items():
        assert abs(model.params_[name] - value) < 4 * se[name], name


def test_bad_input_is_explained(donations):
    model = BetaGeoBetaBinomModel()
    bad = pd.DataFrame({"frequency": [3], "recency": [2], "T": [6]})
    with pytest.raises(DataValidationError, match="more transactions than"):
        model.fit(pd.concat([donations, bad]))
    half = pd.DataFrame({"frequency": [1], "recency": [1.5], "T": [6]})
    with pytest.raises(DataValidationError, match=r"whole\s+transaction opportunities"):
        model.fit(pd.concat([donations, half]))
    with pytest.raises(DataValidationError, match="not a column"):
        model.fit(donations, weights="count")
    with pytest.raises(DataValidationError, match="one finite number >= 0 per row"):
        model.fit(donations, weights=np.ones(3))
    fitted = model.fit(donations, weights="weights")
    with pytest.raises(ConfigError, match="whole number of transaction opportunities"):
        fitted.expected_purchases(PATTERNS, 1.5)
    with pytest.raises(ConfigError, match="discount_rate must be > 0"):
        fitted.dert(PATTERNS, 0.0)
    with pytest.raises(ConfigError, match="between 0 and t=6"):
        fitted.probability_of_purchases(7, 6)


POSITIVE = st.floats(1e-3, 1e3)


@st.composite
def _histories(draw):
    n = draw(st.integers(0, 200))
    tx = draw(st.integers(0, n))
    x = 0 if tx == 0 else draw(st.integers(1, tx))
    return x, tx, n


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    params=st.tuples(POSITIVE, POSITIVE, POSITIVE, POSITIVE),
    rows=st.lists(_histories(), min_size=1, max_size=8),
)
def test_predictions_are_finite_and_ordered_everywhere(params, rows):
    model = _set_params(
        BetaGeoBetaBinomModel(),
        **dict(zip(BetaGeoBetaBinomModel._param_names, params, strict=True)),
    )
    data = pd.DataFrame(rows, columns=["frequency", "recency", "T"]).astype(float)
    alive = np.array([model.probability_alive(data, t) for t in (0, 1, 10)])
    expected = np.array([model.expected_purchases(data, t) for t in (1, 10, 100)])
    none = model.probability_no_purchase(data, 10).to_numpy()
    dert = model.dert(data, 0.05).to_numpy()
    for values in (alive, expected, none, dert):
        assert np.all(np.isfinite(values))
    assert np.all((alive >= 0) & (alive <= 1)) and np.all(np.diff(alive, axis=0) <= 1e-12)
    assert np.all(np.diff(expected, axis=0) >= -1e-12) and np.all(expected[0] <= 1 + 1e-12)
    assert np.all((none >= 0) & (none <= 1))
    new = [model.expected_purchases_new_customer(t) for t in (1, 10, 100)]
    assert np.all(np.diff(new) >= 0) and new[0] <= 1

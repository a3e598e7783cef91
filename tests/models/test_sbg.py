"""sBG retention model against Fader & Hardie (2007, 2010)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnlab.exceptions import ConfigError, DataValidationError, ModelNotFittedError
from churnlab.models.sbg import ShiftedBetaGeoModel

# Fader & Hardie (2007), "How to Project Customer Retention", Table 1: percent of each
# cohort still active at the start of years 0-12.
REGULAR = [100, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1, 22.3, 20.7, 19.4, 18.3, 17.3]
HIGH_END = [100, 86.9, 74.3, 65.3, 59.3, 55.1, 51.7, 49.1, 46.8, 44.5, 42.7, 40.9, 39.4]


@pytest.fixture(scope="module")
def high_end():
    return ShiftedBetaGeoModel().fit(HIGH_END[:8], cohort_size=1000)


def test_published_parameters_regular():
    # FH (2007), section 4: regular segment, years 1-7 -> alpha=0.704, beta=1.182.
    model = ShiftedBetaGeoModel().fit(REGULAR[:8], cohort_size=1000)
    assert model.alpha_ == pytest.approx(0.704, abs=5e-4)
    assert model.beta_ == pytest.approx(1.182, abs=5e-4)


def test_published_parameters_and_projection_high_end(high_end):
    # FH (2007), section 4 and Figure 4: high-end alpha=0.668, beta=3.806; projected survival
    # for years 8-12 of about 46.0, 43.6, 41.4, 39.5, 37.8 percent.
    assert high_end.alpha_ == pytest.approx(0.668, abs=5e-4)
    assert high_end.beta_ == pytest.approx(3.806, abs=5e-4)
    projected = 100 * np.asarray(high_end.survival(np.arange(8, 13)))
    np.testing.assert_allclose(projected, [46.0, 43.6, 41.4, 39.5, 37.8], atol=0.06)
    curve = high_end.projected_curve(12)
    assert list(curve.columns) == ["survival", "active", "retention_rate"]
    assert curve.loc[12, "active"] == pytest.approx(1000 * curve.loc[12, "survival"])
    assert np.isnan(curve.loc[0, "retention_rate"])
    assert np.all(np.diff(curve["retention_rate"].to_numpy()[1:]) > 0)  # rises with tenure


def test_estimates_do_not_depend_on_scale(high_end):
    percent = ShiftedBetaGeoModel().fit(HIGH_END[:8])
    assert percent.alpha_ == pytest.approx(high_end.alpha_, rel=1e-6)
    assert percent.summary_.loc["alpha", "std_error"] > high_end.summary_.loc["alpha", "std_error"]


def test_retention_rate_is_survival_ratio(high_end):
    t = np.arange(1, 20)
    ratio = np.asarray(high_end.survival(t)) / np.asarray(high_end.survival(t - 1))
    np.testing.assert_allclose(high_end.retention_rate(t), ratio, rtol=1e-12)


@pytest.mark.parametrize("renewals", [0, 3, 10])
def test_dert_is_the_discounted_sum(high_end, renewals):
    # FH (2010) eq. 6 is the closed form of sum_{t>=n} S(t)/S(n-1) / (1+d)^(t-n), n = renewals + 1.
    n, d = renewals + 1, 0.1
    t = np.arange(n, 4000)
    direct = np.sum(
        np.asarray(high_end.survival(t)) / high_end.survival(n - 1) / (1 + d) ** (t - n)
    )
    assert high_end.dert(d, renewals=renewals) == pytest.approx(direct, rel=1e-9)
    assert high_end.dert(d, renewals=renewals + 1) > high_end.dert(d, renewals=renewals)


def test_expected_discounted_lifetime(high_end):
    # FH (2010) eq. 4: sum_{t>=0} S(t) / (1+d)^t.
    t = np.arange(0, 4000)
    direct = np.sum(np.asarray(high_end.survival(t)) / 1.1**t)
    assert high_end.expected_discounted_lifetime(0.1) == pytest.approx(direct, rel=1e-9)


def test_gradient_matches_finite_differences():
    model = ShiftedBetaGeoModel()
    cols = (np.array([1.0, 2.0, 3.0, 3.0]), np.array([1.0, 1.0, 1.0, 0.0]))
    p = np.array([0.7, 1.2])
    _, grad = model._loglik(p, cols)
    for j in range(2):
        h = 1e-6 * p[j]
        up, down = p.copy(), p.copy()
        up[j] += h
        down[j] -= h
        num = (model._loglik(up, cols)[0] - model._loglik(down, cols)[0]) / (2 * h)
        np.testing.assert_allclose(grad[:, j], num, rtol=1e-6)


def test_bad_curves_are_rejected():
    with pytest.raises(DataValidationError, match="at least one later period"):
        ShiftedBetaGeoModel().fit([100])
    with pytest.raises(DataValidationError, match="increases at 1 period"):
        ShiftedBetaGeoModel().fit([100, 80, 90])
    with pytest.raises(DataValidationError, match="finite and >= 0"):
        ShiftedBetaGeoModel().fit([100, np.nan, 50])
    with pytest.raises(DataValidationError, match="no customer churned"):
        ShiftedBetaGeoModel().fit([100, 100, 100])
    with pytest.raises(ConfigError, match="cohort_size must be a positive"):
        ShiftedBetaGeoModel().fit([100, 50], cohort_size=-1)
    with pytest.raises(ConfigError, match="unknown time_unit 'Y'"):
        ShiftedBetaGeoModel().fit([100, 50], time_unit="Y")


def test_bad_arguments(high_end):
    with pytest.raises(ConfigError, match="discount_rate must be > 0"):
        high_end.dert(0.0)
    with pytest.raises(ConfigError, match="renewals must be a whole number"):
        high_end.dert(0.1, renewals=-1)
    with pytest.raises(ConfigError, match="retention_rate is defined from period t=1"):
        high_end.retention_rate(0)
    with pytest.raises(ConfigError, match="periods must be a whole number"):
        high_end.projected_curve(2.5)
    with pytest.raises(ModelNotFittedError, match="not fitted yet"):
        ShiftedBetaGeoModel().survival(3)
    assert "cohort of 1,000 over 7 periods" in repr(high_end)


def test_dert_many_renewals_small_discount_is_finite():
    # Issue #14: dert(0.001, renewals=169) was inf for the regular segment. Reference: FH (2010)
    # eq. 6 with mpmath (50 digits) at the fitted parameters.
    mp = pytest.importorskip("mpmath")
    model = ShiftedBetaGeoModel().fit(REGULAR[:8], cohort_size=1000)
    alpha, beta = mp.mpf(model.alpha_), mp.mpf(model.beta_)
    with mp.workdps(50):
        n, z = 170, 1 / (1 + mp.mpf("0.001"))
        ref = (beta + n - 1) / (alpha + beta + n - 1) * mp.hyp2f1(1, beta + n, alpha + beta + n, z)
    assert float(ref) == pytest.approx(377.43, abs=0.05)
    assert model.dert(0.001, renewals=169) == pytest.approx(float(ref), rel=1e-10)


def test_expected_discounted_lifetime_large_beta_is_finite():
    # Issue #14: alpha=0.5, beta=1000, d=0.001 gave NaN; FH (2010) eq. 4 (mpmath) is 758.65.
    mp = pytest.importorskip("mpmath")
    model = ShiftedBetaGeoModel()
    model.params_ = pd.Series({"alpha": 0.5, "beta": 1000.0})
    with mp.workdps(50):
        ref = mp.hyp2f1(1, 1000, mp.mpf("1000.5"), 1 / (1 + mp.mpf("0.001")))
    assert float(ref) == pytest.approx(758.65, abs=0.005)
    assert model.expected_discounted_lifetime(0.001) == pytest.approx(float(ref), rel=1e-10)
    # Bounded by the undiscounted-by-churn sum 1 / (1 - 1 / (1 + d)) = (1 + d) / d.
    assert model.expected_discounted_lifetime(1e-9) <= (1 + 1e-9) / 1e-9

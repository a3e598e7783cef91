"""Known-value tests of the statistical helpers against scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.reasons import (
    adjust_pvalues,
    adjusted_residuals,
    association_test,
    cramers_v,
    wilson_interval,
)

TABLE = np.array([[120, 90, 40], [30, 45, 60], [25, 20, 35]])


@pytest.mark.parametrize(
    ("k", "n", "conf"), [(841, 1869, 0.95), (0, 20, 0.95), (7, 7, 0.9), (3, 40, 0.99)]
)
def test_wilson_matches_scipy_binomtest(k, n, conf):
    # Reference: scipy.stats.binomtest(k, n).proportion_ci(method="wilson").
    ref = stats.binomtest(k, n).proportion_ci(confidence_level=conf, method="wilson")
    lower, upper = wilson_interval(k, n, confidence=conf)
    assert lower == pytest.approx(ref.low, abs=1e-12)
    assert upper == pytest.approx(ref.high, abs=1e-12)


def test_wilson_vectorised_and_empty_total():
    lower, upper = wilson_interval(np.array([1, 0]), np.array([4, 0]))
    assert np.isnan(lower[1]) and np.isnan(upper[1])
    assert 0 < lower[0] < 0.25 < upper[0] < 1


def test_wilson_errors():
    with pytest.raises(ConfigError, match="confidence must be between 0 and 1"):
        wilson_interval(1, 10, confidence=95)
    with pytest.raises(DataValidationError, match="0 <= successes <= total"):
        wilson_interval(11, 10)


def test_cramers_v_matches_scipy_association():
    # Reference: scipy.stats.contingency.association(table, method="cramer").
    assert cramers_v(TABLE) == pytest.approx(
        stats.contingency.association(TABLE, method="cramer"), rel=1e-12
    )
    assert np.isnan(cramers_v(np.array([[3, 4]])))


def test_association_test_chi_square_matches_scipy():
    # Reference: scipy.stats.chi2_contingency(table, correction=False).
    chi2, p, dof, _ = stats.chi2_contingency(TABLE, correction=False)
    res = association_test(pd.DataFrame(TABLE))
    assert res.test == "chi-square"
    assert res.statistic == pytest.approx(chi2, rel=1e-12)
    assert res.p_value == pytest.approx(p, rel=1e-12)
    assert (res.dof, res.n, res.low_expected) == (dof, TABLE.sum(), False)


def test_association_test_uses_fisher_for_small_2x2():
    # Reference: scipy.stats.fisher_exact (Fisher's tea-tasting table).
    table = np.array([[3, 1], [1, 3]])
    ref = stats.fisher_exact(table)
    res = association_test(table)
    assert res.test == "fisher"
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert res.statistic == pytest.approx(ref.statistic)


def test_association_test_flags_low_expected_and_drops_empty_rows():
    table = np.array([[1, 0, 2], [3, 1, 0], [0, 0, 0]])
    res = association_test(table)
    assert res.test == "chi-square" and res.low_expected
    ref = stats.chi2_contingency(table[:2], correction=False)
    assert res.p_value == pytest.approx(ref[1])
    assert association_test(np.array([[5, 6]])).test == "none"


def test_association_test_errors():
    with pytest.raises(DataValidationError, match="must be 2-D"):
        association_test(np.array([1, 2, 3]))
    with pytest.raises(DataValidationError, match="non-negative counts"):
        association_test(np.array([[1, -2], [3, 4]]))


def test_bh_matches_scipy_false_discovery_control():
    # Reference: scipy.stats.false_discovery_control(p, method="bh").
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5, 0.2])
    np.testing.assert_allclose(adjust_pvalues(p), stats.false_discovery_control(p), rtol=1e-12)


def test_holm_known_values_and_nan():
    # Holm (1979) by hand: sorted 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1 -> 0.06
    # (step-down keeps the running maximum); same as statsmodels multipletests("holm").
    p = [0.01, 0.04, 0.03, 0.005, np.nan]
    out = adjust_pvalues(p, method="holm")
    np.testing.assert_allclose(out[:4], [0.03, 0.06, 0.06, 0.02])
    assert np.isnan(out[4])
    np.testing.assert_allclose(adjust_pvalues([0.6, 0.7], method="holm"), [1.0, 1.0])
    np.testing.assert_allclose(adjust_pvalues([0.2, 0.1], method="none"), [0.2, 0.1])


def test_adjust_pvalues_unknown_method():
    with pytest.raises(ConfigError, match="correction method 'bonf' is unknown"):
        adjust_pvalues([0.1], method="bonf")


def test_adjusted_residuals_match_formula():
    # Haberman (1973): (O - E) / sqrt(E (1 - row/n) (1 - col/n)), E from scipy's expected_freq.
    table = pd.DataFrame(TABLE, index=list("abc"), columns=list("xyz"))
    expected = stats.contingency.expected_freq(TABLE)
    n = TABLE.sum()
    rows = TABLE.sum(axis=1, keepdims=True) / n
    cols = TABLE.sum(axis=0, keepdims=True) / n
    ref = (TABLE - expected) / np.sqrt(expected * (1 - rows) * (1 - cols))
    out = adjusted_residuals(table)
    np.testing.assert_allclose(out.to_numpy(), ref)
    assert list(out.index) == list("abc")


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 10**7), frac=st.floats(0, 1), conf=st.floats(0.5, 0.999))
def test_wilson_bounds_property(n, frac, conf):
    k = round(frac * n)
    lower, upper = wilson_interval(k, n, confidence=conf)
    assert 0.0 <= lower <= k / n + 1e-12
    assert k / n - 1e-12 <= upper <= 1.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(1e-300, 1.0), min_size=1, max_size=30))
def test_adjusted_pvalues_property(p):
    for method in ("fdr_bh", "holm"):
        adjusted = adjust_pvalues(p, method=method)
        assert np.all(adjusted >= np.asarray(p) - 1e-15)
        assert np.all(adjusted <= 1.0)
        order = np.argsort(p, kind="stable")
        assert np.all(np.diff(adjusted[order]) >= -1e-12)  # order is preserved

"""Numerical precision against arbitrary-precision references (mpmath, 50 digits).

Each reference value is computed here from the paper's formula with ``mpmath`` at 50 significant
digits, so the tests check churnlab's floating-point evaluation, not a transcription.
"""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pandas as pd
import pytest

from churnlab.models.bgnbd import BetaGeoModel
from churnlab.models.mbgnbd import ModifiedBetaGeoModel

mp.mp.dps = 50

ROWS = [(0, 0.0, 38.86), (2, 30.43, 38.86), (1, 0.5, 7.0), (25, 90.0, 100.0), (400, 9000.0, 1e4)]
PARAMS = [
    (0.243, 4.414, 0.793, 2.426),  # FHL (2005) CDNOW estimates
    (1e4, 1e4, 1e4, 1e4),
    (1e-3, 1e4, 1e4, 1e-3),
    (1e4, 1e-3, 1e-3, 1e4),
    (5.5e11, 1.07e13, 4.4e-7, 1.15e8),  # where a fit on identical rows ends up
]


def mp_bg_loglik(params, x, tx, big_t, shift=0):
    """BG/NBD (FHL 2005, eq. 6) or MBG/NBD (Batislam et al. 2007, eq. 4) log-likelihood."""
    r, alpha, a, b = (mp.mpf(v) for v in params)
    tx, big_t = mp.mpf(tx), mp.mpf(big_t)
    head = mp.gamma(r + x) * alpha**r / mp.gamma(r)
    first = mp.beta(a, b + x + shift) / mp.beta(a, b) * head / (alpha + big_t) ** (r + x)
    second = 0
    if x > 0 or shift:
        second = mp.beta(a + 1, b + x + shift - 1) / mp.beta(a, b) * head / (alpha + tx) ** (r + x)
    return mp.log(first + second)


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel])
@pytest.mark.parametrize("params", PARAMS)
def test_beta_geo_loglik_matches_mpmath(cls, params):
    cols = tuple(np.array([row[i] for row in ROWS], dtype=float) for i in range(3))
    ll, _ = cls._loglik(np.array(params), cols)
    ref = np.array([float(mp_bg_loglik(params, *row, shift=cls._shift)) for row in ROWS])
    np.testing.assert_allclose(ll, ref, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel])
def test_fit_on_identical_rows_reports_the_exact_log_likelihood(cls):
    # Issue #14: on 1,000,000 identical rows (x=2, t_x=30.43, T=38.86) the fit drifts to
    # parameters of ~1e12, where the old formula reported -7,931,640.6 for BG/NBD although
    # the exact value at the returned parameters was -7,933,636.5.
    n = 1_000_000
    data = pd.DataFrame({"frequency": [2] * n, "recency": [30.43] * n, "T": [38.86] * n})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cls().fit(data)
    exact = n * float(mp_bg_loglik(model.params_.to_numpy(), 2, 30.43, 38.86, shift=cls._shift))
    assert model.log_likelihood_ == pytest.approx(exact, rel=1e-11)


def mp_bg_expected(params, x, tx, big_t, t, shift=0):
    """FHL (2005) eq. 10 (Batislam et al. 2007 for MBG/NBD) at 80 digits.

    The hypergeometric term is written with Pfaff's transformation (DLMF 15.8.1), whose
    argument ``-t / (alpha + T)`` mpmath sums faster than ``z`` near 1. At ``a = 1`` the
    formula is 0/0 (a removable singularity): it is evaluated at ``a = 1 + 1e-30``, which
    changes the value by about 1e-30 relative.
    """
    with mp.workdps(80 if params[2] == 1 else 40):
        r, alpha, a, b = (mp.mpf(v) for v in params)
        if a == 1:
            a = a + mp.mpf("1e-30")
        tx, big_t, t = mp.mpf(tx), mp.mpf(big_t), mp.mpf(t)
        c = a + b + x + shift - 1
        # Pfaff: (1 - z)^A 2F1(A, b + x; c; z) = 2F1(A, a - 1; c; z / (z - 1)), z / (z - 1) = -tau
        bracket = 1 - mp.hyp2f1(r + x, a - 1, c, -t / (alpha + big_t))
        if x > 0 or shift:
            odds = a / (b + x + shift - 1) * ((alpha + big_t) / (alpha + tx)) ** (r + x)
        else:
            odds = 0
        return c / (a - 1) * bracket / (1 + odds)


def _model(cls, params):
    model = cls()
    model.params_ = pd.Series(params, index=list(cls._param_names), dtype=float)
    return model


def _one(x, tx, big_t):
    return pd.DataFrame({"frequency": [x], "recency": [tx], "T": [big_t]})


@pytest.mark.parametrize(
    ("params", "row", "t", "expected"),
    [
        # Issue #14 section 1, each value checked here against mp_bg_expected (80 digits).
        ((0.243, 4.414, 1.0, 2.426), (0, 0.0, 38.86), 0.01, 5.6151e-5),  # a = 1 exactly
        ((1e-3, 1e-3, 1.0, 1e3), (0, 0.0, 10.0), 1.0, 9.9985e-5),
        ((1e-3, 1e-3, 1e-3, 1e3), (0, 0.0, 0.01), 100.0, 9.079),  # integer c - a - b
    ],
)
def test_expected_purchases_issue_cases(params, row, t, expected):
    ref = float(mp_bg_expected(params, *row, t))
    assert ref == pytest.approx(expected, rel=1e-4)
    value = _model(BetaGeoModel, params).expected_purchases(_one(*row), t).iloc[0]
    assert value == pytest.approx(ref, rel=1e-9)


def test_new_customer_expectation_at_large_parameters():
    # Issue #14: r=1e3, alpha=1e-3, a=b=1e3 gave 0 at t=1; FHL (2005) eq. 9 (mpmath) is 2.001.
    params = (1e3, 1e-3, 1e3, 1e3)
    ref = float(mp_bg_expected(params, 0, 0.0, 0.0, 1.0))
    assert ref == pytest.approx(2.001, rel=1e-4)
    assert _model(BetaGeoModel, params).expected_purchases_new_customer(1.0) == pytest.approx(
        ref, rel=1e-9
    )


EXPECTATION_PARAMS = [
    (0.243, 4.414, 0.793, 2.426),
    (0.243, 4.414, 1.0, 2.426),
    (0.243, 4.414, 1.0 + 3e-9, 2.426),
    (0.5, 6.0, 0.999, 1.6),
    (1e3, 1e3, 1e3, 1e3),
    (1e-3, 1e3, 1e-3, 1e3),
    (1e-3, 1e-3, 1e3, 1e-3),
    (2.0, 0.5, 3.0, 0.3),
]
EXPECTATION_ROWS = [(0, 0.0, 0.0), (0, 0.0, 38.86), (2, 30.43, 38.86), (40, 500.0, 1e4)]


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel])
@pytest.mark.parametrize("params", EXPECTATION_PARAMS)
def test_expected_purchases_match_mpmath(cls, params):
    model = _model(cls, params)
    for row in EXPECTATION_ROWS:
        data = _one(*row)
        for t in (0.01, 1.0, 39.0, 1e4):
            ref = float(mp_bg_expected(params, *row, t, shift=cls._shift))
            value = model.expected_purchases(data, t).iloc[0]
            assert value == pytest.approx(ref, rel=1e-8, abs=1e-300), (row, t)


def _mp_points(lo, hi):
    """Subdivision for mp.quad: one interval of a peaked integrand can mislead its estimate."""
    offsets = [lo + mp.mpf(10) ** k for k in range(-8, 6) if lo + mp.mpf(10) ** k < hi]
    return sorted(set(mp.linspace(lo, hi, 20)) | set(offsets))


def mp_pareto_alive(params, x, tx, big_t):
    """Pareto/NBD P(alive) (Fader & Hardie 2005, eqs. 36-37) with the integral by mpmath."""
    r, alpha, s, beta = (mp.mpf(v) for v in params)
    tx, big_t = mp.mpf(tx), mp.mpf(big_t)
    if big_t == tx:
        return mp.mpf(1)
    points = _mp_points(tx, big_t)
    integral = mp.quad(lambda y: (alpha + y) ** (-(r + x)) * (beta + y) ** (-(s + 1)), points)
    return 1 / (1 + s * (alpha + big_t) ** (r + x) * (beta + big_t) ** s * integral)


def mp_pareto_loglik(params, x, tx, big_t):
    """Pareto/NBD log-likelihood (Fader & Hardie 2005, eq. 18) by mpmath quadrature."""
    r, alpha, s, beta = (mp.mpf(v) for v in params)
    tx, big_t = mp.mpf(tx), mp.mpf(big_t)
    head = mp.gamma(r + x) * alpha**r * beta**s / mp.gamma(r)
    alive = (alpha + big_t) ** (-(r + x)) * (beta + big_t) ** (-s)
    points = _mp_points(tx, big_t)
    integral = mp.quad(lambda y: (alpha + y) ** (-(r + x)) * (beta + y) ** (-(s + 1)), points)
    return mp.log(head * (alive + s * integral))


def test_pareto_probability_alive_issue_case():
    # Issue #14: r=alpha=1e-3, s=beta=1e3, x=0 gave NaN for T <= 1; the true value at T=1
    # is 0.3678 (mp_pareto_alive).
    from churnlab.models.pareto_nbd import ParetoNBDModel

    params = (1e-3, 1e-3, 1e3, 1e3)
    model = _model(ParetoNBDModel, params)
    ages = [0.0, 0.01, 0.5, 1.0, 2.0]
    data = pd.DataFrame({"frequency": [0] * 5, "recency": [0.0] * 5, "T": ages})
    ref = [float(mp_pareto_alive(params, 0, 0.0, t)) for t in ages]
    assert ref[3] == pytest.approx(0.3678, abs=1e-4)
    np.testing.assert_allclose(model.probability_alive(data), ref, rtol=1e-10)


PARETO_PARAMS = [
    (0.553, 10.578, 0.606, 11.669),  # Fader & Hardie (2005) CDNOW estimates
    (1e-3, 1e-3, 1e3, 1e3),
    (1e3, 1e3, 1e-3, 1e-3),
    (0.5, 10.0, 1e-4, 1e6),  # the no-dropout boundary s -> 0, beta -> inf
    (2.0, 1e-3, 5.0, 1e4),
]
PARETO_ROWS = [(0, 0.0, 38.86), (2, 30.43, 38.86), (1, 0.5, 7.0), (25, 90.0, 100.0)]


@pytest.mark.parametrize("params", PARETO_PARAMS)
def test_pareto_alive_and_loglik_match_mpmath(params):
    from churnlab.models.pareto_nbd import ParetoNBDModel

    model = _model(ParetoNBDModel, params)
    data = pd.DataFrame(PARETO_ROWS, columns=["frequency", "recency", "T"])
    alive = [float(mp_pareto_alive(params, *row)) for row in PARETO_ROWS]
    # log P(alive) to 1e-8 absolute: P(alive) to 1e-8 relative even where it is 1e-15.
    np.testing.assert_allclose(np.log(model.probability_alive(data)), np.log(alive), atol=1e-8)
    cols = tuple(data[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    ll, grad = ParetoNBDModel._loglik(np.array(params), cols)
    ref = [float(mp_pareto_loglik(params, *row)) for row in PARETO_ROWS]
    np.testing.assert_allclose(ll, ref, rtol=1e-9, atol=1e-10)
    assert np.all(np.isfinite(grad))

"""The pair-table evaluation of the Pareto/NBD likelihood against mpmath and the per-row path.

Reference values are computed here with ``mpmath`` at 40 digits by quadrature of the defining
integrals (Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model", eqs. 18-22), so the
tests check the series and quadrature paths of :mod:`churnlab.models._pareto_terms`.
"""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pandas as pd
import pytest

from churnlab.models._base import compress_rows
from churnlab.models._pareto_terms import Z_SWITCH, log_interval_terms, log_tail_terms
from churnlab.models.pareto_nbd import ParetoNBDModel

mp.mp.dps = 40


def _mp_moments(p, q, alpha, beta, lo, hi):
    """log of the integral of (alpha + u)^-p (beta + u)^-q over [lo, hi] and its four moments."""
    p, q, alpha, beta, lo = (mp.mpf(v) for v in (p, q, alpha, beta, lo))
    hi = mp.inf if hi == np.inf else mp.mpf(hi)

    def f(u):
        return (alpha + u) ** (-p) * (beta + u) ** (-q)

    # Geometric break points from below the integrand's shortest scale (its peak at lo) to
    # far beyond its longest, so mpmath resolves every part of it.
    short = min((alpha + lo) / p, (beta + lo) / q)
    long = max(alpha + lo, beta + lo)
    steps = mp.linspace(mp.log(short) - 5, mp.log(long) + 12, 80)
    points = [lo] + [lo + mp.exp(v) for v in steps if lo + mp.exp(v) < hi] + [hi]
    total = mp.quad(f, points)
    moments = [
        -mp.quad(lambda u: mp.log(alpha + u) * f(u), points) / total,
        -mp.quad(lambda u: mp.log(beta + u) * f(u), points) / total,
        mp.quad(lambda u: f(u) / (alpha + u), points) / total,
        mp.quad(lambda u: f(u) / (beta + u), points) / total,
    ]
    return [float(mp.log(total))] + [float(v) for v in moments]


# (p, q, alpha, beta, y): the series path (z <= Z_SWITCH) on either branch (alpha >= beta or
# not), the split path (z > Z_SWITCH: quadrature to the switch point plus series), large
# exponents, and the no-dropout boundary (q -> 1, beta << alpha).
TAIL_CASES = [
    (0.5, 1.6, 10.0, 11.0, 0.0),
    (2.5, 1.6, 10.0, 31.0, 5.0),
    (100.5, 1.7, 68.0, 172.0, 3.0),
    (1.0, 1.5, 68.0, 172.0, 800.0),
    (30.5, 1.001, 4.0, 0.09, 0.0),
    (30.5, 1.001, 4.0, 0.09, 3.0),
    (0.5, 2.0, 1e-3, 1e3, 1.0),
    (1e3, 1.001, 1e3, 1e-3, 2.0),
    (1e-3, 1.0 + 1e-8, 1e3, 1e-3, 0.0),
]


def _mp_tail(p, q, alpha, beta, y):
    """log Phi(y) from the closed form (c + y)^-m / m 2F1(m, q_d; m + 1; z) and its moments.

    Fader & Hardie (2005), eqs. 19-20, evaluated with mpmath's arbitrary-precision 2F1 (which,
    unlike quadrature, copes with tails as heavy as u^-1.001); derivatives by mpmath's
    numerical differentiation, ratios as Phi(p + 1, q) / Phi and Phi(p, q + 1) / Phi.
    """

    def log_phi(pp, qq):
        c, d, qd = (alpha, beta, qq) if alpha >= beta else (beta, alpha, pp)
        c, d, y_ = mp.mpf(c), mp.mpf(d), mp.mpf(y)
        m = pp + qq - 1
        z = (c - d) / (c + y_)
        return -m * mp.log(c + y_) - mp.log(m) + mp.log(mp.hyp2f1(m, qd, m + 1, z))

    p, q = mp.mpf(p), mp.mpf(q)
    base = log_phi(p, q)
    return [
        float(base),
        float(mp.diff(lambda v: log_phi(v, q), p)),
        float(mp.diff(lambda v: log_phi(p, v), q)),
        float(mp.exp(log_phi(p + 1, q) - base)),
        float(mp.exp(log_phi(p, q + 1) - base)),
    ]


@pytest.mark.parametrize("case", TAIL_CASES)
def test_tail_terms_match_mpmath(case):
    p, q, alpha, beta, y = case
    got = [v[0] for v in log_tail_terms(np.array([p]), np.array([q]), alpha, beta, np.array([y]))]
    ref = _mp_tail(p, q, alpha, beta, y)
    np.testing.assert_allclose(got, ref, rtol=1e-11)


def test_both_paths_are_exercised():
    # z = |alpha - beta| / (max + y) on either side of the switch among TAIL_CASES.
    z = [abs(a - b) / (max(a, b) + y) for _, _, a, b, y in TAIL_CASES]
    assert min(z) < Z_SWITCH < max(z)


@pytest.mark.parametrize(
    ("p", "q", "alpha", "beta", "lo", "hi"),
    [
        (2.5, 1.6, 10.0, 31.0, 5.0, 38.0),
        (0.553, 1.606, 10.578, 11.669, 0.0, 38.86),
        (30.75, 1.0 + 1e-8, 4.0, 0.09, 1.0, 104.0),
        # hi - lo tiny against the scale: the difference of tails would cancel, so the row
        # is integrated directly over [lo, hi].
        (1.5, 1.6, 10.0, 31.0, 1e4 - 1e-3, 1e4),
    ],
)
def test_interval_terms_match_mpmath(p, q, alpha, beta, lo, hi):
    ys = np.array([lo, hi])
    tails = log_tail_terms(np.full(2, p), q, alpha, beta, ys)
    lo_terms = tuple(v[:1] for v in tails)
    hi_terms = tuple(v[1:] for v in tails)
    got = log_interval_terms(
        np.array([p]), q, alpha, beta, lo_terms, hi_terms, np.array([lo]), np.array([hi])
    )
    ref = _mp_moments(p, q, alpha, beta, lo, hi)
    np.testing.assert_allclose([v[0] for v in got], ref, rtol=1e-10)


def test_empty_interval_has_zero_integral():
    tails = log_tail_terms(np.array([2.0]), 1.5, 3.0, 4.0, np.array([7.0]))
    got = log_interval_terms(
        np.array([2.0]), 1.5, 3.0, 4.0, tails, tails, np.array([7.0]), np.array([7.0])
    )
    assert got[0][0] == -np.inf
    assert all(v[0] == 0.0 for v in got[1:])


@pytest.mark.parametrize(
    "params",
    [
        (0.553, 10.578, 0.606, 11.669),  # Fader & Hardie (2005) CDNOW estimates
        (1e-3, 1e-3, 1e3, 1e3),
        (1e3, 1e3, 1e-3, 1e-3),
        (0.5, 10.0, 1e-4, 1e6),  # no-dropout boundary, beta -> inf
        (0.75, 4.0, 8e-9, 0.09),  # no-dropout boundary, s -> 0
        (2.0, 1e-3, 5.0, 1e4),
    ],
)
def test_weighted_likelihood_equals_the_per_row_path(params, cdnow_summary):
    cols, w = compress_rows(
        *(cdnow_summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    )
    model = ParetoNBDModel()
    p = np.array(params)
    ll, grad = ParetoNBDModel._loglik(p, cols)
    total, total_grad = model._weighted_loglik(p, model._prepare_weighted(cols, w))
    assert total == pytest.approx(w @ ll, rel=1e-12)
    np.testing.assert_allclose(total_grad, w @ grad, rtol=1e-8, atol=1e-8 * np.abs(w @ grad).max())


@pytest.fixture(scope="module")
def no_dropout():
    """3,000 weekly histories of customers who never stop buying (Poisson, gamma rates)."""
    rng = np.random.default_rng(11)
    big_t = rng.integers(1, 105, size=3000).astype(float)
    count = rng.poisson(rng.gamma(0.75, 1 / 4.0, size=3000) * big_t)
    last = np.where(count > 0, np.ceil(big_t * rng.beta(np.maximum(count, 1), 1)), 0.0)
    return pd.DataFrame(
        {"frequency": count.astype(float), "recency": np.minimum(last, big_t), "T": big_t}
    )


def test_no_dropout_fit_reaches_the_limit_likelihood(no_dropout):
    fast = ParetoNBDModel().fit(no_dropout, time_unit="W")
    plain = ParetoNBDModel()
    plain._no_dropout_start = lambda columns, weights: None  # the optimiser all the way
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain.fit(no_dropout, time_unit="W")
    # The limit s -> 0 is the supremum along the ridge the optimiser crawls down.
    assert fast.log_likelihood_ >= plain.log_likelihood_ - 1e-9 * abs(plain.log_likelihood_)
    assert "s" in fast.health_.at_boundary
    np.testing.assert_allclose(
        fast.params_[["r", "alpha"]], plain.params_[["r", "alpha"]], rtol=1e-4
    )
    np.testing.assert_allclose(fast.probability_alive(no_dropout), 1.0, atol=1e-9)
    # The limit's likelihood is the NBD one: Gamma(r + x) alpha^r / (Gamma(r) (alpha + T)^(r + x)).
    r, alpha = fast.params_["r"], fast.params_["alpha"]
    x, big_t = no_dropout["frequency"].to_numpy(), no_dropout["T"].to_numpy()
    nbd = sum(
        float(
            mp.loggamma(r + xi) - mp.loggamma(r) + r * mp.log(alpha) - (r + xi) * mp.log(alpha + ti)
        )
        for xi, ti in zip(x, big_t, strict=True)
    )
    assert fast.log_likelihood_ == pytest.approx(nbd, rel=1e-9)


def test_data_with_dropout_take_the_ordinary_path(cdnow_summary):
    cols, w = compress_rows(
        *(cdnow_summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    )
    assert ParetoNBDModel()._no_dropout_start(cols, w) is None

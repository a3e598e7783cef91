"""BG/NBD with static covariates (Fader & Hardie 2007 note; CLVTools' parameterisation).

Reference: P. S. Fader and B. G. S. Hardie (2007), "Incorporating Time-Invariant Covariates
into the Pareto/NBD and BG/NBD Models", http://brucehardie.com/notes/019/, on top of Fader,
Hardie & Lee (2005), "'Counting Your Customers' the Easy Way", *Marketing Science* 24(2),
275-284 (eq. 6 likelihood, eq. 10 conditional expectation, P(alive) from the 2008 note).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import expit

from churnlab.models._base import digamma_rising, hyp2f1_safe, log_rising, unique_inverse
from churnlab.models._special import expected_alive
from churnlab.models._validation import check_time
from churnlab.models.bgnbd import BetaGeoModel
from churnlab.models.covariates import DROPOUT, PURCHASE, CovariateModel

__all__ = ["BetaGeoCovariateModel"]

#: Above this many distinct dropout shapes ``a_i`` the expectation uses the vectorised
#: closed form first (rows it cannot trust go through the exact per-shape evaluation).
_GROUPED_LIMIT = 64


def bgnbd_row_loglik(
    r: float, alpha: Any, a: Any, b: Any, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-customer BG/NBD log-likelihood (FHL 2005, eq. 6) and gradient in ``(r, alpha, a, b)``.

    ``alpha``, ``a`` and ``b`` may differ by customer. The beta ratio ``B(a, b + x) / B(a, b)``
    is written as log rising factorials and ``r log(alpha / (alpha + T))`` as ``-r log1p(T /
    alpha)``, so nothing large is subtracted.

    Returns
    -------
    ll : numpy.ndarray
        ``(n,)`` log-likelihood per customer.
    grad : numpy.ndarray
        ``(n, 4)`` derivatives with respect to each customer's ``r, alpha, a, b``.
    """
    alpha, a, b = (np.broadcast_to(np.asarray(v, dtype=float), x.shape) for v in (alpha, a, b))
    has = x > 0
    # Rising factorials and digamma differences vanish at x = 0 (most customers); those of r
    # depend on x only: evaluated on the distinct frequencies and gathered.
    ux, ix = unique_inverse(x)
    rep = np.flatnonzero(has)
    xr, ar, br = x[rep], a[rep], b[rep]
    const = log_rising(r, ux)[ix]
    const[rep] += log_rising(br, xr) - log_rising(ar + br, xr)
    d_ab = np.zeros(x.size)
    d_ab[rep] = digamma_rising(ar + br, xr)
    d_b = -d_ab
    d_b[rep] += digamma_rising(br, xr)
    denom = np.where(has, b + x - 1.0, 1.0)
    l1_t, l_t = np.log1p(big_t / alpha), np.log(alpha + big_t)
    l1_r, l_r = np.log1p(tx / alpha), np.log(alpha + tx)
    u1 = -r * l1_t - x * l_t
    u2 = np.where(has, np.log(a) - np.log(denom) - r * l1_r - x * l_r, -np.inf)
    top = np.logaddexp(u1, u2)
    w2 = np.exp(u2 - top)
    w1 = 1.0 - w2
    grad = np.empty((x.size, 4))
    grad[:, 0] = digamma_rising(r, ux)[ix] - w1 * l1_t - w2 * l1_r
    grad[:, 1] = w1 * (r * big_t / (alpha * (alpha + big_t)) - x / (alpha + big_t)) + w2 * (
        r * tx / (alpha * (alpha + tx)) - x / (alpha + tx)
    )
    grad[:, 2] = w2 / a - d_ab
    grad[:, 3] = d_b - np.where(has, w2 / denom, 0.0)
    return const + top, grad


def _expected_if_alive(
    big_a: np.ndarray, a: np.ndarray, big_b: np.ndarray, tau: np.ndarray
) -> np.ndarray:
    """``E[X(T, T + t] | alive]`` with a per-customer ``a`` (FHL 2005, eq. 10 numerator).

    Few distinct ``a``: the exact evaluation of :func:`~churnlab.models._special.expected_alive`
    per value. Many: the closed form ``c / (a - 1) [1 - (1 + tau)^-A 2F1(A, B; c; tau / (1 +
    tau))]`` with ``c = a + B - 1``, and the exact evaluation for rows it cannot trust (within
    1e-3 of ``a = 1``, near ``z = 1`` at large or near-integer-gap parameters, non-finite, or
    outside the bounds ``[1 - (1 + tau)^-A, A tau]``).
    """
    out = np.empty_like(tau)
    values, codes = np.unique(a, return_inverse=True)
    if values.size <= _GROUPED_LIMIT:
        for j, value in enumerate(values):
            rows = codes == j
            out[rows] = expected_alive(big_a[rows], float(value), big_b[rows], tau[rows])
        return out
    c = a + big_b - 1.0
    z = tau / (1.0 + tau)
    with np.errstate(all="ignore"):
        f = hyp2f1_safe(big_a, big_b, c, z)
        out = c / (a - 1.0) * -np.expm1(np.log(f) - big_a * np.log1p(tau))
    lower = -np.expm1(-big_a * np.log1p(tau))
    upper = big_a * tau
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(out) | (out < lower * (1 - 1e-9)) | (out > upper * (1 + 1e-9))
    # Near a = 1 the bracket is O(a - 1): its rounding grows like eps / |a - 1|. Near z = 1
    # scipy's 2F1 is trusted only where expected_alive trusts it (moderate parameters, gap
    # c - A - B not close to an integer).
    gap = c - big_a - big_b
    risky = (z > 0.9) & ((np.maximum(big_a, big_b) > 300) | (np.abs(gap - np.round(gap)) < 1e-3))
    bad |= (np.abs(a - 1.0) < 1e-3) | risky
    for i in np.flatnonzero(bad & (tau > 0)):
        out[i] = expected_alive(big_a[i : i + 1], float(a[i]), big_b[i : i + 1], tau[i : i + 1])[0]
    return np.where(tau > 0, out, 0.0)


class BetaGeoCovariateModel(CovariateModel):
    """BG/NBD with time-invariant covariates on the purchase rate and on dropout.

    Each customer has ``alpha_i = alpha exp(-gamma_p' z_p)`` (purchase) and ``a_i = a
    exp(gamma_d' z_d)``, ``b_i = b exp(gamma_d' z_d)`` (dropout), with ``r`` shared: CLVTools'
    ``bgnbd_staticcov`` parameterisation of Fader & Hardie (2007). A positive purchase
    coefficient multiplies the mean purchase rate ``r / alpha_i`` by ``exp(gamma_p)`` per unit
    of the covariate. The dropout coefficient scales ``a`` and ``b`` together: the mean
    dropout probability ``a / (a + b)`` is the same for everyone and a positive coefficient
    makes customers more alike in it (the distribution of ``p`` is tighter around its mean).

    Fitted by maximum likelihood over ``log(r, alpha, a, b)`` and the coefficients with
    L-BFGS-B and the **analytic gradient**, starting from the plain
    :class:`~churnlab.models.BetaGeoModel` fit; every customer is scored with their own
    parameters (no row compression).

    Required columns: ``frequency``, ``recency``, ``T`` and the covariate columns (in the
    summary or in a ``covariates`` table indexed by ``customer_id``).

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty ``penalizer * sum(coefficients ** 2)`` on the mean negative
        log-likelihood (coefficients only, like CLVTools' ``reg.lambdas``).
    tol : float, default 1e-8
        Gradient tolerance of the optimiser.
    maxiter : int, default 3000
        Maximum optimiser iterations.

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``a``, ``b``, then ``purchase:<column>`` and ``dropout:<column>``.
    coefficients_ : pandas.DataFrame
        One row per coefficient: ``process``, ``covariate``, ``estimate``, ``std_error``,
        95% interval, ``z`` and ``p_value`` (Wald).
    summary_, covariance_, log_likelihood_, health_, n_customers_, time_unit_
        As for :class:`~churnlab.models.BetaGeoModel` (``covariance_`` on the natural scale).

    Examples
    --------
    >>> model = BetaGeoCovariateModel().fit(  # doctest: +SKIP
    ...     summary, purchase_covariates=["female"], dropout_covariates=["offline"])
    >>> model.coefficients_  # doctest: +SKIP
    """

    _base_names = ("r", "alpha", "a", "b")
    _scaled: ClassVar[dict[str, tuple[str, int]]] = {
        "alpha": (PURCHASE, -1),
        "a": (DROPOUT, 1),
        "b": (DROPOUT, 1),
    }
    _plain = BetaGeoModel
    _display_name = "purchase model with covariates (BG/NBD)"

    def _row_loglik(
        self, values: dict[str, Any], x: np.ndarray, tx: np.ndarray, big_t: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        return bgnbd_row_loglik(
            values["r"], values["alpha"], values["a"], values["b"], x, tx, big_t
        )

    @staticmethod
    def _p_alive(v: dict[str, Any], x: np.ndarray, tx: np.ndarray, big_t: np.ndarray) -> Any:
        r, alpha, a, b = v["r"], v["alpha"], v["a"], v["b"]
        has = x > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            u = (
                np.log(a)
                - np.log(np.where(has, b + x - 1.0, 1.0))
                + (r + x) * np.log1p((big_t - tx) / (alpha + tx))
            )
        return np.where(has, expit(-u), 1.0)

    def probability_alive(
        self, data: pd.DataFrame, covariates: pd.DataFrame | None = None
    ) -> pd.Series:
        """Probability that each customer is still active, with their own parameters.

        FHL (2005) / "Computing P(alive) Using the BG/NBD Model" eq. (2) at ``alpha_i, a_i,
        b_i``. Customers without a repeat purchase have P(alive) = 1 under BG/NBD.

        Parameters
        ----------
        data : pandas.DataFrame
            ``frequency``, ``recency``, ``T`` (and the covariates unless given separately).
        covariates : pandas.DataFrame, optional
            Covariates indexed by ``customer_id``.

        Returns
        -------
        pandas.Series
            ``probability_alive`` in [0, 1], indexed by customer.
        """
        x, tx, big_t, v = self._rows(data, covariates, "probability_alive")
        return self._series(self._p_alive(v, x, tx, big_t), data, "probability_alive")

    def probability_no_purchase(
        self, data: pd.DataFrame, t: float, covariates: pd.DataFrame | None = None
    ) -> pd.Series:
        """Probability of no purchase in the next ``t`` periods (operational churn).

        ``1 - P(alive) (1 - ((alpha_i + T) / (alpha_i + T + t)) ** (r + x))`` (see
        :meth:`BetaGeoModel.probability_no_purchase`), per customer.

        Parameters
        ----------
        data : pandas.DataFrame
            ``frequency``, ``recency``, ``T`` (and the covariates unless given separately).
        t : float
            Horizon in the model's time unit.
        covariates : pandas.DataFrame, optional
            Covariates indexed by ``customer_id``.

        Returns
        -------
        pandas.Series
            ``probability_no_purchase`` in [0, 1], indexed by customer.
        """
        t = check_time(t)
        x, tx, big_t, v = self._rows(data, covariates, "probability_no_purchase")
        buy = -np.expm1(-(v["r"] + x) * np.log1p(t / (v["alpha"] + big_t)))
        value = 1.0 - self._p_alive(v, x, tx, big_t) * buy
        return self._series(np.clip(value, 0.0, 1.0), data, "probability_no_purchase")

    def expected_purchases(
        self, data: pd.DataFrame, t: float, covariates: pd.DataFrame | None = None
    ) -> pd.Series:
        """Return the expected purchases of each customer in the next ``t`` periods (FHL eq. 10).

        Parameters
        ----------
        data : pandas.DataFrame
            ``frequency``, ``recency``, ``T`` (and the covariates unless given separately).
        t : float
            Horizon in the model's time unit.
        covariates : pandas.DataFrame, optional
            Covariates indexed by ``customer_id``.

        Returns
        -------
        pandas.Series
            ``expected_purchases`` (>= 0), indexed by customer.
        """
        t = check_time(t)
        x, tx, big_t, v = self._rows(data, covariates, "expected_purchases")
        tau = np.broadcast_to(t / (v["alpha"] + big_t), x.shape).astype(float)
        alive = _expected_if_alive(v["r"] + x, np.asarray(v["a"], dtype=float), v["b"] + x, tau)
        value = np.maximum(alive * self._p_alive(v, x, tx, big_t), 0.0)
        return self._series(value, data, "expected_purchases")

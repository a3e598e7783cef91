"""Pareto/NBD with static covariates (Fader & Hardie 2007 note; CLVTools' parameterisation).

References: P. S. Fader and B. G. S. Hardie (2007), "Incorporating Time-Invariant Covariates
into the Pareto/NBD and BG/NBD Models", http://brucehardie.com/notes/019/; P. S. Fader and
B. G. S. Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions"
(eq. 18 likelihood, eqs. 36-37 P(alive), eq. 41 conditional expectation).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import digamma, expit, gammaln

from churnlab.models._validation import check_time
from churnlab.models.covariates import DROPOUT, PURCHASE, CovariateModel
from churnlab.models.pareto_nbd import ParetoNBDModel, _integral_terms

__all__ = ["ParetoNBDCovariateModel"]


def pareto_row_loglik(
    r: float, alpha: Any, s: float, beta: Any, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-customer Pareto/NBD log-likelihood and gradient in ``(r, alpha, s, beta)``.

    ``L = Gamma(r + x) alpha^r beta^s / Gamma(r) [(alpha + T)^-(r + x) (beta + T)^-s + s I]``
    with ``I = int_tx^T (alpha + y)^-(r + x) (beta + y)^-(s + 1) dy`` (Fader & Hardie 2005,
    eq. 18 before the hypergeometric closed form); ``I`` and its derivatives come from the
    Pareto/NBD module's stable evaluation. ``alpha`` and ``beta`` may differ by customer.
    """
    alpha, beta = (np.broadcast_to(np.asarray(v, dtype=float), x.shape) for v in (alpha, beta))
    p, q = r + x, s + 1.0
    log_i, di_dp, di_dq, ratio_a, ratio_b = _integral_terms(
        p, q, alpha, beta, tx, big_t, derivatives=True
    )
    u1 = -p * np.log(alpha + big_t) - s * np.log(beta + big_t)
    u2 = np.log(s) + log_i
    top = np.logaddexp(u1, u2)
    w2 = np.exp(u2 - top)
    w1 = 1.0 - w2
    has = w2 > 0

    def part(values: np.ndarray) -> np.ndarray:
        return np.where(has, w2 * np.where(has, values, 0.0), 0.0)

    ll = gammaln(p) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + top
    grad = np.empty((x.size, 4))
    grad[:, 0] = digamma(p) - digamma(r) + np.log(alpha) - w1 * np.log(alpha + big_t) + part(di_dp)
    grad[:, 1] = r / alpha - w1 * p / (alpha + big_t) - part(p * ratio_a)
    grad[:, 2] = np.log(beta) - w1 * np.log(beta + big_t) + part(1.0 / s + di_dq)
    grad[:, 3] = s / beta - w1 * s / (beta + big_t) - part(q * ratio_b)
    return ll, grad


class ParetoNBDCovariateModel(CovariateModel):
    """Pareto/NBD with time-invariant covariates on the purchase and dropout rates.

    Each customer has ``alpha_i = alpha exp(-gamma_p' z_p)`` and ``beta_i = beta
    exp(-gamma_d' z_d)`` with ``r`` and ``s`` shared: CLVTools' ``pnbd_staticcov``
    parameterisation of Fader & Hardie (2007). A positive purchase coefficient multiplies
    the mean purchase rate ``r / alpha_i`` by ``exp(gamma_p)`` per unit of the covariate; a
    positive dropout coefficient multiplies the mean dropout rate ``s / beta_i`` likewise.

    Fitted by maximum likelihood over ``log(r, alpha, s, beta)`` and the coefficients with
    L-BFGS-B and the **analytic gradient** (chain rule through each customer's ``alpha_i`` and
    ``beta_i``), starting from the plain :class:`~churnlab.models.ParetoNBDModel` fit; no row
    compression.

    Required columns: ``frequency``, ``recency``, ``T`` and the covariate columns (in the
    summary or in a ``covariates`` table indexed by ``customer_id``).

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty ``penalizer * sum(coefficients ** 2)`` on the mean negative log-likelihood.
    tol : float, default 1e-8
        Gradient tolerance of the optimiser.
    maxiter : int, default 3000
        Maximum optimiser iterations.

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``s``, ``beta``, then ``purchase:<column>`` and ``dropout:<column>``.
    coefficients_ : pandas.DataFrame
        One row per coefficient: ``process``, ``covariate``, ``estimate``, ``std_error``,
        95% interval, ``z`` and ``p_value`` (Wald).
    summary_, covariance_, log_likelihood_, health_, n_customers_, time_unit_
        As for :class:`~churnlab.models.ParetoNBDModel`.
    """

    _base_names = ("r", "alpha", "s", "beta")
    _scaled: ClassVar[dict[str, tuple[str, int]]] = {"alpha": (PURCHASE, -1), "beta": (DROPOUT, -1)}
    _plain = ParetoNBDModel
    _display_name = "purchase model with covariates (Pareto/NBD)"

    def _row_loglik(
        self, values: dict[str, Any], x: np.ndarray, tx: np.ndarray, big_t: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        return pareto_row_loglik(
            values["r"], values["alpha"], values["s"], values["beta"], x, tx, big_t
        )

    @staticmethod
    def _p_alive(v: dict[str, Any], x: np.ndarray, tx: np.ndarray, big_t: np.ndarray) -> Any:
        r, alpha, s, beta = v["r"], v["alpha"], v["s"], v["beta"]
        log_i = _integral_terms(r + x, s + 1.0, alpha, beta, tx, big_t)[0]
        u = np.log(s) + log_i + (r + x) * np.log(alpha + big_t) + s * np.log(beta + big_t)
        return expit(-u)

    def probability_alive(
        self, data: pd.DataFrame, covariates: pd.DataFrame | None = None
    ) -> pd.Series:
        """Probability that each customer is still active (Fader & Hardie 2005, eqs. 36-37).

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

        ``1 - P(alive) P(purchase within t | alive)`` as in
        :meth:`ParetoNBDModel.probability_no_purchase`, with each customer's ``alpha_i``,
        ``beta_i``.

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
        r, s = v["r"], v["s"]
        ra, aa, ba = r + x, v["alpha"] + big_t, v["beta"] + big_t
        log_i = _integral_terms(ra + 1.0, s, aa, ba, np.zeros_like(x), np.full(x.shape, t))[0]
        buy = np.exp(np.log(ra) + ra * np.log(aa) + s * np.log(ba) + log_i)
        buy = np.where(t > 0, buy, 0.0)
        value = 1.0 - self._p_alive(v, x, tx, big_t) * np.clip(buy, 0.0, 1.0)
        return self._series(np.clip(value, 0.0, 1.0), data, "probability_no_purchase")

    def expected_purchases(
        self, data: pd.DataFrame, t: float, covariates: pd.DataFrame | None = None
    ) -> pd.Series:
        """Return the expected purchases in the next ``t`` periods (Fader & Hardie 2005, eq. 41).

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
        r, s = float(v["r"][0]), float(v["s"][0])
        beta_t = v["beta"] + big_t
        log_ratio = np.log1p(t / beta_t)
        g = log_ratio if abs(s - 1.0) < 1e-10 else -np.expm1(-(s - 1.0) * log_ratio) / (s - 1.0)
        value = (r + x) * beta_t / (v["alpha"] + big_t) * g * self._p_alive(v, x, tx, big_t)
        return self._series(np.maximum(value, 0.0), data, "expected_purchases")

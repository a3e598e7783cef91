"""sBG: the shifted-beta-geometric model of contractual retention.

References: P. S. Fader and B. G. S. Hardie (2007), "How to Project Customer Retention",
*Journal of Interactive Marketing* 21(1), 76-90 (eqs. 1-7); and P. S. Fader and
B. G. S. Hardie (2010), "Customer-Base Valuation in a Contractual Setting: The Perils of
Ignoring Heterogeneity", *Marketing Science* 29(1), 85-93 (eqs. 4-6, DEL and DERL).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma

from churnlab import config
from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.models._base import BaseModel, as_float
from churnlab.models._special import discounted_beta_sum
from churnlab.models._validation import check_time


def _curve_columns(curve: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Rows of the sBG likelihood: churned in period t (weight: lost customers), or survived."""
    n = curve.size - 1
    lost = -np.diff(curve)
    periods = np.concatenate([np.arange(1, n + 1, dtype=float), [float(n)]])
    died = np.concatenate([np.ones(n), [0.0]])
    weights = np.concatenate([lost, [curve[-1]]])
    keep = weights > 0
    return (periods[keep], died[keep]), weights[keep]


class ShiftedBetaGeoModel(BaseModel):
    """Shifted-beta-geometric retention model for subscription cohorts (Fader & Hardie 2007).

    Each customer renews at every period end with a constant probability ``1 - theta``;
    ``theta ~ Beta(alpha, beta)`` across customers. Survival (FH 2007, eq. 6) is
    ``S(t) = B(alpha, beta + t) / B(alpha, beta)`` and the retention rate (eq. 7) is
    ``r(t) = (beta + t - 1) / (alpha + beta + t - 1)``, increasing over time because the
    cohort loses its most churn-prone members first.

    Input: one cohort's survival curve, the number (or share) of customers still active at
    the start of periods 0, 1, ..., n. The first value is the cohort size.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty ``penalizer * sum(params ** 2)`` on the mean negative log-likelihood.
    tol : float, default 1e-10
        Gradient tolerance of the optimiser.
    maxiter : int, default 2000
        Maximum optimiser iterations.
    initial_params : dict, optional
        Starting values for ``alpha`` and ``beta``.

    Attributes
    ----------
    alpha_, beta_ : float
        Fitted parameters.
    params_, summary_, covariance_, log_likelihood_
        As for :class:`~churnlab.models.BetaGeoModel`.
    n_customers_ : int
        Cohort size (rounded).
    n_periods_ : int
        Number of observed periods.
    cohort_size_ : float
        The cohort size used for the fit.

    Examples
    --------
    >>> high_end = [100, 86.9, 74.3, 65.3, 59.3, 55.1, 51.7, 49.1]  # FH 2007, Table 1
    >>> model = ShiftedBetaGeoModel().fit(high_end, cohort_size=1000)
    >>> round(model.alpha_, 3), round(model.beta_, 3)
    (0.668, 3.806)
    """

    _param_names = ("alpha", "beta")
    _display_name = "retention model (sBG)"

    def fit(
        self, survival: Any, *, cohort_size: float | None = None, time_unit: str | None = None
    ) -> ShiftedBetaGeoModel:
        """Fit the model to a cohort's survival curve by maximum likelihood (FH 2007, eq. 5).

        Parameters
        ----------
        survival : array-like or pandas.Series
            Customers (counts, shares or percentages) active at the start of each period,
            beginning with the whole cohort at period 0, and non-increasing.
        cohort_size : float, optional
            Rescale the curve so that its first value is this many customers. Pass it when
            ``survival`` is in percent or shares: it sets the standard errors (the
            estimates do not depend on it).
        time_unit : {"D", "W", "M"}, optional
            Length of one period, recorded in ``time_unit_``.

        Returns
        -------
        self

        Raises
        ------
        DataValidationError
            If the curve has fewer than two values, non-finite or negative values, or increases.
        """
        curve = np.asarray(survival, dtype=float).ravel()
        where = "ShiftedBetaGeoModel.fit"
        if curve.size < 2:
            raise DataValidationError(
                f"{where} needs the active customers at period 0 and at least one later "
                f"period; got {curve.size} value(s)."
            )
        bad = ~np.isfinite(curve) | (curve < 0)
        if np.any(bad) or curve[0] <= 0:
            raise DataValidationError(
                f"{where}: the survival curve must be finite and >= 0 with a positive first value "
                f"(cohort size); {int(bad.sum())} bad value(s) in {curve.tolist()[:8]}."
            )
        rising = np.flatnonzero(np.diff(curve) > 0)
        if rising.size:
            raise DataValidationError(
                f"{where}: the survival curve increases at {rising.size} period(s), e.g. from "
                f"{curve[rising[0]]:g} to {curve[rising[0] + 1]:g} at period {rising[0] + 1}. "
                "Pass one cohort's active customers per period (new customers must not be added)."
            )
        if cohort_size is not None:
            if not (np.isfinite(cohort_size) and cohort_size > 0):
                raise ConfigError(f"cohort_size must be a positive number, got {cohort_size!r}.")
            curve = curve * (cohort_size / curve[0])
        if curve[-1] == curve[0]:
            raise DataValidationError(
                f"{where}: no customer churned over the {curve.size - 1} period(s), so the churn "
                "rate cannot be estimated. Use a longer history."
            )
        if time_unit is not None and time_unit not in config.TIME_UNIT_DAYS:
            raise ConfigError(
                f"{where}: unknown time_unit {time_unit!r}; "
                f"use one of {list(config.TIME_UNIT_DAYS)}."
            )
        self.time_unit_ = time_unit
        columns, weights = _curve_columns(curve)
        self.cohort_size_ = float(curve[0])
        self.n_periods_ = curve.size - 1
        self._fit_columns(columns, weights, n_customers=round(curve[0]))
        return self

    def _columns_for_loglik(self, data: Any) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
        curve = np.asarray(data, dtype=float).ravel()
        if curve.size < 2 or not np.all(np.isfinite(curve)) or np.any(np.diff(curve) > 0):
            raise DataValidationError(
                "ShiftedBetaGeoModel.log_likelihood needs a finite, non-increasing survival "
                f"curve of at least two values (counts of active customers); got {curve[:8]}."
            )
        return _curve_columns(curve)

    @staticmethod
    def _loglik(
        params: np.ndarray, columns: tuple[np.ndarray, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        """``log P(T = t)`` (FH 2007, eq. 3) for churners, ``log S(t)`` (eq. 6) for survivors."""
        t, died = columns
        alpha, beta = params
        d = died > 0
        ll = np.where(d, betaln(alpha + 1, beta + t - 1), betaln(alpha, beta + t)) - betaln(
            alpha, beta
        )
        common = digamma(alpha + beta)
        grad = np.empty((t.size, 2))
        grad[:, 0] = (
            np.where(
                d,
                digamma(alpha + 1) - digamma(alpha + beta + t),
                digamma(alpha) - digamma(alpha + beta + t),
            )
            - digamma(alpha)
            + common
        )
        grad[:, 1] = (
            np.where(
                d,
                digamma(beta + t - 1) - digamma(alpha + beta + t),
                digamma(beta + t) - digamma(alpha + beta + t),
            )
            - digamma(beta)
            + common
        )
        return ll, grad

    def _initial_params(self, columns: tuple[np.ndarray, ...], weights: np.ndarray) -> np.ndarray:
        return np.array([1.0, 1.0])

    def _fitted_on(self) -> str:
        return f"a cohort of {self.cohort_size_:,.0f} over {self.n_periods_} periods"

    def survival(self, t: Any) -> float | np.ndarray:
        """Share of the cohort still active after ``t`` periods, ``S(t)`` (FH 2007, eq. 6).

        Parameters
        ----------
        t : float or array-like
            Period(s), >= 0.

        Returns
        -------
        float or numpy.ndarray
        """
        alpha, beta = self._params()
        t = np.asarray(check_time(t), dtype=float)
        return as_float(np.exp(betaln(alpha, beta + t) - betaln(alpha, beta)))

    def retention_rate(self, t: Any) -> float | np.ndarray:
        """Retention rate in period ``t``, ``S(t) / S(t - 1)`` (FH 2007, eq. 7).

        Parameters
        ----------
        t : float or array-like
            Period(s), >= 1.

        Returns
        -------
        float or numpy.ndarray
        """
        alpha, beta = self._params()
        t = np.asarray(check_time(t), dtype=float)
        if np.any(t < 1):
            raise ConfigError("retention_rate is defined from period t=1 on; pass t >= 1.")
        return as_float((beta + t - 1) / (alpha + beta + t - 1))

    def projected_curve(self, periods: int) -> pd.DataFrame:
        """Projected survival and retention for periods 0..``periods``.

        Parameters
        ----------
        periods : int
            Last period to project.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``period`` with ``survival`` (share of the cohort), ``active``
            (customers, from ``cohort_size_``) and ``retention_rate`` (NaN at period 0).
        """
        self._check_fitted()
        if int(periods) != periods or periods < 0:
            raise ConfigError(f"periods must be a whole number >= 0, got {periods!r}.")
        t = np.arange(int(periods) + 1, dtype=float)
        surv = np.asarray(self.survival(t), dtype=float)
        ret = np.full_like(t, np.nan)
        ret[1:] = self.retention_rate(t[1:])
        return pd.DataFrame(
            {"survival": surv, "active": surv * self.cohort_size_, "retention_rate": ret},
            index=pd.Index(t.astype(int), name="period"),
        )

    def dert(self, discount_rate: float, *, renewals: int = 0) -> float:
        """Discounted expected residual transactions (DERT) after ``renewals`` renewals.

        Fader & Hardie (2010), eq. 6: for a customer at the end of period ``n - 1`` who has
        made ``n - 1 = renewals`` renewals, ``DERT = (beta + n - 1) / (alpha + beta + n - 1)
        * 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d))``, in units of the per-period
        payment (multiply by the margin per period to get money). ``renewals=0`` values a
        customer who has just made the first payment (future payments only). The
        hypergeometric function is evaluated as Euler's integral (see
        :meth:`expected_discounted_lifetime`), stable for small ``d`` and many renewals.

        Parameters
        ----------
        discount_rate : float
            Discount rate per period, ``d > 0``.
        renewals : int, default 0
            Renewals already observed.

        Returns
        -------
        float
        """
        alpha, beta = self._params()
        if not (np.isfinite(discount_rate) and discount_rate > 0):
            raise ConfigError(
                f"discount_rate must be > 0 per period, got {discount_rate!r}; e.g. 0.1 for 10%."
            )
        if int(renewals) != renewals or renewals < 0:
            raise ConfigError(f"renewals must be a whole number >= 0, got {renewals!r}.")
        n = renewals + 1
        ratio = (beta + n - 1) / (alpha + beta + n - 1)
        return float(ratio * discounted_beta_sum(alpha, beta + n, float(discount_rate)))

    def expected_discounted_lifetime(self, discount_rate: float) -> float:
        """Discounted expected lifetime of a new customer, first payment included (FH 2010, eq. 4).

        ``DEL = 2F1(1, beta; alpha + beta; 1 / (1 + d))``, in units of the per-period payment,
        evaluated as Euler's integral ``E[1 / (1 - u / (1 + d))]``, ``u ~ Beta(beta, alpha)``
        (:func:`~churnlab.models._special.discounted_beta_sum`): finite and exact where
        scipy's ``hyp2f1`` overflows (small ``d``, large ``beta``).

        Parameters
        ----------
        discount_rate : float
            Discount rate per period, ``d > 0``.

        Returns
        -------
        float
        """
        alpha, beta = self._params()
        if not (np.isfinite(discount_rate) and discount_rate > 0):
            raise ConfigError(
                f"discount_rate must be > 0 per period, got {discount_rate!r}; e.g. 0.1 for 10%."
            )
        return discounted_beta_sum(alpha, beta, float(discount_rate))

"""BG/NBD: the beta-geometric/negative-binomial model of Fader, Hardie & Lee (2005).

Reference: P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "'Counting Your Customers'
the Easy Way: An Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275-284,
and the companion note "Computing P(alive) Using the BG/NBD Model" (2008).

The module also holds the shared core of the beta-geometric family: the modified
BG/NBD of Batislam et al. (2007) differs only in letting a customer drop out right
after the first purchase, which shifts ``b + x`` to ``b + x + 1`` in every formula.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betainc, betaln, expit, gammaln

from churnlab.models._base import (
    TransactionModel,
    as_float,
    digamma_rising,
    log_rising,
    percent_text,
    unique_inverse,
    unique_rows,
)
from churnlab.models._special import beta_survival, expected_alive
from churnlab.models._validation import check_counts, check_time


class _BetaGeoFamily(TransactionModel):
    """Shared likelihood and predictions of BG/NBD (``_shift = 0``) and MBG/NBD (``_shift = 1``)."""

    _param_names = ("r", "alpha", "a", "b")
    _forward_covariance = True  # closed-form gradient, smooth to rounding
    _shift = 0
    _display_name = "purchase model (BG/NBD)"

    # ----------------------------------------------------------- likelihood
    @classmethod
    def _terms(
        cls, params: tuple[float, ...], x: np.ndarray, tx: np.ndarray, big_t: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return ``C``, ``u1``, ``u2`` and the mask where the ``u2`` branch exists.

        The likelihood is ``exp(C) * (exp(u1) + mask * exp(u2))`` (FHL 2005, eq. 6), with
        ``r log(alpha)`` moved into ``u1`` and ``u2`` as ``-r log1p(T / alpha)`` and the beta
        ratio written as rising factorials, so nothing large is subtracted.
        """
        r, alpha, a, b = params
        k = cls._shift
        x = np.asarray(x, dtype=float)
        mask = np.ones_like(x, dtype=bool) if k else x > 0
        # Functions of x alone on the distinct frequencies (a few hundred), then gathered.
        ux, ix = unique_inverse(x.ravel())
        un = ux + k
        const = (log_rising(r, ux) + log_rising(b, un) - log_rising(a + b, un))[ix]
        log_den = np.log(a) - np.log(np.where(un > 0, b + un - 1, 1.0))
        const, log_den = const.reshape(x.shape), log_den[ix].reshape(x.shape)
        u1 = -r * np.log1p(big_t / alpha) - x * np.log(alpha + big_t)
        u2 = np.where(mask, log_den - r * np.log1p(tx / alpha) - x * np.log(alpha + tx), -np.inf)
        return const, u1, u2, mask

    @classmethod
    def _prepare(cls, columns: tuple[np.ndarray, ...]) -> dict[str, np.ndarray]:
        """Distinct frequencies, recencies and ages, and each row's index among them.

        Every special function and logarithm of the likelihood depends on one of the three
        columns only, so it is evaluated on the distinct values (a few hundred each, even at
        daily resolution) and gathered, instead of once per compressed row.
        """
        x, tx, big_t = columns
        ux, ix = unique_inverse(x)
        ur, ir = unique_inverse(tx)
        ut, it = unique_inverse(big_t)
        mask = np.ones_like(x, dtype=bool) if cls._shift else x > 0
        return {"x": x, "ux": ux, "ix": ix, "ur": ur, "ir": ir, "uT": ut, "iT": it, "mask": mask}

    @classmethod
    def _loglik(cls, params: np.ndarray, columns: Any) -> tuple[np.ndarray, np.ndarray]:
        """Per-row log-likelihood (FHL 2005, eq. 6) and its gradient in ``(r, alpha, a, b)``.

        Written without subtracting large numbers: ``gammaln(r + x) - gammaln(r)`` and the
        beta ratio ``B(a, b + x) / B(a, b)`` as log rising factorials
        (:func:`~churnlab.models._base.log_rising`), digamma differences likewise, and
        ``r log(alpha / (alpha + T))`` as ``-r log1p(T / alpha)``. This keeps the total
        log-likelihood exact to ~1e-12 relative even at parameters of 1e13, where a fit on
        data without heterogeneity ends up.
        """
        rows = columns if isinstance(columns, dict) else cls._prepare(columns)
        x, ux, ix, mask = rows["x"], rows["ux"], rows["ix"], rows["mask"]
        r, alpha, a, b = (float(v) for v in params)
        k = cls._shift
        # Functions of (x, params): on the distinct frequencies only.
        un = ux + k
        has = (un > 0) if not k else np.ones_like(un, dtype=bool)
        const = (log_rising(r, ux) + log_rising(b, un) - log_rising(a + b, un))[ix]
        d_r = digamma_rising(r, ux)[ix]
        d_ab = digamma_rising(a + b, un)
        d_b = (digamma_rising(b, un) - d_ab)[ix]
        d_ab = d_ab[ix]
        inv_den = np.where(has, 1.0 / np.where(has, b + un - 1, 1.0), 0.0)
        log_a_den = (np.log(a) + np.log(np.where(has, inv_den, 1.0)))[ix]
        inv_den = inv_den[ix]
        # Functions of (T, params) and of (recency, params): on the distinct values only.
        ut, ur = rows["uT"], rows["ur"]
        it, ir = rows["iT"], rows["ir"]
        l1_t, l_t = np.log1p(ut / alpha)[it], np.log(alpha + ut)[it]
        l1_r, l_r = np.log1p(ur / alpha)[ir], np.log(alpha + ur)[ir]
        i_t, i_r = (1.0 / (alpha + ut))[it], (1.0 / (alpha + ur))[ir]
        s_t, s_r = (ut / (alpha * (alpha + ut)))[it], (ur / (alpha * (alpha + ur)))[ir]
        u1 = -r * l1_t - x * l_t
        u2 = np.where(mask, log_a_den - r * l1_r - x * l_r, -np.inf)
        top = np.logaddexp(u1, u2)
        w2 = np.exp(u2 - top)
        w1 = 1.0 - w2
        grad = np.empty((x.size, 4))
        grad[:, 0] = d_r - w1 * l1_t - w2 * l1_r
        grad[:, 1] = w1 * (r * s_t - x * i_t) + w2 * (r * s_r - x * i_r)
        grad[:, 2] = w2 / a - d_ab
        grad[:, 3] = d_b - w2 * inv_den
        return const + top, grad

    def _prepare_weighted(self, columns: tuple[np.ndarray, ...], weights: np.ndarray) -> Any:
        """Distinct-value tables plus the weight sums that do not depend on the parameters.

        The total log-likelihood is ``sum_x W_x C(x) + sum_T (-r W_T log1p(T / alpha) -
        WX_T log(alpha + T)) + sum_rows w softplus(u2 - u1)``: only the last term, over rows
        with a second branch, needs per-row work, and ``u2 - u1 = log(a / (b + x + k - 1)) +
        (r + x) (log(alpha + T) - log(alpha + t_x))`` takes two gathers from tables of the
        distinct ages and recencies.
        """
        rows = self._prepare(columns)
        x, ix, it, ir, mask = rows["x"], rows["ix"], rows["iT"], rows["ir"], rows["mask"]
        n_x, n_t = rows["ux"].size, rows["uT"].size
        return {
            **rows,
            "w_x": np.bincount(ix, weights, minlength=n_x),
            "w_t": np.bincount(it, weights, minlength=n_t),
            "wx_t": np.bincount(it, weights * x, minlength=n_t),
            "m_w": weights[mask],
            "m_x": x[mask],
            "m_ix": ix[mask],
            "m_it": it[mask],
            "m_ir": ir[mask],
        }

    def _weighted_loglik(self, params: np.ndarray, state: Any) -> tuple[float, np.ndarray]:
        """Weighted total of FHL (2005) eq. 6 and its gradient (same terms as :meth:`_loglik`)."""
        r, alpha, a, b = (float(v) for v in params)
        k = self._shift
        ux = state["ux"]
        un = ux + k
        has = (un > 0) if not k else np.ones_like(un, dtype=bool)
        const = log_rising(r, ux) + log_rising(b, un) - log_rising(a + b, un)
        d_r = digamma_rising(r, ux)
        d_ab = digamma_rising(a + b, un)
        d_b = digamma_rising(b, un) - d_ab
        inv_den = np.where(has, 1.0 / np.where(has, b + un - 1, 1.0), 0.0)
        log_a_den = np.log(a) + np.log(np.where(has, inv_den, 1.0))
        ut, ur = state["uT"], state["ur"]
        l_t, l_r = np.log(alpha + ut), np.log(alpha + ur)
        l1_t = np.log1p(ut / alpha)
        i_t, i_r = 1.0 / (alpha + ut), 1.0 / (alpha + ur)
        s_t = ut / (alpha * (alpha + ut))
        w_x, w_t, wx_t = state["w_x"], state["w_t"], state["wx_t"]
        total = w_x @ const - r * (w_t @ l1_t) - wx_t @ l_t
        grad = np.array(
            [
                w_x @ d_r - w_t @ l1_t,
                r * (w_t @ s_t) - wx_t @ i_t,
                -(w_x @ d_ab),
                w_x @ d_b,
            ]
        )
        m_w, m_it, m_ir, m_ix = state["m_w"], state["m_it"], state["m_ir"], state["m_ix"]
        if m_w.size:
            gap = l_t[m_it] - l_r[m_ir]
            rx = r + state["m_x"]
            delta = log_a_den[m_ix] + rx * gap
            # softplus(delta) and expit(delta) from one exponential.
            e = np.exp(-np.abs(delta))
            total += m_w @ (np.maximum(delta, 0.0) + np.log1p(e))
            one_e = 1.0 + e
            ww2 = m_w * np.where(delta > 0, 1.0, e) / one_e
            per_x = np.bincount(m_ix, ww2, minlength=ux.size)
            grad[0] += ww2 @ gap
            grad[1] += ww2 @ (rx * (i_t[m_it] - i_r[m_ir]))
            grad[2] += per_x.sum() / a
            grad[3] -= per_x @ inv_den
        return float(total), grad

    def _initial_params(self, columns: tuple[np.ndarray, ...], weights: np.ndarray) -> np.ndarray:
        x, _, big_t = columns
        rate = max(float(weights @ x) / max(float(weights @ big_t), 1e-12), 1e-6)
        return np.array([1.0, 1.0 / rate, 1.0, 1.0])

    # ---------------------------------------------------------------- health
    def _specific_boundary_problems(self) -> list[tuple[list[str], str]]:
        problems = super()._specific_boundary_problems()
        a, b = float(self.params_["a"]), float(self.params_["b"])
        names = [n for n, bad in (("a", a < 1e-4), ("b", b > 1e5)) if bad]
        if not names and a / (a + b) < 1e-5:
            names = ["a", "b"]
        if names:
            problems.insert(
                0,
                (
                    names,
                    f"The {self._display_name} found no evidence that customers stop buying "
                    "(a \u2248 0 or b \u2192 \u221e: the chance of dropping out after a "
                    f"purchase is {percent_text(a / (a + b))}), so its 'probability still "
                    "active' is close to 100% for everyone and should not be used to rank churn "
                    "risk. Use the probability of no purchase over a horizon, or the churn "
                    "classifier.",
                ),
            )
        return problems

    # ---------------------------------------------------------- predictions
    def _p_alive(self, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        _, u1, u2, mask = self._terms(self._params(), x, tx, big_t)
        return np.where(mask, expit(u1 - np.where(mask, u2, 0.0)), 1.0)

    def _expected(self, t: Any, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        """FHL (2005) eq. 10: ``E[purchases in t | alive] * P(alive)`` (see :mod:`._special`)."""
        r, alpha, a, b = self._params()
        x, tx, big_t, t = np.broadcast_arrays(x, tx, big_t, np.asarray(t, dtype=float))
        shape = x.shape
        # Identical (x, T, t) share the conditional expectation: evaluate each once.
        (ux, ut, utt), codes = unique_rows(x, big_t, t)
        alive = expected_alive(r + ux, a, b + ux + self._shift, utt / (alpha + ut))[codes]
        return alive.reshape(shape) * self._p_alive(x, tx, big_t)

    def probability_alive(self, data: pd.DataFrame, t: Any = 0.0) -> pd.Series:
        """Probability that each customer is still active ``t`` periods after observation ends.

        At ``t = 0`` (the default) FHL (2005) eq. 10 / "Computing P(alive) Using the BG/NBD
        Model", eq. (2). For BG/NBD a customer can only drop out right after a repeat
        purchase, so **customers with no repeat purchase have P(alive) = 1 exactly** at
        ``t = 0``, however long ago they bought. For ``t > 0`` it is ``P(alive at T) *
        E[exp(-lambda p t)]`` over the posteriors given alive, ``lambda ~ Gamma(r + x,
        alpha + T)`` and ``p ~ Beta(a, b + x)`` (``b + x + 1`` for MBG/NBD): while alive,
        dropouts come at rate ``lambda p`` (see :func:`~churnlab.models._special.beta_survival`).
        Use :meth:`probability_no_purchase` as the operational churn probability.

        Parameters
        ----------
        data : pandas.DataFrame
            Columns ``frequency``, ``recency``, ``T``, indexed by ``customer_id``.
        t : float or array-like, default 0.0
            Time after the end of observation ``T``, in the model's time unit (one value, or
            one per customer).

        Returns
        -------
        pandas.Series
            ``probability_alive`` in [0, 1] (P(alive at ``T + t``)), non-increasing in ``t``,
            indexed by customer.
        """
        t = np.asarray(check_time(t), dtype=float)
        x, tx, big_t = self._data(data, "probability_alive")
        alive = self._p_alive(x, tx, big_t)
        if np.any(t > 0):
            r, alpha, a, b = self._params()
            x_b, big_t_b, t_b = np.broadcast_arrays(x, big_t, t)
            (ux, ut, utt), codes = unique_rows(x_b, big_t_b, t_b)
            survive = beta_survival(r + ux, a, b + ux + self._shift, utt / (alpha + ut))
            alive = alive * survive[codes].reshape(x_b.shape)
        return self._series(alive, data, "probability_alive")

    def probability_no_purchase(self, data: pd.DataFrame, t: float) -> pd.Series:
        """Probability that each customer makes no purchase in the next ``t`` periods.

        ``P(dead) + P(alive) * P(no purchase in t | alive)``: given that the customer is alive,
        the purchase rate has posterior Gamma(r + x, alpha + T) (FHL 2005, section 4), and
        death can only follow a purchase, so P(no purchase | alive) = ((alpha + T) /
        (alpha + T + t)) ** (r + x). This is the **operational churn probability** over the
        horizon: unlike :meth:`probability_alive` it is below 1 for customers without a repeat
        purchase who have been silent for long.

        Parameters
        ----------
        data : pandas.DataFrame
            Columns ``frequency``, ``recency``, ``T``, indexed by ``customer_id``.
        t : float
            Horizon, in the model's time unit (``time_unit_``).

        Returns
        -------
        pandas.Series
            ``probability_no_purchase`` in [0, 1], indexed by customer.
        """
        t = check_time(t)
        x, tx, big_t = self._data(data, "probability_no_purchase")
        r, alpha = self._params()[:2]
        buy_if_alive = -np.expm1(-(r + x) * np.log1p(t / (alpha + big_t)))
        value = 1.0 - self._p_alive(x, tx, big_t) * buy_if_alive
        return self._series(np.clip(value, 0.0, 1.0), data, "probability_no_purchase")

    def expected_purchases(self, data: pd.DataFrame, t: float) -> pd.Series:
        """Return the expected number of purchases of each customer in the next ``t`` periods.

        FHL (2005) eq. 10, evaluated with Euler's transformation of the hypergeometric
        function for stability at large frequencies.

        Parameters
        ----------
        data : pandas.DataFrame
            Columns ``frequency``, ``recency``, ``T``, indexed by ``customer_id``.
        t : float
            Horizon, in the model's time unit.

        Returns
        -------
        pandas.Series
            ``expected_purchases`` (>= 0), indexed by customer.
        """
        t = check_time(t)
        x, tx, big_t = self._data(data, "expected_purchases")
        value = np.maximum(self._expected(t, x, tx, big_t), 0.0)
        return self._series(value, data, "expected_purchases")

    def expected_purchases_new_customer(self, t: Any) -> float | np.ndarray:
        """Return the expected repeat purchases of a new customer in ``(0, t]``.

        FHL (2005) eq. 9 (Batislam et al. 2007 for MBG/NBD).

        Parameters
        ----------
        t : float or array-like
            Time(s) since the first purchase, in the model's time unit.

        Returns
        -------
        float or numpy.ndarray
        """
        t = np.asarray(check_time(t), dtype=float)
        zero = np.zeros_like(t)
        return as_float(np.maximum(self._expected(t, zero, zero, zero), 0.0))

    def probability_of_purchases(self, n: Any, t: Any) -> float | np.ndarray:
        """Probability that a new customer makes exactly ``n`` repeat purchases in ``(0, t]``.

        FHL (2005) eq. 8 (Batislam et al. 2007 for MBG/NBD); the finite sum is the
        negative-binomial survival function, computed with the regularised incomplete beta.

        Parameters
        ----------
        n : int or array-like of int
            Number(s) of repeat purchases.
        t : float or array-like
            Time(s) since the first purchase, in the model's time unit.

        Returns
        -------
        float or numpy.ndarray
            Probabilities, broadcast over ``n`` and ``t``.
        """
        n = check_counts(n)
        t = np.asarray(check_time(t), dtype=float)
        r, alpha, a, b = self._params()
        k = self._shift
        n, t = np.broadcast_arrays(n, t)
        log_pmf = (
            gammaln(r + n) - gammaln(r) - gammaln(n + 1)
            + r * (np.log(alpha) - np.log(alpha + t))
            + np.where(n > 0, n * (np.log(np.where(t > 0, t, 1.0)) - np.log(alpha + t)), 0.0)
        )  # fmt: skip
        log_pmf = np.where((t == 0) & (n > 0), -np.inf, log_pmf)
        first = np.exp(betaln(a, b + n + k) - betaln(a, b) + log_pmf)
        has_second = (n > 0) | bool(k)
        tail = np.where(n > 0, betainc(np.maximum(n, 1.0), r, t / (alpha + t)), 1.0)
        second = np.where(
            has_second,
            np.exp(betaln(a + 1, np.where(has_second, b + n + k - 1, 1.0)) - betaln(a, b)) * tail,
            0.0,
        )
        return as_float(np.clip(first + second, 0.0, 1.0))


class BetaGeoModel(_BetaGeoFamily):
    """BG/NBD model of repeat purchasing and dropout (Fader, Hardie & Lee 2005).

    While active, a customer buys as a Poisson process with rate ``lambda ~ Gamma(r,
    alpha)``; after each repeat purchase they drop out with probability ``p ~ Beta(a, b)``.
    The likelihood is FHL (2005) eq. 6; it is maximised over log-parameters with the
    analytic gradient, on identical rows compressed with weights.

    Required columns: ``frequency`` (number of repeat purchases), ``recency`` (time from
    first to last purchase) and ``T`` (time from first purchase to the end of observation),
    indexed by ``customer_id``, all in one time unit.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty ``penalizer * sum(params ** 2)`` added to the mean negative
        log-likelihood (as in lifetimes); try 0.001 when a fit does not converge.
    tol : float, default 1e-10
        Gradient tolerance of the optimiser.
    maxiter : int, default 2000
        Maximum optimiser iterations.
    initial_params : dict, optional
        Starting values, e.g. ``{"r": 1, "alpha": 5, "a": 1, "b": 1}``.

    Attributes
    ----------
    r_, alpha_, a_, b_ : float
        Fitted parameters.
    params_ : pandas.Series
        The same, by name.
    summary_ : pandas.DataFrame
        ``estimate``, ``std_error`` (inverse Hessian), ``lower_95``, ``upper_95``; the
        interval is the delta-method interval on the log scale the fit works on,
        ``exp(log theta +- 1.96 se / theta)``. :meth:`summary` gives other levels.
    health_ : ModelHealth
        ``converged``, ``at_boundary`` (e.g. ``["b"]`` when there is no evidence of
        dropout), ``finite_standard_errors``, ``ok`` and plain-English ``problems``.
    covariance_ : pandas.DataFrame
        Asymptotic covariance of the estimates.
    log_likelihood_ : float
        Total log-likelihood at the optimum (FHL 2005 report -9582.4 on CDNOW).
    n_customers_ : int
        Customers the model was fitted on.
    time_unit_ : str or None
        Time unit of ``recency`` and ``T`` ("D", "W" or "M").

    Notes
    -----
    P(alive) is exactly 1 for customers without a repeat purchase; use
    :meth:`probability_no_purchase` as the churn probability.

    Examples
    --------
    >>> from churnlab.datasets import load_cdnow
    >>> model = BetaGeoModel().fit(load_cdnow("summary"), time_unit="W")  # doctest: +SKIP
    >>> model.expected_purchases(summary, t=39)  # doctest: +SKIP
    """

    _shift = 0

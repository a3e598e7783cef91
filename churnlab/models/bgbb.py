"""BG/BB: the beta-geometric/beta-binomial model of discrete-time, noncontractual purchasing.

Reference: P. S. Fader, B. G. S. Hardie and J. Shang (2010), "Customer-Base Analysis in a
Discrete-Time Noncontractual Setting", *Marketing Science* 29(6), 1086-1108 (FHS 2010).

At each of ``n`` transaction opportunities (a yearly donation drive, an annual event, a
weekly visit) a customer who is alive transacts with probability ``p``; before each
opportunity after the first, an alive customer dies with probability ``theta``. Across
customers ``p ~ Beta(alpha, beta)`` and ``theta ~ Beta(gamma, delta)``. A customer's history
is summarised by ``x`` (transactions after the first), ``t_x`` (the opportunity of the last
one, 0 if none) and ``n`` (opportunities observed); the likelihood depends on nothing else.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from churnlab import config
from churnlab.exceptions import ConfigError, DataValidationError
from churnlab.models._base import BaseModel, as_float, compress_rows, unique_inverse
from churnlab.models._bgbb_terms import (
    dig_terms,
    group,
    log_beta_ratio,
    log_choose,
    log_terms,
    validate_discrete,
)
from churnlab.models._special import discounted_beta_sum
from churnlab.models._validation import customer_index, resolve_time_unit

__all__ = ["BetaGeoBetaBinomModel"]


class BetaGeoBetaBinomModel(BaseModel):
    """BG/BB model of repeat transactions at discrete opportunities (FHS 2010).

    Required columns of the summary (one row per customer, the column contract of
    :mod:`churnlab.config`):

    * ``frequency`` -- ``x``, transactions at opportunities 1..n (the first, at 0, excluded);
    * ``recency`` -- ``t_x``, the opportunity of the last transaction (0 if ``x = 0``);
    * ``T`` -- ``n``, the number of opportunities observed.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty ``penalizer * sum(params ** 2)`` on the mean negative log-likelihood.
    tol : float, default 1e-10
        Gradient tolerance of the optimiser.
    maxiter : int, default 2000
        Maximum optimiser iterations.
    initial_params : dict, optional
        Starting values for ``alpha``, ``beta``, ``gamma``, ``delta``.

    Attributes
    ----------
    alpha_, beta_, gamma_, delta_ : float
        Fitted parameters: ``p ~ Beta(alpha, beta)``, ``theta ~ Beta(gamma, delta)``.
    params_, summary_, covariance_, log_likelihood_, health_, n_customers_, time_unit_
        As for :class:`~churnlab.models.BetaGeoModel`.

    Examples
    --------
    On the donations data of FHS (2010) the fit gives ``alpha 1.204, beta 0.750,
    gamma 0.657, delta 2.783`` and log-likelihood -33,225.58 (their Table 2).
    """

    _param_names = ("alpha", "beta", "gamma", "delta")
    _display_name = "purchase model (BG/BB)"
    required_columns: tuple[str, ...] = (config.FREQUENCY, config.RECENCY, config.T)

    def fit(
        self, summary: pd.DataFrame, *, weights: Any = None, time_unit: str | None = None
    ) -> BetaGeoBetaBinomModel:
        """Fit the model by maximum likelihood (FHS 2010, eq. 7).

        Parameters
        ----------
        summary : pandas.DataFrame
            ``frequency``, ``recency`` and ``T`` per customer (see the class docstring), e.g.
            from :func:`churnlab.features.discrete_summary`.
        weights : str or array-like, optional
            How many customers each row stands for (a column name, or one number per row):
            for data already aggregated, as ``donations.csv``'s ``weights``.
        time_unit : str, optional
            Length of one opportunity, recorded in ``time_unit_`` (``summary.attrs`` wins).

        Returns
        -------
        self

        Raises
        ------
        DataValidationError
            If the summary is malformed, has no repeat transaction, or the weights are bad.
        """
        where = f"{type(self).__name__}.fit"
        x, tx, n = validate_discrete(summary, where=where, require_repeat=True)
        w = self._weights(summary, weights, where=where)
        attr = summary.attrs.get("time_unit")
        if attr is None and time_unit is None:
            self.time_unit_ = None
        elif attr in config.TIME_UNIT_DAYS or time_unit in config.TIME_UNIT_DAYS:
            self.time_unit_ = resolve_time_unit(summary, time_unit, where=where)
        else:
            self.time_unit_ = attr if attr is not None else time_unit
        (ux, utx, un), key = group(x, tx, n)
        counts = np.bincount(key, weights=w, minlength=ux.size)
        keep = counts > 0
        self.max_T_ = float(np.max(n))
        self._fit_columns(
            (ux[keep], utx[keep], un[keep]), counts[keep], n_customers=round(float(w.sum()))
        )
        return self

    @staticmethod
    def _weights(summary: pd.DataFrame, weights: Any, *, where: str) -> np.ndarray:
        if weights is None:
            return np.ones(len(summary))
        if isinstance(weights, str):
            if weights not in summary.columns:
                raise DataValidationError(
                    f"{where}: weights={weights!r} is not a column of the summary (columns: "
                    f"{list(summary.columns)[:8]}). Pass an existing column name or an array."
                )
            weights = summary[weights]
        w = np.asarray(weights, dtype=float).ravel()
        if w.size != len(summary) or not np.all(np.isfinite(w) & (w >= 0)) or w.sum() <= 0:
            raise DataValidationError(
                f"{where}: weights must be one finite number >= 0 per row ({len(summary)} rows) "
                f"with a positive total; got {w.size} value(s), e.g. {w[:5].tolist()}."
            )
        return w

    def _columns_for_loglik(self, data: Any) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
        x, tx, n = validate_discrete(data, where=f"{type(self).__name__}.log_likelihood")
        return compress_rows(x, tx, n)

    # ------------------------------------------------------------- likelihood
    @staticmethod
    def _prepare(columns: tuple[np.ndarray, ...]) -> dict[str, np.ndarray]:
        """Integer indices of the alive term and the ragged dead terms of every row.

        Row ``r`` has one alive term and ``n - t_x`` dead terms (died before opportunity
        ``t_x + i + 1``, ``i = 0..n - t_x - 1``); the dead terms are stored flat with their row.
        """
        x, tx, n = (np.asarray(c, dtype=np.int64) for c in columns)
        k = n - tx
        row = np.repeat(np.arange(x.size), k)
        start = np.repeat(np.cumsum(k) - k, k)
        i = np.arange(row.size) - start
        return {
            "x": x, "n": n, "row": row, "dx": x[row],
            "db": tx[row] - x[row] + i, "dd": tx[row] + i,
            "top": int(n.max() + 2) if n.size else 2,
        }  # fmt: skip

    @staticmethod
    def _loglik(params: np.ndarray, prep: Any) -> tuple[np.ndarray, np.ndarray]:
        """Per-row ``log L(alpha, beta, gamma, delta | x, t_x, n)`` (FHS 2010, eq. 7), gradient."""
        x, n, row, dx, db, dd = (prep[k] for k in ("x", "n", "row", "dx", "db", "dd"))
        lr = log_terms(params, prep["top"])
        alive = log_beta_ratio(lr, x, n - x, dropout=False) + log_beta_ratio(lr, 0, n, dropout=True)
        dead = log_beta_ratio(lr, dx, db, dropout=False) + log_beta_ratio(lr, 1, dd, dropout=True)
        rows = x.size
        shift = alive.copy()
        if row.size:
            np.maximum.at(shift, row, dead)
        e_alive = np.exp(alive - shift)
        e_dead = np.exp(dead - shift[row])
        total = e_alive + np.bincount(row, weights=e_dead, minlength=rows)
        ll = shift + np.log(total)
        dg = dig_terms(params, prep["top"])
        da, db_, dab, dg_, dd_, dgd = dg
        grad_alive = np.stack(
            [
                da[x] - dab[n],
                db_[n - x] - dab[n],
                -dgd[n],
                dd_[n] - dgd[n],
            ],
            axis=1,
        )
        grad_dead = np.stack(
            [
                da[dx] - dab[dx + db],
                db_[db] - dab[dx + db],
                dg_[1] - dgd[1 + dd],
                dd_[dd] - dgd[1 + dd],
            ],
            axis=1,
        )
        share_alive = e_alive / total
        share_dead = e_dead / total[row]
        grad = share_alive[:, None] * grad_alive
        for j in range(4):
            grad[:, j] += np.bincount(row, weights=share_dead * grad_dead[:, j], minlength=rows)
        return ll, grad

    def _initial_params(self, columns: tuple[np.ndarray, ...], weights: np.ndarray) -> np.ndarray:
        return np.ones(4)

    # ------------------------------------------------------------ predictions
    def _arrays(self, data: pd.DataFrame, method: str) -> tuple[np.ndarray, ...]:
        self._check_fitted()
        return validate_discrete(data, where=f"{type(self).__name__}.{method}")

    def _row_loglik(self, x: np.ndarray, tx: np.ndarray, n: np.ndarray) -> np.ndarray:
        (ux, utx, un), key = group(x, tx, n)
        ll, _ = self._loglik(np.array(self._params()), self._prepare((ux, utx, un)))
        return ll[key]

    @staticmethod
    def _periods(t: Any, name: str = "t") -> int:
        value = np.asarray(t, dtype=float)
        if value.ndim != 0 or not np.isfinite(value) or value < 0 or value != np.round(value):
            raise ConfigError(
                f"{name} must be a whole number of transaction opportunities >= 0, got {t!r}; "
                f"e.g. {name}=5 for the next five."
            )
        return int(value)

    def _log_alive_sum(self, n: np.ndarray, t: int) -> np.ndarray:
        """``log sum_{j=1..t} B(gamma, delta + n + j) / B(gamma, delta)`` per row (t >= 1)."""
        un, inv = unique_inverse(n)
        lr = log_terms(np.array(self._params()), int(un.max()) + t + 2)
        j = np.arange(1, t + 1)
        idx = un.astype(np.int64)[:, None] + j[None, :]
        return logsumexp(log_beta_ratio(lr, 0, idx, dropout=True), axis=1)[inv]

    def _series(self, values: np.ndarray, data: pd.DataFrame, name: str) -> pd.Series:
        return pd.Series(values, index=customer_index(data), name=name)

    def probability_alive(self, data: pd.DataFrame, t: int = 0) -> pd.Series:
        """P(alive at opportunity ``n + t``) given ``x``, ``t_x`` and ``n`` (FHS 2010, eq. 11).

        ``t = 1`` is the paper's "P(alive in period n + 1)"; ``t = 0`` is P(still alive at the
        last opportunity observed).

        Parameters
        ----------
        data : pandas.DataFrame
            ``frequency``, ``recency`` and ``T`` per customer.
        t : int, default 0
            Opportunities ahead.

        Returns
        -------
        pandas.Series
            Named ``p_alive``, indexed by customer.
        """
        x, tx, n = self._arrays(data, "probability_alive")
        t = self._periods(t)
        lr = log_terms(np.array(self._params()), int(n.max()) + t + 2)
        xi, ni = x.astype(np.int64), n.astype(np.int64)
        alive = log_beta_ratio(lr, xi, ni - xi, dropout=False) + log_beta_ratio(
            lr, 0, ni + t, dropout=True
        )
        p = np.exp(alive - self._row_loglik(x, tx, n))
        return self._series(np.clip(p, 0.0, 1.0), data, "p_alive")

    def probability_no_purchase(self, data: pd.DataFrame, t: int) -> pd.Series:
        """P(no transaction at opportunities ``n + 1 .. n + t``) given the history.

        The extended history ``(x, t_x, n + t)`` is the observed one followed by ``t``
        opportunities without a transaction, so the probability is
        ``L(x, t_x, n + t) / L(x, t_x, n)`` (FHS 2010, eq. 7).

        Parameters
        ----------
        data : pandas.DataFrame
            ``frequency``, ``recency`` and ``T`` per customer.
        t : int
            Opportunities ahead.

        Returns
        -------
        pandas.Series
            Named ``p_no_purchase``, indexed by customer.
        """
        x, tx, n = self._arrays(data, "probability_no_purchase")
        t = self._periods(t)
        p = np.exp(self._row_loglik(x, tx, n + t) - self._row_loglik(x, tx, n))
        return self._series(np.clip(p, 0.0, 1.0), data, "p_no_purchase")

    def expected_purchases(self, data: pd.DataFrame, t: int) -> pd.Series:
        """Return the expected transactions at the next ``t`` opportunities (FHS 2010, eq. 13).

        Evaluated as ``B(alpha + x + 1, beta + n - x) / B(alpha, beta) / L *
        sum_{j=1..t} B(gamma, delta + n + j) / B(gamma, delta)``, the sum the paper's closed
        form comes from, in log space: exact also at ``gamma = 1``, where the closed form
        divides 0 by 0.

        Parameters
        ----------
        data : pandas.DataFrame
            ``frequency``, ``recency`` and ``T`` per customer.
        t : int
            Opportunities ahead.

        Returns
        -------
        pandas.Series
            Named ``expected_purchases``, indexed by customer.
        """
        x, tx, n = self._arrays(data, "expected_purchases")
        t = self._periods(t)
        if t == 0:
            return self._series(np.zeros(x.size), data, "expected_purchases")
        lr = log_terms(np.array(self._params()), int(n.max()) + 2)
        xi, ni = x.astype(np.int64), n.astype(np.int64)
        buy = log_beta_ratio(lr, xi + 1, ni - xi, dropout=False)
        value = np.exp(buy + self._log_alive_sum(n, t) - self._row_loglik(x, tx, n))
        return self._series(value, data, "expected_purchases")

    def expected_purchases_new_customer(self, t: Any) -> float:
        """Return a new customer's expected transactions in opportunities 1..``t`` (FHS eq. 9).

        ``alpha / (alpha + beta) * sum_{j=1..t} B(gamma, delta + j) / B(gamma, delta)``.

        Parameters
        ----------
        t : int
            Opportunities.

        Returns
        -------
        float
        """
        alpha, beta, _, _ = self._params()
        t = self._periods(t)
        if t == 0:
            return 0.0
        return float(alpha / (alpha + beta) * np.exp(self._log_alive_sum(np.zeros(1), t)[0]))

    def probability_of_purchases(self, k: Any, t: Any) -> float | np.ndarray:
        """P(a new customer makes exactly ``k`` transactions at opportunities 1..``t``).

        FHS (2010), eq. 8: ``C(t, k) B(alpha + k, beta + t - k) / B(alpha, beta)
        B(gamma, delta + t) / B(gamma, delta) + sum_{i=k}^{t-1} C(i, k) B(alpha + k,
        beta + i - k) / B(alpha, beta) B(gamma + 1, delta + i) / B(gamma, delta)``.

        Parameters
        ----------
        k : int or array-like
            Number of transactions, ``0 <= k <= t``.
        t : int
            Opportunities.

        Returns
        -------
        float or numpy.ndarray
        """
        t = self._periods(t)
        ks = np.atleast_1d(np.asarray(k, dtype=float))
        if np.any((ks != np.round(ks)) | (ks < 0) | (ks > t)):
            raise ConfigError(
                f"k must be whole numbers of transactions between 0 and t={t}, got {k!r}."
            )
        lr = log_terms(np.array(self._params()), t + 2)
        out = np.empty(ks.size)
        for pos, kk in enumerate(ks.astype(np.int64)):
            i = np.arange(kk, t)
            terms = [
                log_choose(t, kk)
                + log_beta_ratio(lr, kk, t - kk, dropout=False)
                + log_beta_ratio(lr, 0, t, dropout=True)
            ]
            if i.size:
                terms.extend(
                    log_choose(i, kk)
                    + log_beta_ratio(lr, kk, i - kk, dropout=False)
                    + log_beta_ratio(lr, 1, i, dropout=True)
                )
            out[pos] = np.exp(logsumexp(terms))
        return as_float(out.reshape(np.shape(k)))

    def dert(self, data: pd.DataFrame, discount_rate: float) -> pd.Series:
        """Discounted expected residual transactions per customer (FHS 2010, eq. 14).

        ``DERT = B(alpha + x + 1, beta + n - x) / B(alpha, beta) * B(gamma, delta + n + 1) /
        (B(gamma, delta) (1 + d)) * 2F1(1, delta + n + 1; gamma + delta + n + 1; 1 / (1 + d))
        / L``: the transactions from opportunity ``n + 1`` on, each discounted by
        ``(1 + d)`` per opportunity. The hypergeometric function is evaluated as Euler's
        integral (stable for small ``d``). Multiply by the value of one transaction.

        Parameters
        ----------
        data : pandas.DataFrame
            ``frequency``, ``recency`` and ``T`` per customer.
        discount_rate : float
            Discount rate per opportunity, ``d > 0`` (e.g. 0.1).

        Returns
        -------
        pandas.Series
            Named ``dert``, indexed by customer.
        """
        x, tx, n = self._arrays(data, "dert")
        if not (isinstance(discount_rate, int | float) and np.isfinite(discount_rate)) or (
            discount_rate <= 0
        ):
            raise ConfigError(
                f"discount_rate must be > 0 per opportunity, got {discount_rate!r}; e.g. 0.1."
            )
        _, _, gamma, delta = self._params()
        d = float(discount_rate)
        lr = log_terms(np.array(self._params()), int(n.max()) + 3)
        xi, ni = x.astype(np.int64), n.astype(np.int64)
        un, inv = unique_inverse(n)
        hyp = np.array([discounted_beta_sum(gamma, delta + v + 1, d) for v in un])[inv]
        log_value = (
            log_beta_ratio(lr, xi + 1, ni - xi, dropout=False)
            + log_beta_ratio(lr, 0, ni + 1, dropout=True)
            - np.log1p(d)
            + np.log(hyp)
            - self._row_loglik(x, tx, n)
        )
        return self._series(np.exp(log_value), data, "dert")

"""Static (time-invariant) covariates for the BG/NBD and Pareto/NBD models: shared machinery.

Each customer's gamma and beta parameters are scaled by ``exp(gamma' z)`` with the
customer's own covariates ``z`` (Fader & Hardie 2007, "Incorporating Time-Invariant
Covariates into the Pareto/NBD and BG/NBD Models", http://brucehardie.com/notes/019/). The
parameterisation is CLVTools' (``pnbd_staticcov_*``, ``bgnbd_staticcov_*`` in its
``src/``), so estimates can be compared with ``pnbd(..., names.cov.trans, names.cov.life)``:

* purchase process: ``alpha_i = alpha_0 exp(-gamma_p' z_p)`` (a positive coefficient
  raises the mean purchase rate ``r / alpha_i`` by ``exp(gamma_p)`` per unit of ``z_p``);
* dropout, Pareto/NBD: ``beta_i = beta_0 exp(-gamma_d' z_d)`` (positive: higher dropout
  rate ``s / beta_i``);
* dropout, BG/NBD: ``a_i = a_0 exp(gamma_d' z_d)`` and ``b_i = b_0 exp(gamma_d' z_d)`` (one
  coefficient scales both, so the mean dropout probability ``a / (a + b)`` is unchanged and a
  positive coefficient makes customers more alike in it).

This module holds what both models share: the per-customer parameter map, maximum
likelihood over ``(log base parameters, coefficients)`` with the analytic gradient (chain
rule through the per-customer parameters), standard errors from the inverse Hessian (central
differences of that gradient), ``coefficients_``, ``summary_`` and ``health_`` (covariate
validation and the tables are in :mod:`churnlab.models._covariate_data`). There is no row
compression: every customer has their own parameters.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import optimize
from sklearn.base import BaseEstimator
from threadpoolctl import threadpool_limits

from churnlab.exceptions import ConfigError, ConvergenceWarning
from churnlab.models._base import TransactionModel
from churnlab.models._covariate_data import (
    coefficient_table,
    covariate_health,
    covariate_matrix,
    parameter_table,
)
from churnlab.models._validation import customer_index, resolve_time_unit, validate_rfm

__all__ = ["CovariateModel", "covariate_matrix"]

PURCHASE, DROPOUT = "purchase", "dropout"


class CovariateModel(BaseEstimator):
    """Base class of the static-covariate transaction models (not used directly).

    Subclasses set ``_base_names``, ``_scaled`` (``{base name: (process, sign)}``: the
    per-customer value is ``base * exp(sign * z_process @ gamma_process)``), ``_plain``
    (the no-covariate model class, whose fit gives the starting values) and implement
    ``_row_loglik(values, x, tx, T)``: per-customer log-likelihood and its gradient in the
    per-customer natural parameters.
    """

    _base_names: tuple[str, ...] = ()
    _scaled: ClassVar[dict[str, tuple[str, int]]] = {}
    _plain: type[TransactionModel] = TransactionModel
    _display_name = "purchase model with covariates"

    def __init__(self, *, penalizer: float = 0.0, tol: float = 1e-8, maxiter: int = 3000) -> None:
        self.penalizer = penalizer
        self.tol = tol
        self.maxiter = maxiter

    # ----------------------------------------------------------------- hooks
    def _row_loglik(
        self, values: dict[str, np.ndarray], x: np.ndarray, tx: np.ndarray, big_t: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    # ---------------------------------------------------------- parameters
    @property
    def _names(self) -> list[str]:
        return [
            *self._base_names,
            *(f"{PURCHASE}:{c}" for c in self.purchase_covariates_),
            *(f"{DROPOUT}:{c}" for c in self.dropout_covariates_),
        ]

    def _floor(self) -> np.ndarray:
        """Lower bound per parameter: 0 for the (log-scale) base ones, -inf for coefficients."""
        k = len(self._base_names)
        n_coef = len(self.purchase_covariates_) + len(self.dropout_covariates_)
        return np.concatenate([np.zeros(k), np.full(n_coef, -np.inf)])

    def _split(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        k, kp = len(self._base_names), len(self.purchase_covariates_)
        return params[:k], params[k : k + kp], params[k + kp :]

    def _values(
        self, params: np.ndarray, z_p: np.ndarray, z_d: np.ndarray
    ) -> dict[str, np.ndarray | float]:
        """Per-customer parameters: ``base * exp(sign * z @ gamma)`` for the scaled ones."""
        base, g_p, g_d = self._split(np.asarray(params, dtype=float))
        lin = {PURCHASE: z_p @ g_p, DROPOUT: z_d @ g_d}
        out: dict[str, np.ndarray | float] = {}
        for name, value in zip(self._base_names, base, strict=True):
            if name in self._scaled:
                process, sign = self._scaled[name]
                out[name] = value * np.exp(sign * lin[process])
            else:
                out[name] = float(value)
        return out

    # ------------------------------------------------------------- fitting
    def _total(self, params: np.ndarray, rows: tuple[np.ndarray, ...]) -> tuple[float, np.ndarray]:
        """Total log-likelihood and its gradient in ``(log base, coefficients)``."""
        x, tx, big_t, z_p, z_d = rows
        values = self._values(params, z_p, z_d)
        ll, grad = self._row_loglik(values, x, tx, big_t)
        k = len(self._base_names)
        g_theta = np.zeros(params.size)
        g_proc = {PURCHASE: np.zeros(x.size), DROPOUT: np.zeros(x.size)}
        for j, name in enumerate(self._base_names):
            part = grad[:, j] * values[name]  # d ll / d log(per-customer value)
            g_theta[j] = part.sum()
            if name in self._scaled:
                process, sign = self._scaled[name]
                g_proc[process] += sign * part
        kp = len(self.purchase_covariates_)
        g_theta[k : k + kp] = z_p.T @ g_proc[PURCHASE]
        g_theta[k + kp :] = z_d.T @ g_proc[DROPOUT]
        return float(ll.sum()), g_theta

    def _theta_to_params(self, theta: np.ndarray) -> np.ndarray:
        k = len(self._base_names)
        return np.concatenate([np.exp(theta[:k]), theta[k:]])

    def _objective(self, theta: np.ndarray, rows: tuple[np.ndarray, ...]) -> tuple[float, Any]:
        n = rows[0].size
        k = len(self._base_names)
        params = self._theta_to_params(theta)
        with np.errstate(all="ignore"):
            ll, g = self._total(params, rows)
        g_theta = g  # the base part is already with respect to log(base), see _total
        coef = theta[k:]
        value = -ll / n + self.penalizer * float(coef @ coef)
        grad = -g_theta / n
        grad[k:] += 2 * self.penalizer * coef
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            return 1e100, np.zeros_like(theta)
        return float(value), grad

    def fit(
        self,
        summary: pd.DataFrame,
        covariates: pd.DataFrame | None = None,
        *,
        purchase_covariates: Sequence[str] = (),
        dropout_covariates: Sequence[str] = (),
        time_unit: str | None = None,
    ) -> CovariateModel:
        """Fit by maximum likelihood with per-customer parameters.

        Parameters
        ----------
        summary : pandas.DataFrame
            RFM summary with ``frequency``, ``recency`` and ``T``, one row per customer
            (:func:`churnlab.features.rfm_summary`); it may also hold the covariate columns.
        covariates : pandas.DataFrame, optional
            Covariates indexed by ``customer_id``; default: read them from ``summary``.
        purchase_covariates, dropout_covariates : sequence of str
            Columns acting on the purchase process and on dropout (a column may be in both).
        time_unit : {"D", "W", "M"}, optional
            Unit of ``recency`` and ``T`` when ``summary.attrs["time_unit"]`` is not set.

        Returns
        -------
        self
            With ``params_``, ``coefficients_``, ``summary_``, ``covariance_``,
            ``log_likelihood_``, ``health_``, ``n_customers_`` and ``time_unit_`` set.

        Raises
        ------
        DataValidationError
            If the summary or a covariate is malformed (missing, non-numeric, NaN, constant).
        ConfigError
            If ``penalizer`` is negative or not finite.
        """
        where = f"{type(self).__name__}.fit"
        if not (np.isfinite(self.penalizer) and self.penalizer >= 0):
            raise ConfigError(
                f"penalizer must be a finite number >= 0, got {self.penalizer!r}; "
                "try penalizer=0.01."
            )
        for label, cols in (("purchase", purchase_covariates), ("dropout", dropout_covariates)):
            if isinstance(cols, str) or len(set(cols)) != len(list(cols)):
                raise ConfigError(
                    f"{where}: {label}_covariates must be a list of distinct column names, got "
                    f"{cols!r}; e.g. {label}_covariates=['income', 'female']."
                )
        x, tx, big_t = validate_rfm(summary, where=where, require_repeat=True)
        self.time_unit_ = resolve_time_unit(summary, time_unit, where=where)
        self.purchase_covariates_ = [str(c) for c in purchase_covariates]
        self.dropout_covariates_ = [str(c) for c in dropout_covariates]
        z_p = covariate_matrix(
            summary, covariates, self.purchase_covariates_, where=where, check_constant=True
        )
        z_d = covariate_matrix(
            summary, covariates, self.dropout_covariates_, where=where, check_constant=True
        )
        rows = (x, tx, big_t, z_p, z_d)
        with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            plain = self._plain().fit(pd.DataFrame({"frequency": x, "recency": tx, "T": big_t}))
        start = np.concatenate(
            [np.log(plain.params_.to_numpy()), np.zeros(z_p.shape[1] + z_d.shape[1])]
        )
        res = optimize.minimize(
            self._objective, start, args=(rows,), jac=True, method="L-BFGS-B",
            options={"maxiter": self.maxiter, "ftol": 1e-15, "gtol": self.tol},
        )  # fmt: skip
        if not res.success or np.max(np.abs(res.jac)) > 1e-6:
            res2 = optimize.minimize(
                self._objective, res.x, args=(rows,), jac=True, method="BFGS",
                options={"maxiter": self.maxiter, "gtol": self.tol},
            )  # fmt: skip
            if res2.fun <= res.fun:
                res = res2
        grad_norm = float(np.max(np.abs(res.jac)))
        self.converged_ = bool(np.isfinite(res.fun) and res.fun < 1e99 and grad_norm < 1e-4)
        if not self.converged_:
            warnings.warn(
                f"{where} did not converge ({res.message}; largest gradient {grad_norm:.2g}). "
                "Rescale covariates (e.g. standardise them), try penalizer=0.01 or drop "
                "covariates.",
                ConvergenceWarning,
                stacklevel=2,
            )
        params = self._theta_to_params(res.x)
        names = self._names
        self.params_ = pd.Series(params, index=names, name="estimate")
        for name, value in zip(self._base_names, params, strict=False):
            setattr(self, f"{name}_", float(value))
        self.n_customers_ = int(x.size)
        self.log_likelihood_ = self._total(params, rows)[0]
        self.theta_at_bound_ = [
            n for n, v in zip(self._base_names, res.x, strict=False) if abs(v) > 29.0
        ]
        self.covariance_ = self._covariance(res.x, rows)
        self.summary_ = self._make_summary(0.95)
        self.coefficients_ = self._coefficient_table(0.95)
        self._set_health()
        return self

    def _covariance(self, theta: np.ndarray, rows: tuple[np.ndarray, ...]) -> pd.DataFrame:
        """Inverse Hessian of the total penalised NLL, mapped to the natural scale (delta).

        The Hessian is taken by forward differences of the analytic gradient (step 1e-6 on the
        fitting scale: ``k + 1`` gradient evaluations, relative error ~1e-5 on the standard
        errors), then symmetrised.
        """
        n = rows[0].size
        k = theta.size
        g0 = self._objective(theta, rows)[1]
        hess = np.empty((k, k))
        for j in range(k):
            up = theta.copy()
            up[j] += 1e-6
            hess[:, j] = (self._objective(up, rows)[1] - g0) / 1e-6
        hess = n * (hess + hess.T) / 2
        names = self._names
        try:
            cov_theta = np.linalg.inv(hess)
            ok = np.all(np.isfinite(cov_theta)) and np.all(np.diag(cov_theta) > 0)
        except np.linalg.LinAlgError:
            ok = False
        if not ok:
            warnings.warn(
                f"{type(self).__name__}: the Hessian at the optimum is singular or not positive "
                "definite, so standard errors are undefined (NaN). Check for covariates that "
                "are (nearly) collinear, or try penalizer=0.01.",
                ConvergenceWarning,
                stacklevel=3,
            )
            return pd.DataFrame(np.full((k, k), np.nan), index=names, columns=names)
        jac = np.ones(k)
        jac[: len(self._base_names)] = np.exp(theta[: len(self._base_names)])
        return pd.DataFrame(cov_theta * np.outer(jac, jac), index=names, columns=names)

    # ------------------------------------------------------------- tables
    def _make_summary(self, level: float) -> pd.DataFrame:
        se = np.sqrt(np.diag(self.covariance_.to_numpy()))
        return parameter_table(self.params_, se, len(self._base_names), level)

    def _coefficient_table(self, level: float) -> pd.DataFrame:
        return coefficient_table(self._make_summary(level).iloc[len(self._base_names) :])

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Estimates, standard errors and ``level`` intervals of every parameter.

        Base parameters get the delta-method interval on the log scale (always positive);
        covariate coefficients ``estimate +- z se``.

        Parameters
        ----------
        level : float, default 0.95
            Coverage, strictly between 0 and 1.

        Returns
        -------
        pandas.DataFrame
            ``estimate``, ``std_error``, ``lower_<level>``, ``upper_<level>`` per parameter.
        """
        self._check_fitted()
        if not (isinstance(level, int | float) and 0 < level < 1):
            raise ConfigError(f"level must be strictly between 0 and 1 (e.g. 0.9), got {level!r}.")
        return self._make_summary(float(level))

    def _set_health(self) -> None:
        se = np.sqrt(np.diag(self.covariance_.to_numpy()))
        self.health_ = covariate_health(
            self._display_name, self.converged_, self.theta_at_bound_, bool(np.all(np.isfinite(se)))
        )

    # ---------------------------------------------------------- prediction
    def _check_fitted(self) -> None:
        TransactionModel._check_fitted(self)  # type: ignore[arg-type]

    def _design(
        self, data: pd.DataFrame, covariates: pd.DataFrame | None, method: str
    ) -> tuple[np.ndarray, ...]:
        """Return validated ``x, tx, T`` and the purchase and dropout covariate matrices."""
        self._check_fitted()
        where = f"{type(self).__name__}.{method}"
        x, tx, big_t = validate_rfm(data, where=where)
        z_p = covariate_matrix(data, covariates, self.purchase_covariates_, where=where)
        z_d = covariate_matrix(data, covariates, self.dropout_covariates_, where=where)
        return x, tx, big_t, z_p, z_d

    def _rows(
        self, data: pd.DataFrame, covariates: pd.DataFrame | None, method: str
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray | float]]:
        """Return validated ``x, tx, T`` and each customer's parameters at ``params_``."""
        x, tx, big_t, z_p, z_d = self._design(data, covariates, method)
        values = self._values(self.params_.to_numpy(), z_p, z_d)
        return x, tx, big_t, {k: np.broadcast_to(v, x.shape) for k, v in values.items()}

    def customer_params(
        self, data: pd.DataFrame, covariates: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Each customer's model parameters after scaling by their covariates.

        Parameters
        ----------
        data : pandas.DataFrame
            Customers (with the covariate columns unless ``covariates`` is given).
        covariates : pandas.DataFrame, optional
            Covariates indexed by ``customer_id``.

        Returns
        -------
        pandas.DataFrame
            One column per base parameter (e.g. ``r``, ``alpha``, ``a``, ``b``), by customer.
        """
        *_, values = self._rows(data, covariates, "customer_params")
        return pd.DataFrame(values, index=customer_index(data))

    def log_likelihood(
        self,
        data: pd.DataFrame,
        covariates: pd.DataFrame | None = None,
        *,
        params: dict[str, float] | None = None,
    ) -> float:
        """Total log-likelihood of ``data`` at the fitted parameters, or at ``params``.

        Parameters
        ----------
        data : pandas.DataFrame
            RFM summary (with covariate columns unless ``covariates`` is given).
        covariates : pandas.DataFrame, optional
            Covariates indexed by ``customer_id``.
        params : dict, optional
            Every parameter by name (as in ``params_``); default the fitted ones.

        Returns
        -------
        float
        """
        self._check_fitted()
        values = self.params_.to_numpy()
        if params is not None:
            names = self._names
            if set(params) != set(names):
                raise ConfigError(
                    f"params must give exactly the parameters {names}; got {sorted(params)}."
                )
            values = np.array([float(params[n]) for n in names])
            if not np.all(np.isfinite(values) & (values > self._floor())):
                raise ConfigError(f"params must be finite, base parameters positive; got {params}.")
        return self._total(values, self._design(data, covariates, "log_likelihood"))[0]

    def _series(self, values: np.ndarray, data: pd.DataFrame, name: str) -> pd.Series:
        return pd.Series(values, index=customer_index(data), name=name)

    # -------------------------------------------------------------- display
    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        base = super().__repr__(N_CHAR_MAX)
        if not hasattr(self, "params_"):
            return f"{base}, not fitted"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return (
            f"{base}, fitted on {self.n_customers_:,} customers: {shown}, "
            f"log-likelihood {self.log_likelihood_:.2f}"
        )

    def _repr_html_(self) -> str:
        title = html.escape(super().__repr__())
        if not hasattr(self, "params_"):
            return f"<div><strong>{title}</strong>: not fitted</div>"
        return (
            f"<div><strong>{title}</strong>: fitted on {self.n_customers_:,} customers, "
            f"log-likelihood {self.log_likelihood_:.2f}"
            f"{self.summary_.to_html(float_format=lambda v: f'{v:.4g}')}</div>"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return {"text/plain": repr(self), "text/html": self._repr_html_()}

"""Shared maximum-likelihood machinery for churnlab's probability models.

Every model module only states its parameters, its per-row log-likelihood with
the analytic gradient, and its predictions. This module does the rest, once:

* validation of the RFM summary (column contract, negative values, recency > T, ...),
  delegated to :mod:`churnlab.models._validation`;
* compression of identical ``(frequency, recency, T)`` rows into unique rows with
  weights, so a million customers fit in about a second;
* minimisation of the weighted mean negative log-likelihood over log-parameters with
  L-BFGS-B and the analytic gradient, with an optional L2 ``penalizer`` on the
  parameters (``penalizer * sum(params ** 2)``, as in lifetimes);
* standard errors from the inverse Hessian of the total negative log-likelihood at the
  optimum (central differences of the analytic gradient);
* the fitted attributes (``params_``, ``summary_``, ``covariance_``, ...), ``__repr__``
  and ``_repr_html_``.
"""

from __future__ import annotations

import functools
import html
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import digamma, gammaln, hyp2f1, ndtri
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import ThreadpoolController

from churnlab import config
from churnlab.exceptions import ConfigError, ConvergenceWarning, ModelNotFittedError
from churnlab.models._validation import customer_index, resolve_time_unit, validate_rfm

#: ``loglik(params, columns) -> (ll, grad)``: per-row log-likelihood (n,) and its
#: gradient with respect to the natural parameters (n, k).
LogLik = Callable[[np.ndarray, tuple[np.ndarray, ...]], tuple[np.ndarray, np.ndarray]]

_Z95 = 1.959963984540054


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """One threadpool controller per process (finding the BLAS libraries takes ~40 ms)."""
    return ThreadpoolController()


def row_codes(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return where each distinct row first appears, and every row's number among them.

    Distinct rows are numbered in order of first appearance. Hash-based
    (``pandas.factorize`` per column, then on the combined codes), so it is linear in
    the number of rows. NaN is a value like any other.

    Parameters
    ----------
    *columns : numpy.ndarray
        Equal-length numeric columns, e.g. frequency, recency and T.

    Returns
    -------
    first : numpy.ndarray
        Position of each distinct row's first appearance, in increasing order.
    inverse : numpy.ndarray
        Each input row's number among the distinct rows.
    """
    arrays = [np.asarray(c, dtype=float).ravel() for c in columns]
    factorized = [pd.factorize(arr, use_na_sentinel=False) for arr in arrays]
    sizes = [len(uniques) for _, uniques in factorized]
    if float(np.prod(np.asarray(sizes, dtype=float))) < 2.0**62:
        # One mixed-radix key of the per-column codes, factorized once.
        key = np.zeros(arrays[0].shape[0], dtype=np.int64)
        for (codes, _), size in zip(factorized, sizes, strict=True):
            key = key * np.int64(size) + codes
        key, _ = pd.factorize(key)
    else:
        key = np.zeros(arrays[0].shape[0], dtype=np.int64)
        for codes, uniques in factorized:
            key, _ = pd.factorize(key * np.int64(len(uniques)) + codes)
    # factorize numbers rows in order of first appearance: new codes raise the running max.
    running = np.maximum.accumulate(key) if key.size else key
    first = np.flatnonzero(np.concatenate([[True], running[1:] > running[:-1]])[: key.size])
    return first, key


def unique_rows(*columns: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Distinct rows of equal-length columns and each input row's index among them.

    Distinct rows are numbered in order of first appearance (:func:`row_codes`).

    Parameters
    ----------
    *columns : numpy.ndarray
        Equal-length float columns, e.g. frequency, recency and T.

    Returns
    -------
    unique_columns : tuple of numpy.ndarray
        The columns of the distinct rows.
    inverse : numpy.ndarray
        ``unique_columns[j][inverse] == columns[j]``.
    """
    arrays = [np.asarray(c, dtype=float).ravel() for c in columns]
    first, key = row_codes(*arrays)
    return tuple(arr[first] for arr in arrays), key


def on_unique_rows(function: Any, *columns: np.ndarray) -> np.ndarray:
    """Evaluate ``function`` once per distinct row of ``columns`` and gather the result.

    Customers share few distinct ``(frequency, recency, T)`` rows (a million weekly
    summaries hold about 120,000), so costly per-row formulas (the Pareto/NBD
    integral) run on the distinct rows only.

    Parameters
    ----------
    function : callable
        Takes the columns and returns one value per row.
    *columns : numpy.ndarray
        Equal-length float columns.

    Returns
    -------
    numpy.ndarray
        ``function(*columns)``, row for row.
    """
    unique, key = unique_rows(*columns)
    return np.asarray(function(*unique))[key]


def compress_rows(*columns: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Collapse identical rows into unique rows and their counts.

    Parameters
    ----------
    *columns : numpy.ndarray
        Equal-length float columns, e.g. frequency, recency and T.

    Returns
    -------
    unique_columns : tuple of numpy.ndarray
        The columns of the unique rows.
    weights : numpy.ndarray
        How many input rows each unique row stands for.
    """
    unique, key = unique_rows(*columns)
    n_unique = unique[0].size
    weights = np.bincount(key, minlength=n_unique).astype(float)
    return unique, weights


def unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct values of ``values`` and the index of each element among them."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=float))
    return np.asarray(uniques, dtype=float), codes


_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188)
_PSI_SERIES = (1 / 120, -1 / 252, 1 / 240, -1 / 132, 691 / 32760)


def log_rising(z: Any, n: Any) -> np.ndarray:
    """``log Gamma(z + n) - log Gamma(z)`` (log of the rising factorial), stable at large ``z``.

    Subtracting two large ``gammaln`` values loses ``eps * |gammaln(z)|`` absolute precision
    (about 0.06 at ``z = 1e13``). For ``z >= 10`` the difference of Stirling's series is
    taken term by term instead, ``(z - 1/2) log1p(n / z) + n (log(z + n) - 1) + ...`` (DLMF
    5.11.1; truncation error below 2e-14), which is accurate to a few ulps of the result.

    Parameters
    ----------
    z : array-like
        Positive base.
    n : array-like
        Non-negative increment.

    Returns
    -------
    numpy.ndarray
    """
    z, n = np.broadcast_arrays(np.asarray(z, dtype=float), np.asarray(n, dtype=float))
    out = np.empty(z.shape)
    big = z >= 10.0
    small = ~big
    if np.any(small):
        zs, ns = z[small], n[small]
        out[small] = gammaln(zs + ns) - gammaln(zs)
    if np.any(big):
        zb, nb = z[big], n[big]
        zn = zb + nb
        corr = np.zeros_like(zb)
        for j, coef in enumerate(_STIRLING):
            power = 2 * j + 1
            corr += coef * (zn ** -float(power) - zb ** -float(power))
        out[big] = (zb - 0.5) * np.log1p(nb / zb) + nb * (np.log(zn) - 1.0) + corr
    return out


def digamma_rising(z: Any, n: Any) -> np.ndarray:
    """``digamma(z + n) - digamma(z)`` without cancellation at large ``z`` (DLMF 5.11.2).

    Parameters
    ----------
    z : array-like
        Positive base.
    n : array-like
        Non-negative increment.

    Returns
    -------
    numpy.ndarray
    """
    z, n = np.broadcast_arrays(np.asarray(z, dtype=float), np.asarray(n, dtype=float))
    out = np.empty(z.shape)
    big = z >= 10.0
    small = ~big
    if np.any(small):
        zs, ns = z[small], n[small]
        out[small] = digamma(zs + ns) - digamma(zs)
    if np.any(big):
        zb, nb = z[big], n[big]
        zn = zb + nb
        value = np.log1p(nb / zb) + nb / (2 * zb * zn) + nb * (2 * zb + nb) / (12 * zb**2 * zn**2)
        for j, coef in enumerate(_PSI_SERIES):
            power = float(2 * j + 4)
            value += coef * (zn**-power - zb**-power)
        out[big] = value
    return out


def hyp2f1_safe(a: Any, b: Any, c: Any, z: Any) -> np.ndarray:
    """Gaussian hypergeometric function, guarded against scipy's integer ``c - a - b`` failures.

    scipy's ``hyp2f1`` can return NaN (or lose accuracy) for ``z > 0.9`` when ``c - a - b``
    is an integer. There the function is evaluated at ``b +/- delta`` and averaged, which
    is accurate to ``O(delta^2)`` because 2F1 is analytic in ``b``.
    """
    a, b, c, z = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (a, b, c, z)))
    value = np.array(hyp2f1(a, b, c, z), dtype=float, ndmin=1).reshape(z.shape)
    gap = c - a - b
    redo = ((z > 0.9) & (np.abs(gap - np.round(gap)) < 1e-7)) | ~np.isfinite(value)
    if np.any(redo):
        delta = 1e-6 * np.maximum(1.0, np.abs(b[redo]))
        ar, br, cr, zr = a[redo], b[redo], c[redo], z[redo]
        with np.errstate(over="ignore", invalid="ignore"):
            value[redo] = 0.5 * (hyp2f1(ar, br + delta, cr, zr) + hyp2f1(ar, br - delta, cr, zr))
    still = ~np.isfinite(value)
    if np.any(still):
        value[still] = _hyp2f1_series(a[still], b[still], c[still], z[still])
    return value


def _hyp2f1_series(a: np.ndarray, b: np.ndarray, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Direct Gauss series of 2F1 for ``0 <= z < 1`` (last resort; rows leave as they converge)."""
    total = np.zeros_like(z)
    idx = np.arange(z.size)
    term, acc = np.ones_like(z), np.zeros_like(z)
    aa, bb, cc, zz = a, b, c, z
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(20_000):
            acc = acc + term
            term = term * (aa + k) * (bb + k) / ((cc + k) * (k + 1.0)) * zz
            if k % 32 == 31:
                done = (np.abs(term) <= 1e-17 * np.abs(acc)) | ~np.isfinite(acc)
                total[idx[done]] = acc[done]
                keep = ~done
                idx, term, acc = idx[keep], term[keep], acc[keep]
                aa, bb, cc, zz = aa[keep], bb[keep], cc[keep], zz[keep]
                if idx.size == 0:
                    break
    total[idx] = np.nan  # did not converge: reported, never silently wrong
    return total


@dataclass(frozen=True)
class ModelHealth:
    """Whether a fitted model can be trusted: fields for programs, sentences for managers.

    Attributes
    ----------
    converged : bool
        The optimiser reached a stationary point (largest gradient below 1e-4) and the
        predictions at the estimates are finite.
    at_boundary : list of str
        Parameters pushed to the edge of the parameter space, where the model degenerates
        (e.g. BG/NBD ``b -> inf``: no evidence that customers drop out).
    finite_standard_errors : bool
        The Hessian is invertible, so standard errors and intervals exist.
    q_above_one : bool or None
        Gamma-Gamma only: ``q`` is clear of its constraint ``q > 1`` (the population mean spend
        ``p v / (q - 1)`` exists and is well determined). ``None`` for other models.
    ok : bool
        No problem found.
    problems : list of str
        Plain-English sentences, one per problem, with what it means for the numbers.
    """

    converged: bool
    at_boundary: list[str]
    finite_standard_errors: bool
    q_above_one: bool | None = None
    ok: bool = True
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dictionary (for JSON manifests and tables)."""
        return asdict(self)


_NOT_CONVERGED = (
    "The {model} fit did not converge, so its estimates and everything computed from them "
    "(probabilities, forecasts, CLV) may be unreliable."
)
_NO_STANDARD_ERRORS = (
    "The data do not pin down all of the {model}'s parameters (their standard errors are "
    "undefined), so no confidence intervals or CLV ranges can be given for it."
)
_EXTREME = (
    "The {model} fit pushed {names} to an extreme value, at the edge of what the model can "
    "represent; treat its predictions with caution."
)


class BaseModel(BaseEstimator):
    """Maximum-likelihood estimator base class; subclasses define the likelihood.

    Subclasses set ``_param_names`` and implement ``_loglik`` (per-row log-likelihood and
    its gradient with respect to the natural parameters) and ``_initial_params``.
    """

    _param_names: tuple[str, ...] = ()
    #: Lower bound of each parameter (0 unless stated): the fit is over log(param - floor).
    _param_floor: tuple[float, ...] | None = None
    #: Plain-English name used in health sentences.
    _display_name: str = "model"
    #: Standard errors from forward differences of the gradient (k evaluations, not 2 k):
    #: for likelihoods whose gradient is smooth to rounding (closed forms, no quadrature).
    _forward_covariance: bool = False

    def __init__(
        self,
        *,
        penalizer: float = 0.0,
        tol: float = 1e-10,
        maxiter: int = 2000,
        initial_params: dict[str, float] | None = None,
    ) -> None:
        self.penalizer = penalizer
        self.tol = tol
        self.maxiter = maxiter
        self.initial_params = initial_params

    # ----------------------------------------------------------------- hooks
    @staticmethod
    def _loglik(params: np.ndarray, columns: Any) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    @staticmethod
    def _prepare(columns: tuple[np.ndarray, ...]) -> Any:
        """Precompute what the likelihood reuses at every evaluation (default: nothing)."""
        return columns

    def _initial_params(self, columns: tuple[np.ndarray, ...], weights: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # ------------------------------------------------------------- fitting
    def _check_hyperparameters(self) -> None:
        if not (np.isfinite(self.penalizer) and self.penalizer >= 0):
            raise ConfigError(
                f"penalizer must be a finite number >= 0, got {self.penalizer!r}; "
                "try penalizer=0.001."
            )
        if self.initial_params is not None:
            unknown = set(self.initial_params) - set(self._param_names)
            floor = dict(zip(self._param_names, self._floor(), strict=True))
            bad = [
                k
                for k, v in self.initial_params.items()
                if not (np.isfinite(v) and v > floor.get(k, 0.0))
            ]
            if unknown or bad:
                raise ConfigError(
                    f"initial_params must map {list(self._param_names)} to positive numbers; "
                    f"got unknown {sorted(unknown)} / non-positive {bad}."
                )

    def _prepare_weighted(self, columns: tuple[np.ndarray, ...], weights: np.ndarray) -> Any:
        """State for :meth:`_weighted_loglik`; models with a faster weighted sum override both."""
        return (self._prepare(columns), weights)

    def _weighted_loglik(self, params: np.ndarray, state: Any) -> tuple[float, np.ndarray]:
        """Weighted total log-likelihood and its gradient (default: ``weights @ per-row``)."""
        columns, weights = state
        ll, grad = self._loglik(params, columns)
        return float(weights @ ll), weights @ grad

    def _objective(self, theta: np.ndarray, state: Any, total: float) -> tuple[float, np.ndarray]:
        floor = self._floor()
        params = floor + np.exp(theta)
        ll_sum, grad_sum = self._weighted_loglik(params, state)
        value = -ll_sum / total + self.penalizer * np.sum(params**2)
        g = -grad_sum / total + 2 * self.penalizer * params
        g_theta = g * (params - floor)
        if not (np.isfinite(value) and np.all(np.isfinite(g_theta))):
            return 1e100, np.zeros_like(theta)
        return float(value), g_theta

    def _fit_columns(
        self,
        columns: tuple[np.ndarray, ...],
        weights: np.ndarray,
        *,
        n_customers: int,
        start: np.ndarray | None = None,
        start_hessian: np.ndarray | None = None,
    ) -> None:
        """Minimise the penalised mean NLL on compressed columns and set fitted attributes.

        With ``start`` and ``start_hessian`` (the objective's Hessian in log-parameters from a
        fit on coarsened data), the optimum is first sought by Newton steps with that fixed
        Hessian and a backtracking line search, which converge in a few evaluations from a
        close start; L-BFGS-B takes over only if they do not reach the tolerance.

        BLAS is held to one thread: the likelihood's dot products are short, and on a shared
        machine BLAS threads waiting for a busy core made them up to 30x slower.
        """
        with _blas_controller().limit(limits=1, user_api="blas"):
            self._fit_columns_inner(
                columns, weights, n_customers=n_customers, start=start, hessian=start_hessian
            )

    def _fit_columns_inner(
        self,
        columns: tuple[np.ndarray, ...],
        weights: np.ndarray,
        *,
        n_customers: int,
        start: np.ndarray | None,
        hessian: np.ndarray | None = None,
    ) -> None:
        self._check_hyperparameters()
        if start is None:
            start = self._initial_params(columns, weights)
        if self.initial_params:
            start = np.array(
                [
                    self.initial_params.get(k, v)
                    for k, v in zip(self._param_names, start, strict=True)
                ],
                dtype=float,
            )
        theta0 = np.log(np.maximum(start - self._floor(), 1e-12))
        fun = self._objective
        total = float(weights.sum())
        state = self._prepare_weighted(columns, weights)
        res = self._newton(theta0, state, total, hessian) if hessian is not None else None
        if res is None:
            res = optimize.minimize(
                fun, theta0, args=(state, total), jac=True, method="L-BFGS-B",
                bounds=[(-30.0, 30.0)] * len(theta0),
                options={"maxiter": self.maxiter, "ftol": 1e-15, "gtol": self.tol},
            )  # fmt: skip
        # L-BFGS-B can stop on line-search precision short of the optimum: restart it once.
        if not res.success or np.max(np.abs(res.jac)) > 1e-6:
            res2 = optimize.minimize(
                fun, res.x, args=(state, total), jac=True, method="L-BFGS-B",
                bounds=[(-30.0, 30.0)] * len(theta0),
                options={"maxiter": self.maxiter, "ftol": 1e-15, "gtol": self.tol},
            )  # fmt: skip
            if res2.fun <= res.fun:
                res = res2
        if getattr(self, "_keep_theta_hessian", False):
            self.theta_hessian_ = self._theta_hessian(res.x, state, total)
        params = self._floor() + np.exp(res.x)
        grad_norm = float(np.max(np.abs(res.jac))) if res.jac is not None else np.inf
        converged = np.isfinite(res.fun) and res.fun < 1e99 and grad_norm < 1e-4
        if not converged:
            warnings.warn(
                f"{type(self).__name__}.fit did not converge ({res.message}; largest gradient "
                f"{grad_norm:.2g}). The parameters may be unreliable: try penalizer=0.001, "
                "rescale time (time_unit='W' or 'M' instead of 'D'), or pass initial_params.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.params_ = pd.Series(params, index=list(self._param_names), name="estimate")
        for name, value in zip(self._param_names, params, strict=True):
            setattr(self, f"{name}_", float(value))
        self.log_likelihood_, grad_at_optimum = self._weighted_loglik(params, state)
        self.n_customers_ = int(n_customers)
        self.converged_ = bool(converged)
        if getattr(self, "_keep_theta_hessian", False):
            return  # a warm-start fit on a sample: its covariance and health are not used
        self.covariance_ = self._covariance(
            params,
            state,
            n_customers / total,
            n_customers,
            base_grad=grad_at_optimum if self._forward_covariance else None,
        )
        self.theta_at_bound_ = [
            name for name, value in zip(self._param_names, res.x, strict=True) if abs(value) > 29.0
        ]
        self.summary_ = self._make_summary()
        self._set_health()

    #: Above twice this many distinct rows the fit starts from a fit on a sample of them.
    _warm_start_rows = 20_000

    def _warm_start(
        self, columns: tuple[np.ndarray, ...], weights: np.ndarray
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Return starting values and Hessian from a fit on a weighted sample of the rows.

        At real resolution (daily periods over years) there are hundreds of thousands of
        distinct rows. Each is kept with probability ``min(1, c w)`` and reweighted by its
        inverse (an unbiased estimate of the likelihood, from a fixed seed, so fits stay
        deterministic); ``c`` keeps about ``_warm_start_rows`` rows. That fit's optimum and
        Hessian start Newton steps on the full data, which then need a few evaluations.
        """
        if weights.size <= 2 * self._warm_start_rows:
            return None, None
        # c such that sum(min(1, c w)) ~ target: bisection on the sorted weights.
        target = float(self._warm_start_rows)
        # Weights are counts with few distinct values: bisect on those, with their counts.
        levels, counts = np.unique(weights, return_counts=True)
        lo, hi = 0.0, target / float(levels[0])
        for _ in range(25):
            c = 0.5 * (lo + hi)
            lo, hi = (c, hi) if counts @ np.minimum(1.0, c * levels) < target else (lo, c)
        prob = np.minimum(1.0, hi * weights)
        keep = np.random.default_rng(0).random(weights.size) < prob
        sample = tuple(col[keep] for col in columns)
        # The sample's optimum is only a start (it differs from the full data's by sampling
        # noise), so it need not be polished to the final tolerance.
        helper = clone(self).set_params(maxiter=min(self.maxiter, 500), tol=max(self.tol, 1e-7))
        helper._keep_theta_hessian = True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            helper._fit_columns(sample, weights[keep] / prob[keep], n_customers=int(weights.sum()))
        start = helper.params_.to_numpy()
        if not (helper.converged_ and np.all(np.isfinite(start))):
            return None, None
        return start, helper.theta_hessian_

    def _newton(
        self, theta: np.ndarray, state: Any, total: float, hessian: np.ndarray
    ) -> optimize.OptimizeResult | None:
        """Newton steps with a fixed Hessian and backtracking; None if they do not converge."""
        try:
            np.linalg.cholesky(hessian)
        except np.linalg.LinAlgError:
            return None
        f, g = self._objective(theta, state, total)
        for _ in range(40):
            if np.max(np.abs(g)) <= max(self.tol, 1e-12) * 10:
                break
            step = -np.linalg.solve(hessian, g)
            small = np.max(np.abs(g)) <= 1e-6
            # At the floating-point floor of f (predicted gain below its rounding) stop: more
            # steps cannot be told apart from noise in a total over a million rows.
            if small and -0.5 * float(g @ step) <= 4e-16 * abs(f):
                break
            t = 1.0
            while t > 1e-6:
                trial = np.clip(theta + t * step, -30.0, 30.0)
                f2, g2 = self._objective(trial, state, total)
                # Armijo, with room for rounding once f is flat to machine precision.
                if f2 <= f + 1e-4 * t * (g @ step) + 8e-16 * abs(f):
                    break
                t /= 2
            else:
                if small:
                    break
                return None
            if f - f2 <= 1e-16 * abs(f) and np.max(np.abs(g2)) > 1e-6:
                return None
            theta, f, g = trial, f2, g2
        if not np.isfinite(f) or f >= 1e99 or np.max(np.abs(g)) > 1e-6:
            return None
        return optimize.OptimizeResult(x=theta, fun=f, jac=g, success=True, message="Newton")

    def _theta_hessian(self, theta: np.ndarray, state: Any, total: float) -> np.ndarray:
        """Hessian of the mean objective in log-parameters (central differences of its gradient)."""
        k = theta.size
        hess = np.empty((k, k))
        for j in range(k):
            up, down = theta.copy(), theta.copy()
            up[j] += 1e-5
            down[j] -= 1e-5
            hess[:, j] = (
                self._objective(up, state, total)[1] - self._objective(down, state, total)[1]
            ) / 2e-5
        return (hess + hess.T) / 2

    def _covariance(
        self,
        params: np.ndarray,
        state: Any,
        scale: float,
        n_total: float,
        *,
        base_grad: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """Inverse Hessian of the total penalised NLL (finite differences of the gradient).

        ``scale`` maps the fit's weights to customers (1 unless the weights were rescaled).
        With ``base_grad`` (the log-likelihood gradient at ``params``, already computed) the
        differences are forward ones, ``k`` evaluations instead of ``2 k``; their truncation
        error (~1e-5 relative at steps of 1e-5 of each parameter) is far below the sampling
        error the standard errors describe.
        """

        def grad(p: np.ndarray, g: np.ndarray | None = None) -> np.ndarray:
            if g is None:
                _, g = self._weighted_loglik(p, state)
            return -scale * g + 2 * self.penalizer * n_total * p

        k = len(params)
        hess = np.empty((k, k))
        base = None if base_grad is None else grad(params, base_grad)
        for j in range(k):
            h = 1e-5 * params[j]
            up, down = params.copy(), params.copy()
            up[j] += h
            down[j] -= h
            if base is None:
                hess[:, j] = (grad(up) - grad(down)) / (2 * h)
            else:
                hess[:, j] = (grad(up) - base) / h
        hess = (hess + hess.T) / 2
        names = list(self._param_names)
        try:
            cov = np.linalg.inv(hess)
            ok = np.all(np.isfinite(cov)) and np.all(np.diag(cov) > 0)
        except np.linalg.LinAlgError:
            ok = False
        if not ok:
            warnings.warn(
                f"{type(self).__name__}: the Hessian at the optimum is singular or not positive "
                "definite, so standard errors are undefined (NaN). The data may not identify all "
                "parameters: try penalizer=0.001 or more customers.",
                ConvergenceWarning,
                stacklevel=4,
            )
            cov = np.full((k, k), np.nan)
        return pd.DataFrame(cov, index=names, columns=names)

    def _floor(self) -> np.ndarray:
        k = len(self._param_names)
        return np.zeros(k) if self._param_floor is None else np.asarray(self._param_floor, float)

    def _make_summary(self, level: float = 0.95) -> pd.DataFrame:
        """Estimates, standard errors and ``level`` intervals computed on the fitting scale.

        The likelihood is maximised over ``log(theta - floor)``, where the sampling
        distribution is closer to normal, so the interval is the delta-method interval on
        that scale mapped back: ``floor + (theta - floor) * exp(+-z se / (theta - floor))``.
        It is always inside the parameter space (e.g. ``theta > 0``), unlike
        ``theta +- z se``, and is wider above the estimate than below.
        """
        est = self.params_.to_numpy()
        se = np.sqrt(np.diag(self.covariance_.to_numpy()))
        z = float(ndtri(0.5 + level / 2))
        shifted = est - self._floor()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            spread = np.exp(z * se / shifted)
            lower = self._floor() + shifted / spread
            upper = self._floor() + shifted * spread
        tag = f"{round(100 * level, 6):g}".replace(".", "_")
        return pd.DataFrame(
            {"estimate": est, "std_error": se, f"lower_{tag}": lower, f"upper_{tag}": upper},
            index=pd.Index(list(self._param_names), name="parameter"),
        )

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Parameter table with confidence intervals at ``level`` (``summary_`` is 95%).

        Parameters
        ----------
        level : float, default 0.95
            Coverage of the interval, strictly between 0 and 1.

        Returns
        -------
        pandas.DataFrame
            ``estimate``, ``std_error``, ``lower_<level>`` and ``upper_<level>`` (e.g.
            ``lower_90``) per parameter; intervals by the delta method on the log scale.
        """
        self._check_fitted()
        if not (isinstance(level, int | float) and 0 < level < 1):
            raise ConfigError(f"level must be strictly between 0 and 1 (e.g. 0.9), got {level!r}.")
        return self._make_summary(float(level))

    # ---------------------------------------------------------------- health
    def _boundary_problems(self) -> list[tuple[list[str], str]]:
        """``(parameter names, sentence)`` for each degenerate direction of the fit.

        Model-specific checks (:meth:`_specific_boundary_problems`) come first; any other
        parameter whose log reached the optimiser's bound (|log| > 29) gets a generic one.
        """
        problems = self._specific_boundary_problems()
        covered = {n for names, _ in problems for n in names}
        extreme = [n for n in getattr(self, "theta_at_bound_", []) if n not in covered]
        if extreme:
            names = ", ".join(extreme)
            problems.append((extreme, _EXTREME.format(model=self._display_name, names=names)))
        return problems

    def _specific_boundary_problems(self) -> list[tuple[list[str], str]]:
        return []

    def _set_health(self) -> None:
        """Compute ``health_`` from convergence, boundaries and standard errors."""
        problems: list[str] = []
        at_boundary: list[str] = []
        for names, sentence in self._boundary_problems():
            at_boundary.extend(n for n in names if n not in at_boundary)
            problems.append(sentence)
        se = np.sqrt(np.diag(self.covariance_.to_numpy()))
        finite_se = bool(np.all(np.isfinite(se)))
        converged = bool(self.converged_)
        if not converged:
            problems.insert(0, _NOT_CONVERGED.format(model=self._display_name))
        if not finite_se:
            problems.append(_NO_STANDARD_ERRORS.format(model=self._display_name))
        q_above_one = self._q_above_one()
        self.health_ = ModelHealth(
            converged=converged,
            at_boundary=at_boundary,
            finite_standard_errors=finite_se,
            q_above_one=q_above_one,
            ok=not problems,
            problems=problems,
        )

    def _q_above_one(self) -> bool | None:
        return None

    # -------------------------------------------------------- log-likelihood
    def _columns_for_loglik(self, data: Any) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
        """Compressed likelihood columns and weights of ``data`` (subclasses implement)."""
        raise NotImplementedError

    def log_likelihood(self, data: Any, params: dict[str, float] | None = None) -> float:
        """Total log-likelihood of ``data`` at the fitted parameters, or at ``params``.

        Parameters
        ----------
        data : pandas.DataFrame or array-like
            What ``fit`` takes (an RFM summary; a survival curve for the sBG model).
        params : dict, optional
            Parameter values by name (all of them); default the fitted ones.

        Returns
        -------
        float
            Sum over customers of the log-likelihood (no penalty), the quantity
            ``log_likelihood_`` reports for the training data.
        """
        if params is None:
            values = np.array(self._params(), dtype=float)
        else:
            missing = set(self._param_names) - set(params)
            unknown = set(params) - set(self._param_names)
            if missing or unknown:
                raise ConfigError(
                    f"params must give every parameter {list(self._param_names)}; "
                    f"missing {sorted(missing)}, unknown {sorted(unknown)}."
                )
            values = np.array([float(params[k]) for k in self._param_names])
            if not np.all(np.isfinite(values) & (values > self._floor())):
                raise ConfigError(
                    f"params must be finite and above their lower bounds "
                    f"{dict(zip(self._param_names, self._floor(), strict=True))}; got {params}."
                )
        columns, weights = self._columns_for_loglik(data)
        return self._weighted_loglik(values, self._prepare_weighted(columns, weights))[0]

    # -------------------------------------------------------------- helpers
    def _check_fitted(self) -> None:
        try:
            check_is_fitted(self, "params_")
        except NotFittedError:
            raise ModelNotFittedError(
                f"This {type(self).__name__} is not fitted yet. Call .fit(summary) before "
                "using it for predictions."
            ) from None

    def _params(self) -> tuple[float, ...]:
        self._check_fitted()
        return tuple(float(self.params_[k]) for k in self._param_names)

    def _fitted_on(self) -> str:
        return f"{self.n_customers_:,} customers"

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        base = super().__repr__(N_CHAR_MAX)
        if not hasattr(self, "params_"):
            return f"{base}, not fitted"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        fitted = f"fitted on {self._fitted_on()}: {shown}"
        return f"{base}, {fitted}, log-likelihood {self.log_likelihood_:.2f}"

    def _repr_html_(self) -> str:
        title = html.escape(super().__repr__())
        if not hasattr(self, "params_"):
            return f"<div><strong>{title}</strong>: not fitted</div>"
        unit = f", time unit {self.time_unit_!r}" if getattr(self, "time_unit_", None) else ""
        return (
            f"<div><strong>{title}</strong>: fitted on {html.escape(self._fitted_on())}{unit}, "
            f"log-likelihood {self.log_likelihood_:.2f}"
            f"{self.summary_.to_html(float_format=lambda v: f'{v:.4g}')}</div>"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        # Jupyter prefers this to _repr_html_; scikit-learn's version would show its
        # estimator diagram instead of the fitted parameters.
        return {"text/plain": repr(self), "text/html": self._repr_html_()}


class TransactionModel(BaseModel):
    """Base class of the BG/NBD family: fitted on ``frequency``, ``recency`` and ``T``."""

    required_columns: tuple[str, ...] = (config.FREQUENCY, config.RECENCY, config.T)

    def fit(self, summary: pd.DataFrame, *, time_unit: str | None = None) -> TransactionModel:
        """Fit the model to an RFM summary by maximum likelihood.

        Parameters
        ----------
        summary : pandas.DataFrame
            One row per customer with columns ``frequency`` (repeat purchases), ``recency``
            (time of the last purchase since the first) and ``T`` (time since the first
            purchase), as returned by :func:`churnlab.features.rfm_summary`.
        time_unit : {"D", "W", "M"}, optional
            The unit of ``recency`` and ``T``, when ``summary.attrs["time_unit"]`` is not set.

        Returns
        -------
        self
            With ``params_``, ``summary_``, ``covariance_``, ``log_likelihood_``,
            ``health_``, ``n_customers_`` and ``time_unit_`` set.

        Raises
        ------
        DataValidationError
            If the summary is malformed (see :func:`validate_rfm`) or has no repeat buyer.
        """
        where = f"{type(self).__name__}.fit"
        x, tx, big_t = validate_rfm(summary, where=where, require_repeat=True)
        self.time_unit_ = resolve_time_unit(summary, time_unit, where=where)
        columns, weights = compress_rows(x, tx, big_t)
        self.max_T_ = float(np.max(big_t))
        start, hessian = self._warm_start(columns, weights)
        self._fit_columns(columns, weights, n_customers=len(x), start=start, start_hessian=hessian)
        with np.errstate(all="ignore"):
            probe_rows = _probe_rows(columns)
            unique_rows = pd.DataFrame(dict(zip(self.required_columns, probe_rows, strict=True)))
            probe = self.expected_purchases(unique_rows, 1.0).to_numpy()
        if not np.all(np.isfinite(probe)):
            self.converged_ = False
            warnings.warn(
                f"{type(self).__name__}.fit reached degenerate parameters "
                f"({', '.join(f'{k}={v:.3g}' for k, v in self.params_.items())}) at which "
                "predictions overflow: the data do not identify the model (too few customers or "
                "repeat buyers). Try penalizer=0.001 or more data.",
                ConvergenceWarning,
                stacklevel=2,
            )
            self._set_health()
        return self

    def _specific_boundary_problems(self) -> list[tuple[list[str], str]]:
        problems = super()._specific_boundary_problems()
        names = self._param_names
        r, alpha = float(self.params_[names[0]]), float(self.params_[names[1]])
        if min(r, alpha) > 1e5:
            problems.append(
                (
                    [names[0], names[1]],
                    f"The {self._display_name} found no evidence that customers differ in how "
                    "often they buy (r and alpha are very large), so every customer's forecast "
                    "is close to the average rate and barely uses their own purchase history.",
                )
            )
        return problems

    def _columns_for_loglik(self, data: Any) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
        x, tx, big_t = validate_rfm(data, where=f"{type(self).__name__}.log_likelihood")
        return compress_rows(x, tx, big_t)

    def _data(self, data: pd.DataFrame, method: str) -> tuple[np.ndarray, ...]:
        self._check_fitted()
        return validate_rfm(data, where=f"{type(self).__name__}.{method}")

    def _series(self, values: np.ndarray, data: pd.DataFrame, name: str) -> pd.Series:
        return pd.Series(values, index=customer_index(data), name=name)


def _probe_rows(columns: tuple[np.ndarray, ...], n: int = 2000) -> tuple[np.ndarray, ...]:
    """Pick rows to probe a fit's predictions: each column's extremes and a spread."""
    size = columns[0].size
    if size <= n:
        return columns
    picks = [np.linspace(0, size - 1, n).astype(np.int64)]
    for col in columns:
        picks.append(np.array([np.argmin(col), np.argmax(col)]))
    index = np.unique(np.concatenate(picks))
    return tuple(col[index] for col in columns)


def as_float(values: np.ndarray | float) -> np.ndarray | float:
    """Return a Python float for 0-d results, the array otherwise."""
    arr = np.asarray(values, dtype=float)
    return float(arr) if arr.ndim == 0 else arr


def percent_text(share: float) -> str:
    """Write a share as a percentage for people: "0.3%", or "less than 0.1%" (no 1e-07)."""
    return "less than 0.1%" if share < 0.001 else f"{100 * share:.1f}%"

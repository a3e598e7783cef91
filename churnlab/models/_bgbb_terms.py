"""Numerics and input checks of the BG/BB model (:mod:`churnlab.models.bgbb`).

Every BG/BB quantity is a sum of products of beta-function ratios ``B(a + i, b + j) / B(a, b)``
at small integer offsets (Fader, Hardie & Shang 2010, eqs. 7-14). They are taken from tables
of ``log Gamma(z + k) - log Gamma(z)`` (and the matching digamma differences), computed once
per evaluation for ``k = 0..max(n) + 2`` with the large-argument series of
:func:`~churnlab.models._base.log_rising`, so they stay accurate at parameters up to 1e6 and
cost a few dozen special-function calls whatever the number of customers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import gammaln

from churnlab import config
from churnlab.exceptions import DataValidationError
from churnlab.models._base import digamma_rising, log_rising, unique_rows
from churnlab.models._validation import customer_index, validate_rfm

_FIX = "Build the summary with churnlab.features.discrete_summary()."


def validate_discrete(
    data: pd.DataFrame, *, where: str, require_repeat: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check a discrete-time summary; return ``x``, ``t_x`` and ``n`` as float arrays.

    On top of :func:`~churnlab.models._validation.validate_rfm` (columns, NaN, negative
    values, recency > T, ...): ``recency`` and ``T`` must be whole numbers of opportunities
    and ``frequency <= recency`` (each transaction takes one opportunity).

    Raises
    ------
    DataValidationError
        With the column, the number of rows affected, examples and the fix.
    """
    x, tx, n = validate_rfm(data, where=where, require_repeat=require_repeat)
    index = customer_index(data)
    checks = [
        (
            (tx != np.round(tx)) | (n != np.round(n)),
            f"have a non-integer '{config.RECENCY}' or '{config.T}' (BG/BB counts whole "
            "transaction opportunities)",
        ),
        (x > tx, f"have '{config.FREQUENCY}' > '{config.RECENCY}' (more transactions than "
         "opportunities up to the last one)"),
    ]  # fmt: skip
    for mask, what in checks:
        if np.any(mask):
            rows = np.flatnonzero(mask)[:3]
            examples = "; ".join(
                f"{index[i]!r} (frequency={x[i]:g}, recency={tx[i]:g}, T={n[i]:g})" for i in rows
            )
            raise DataValidationError(
                f"{where}: {int(mask.sum())} row(s) {what}, e.g. {examples}. {_FIX}"
            )
    return x, tx, n


def log_terms(params: np.ndarray, top: int) -> tuple[np.ndarray, ...]:
    """Log rising factorials ``log Gamma(z + k) - log Gamma(z)``, k = 0..top, per parameter."""
    alpha, beta, gamma, delta = params
    k = np.arange(top + 1, dtype=float)
    return tuple(log_rising(z, k) for z in (alpha, beta, alpha + beta, gamma, delta, gamma + delta))


def dig_terms(params: np.ndarray, top: int) -> tuple[np.ndarray, ...]:
    """``digamma(z + k) - digamma(z)``, k = 0..top, per parameter (for the gradient)."""
    alpha, beta, gamma, delta = params
    k = np.arange(top + 1, dtype=float)
    return tuple(
        digamma_rising(z, k) for z in (alpha, beta, alpha + beta, gamma, delta, gamma + delta)
    )


def log_beta_ratio(lr: tuple[np.ndarray, ...], i: Any, j: Any, *, dropout: bool) -> np.ndarray:
    """``log B(a + i, b + j) - log B(a, b)`` for ``(alpha, beta)`` or ``(gamma, delta)``."""
    a, b, ab = lr[3:] if dropout else lr[:3]
    return a[i] + b[j] - ab[i + j]


def log_choose(n: Any, k: Any) -> Any:
    """``log C(n, k)`` through log-gamma."""
    return (
        gammaln(np.asarray(n) + 1.0)
        - gammaln(np.asarray(k) + 1.0)
        - gammaln(np.asarray(n) - k + 1.0)
    )


def group(x: np.ndarray, tx: np.ndarray, n: np.ndarray) -> tuple[tuple[np.ndarray, ...], Any]:
    """Distinct ``(x, t_x, n)`` rows and each row's index among them."""
    return unique_rows(x, tx, n)

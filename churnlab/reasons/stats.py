"""Small statistical helpers for churn-reason tables.

Wilson intervals for shares, chi-square or Fisher tests of independence with
Cramér's V, and multiple-comparison corrections. Everything is numpy/scipy;
statsmodels is used for nothing, so it is not a dependency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from churnlab.exceptions import ConfigError, DataValidationError

__all__ = [
    "AssociationTest",
    "adjust_pvalues",
    "adjusted_residuals",
    "association_test",
    "cramers_v",
    "wilson_interval",
]

CORRECTIONS = ("fdr_bh", "holm", "none")


def wilson_interval(
    successes: int | np.ndarray | pd.Series,
    total: int | np.ndarray | pd.Series,
    *,
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the Wilson score interval of a binomial proportion.

    Parameters
    ----------
    successes : int or array-like
        Number of customers with the reason.
    total : int or array-like
        Number of customers in all (same shape as ``successes`` or a scalar).
    confidence : float, default 0.95
        Two-sided confidence level, strictly between 0 and 1.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lower, upper)``; NaN where ``total`` is 0. Equal to
        ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and
    statistical inference. JASA 22(158), 209-212.
    """
    if not 0 < confidence < 1:
        raise ConfigError(
            f"confidence must be between 0 and 1 (exclusive), got {confidence!r}. "
            "Use e.g. confidence=0.95."
        )
    k = np.asarray(successes, dtype=float)
    n = np.asarray(total, dtype=float)
    if np.any(k < 0) or np.any(k > n):
        raise DataValidationError(
            "wilson_interval needs 0 <= successes <= total for every row; "
            f"got successes={k.tolist()!r} and total={n.tolist()!r}. Check the counts."
        )
    z = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    lower = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
    upper = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return lower, upper


def cramers_v(table: pd.DataFrame | np.ndarray) -> float:
    """Return Cramér's V of a contingency table (no continuity correction).

    Parameters
    ----------
    table : DataFrame or 2-D array
        Observed counts; rows and columns that are all zero are ignored.

    Returns
    -------
    float
        ``sqrt(chi2 / (n * (min(r, c) - 1)))`` in [0, 1]; equals
        ``scipy.stats.contingency.association(table, method="cramer")``.
        NaN when the table has fewer than two non-empty rows or columns.
    """
    observed = _clean_table(table)
    if min(observed.shape) < 2:
        return float("nan")
    chi2 = stats.chi2_contingency(observed, correction=False)[0]
    n = observed.sum()
    return float(np.sqrt(chi2 / (n * (min(observed.shape) - 1))))


@dataclass(frozen=True)
class AssociationTest:
    """Result of :func:`association_test`.

    Attributes
    ----------
    test : str
        ``"chi-square"``, ``"fisher"`` or ``"none"`` (table too small to test).
    statistic : float
        Chi-square statistic, or Fisher's odds ratio.
    p_value : float
        Two-sided p-value.
    dof : int
        Degrees of freedom (1 for Fisher, 0 when not tested).
    cramers_v : float
        Effect size, see :func:`cramers_v`.
    n : int
        Customers in the table.
    low_expected : bool
        True when a chi-square test ran although some expected counts are below 5.
    """

    test: str
    statistic: float
    p_value: float
    dof: int
    cramers_v: float
    n: int
    low_expected: bool


def association_test(
    table: pd.DataFrame | np.ndarray, *, min_expected: float = 5.0
) -> AssociationTest:
    """Test independence of the rows and columns of a contingency table.

    A 2x2 table with an expected count below ``min_expected`` gets Fisher's
    exact test; every other table gets Pearson's chi-square test (no Yates
    correction, so the statistic matches Cramér's V).

    Parameters
    ----------
    table : DataFrame or 2-D array
        Observed counts, e.g. reasons (rows) by contract type (columns).
    min_expected : float, default 5
        Expected count below which the chi-square approximation is doubtful.

    Returns
    -------
    AssociationTest
        Same numbers as ``scipy.stats.chi2_contingency(table, correction=False)``
        or ``scipy.stats.fisher_exact(table)``.
    """
    observed = _clean_table(table)
    n = int(observed.sum())
    if min(observed.shape) < 2:
        return AssociationTest("none", float("nan"), float("nan"), 0, float("nan"), n, False)
    chi2, p, dof, expected = stats.chi2_contingency(observed, correction=False)
    low = bool((expected < min_expected).any())
    v = cramers_v(observed)
    if observed.shape == (2, 2) and low:
        res = stats.fisher_exact(observed)
        return AssociationTest("fisher", float(res.statistic), float(res.pvalue), 1, v, n, False)
    return AssociationTest("chi-square", float(chi2), float(p), int(dof), v, n, low)


def adjust_pvalues(p_values: Sequence[float] | np.ndarray, *, method: str = "fdr_bh") -> np.ndarray:
    """Correct p-values for multiple comparisons.

    Parameters
    ----------
    p_values : sequence of float
        Raw p-values; NaN entries stay NaN and do not count as tests.
    method : {"fdr_bh", "holm", "none"}, default "fdr_bh"
        Benjamini-Hochberg false discovery rate (as
        ``scipy.stats.false_discovery_control(method="bh")``), Holm's
        step-down family-wise correction, or no correction.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, capped at 1, in the input order.
    """
    if method not in CORRECTIONS:
        raise ConfigError(
            f"correction method {method!r} is unknown. Use one of {', '.join(CORRECTIONS)}."
        )
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if not ok.any():
        return out
    if method == "none":
        out[ok] = p[ok]
    elif method == "fdr_bh":
        out[ok] = stats.false_discovery_control(p[ok], method="bh")
    else:
        vals = p[ok]
        m = vals.size
        order = np.argsort(vals)
        stepped = np.maximum.accumulate((m - np.arange(m)) * vals[order])
        adjusted = np.empty(m)
        adjusted[order] = np.minimum(stepped, 1.0)
        out[ok] = adjusted
    return out


def adjusted_residuals(table: pd.DataFrame) -> pd.DataFrame:
    """Return Haberman's adjusted standardised residuals of a contingency table.

    Parameters
    ----------
    table : pandas.DataFrame
        Observed counts.

    Returns
    -------
    pandas.DataFrame
        Same shape and labels; each cell is approximately standard normal under
        independence, so ``|r| > 1.96`` marks a cell that differs at 5 %.
    """
    observed = table.to_numpy(dtype=float)
    n = observed.sum()
    rows = observed.sum(axis=1, keepdims=True)
    cols = observed.sum(axis=0, keepdims=True)
    expected = rows @ cols / n
    with np.errstate(divide="ignore", invalid="ignore"):
        resid = (observed - expected) / np.sqrt(expected * (1 - rows / n) * (1 - cols / n))
    return pd.DataFrame(resid, index=table.index, columns=table.columns)


def _clean_table(table: pd.DataFrame | np.ndarray) -> np.ndarray:
    """Drop all-zero rows and columns and return a float array."""
    observed = np.asarray(table, dtype=float)
    if observed.ndim != 2:
        raise DataValidationError(
            f"a contingency table must be 2-D, got {observed.ndim} dimension(s). "
            "Build it with pandas.crosstab(reason, factor)."
        )
    if (observed < 0).any() or np.isnan(observed).any():
        raise DataValidationError(
            "a contingency table must hold non-negative counts without NaN. "
            "Build it with pandas.crosstab(reason, factor)."
        )
    observed = observed[observed.sum(axis=1) > 0]
    return observed[:, observed.sum(axis=0) > 0]

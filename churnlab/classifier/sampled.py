"""A churn classifier fitted on a bounded, stratified sample of its training rows.

The scoring pass stacks several training snapshots (rolling origin), so on a large
base the classifier would see millions of rows. Gradient boosting gains little
beyond some tens of thousands of customers, while the fit time, and the grouped
calibration folds (scikit-learn's ``StratifiedGroupKFold`` costs about a third of a
millisecond per customer), grow with the rows. :class:`SampledChurnClassifier` fits
on at most ``max_rows`` rows: whole customers (all their snapshots, so no customer
is split between fitting and calibration), drawn in proportion from each stratum of
(snapshots, churned snapshots), with stratified grouped calibration folds of its
own. With ``max_rows`` rows or fewer it is exactly :class:`ChurnClassifier`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from churnlab.classifier.pipeline import ChurnClassifier
from churnlab.config import CUSTOMER_ID
from churnlab.exceptions import ConfigError

__all__ = ["SampledChurnClassifier", "classifier_for", "stratified_customer_sample"]


def _customer_codes(X: pd.DataFrame) -> np.ndarray:
    if CUSTOMER_ID in (X.index.names or []):
        keys = X.index.get_level_values(CUSTOMER_ID)
    else:
        keys = X.index
    return pd.factorize(keys)[0]


def stratified_customer_sample(
    X: pd.DataFrame, y: Any, *, max_rows: int, random_state: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Choose whole customers, stratified, so that at most ``max_rows`` rows are kept.

    Parameters
    ----------
    X : pandas.DataFrame
        Training rows; the index (or its ``customer_id`` level) names the customer.
    y : array-like of bool
        Churn label of each row.
    max_rows : int
        Upper bound on the rows kept.
    random_state : int, optional
        Seed of the draw.

    Returns
    -------
    tuple of numpy.ndarray
        ``(rows, strata)``: sorted positions of the kept rows, and each kept row's
        stratum code (customers with the same number of snapshots and of churned
        snapshots share a stratum).
    """
    labels = np.asarray(y).astype(bool)
    codes = _customer_codes(X)
    n_customers = int(codes.max()) + 1 if len(codes) else 0
    snapshots = np.bincount(codes, minlength=n_customers)
    churned = np.bincount(codes, weights=labels, minlength=n_customers).astype(np.int64)
    stratum = pd.factorize(snapshots * (snapshots.max() + 1) + churned)[0]
    share = min(1.0, max_rows / max(len(X), 1))
    rng = np.random.default_rng(random_state)
    keep = np.zeros(n_customers, dtype=bool)
    for s in range(int(stratum.max()) + 1 if n_customers else 0):
        members = np.flatnonzero(stratum == s)
        take = int(np.floor(share * len(members)))
        keep[rng.choice(members, size=take, replace=False)] = True
    rows = np.flatnonzero(keep[codes])
    return rows, stratum[codes[rows]]


class SampledChurnClassifier(ChurnClassifier):
    """:class:`ChurnClassifier` fitted on at most ``max_rows`` training rows.

    Parameters
    ----------
    max_rows : int, default 30000
        Upper bound on the training rows (whole customers, stratified by their
        snapshot and churn counts, see :func:`stratified_customer_sample`).
    **params
        Parameters of :class:`ChurnClassifier` (``random_state`` also seeds the draw).

    Attributes
    ----------
    n_training_rows_ : int
        Rows offered to ``fit`` (before sampling).
    """

    def __init__(self, *, max_rows: int = 30_000, **params: Any) -> None:
        super().__init__(**params)
        if not isinstance(max_rows, (int, np.integer)) or max_rows < 100:
            raise ConfigError(
                f"max_rows={max_rows!r}: the classifier sample needs at least 100 rows; pass a "
                "whole number such as 30000."
            )
        self.max_rows = int(max_rows)

    def fit(self, X: pd.DataFrame, y: Any) -> SampledChurnClassifier:
        """Fit on a stratified sample of whole customers when ``X`` has more rows than allowed.

        Parameters
        ----------
        X : pandas.DataFrame
            Features, one row per customer and snapshot.
        y : array-like of bool
            Churn labels aligned with ``X``.

        Returns
        -------
        SampledChurnClassifier
            ``self``.
        """
        self.n_training_rows_ = len(X)
        self._strata = None
        if not isinstance(X, pd.DataFrame) or len(X) <= self.max_rows:
            return super().fit(X, y)
        rows, strata = stratified_customer_sample(
            X, y, max_rows=self.max_rows, random_state=self.random_state
        )
        self._strata = strata
        try:
            return super().fit(X.iloc[rows], np.asarray(y)[rows])
        finally:
            self._strata = None

    def _calibration_folds(self, X: pd.DataFrame, labels: np.ndarray) -> Any:
        """Return grouped folds stratified by customer stratum (each customer in one fold)."""
        if getattr(self, "_strata", None) is None:
            return super()._calibration_folds(X, labels)
        codes = _customer_codes(X)
        n_customers = int(codes.max()) + 1
        stratum = np.zeros(n_customers, dtype=np.int64)
        stratum[codes] = self._strata
        rng = np.random.default_rng(self.random_state)
        fold = np.empty(n_customers, dtype=np.int64)
        for s in np.unique(stratum):
            members = rng.permutation(np.flatnonzero(stratum == s))
            # a random start per stratum, so small strata do not all favour fold 0
            fold[members] = (np.arange(len(members)) + rng.integers(self.cv)) % self.cv
        row_fold = fold[codes]
        return [
            (np.flatnonzero(row_fold != k), np.flatnonzero(row_fold == k)) for k in range(self.cv)
        ]


def classifier_for(settings: Any) -> SampledChurnClassifier:
    """Return the churn classifier of the scoring pass for ``settings``.

    Parameters
    ----------
    settings : ScoringSettings
        ``classifier_sample`` (row bound), ``classifier_threads`` and ``random_state``.

    Returns
    -------
    SampledChurnClassifier
    """
    return SampledChurnClassifier(
        max_rows=getattr(settings, "classifier_sample", 30_000),
        random_state=getattr(settings, "random_state", None),
        n_threads=getattr(settings, "classifier_threads", 1),
    )

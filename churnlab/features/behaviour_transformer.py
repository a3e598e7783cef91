"""Scikit-learn transformer around :func:`churnlab.features.behaviour.behaviour_features`.

:class:`BehaviourFeatures` turns a transaction log into one point-in-time feature row per
customer, so the feature step can sit in a scikit-learn Pipeline.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from churnlab.config import DATE
from churnlab.engine import execute
from churnlab.features.behaviour import _as_table, behaviour_features

__all__ = ["BehaviourFeatures"]


class BehaviourFeatures(TransformerMixin, BaseEstimator):
    """Scikit-learn transformer: transaction log in, one feature row per customer out.

    Parameters
    ----------
    cutoff : date-like, optional
        Point in time; ``None`` uses the day after the last purchase seen by
        ``transform``.
    time_unit, trend_periods, trend_unit
        As in :func:`behaviour_features`.

    Attributes
    ----------
    feature_names_out_ : numpy.ndarray
        Feature columns learned at ``fit``; ``transform`` always returns them.

    Notes
    -----
    Unlike most transformers the output has one row per customer, not one per
    input row; the index is customer_id.
    """

    def __init__(
        self,
        *,
        cutoff: Any = None,
        time_unit: str = "W",
        trend_periods: int = 3,
        trend_unit: str = "M",
    ) -> None:
        self.cutoff = cutoff
        self.time_unit = time_unit
        self.trend_periods = trend_periods
        self.trend_unit = trend_unit

    def _build(self, X: Any) -> pd.DataFrame:
        cutoff = self.cutoff
        if cutoff is None:
            last = execute(_as_table(X)[DATE].max())
            cutoff = pd.Timestamp(last).normalize() + pd.Timedelta(days=1)
        return behaviour_features(
            X,
            cutoff=cutoff,
            time_unit=self.time_unit,
            trend_periods=self.trend_periods,
            trend_unit=self.trend_unit,
        )

    def fit(self, X: Any, y: Any = None) -> BehaviourFeatures:
        """Learn the feature names from ``X``.

        Parameters
        ----------
        X : DataFrame, LoadedTransactions, path or ibis.Table
            Transaction log.
        y : ignored

        Returns
        -------
        BehaviourFeatures
            ``self``.
        """
        self.feature_names_out_ = np.asarray(self._build(X).columns, dtype=object)
        return self

    def transform(self, X: Any) -> pd.DataFrame:
        """Return the features of ``X`` with the columns learned at ``fit``.

        Parameters
        ----------
        X : DataFrame, LoadedTransactions, path or ibis.Table
            Transaction log.

        Returns
        -------
        pandas.DataFrame
            One row per customer, index customer_id.
        """
        check_is_fitted(self, "feature_names_out_")
        return self._build(X).reindex(columns=list(self.feature_names_out_))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Return the output feature names.

        Parameters
        ----------
        input_features : ignored

        Returns
        -------
        numpy.ndarray
            Feature names, as learned at ``fit``.
        """
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()

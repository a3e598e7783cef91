"""Why customers churn: global drivers and per-customer reasons in plain words.

* Global: permutation importance on held-out data (how much ROC AUC drops when a
  feature is shuffled), see scikit-learn's ``permutation_importance``.
* Per customer: a counterfactual ("occlusion") attribution. For each feature we
  replace the customer's value with the median of customers who stayed and measure
  how much the calibrated churn probability falls. The features whose typical value
  lowers the risk most are the customer's reasons. It works for any fitted
  classifier, including the calibrated ensemble; all counterfactuals are scored in
  batched predictions, and each reason is phrased from the customer's own numbers
  by :mod:`churnlab.classifier.phrases`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

from churnlab.classifier.phrases import REASONS, is_risky, reason_text
from churnlab.exceptions import DataValidationError

__all__ = ["customer_reasons", "permutation_drivers"]


def permutation_drivers(
    classifier: Any,
    X: pd.DataFrame,
    y: pd.Series,
    *,
    n_repeats: int = 5,
    scoring: str = "roc_auc",
    random_state: int | None = None,
) -> pd.DataFrame:
    """Rank features by permutation importance on held-out data.

    Parameters
    ----------
    classifier : fitted ChurnClassifier
        Any fitted classifier with ``predict_proba``.
    X : pandas.DataFrame
        Held-out features (not those used to fit).
    y : pandas.Series
        Held-out labels aligned with ``X``.
    n_repeats : int, default 5
        Shuffles per feature.
    scoring : str, default "roc_auc"
        scikit-learn scorer name.
    random_state : int, optional
        Seed of the shuffles.

    Returns
    -------
    pandas.DataFrame
        Index feature, columns ``importance_mean``, ``importance_std``, sorted
        descending.
    """
    result = permutation_importance(
        classifier,
        X,
        np.asarray(y).astype(bool),
        n_repeats=n_repeats,
        scoring=scoring,
        random_state=random_state,
    )
    table = pd.DataFrame(
        {"importance_mean": result.importances_mean, "importance_std": result.importances_std},
        index=pd.Index(X.columns, name="feature"),
    )
    return table.sort_values("importance_mean", ascending=False)


def _effects(
    classifier: Any, X: pd.DataFrame, columns: list[str], typical: pd.Series, *, batch: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return the base probability and how much setting each feature to typical lowers it.

    All counterfactual copies of a block of customers are scored in one batched
    prediction (``len(columns) + 1`` rows per customer), not one prediction per feature.
    """
    base = np.empty(len(X))
    effects = np.empty((len(X), len(columns)))
    per_block = max(1, batch // (len(columns) + 1))
    positions = [X.columns.get_loc(c) for c in columns]
    for start in range(0, len(X), per_block):
        block = X.iloc[start : start + per_block]
        n = len(block)
        stacked = pd.concat([block] * (len(columns) + 1), ignore_index=True)
        for j, position in enumerate(positions):
            stacked.iloc[(j + 1) * n : (j + 2) * n, position] = typical[columns[j]]
        proba = _proba(classifier, stacked).reshape(len(columns) + 1, n)
        base[start : start + n] = proba[0]
        effects[start : start + n] = (proba[0] - proba[1:]).T
    return base, effects


def customer_reasons(
    classifier: Any,
    X: pd.DataFrame,
    *,
    reference: pd.DataFrame | None = None,
    top: int = 3,
    min_effect: float = 0.005,
    batch: int = 500_000,
) -> pd.DataFrame:
    """Return each customer's top reasons for churn risk, in plain words.

    A feature is a reason when setting it to the typical value of customers who
    stayed lowers the customer's churn probability by at least ``min_effect``, *and*
    the customer's value is on that feature's risky side (:data:`REASONS`), so a
    reason never contradicts the customer's numbers. At most one reason per theme
    is given, and no sentence twice.

    Parameters
    ----------
    classifier : fitted ChurnClassifier
        Must have ``churn_probability`` or ``predict_proba``.
    X : pandas.DataFrame
        Customers to explain (index customer_id).
    reference : pandas.DataFrame, optional
        Customers whose medians define "typical" (e.g. retained customers of the
        training set). Defaults to ``X``.
    top : int, default 3
        Reasons per customer.
    min_effect : float, default 0.005
        Ignore features that move the probability by less than this.
    batch : int, default 500000
        Rows per batched prediction (bounds memory for large bases).

    Returns
    -------
    pandas.DataFrame
        Index customer_id; ``churn_probability``, ``reason_1..top`` (text),
        ``feature_1..top`` and ``effect_1..top`` (probability points the feature
        adds to the risk). Missing reasons are empty strings / NaN.
    """
    if X.empty:
        raise DataValidationError("customer_reasons got no customers to explain (X is empty).")
    used = getattr(classifier, "feature_names_in_", None)
    if used is not None:
        X = X.reindex(columns=list(used))
    ref = X if reference is None else reference.reindex(columns=X.columns)
    columns = [c for c in X.columns if c in REASONS and pd.api.types.is_numeric_dtype(X[c])]
    typical = ref[columns].median()
    base, effects = _effects(classifier, X, columns, typical, batch=batch)
    values = X[columns].to_numpy(dtype=float)
    order = np.argsort(-effects, axis=1, kind="stable")
    rows = []
    for i in range(len(X)):
        chosen: list[tuple[str, str, float]] = []
        themes: set[str] = set()
        for j in order[i]:
            if effects[i, j] < min_effect or len(chosen) == top:
                break
            feature = columns[j]
            theme = REASONS[feature].theme
            if theme in themes or not is_risky(feature, values[i, j], typical.iloc[j]):
                continue
            text = reason_text(feature, values[i, j], typical.iloc[j])
            if text and text not in {c[1] for c in chosen}:
                chosen.append((feature, text, effects[i, j]))
                themes.add(theme)
        chosen += [("", "", np.nan)] * (top - len(chosen))
        rows.append([x for feature, text, size in chosen for x in (text, feature, size)])
    names = [f"{kind}_{k + 1}" for k in range(top) for kind in ("reason", "feature", "effect")]
    out = pd.DataFrame(rows, index=X.index, columns=names)
    out.insert(0, "churn_probability", base)
    ordered = ["churn_probability"] + [
        f"{kind}_{k + 1}" for kind in ("reason", "feature", "effect") for k in range(top)
    ]
    return out[ordered]


def _proba(classifier: Any, X: pd.DataFrame) -> np.ndarray:
    if hasattr(classifier, "churn_probability"):
        return classifier.churn_probability(X).to_numpy(dtype=float)
    return np.asarray(classifier.predict_proba(X))[:, 1]

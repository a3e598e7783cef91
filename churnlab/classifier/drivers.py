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

from churnlab.classifier.phrases import REASONS, reason_texts, risky_mask
from churnlab.classifier.pipeline import in_columns
from churnlab.classifier.tree_effects import tree_effects
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
    classifier: Any,
    X: pd.DataFrame,
    columns: list[str],
    typical: pd.Series,
    risky: np.ndarray,
    *,
    batch: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the base probability and how much setting each feature to typical lowers it.

    Only the (customer, feature) pairs that can become a reason (the value is on the
    feature's risky side) are scored; the others stay NaN. A calibrated
    gradient-boosting classifier is scored tree by tree
    (:func:`~churnlab.classifier.tree_effects.tree_effects`);
    any other classifier in batched predictions of up to ``batch`` rows.
    """
    fast = tree_effects(classifier, X, columns, typical, risky, batch=batch)
    if fast is not None:
        return fast
    base = np.concatenate(
        [_proba(classifier, X.iloc[start : start + batch]) for start in range(0, len(X), batch)]
    )
    effects = np.full((len(X), len(columns)), np.nan)
    positions = np.array([X.columns.get_loc(c) for c in columns], dtype=np.int64)
    middle = typical.to_numpy()
    rows, features = np.nonzero(risky)
    for start in range(0, len(rows), batch):
        i, j = rows[start : start + batch], features[start : start + batch]
        block = X.iloc[i].reset_index(drop=True)
        for k in np.unique(j):
            block.iloc[np.flatnonzero(j == k), positions[k]] = middle[k]
        effects[i, j] = base[i] - _proba(classifier, block)
    return base, effects


def customer_reasons(
    classifier: Any,
    X: pd.DataFrame,
    *,
    reference: pd.DataFrame | None = None,
    top: int = 3,
    min_effect: float = 0.005,
    batch: int = 500_000,
    currency: str = "",
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
    currency : str, default ""
        ISO code (or symbol) of the money amounts in the sentences, e.g. "GBP".

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
        X = in_columns(X, used)
    ref = X if reference is None else in_columns(reference, X.columns)
    columns = [c for c in X.columns if c in REASONS and pd.api.types.is_numeric_dtype(X[c])]
    typical = ref[columns].median()
    values = X[columns].to_numpy(dtype=float)
    risky = risky_mask(values, columns, typical.to_numpy(dtype=float))
    base, effects = _effects(classifier, X, columns, typical, risky, batch=batch)
    chosen = _choose(effects, risky, columns, top, min_effect)
    out = pd.DataFrame({"churn_probability": base}, index=X.index)
    rows = np.arange(len(X))
    for k in range(top):
        j = chosen[:, k]
        has = j >= 0
        safe = np.where(has, j, 0)
        texts = np.full(len(X), "", dtype=object)
        for feature_index in np.unique(safe[has]):
            at = np.flatnonzero(has & (safe == feature_index))
            feature, middle = columns[feature_index], typical.iloc[feature_index]
            # phrase each distinct value once (counts and days repeat across customers)
            distinct, where = np.unique(values[at, feature_index], return_inverse=True)
            texts[at] = reason_texts(feature, distinct, middle, currency=currency)[where]
        out[f"reason_{k + 1}"] = texts
        out[f"feature_{k + 1}"] = np.where(has, np.asarray(columns, dtype=object)[safe], "")
        out[f"effect_{k + 1}"] = np.where(has, effects[rows, safe], np.nan)
    ordered = ["churn_probability"] + [
        f"{kind}_{k + 1}" for kind in ("reason", "feature", "effect") for k in range(top)
    ]
    return out[ordered]


def _choose(
    effects: np.ndarray, risky: np.ndarray, columns: list[str], top: int, min_effect: float
) -> np.ndarray:
    """Return the column positions of each customer's reasons (-1 where there is none).

    Vectorised over customers: features are visited in order of decreasing effect;
    one is taken when its effect reaches ``min_effect``, the customer's value is on
    its risky side, its theme is not yet used and fewer than ``top`` are taken.
    """
    n, m = effects.shape
    themes = pd.factorize(np.array([REASONS[c].theme for c in columns], dtype=object))[0]
    with np.errstate(invalid="ignore"):
        usable = risky & (effects >= min_effect)
    order = np.argsort(-np.nan_to_num(effects, nan=-np.inf), axis=1, kind="stable")
    rows = np.arange(n)
    used = np.zeros((n, int(themes.max()) + 1 if m else 1), dtype=bool)
    count = np.zeros(n, dtype=np.int64)
    chosen = np.full((n, top), -1, dtype=np.int64)
    for k in range(m):
        j = order[:, k]
        take = usable[rows, j] & ~used[rows, themes[j]] & (count < top)
        chosen[rows[take], count[take]] = j[take]
        used[rows[take], themes[j[take]]] = True
        count += take
    return chosen


def _proba(classifier: Any, X: pd.DataFrame) -> np.ndarray:
    if hasattr(classifier, "churn_probability"):
        return classifier.churn_probability(X).to_numpy(dtype=float)
    return np.asarray(classifier.predict_proba(X))[:, 1]

"""Why customers churn: global drivers and per-customer reasons in plain words.

* Global: permutation importance on held-out data (how much ROC AUC drops when a
  feature is shuffled), see scikit-learn's ``permutation_importance``.
* Per customer: a counterfactual ("occlusion") attribution. For each feature we
  replace the customer's value with the median of customers who stayed and measure
  how much the calibrated churn probability falls. The features whose typical value
  lowers the risk most are the customer's reasons. It works for any fitted
  classifier, including the calibrated ensemble, and each reason is phrased from
  the customer's own numbers via :data:`REASON_TEMPLATES`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

from churnlab.exceptions import DataValidationError

__all__ = [
    "MISSING_REASONS",
    "REASON_TEMPLATES",
    "customer_reasons",
    "permutation_drivers",
    "reason_text",
]


def _pct(value: float) -> str:
    return f"{abs(value):.0f}%"


#: Feature -> function(value, typical) returning an account-manager sentence. Edit freely.
REASON_TEMPLATES: dict[str, Callable[[float, float], str]] = {
    "orders_change_pct": lambda v, t: (
        f"orders dropped {_pct(v)} vs the previous period" if v < 0 else f"orders up {_pct(v)}"
    ),
    "spend_change_pct": lambda v, t: (
        f"spend dropped {_pct(v)} vs the previous period" if v < 0 else f"spend up {_pct(v)}"
    ),
    "orders_last": lambda v, t: f"only {v:.0f} orders in the last period (typical {t:.0f})",
    "spend_last": lambda v, t: f"spent {v:,.0f} in the last period (typical {t:,.0f})",
    "orders_prev": lambda v, t: f"{v:.0f} orders in the period before (typical {t:.0f})",
    "spend_prev": lambda v, t: f"spent {v:,.0f} in the period before (typical {t:,.0f})",
    "days_since_last": lambda v, t: f"no purchase for {v:.0f} days (typical {t:.0f})",
    "gap_ratio": lambda v, t: f"silent for {v:.1f}x their usual gap between purchases",
    "recency": lambda v, t: f"last purchase came early in their history ({v:.0f} periods in)",
    "T": lambda v, t: f"first bought {v:.0f} periods ago (typical {t:.0f})",
    "tenure_days": lambda v, t: f"customer for {v:.0f} days (typical {t:.0f})",
    "frequency": lambda v, t: f"only {v:.0f} repeat purchases (typical {t:.0f})",
    "n_orders": lambda v, t: f"only {v:.0f} orders so far (typical {t:.0f})",
    "monetary_value": lambda v, t: f"average repeat spend {v:,.0f} (typical {t:,.0f})",
    "total_spend": lambda v, t: f"total spend {v:,.0f} (typical {t:,.0f})",
    "avg_order_value": lambda v, t: f"average order {v:,.0f} (typical {t:,.0f})",
    "ipt_mean_days": lambda v, t: f"buys every {v:.0f} days on average (typical {t:.0f})",
    "ipt_std_days": lambda v, t: f"gaps between purchases vary by {v:.0f} days",
    "ipt_cv": lambda v, t: "buys irregularly (gaps vary a lot)",
    "regularity": lambda v, t: f"regularity {v:.2f} (typical {t:.2f})",
    "n_products": lambda v, t: f"buys only {v:.0f} different products (typical {t:.0f})",
    "product_diversity": lambda v, t: f"product variety {v:.2f} (typical {t:.2f})",
    "avg_basket_items": lambda v, t: f"{v:.0f} units per order (typical {t:.0f})",
    "avg_basket_lines": lambda v, t: f"{v:.0f} lines per order (typical {t:.0f})",
    "returns_share": lambda v, t: f"returned {v * 100:.0f}% of what they bought",
    "n_returns": lambda v, t: f"{v:.0f} returns or cancellations",
    "p_alive": lambda v, t: f"purchase model: only {v * 100:.0f}% chance they are still active",
    "expected_purchases": lambda v, t: (
        f"expected to buy {v:.1f} times next period (typical {t:.1f})"
    ),
    "clv": lambda v, t: f"expected future value {v:,.0f} (typical {t:,.0f})",
}


_RHYTHM = "too few purchases to show a buying rhythm yet"

#: Sentences for a missing value (NaN) of a feature, e.g. gaps of a one-time buyer.
MISSING_REASONS: dict[str, str] = {
    "ipt_mean_days": _RHYTHM,
    "ipt_std_days": _RHYTHM,
    "ipt_cv": _RHYTHM,
    "regularity": _RHYTHM,
    "gap_ratio": _RHYTHM,
    "orders_change_pct": "no orders in the period before, so no trend yet",
    "spend_change_pct": "no spend in the period before, so no trend yet",
}


def reason_text(feature: str, value: float, typical: float) -> str:
    """Return a plain-English sentence for one feature value.

    Parameters
    ----------
    feature : str
        Feature (column) name.
    value : float
        The customer's value (NaN means "no data").
    typical : float
        The median among retained customers.

    Returns
    -------
    str
        From :data:`REASON_TEMPLATES`, or a generic "feature is X (typical Y)".
    """
    if value is None or pd.isna(value):
        return MISSING_REASONS.get(feature, f"no data for {feature.replace('_', ' ')}")
    template = REASON_TEMPLATES.get(feature)
    if template is not None:
        return template(float(value), float(typical) if pd.notna(typical) else float("nan"))
    if isinstance(value, (int, float, np.number)):
        return f"{feature.replace('_', ' ')} is {value:.3g} (typical {typical:.3g})"
    return f"{feature.replace('_', ' ')} is {value}"


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


def customer_reasons(
    classifier: Any,
    X: pd.DataFrame,
    *,
    reference: pd.DataFrame | None = None,
    top: int = 3,
    min_effect: float = 0.005,
) -> pd.DataFrame:
    """Return each customer's top reasons for churn risk, in plain words.

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
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    typical = ref[numeric].median()
    base = _proba(classifier, X)
    effects = np.zeros((len(X), len(numeric)))
    for j, column in enumerate(numeric):
        changed = X.copy()
        changed[column] = typical[column]
        effects[:, j] = base - _proba(classifier, changed)
    order = np.argsort(-effects, axis=1)[:, :top]
    out = pd.DataFrame({"churn_probability": base}, index=X.index)
    values = X[numeric].to_numpy(dtype=float)
    for k in range(top):
        texts, feats, sizes = [], [], []
        for i in range(len(X)):
            j = order[i, k]
            if effects[i, j] < min_effect:
                texts.append("")
                feats.append("")
                sizes.append(np.nan)
                continue
            feats.append(numeric[j])
            sizes.append(effects[i, j])
            texts.append(reason_text(numeric[j], values[i, j], typical.iloc[j]))
        out[f"reason_{k + 1}"] = texts
        out[f"feature_{k + 1}"] = feats
        out[f"effect_{k + 1}"] = sizes
    return out


def _proba(classifier: Any, X: pd.DataFrame) -> np.ndarray:
    if hasattr(classifier, "churn_probability"):
        return classifier.churn_probability(X).to_numpy(dtype=float)
    return np.asarray(classifier.predict_proba(X))[:, 1]

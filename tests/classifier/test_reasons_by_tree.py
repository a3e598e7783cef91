"""Per-customer reasons scored tree by tree equal the plain batched counterfactuals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnlab.classifier.drivers import customer_reasons
from churnlab.classifier.pipeline import ChurnClassifier
from churnlab.classifier.tree_effects import boosted_parts, boosted_probability


class _OnlyProbabilities:
    """Hides the model internals, so customer_reasons takes its generic batched path."""

    def __init__(self, model: ChurnClassifier) -> None:
        self.model = model
        self.feature_names_in_ = model.feature_names_in_

    def churn_probability(self, X: pd.DataFrame) -> pd.Series:
        return self.model.churn_probability(X)


@pytest.fixture(
    scope="module",
    params=[(7, False), (31, False), (7, True)],
    ids=["decision tables", "large trees", "three calibrated folds"],
)
def fitted(request: pytest.FixtureRequest) -> tuple[ChurnClassifier, pd.DataFrame]:
    rng = np.random.default_rng(4)
    n = 1_500
    X = pd.DataFrame(
        {
            "days_since_last": rng.exponential(60, n),
            "orders_last": rng.poisson(2, n).astype(float),
            "total_spend": rng.gamma(2, 100, n),
            "ipt_mean_days": np.where(rng.random(n) < 0.1, np.nan, rng.exponential(30, n)),
            "tenure_days": rng.uniform(30, 700, n),
        },
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )
    risk = X["days_since_last"] / 60 - X["orders_last"] / 2 + rng.normal(0, 0.7, n)
    # 7 leaves (6 splits) take the decision-table path, 31 leaves the re-scoring path;
    # with ensemble=True the calibrated probabilities of three fold models are averaged
    leaves, ensemble = request.param
    model = ChurnClassifier(random_state=0, max_iter=40, max_leaf_nodes=leaves, ensemble=ensemble)
    model.fit(X, risk > 0)
    assert len(model.model_.calibrated_classifiers_) == (3 if ensemble else 1)
    return model, X


def test_the_tree_path_applies_to_the_calibrated_booster(fitted) -> None:
    model, X = fitted
    assert boosted_parts(model, X) is not None
    assert boosted_parts(_OnlyProbabilities(model), X) is None


def test_tree_by_tree_equals_batched_counterfactuals(fitted) -> None:
    model, X = fitted
    by_tree = customer_reasons(model, X, min_effect=0.001)
    batched = customer_reasons(_OnlyProbabilities(model), X, min_effect=0.001)
    pd.testing.assert_frame_equal(by_tree, batched, check_exact=False, rtol=1e-9, atol=1e-12)
    assert (by_tree["reason_1"] != "").mean() > 0.3  # the comparison covers real reasons


def test_decision_tables_give_scikit_learns_probabilities(fitted) -> None:
    model, X = fitted
    reference = model.model_.predict_proba(X)[:, 1]  # scikit-learn's own predictor
    assert np.allclose(boosted_probability(model, X, batch=20_000), reference, rtol=0, atol=1e-12)
    assert np.allclose(model.predict_proba(X)[:, 1], reference, rtol=0, atol=1e-12)


def test_isotonic_calibration_and_customers_with_nothing_risky() -> None:
    rng = np.random.default_rng(5)
    n = 900
    X = pd.DataFrame(
        {"days_since_last": rng.exponential(60, n), "orders_last": rng.poisson(2, n).astype(float)},
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )
    model = ChurnClassifier(random_state=0, max_iter=30, calibration="isotonic")
    model.fit(X, X["days_since_last"] / 60 - X["orders_last"] / 2 + rng.normal(0, 0.7, n) > 0)
    # recent, frequent customers: no value on a risky side, so no counterfactual to score
    safe = X[(X["days_since_last"] < 5) & (X["orders_last"] >= 4)]
    assert len(safe) > 0
    reasons = customer_reasons(model, safe, reference=X)
    assert (reasons["reason_1"] == "").all()
    expected = model.churn_probability(safe).to_numpy()
    np.testing.assert_allclose(reasons["churn_probability"].to_numpy(), expected, rtol=1e-12)

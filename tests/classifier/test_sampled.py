"""The classifier fitted on a bounded, stratified sample of whole customers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnlab.classifier.pipeline import ChurnClassifier
from churnlab.classifier.sampled import SampledChurnClassifier, stratified_customer_sample
from churnlab.exceptions import ConfigError


def _snapshots(n_customers: int, n_snapshots: int = 2, seed: int = 0):
    rng = np.random.default_rng(seed)
    index = pd.MultiIndex.from_product(
        [[f"s{k}" for k in range(n_snapshots)], [f"c{i:05d}" for i in range(n_customers)]],
        names=["cutoff", "customer_id"],
    )
    x = pd.DataFrame(
        {"a": rng.normal(size=len(index)), "b": rng.exponential(size=len(index))}, index=index
    )
    y = pd.Series(x["a"] + rng.normal(scale=0.5, size=len(index)) > 0.3, index=index)
    return x, y


def test_small_training_sets_are_used_whole() -> None:
    x, y = _snapshots(300)
    sampled = SampledChurnClassifier(max_rows=1_000, random_state=0, max_iter=20).fit(x, y)
    plain = ChurnClassifier(random_state=0, max_iter=20).fit(x, y)
    np.testing.assert_array_equal(sampled.predict_proba(x), plain.predict_proba(x))
    assert sampled.n_customers_ == len(x)


def test_large_training_sets_keep_whole_customers_within_the_bound() -> None:
    x, y = _snapshots(3_000)
    rows, _ = stratified_customer_sample(x, y, max_rows=1_500, random_state=1)
    assert len(rows) <= 1_500
    kept = x.iloc[rows].index.get_level_values("customer_id")
    assert (kept.value_counts() == 2).all()  # both snapshots of every kept customer
    assert y.iloc[rows].mean() == pytest.approx(y.mean(), abs=0.02)


def test_the_calibration_folds_never_split_a_customer() -> None:
    x, y = _snapshots(3_000)
    model = SampledChurnClassifier(max_rows=1_500, random_state=2, max_iter=20).fit(x, y)
    assert model.n_customers_ <= 1_500 and model.n_training_rows_ == len(x)
    rows, strata = stratified_customer_sample(x, y, max_rows=1_500, random_state=2)
    model._strata = strata
    folds = model._calibration_folds(x.iloc[rows], y.to_numpy()[rows])
    customers = x.iloc[rows].index.get_level_values("customer_id")
    seen = [set(customers[test]) for _, test in folds]
    assert sum(len(s) for s in seen) == customers.nunique()  # each customer in one fold


def test_a_tiny_bound_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least 100 rows"):
        SampledChurnClassifier(max_rows=10)

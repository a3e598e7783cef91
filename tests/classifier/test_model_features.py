"""Purchase-model outputs as classifier features (:mod:`churnlab.classifier.model_features`)."""

import pytest

from churnlab.classifier.model_features import model_features
from churnlab.exceptions import ConfigError
from churnlab.features.behaviour import behaviour_features


def test_model_outputs_join_the_behaviour_features(random_transactions):
    f = model_features(random_transactions, cutoff="2023-03-01", spend_model="fit")
    assert {"p_alive", "expected_purchases", "clv"} <= set(f.columns)
    assert f["p_alive"].between(0, 1).all()
    assert (f["clv"].dropna() >= 0).all()
    plain = behaviour_features(random_transactions, cutoff="2023-03-01")
    assert f[plain.columns].equals(plain)  # the behaviour part is unchanged


def test_without_a_model_it_is_the_behaviour_features(random_transactions):
    f = model_features(random_transactions, cutoff="2023-03-01", transaction_model=None)
    assert f.equals(behaviour_features(random_transactions, cutoff="2023-03-01"))


def test_unknown_model_option(tiny_transactions):
    with pytest.raises(ConfigError, match="transaction_model"):
        model_features(tiny_transactions, cutoff="2024-03-01", transaction_model="refit")

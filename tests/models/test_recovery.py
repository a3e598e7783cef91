"""Parameter recovery: fits on data simulated from known BG/NBD parameters."""

from __future__ import annotations

import numpy as np
import pytest

from churnlab.models._simulate import simulate_bgnbd
from churnlab.models.bgnbd import BetaGeoModel
from churnlab.models.mbgnbd import ModifiedBetaGeoModel

# Close to FHL (2005)'s CDNOW estimates, with ages spread over 1-52 weeks.
TRUE = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}


def _ages(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(1, 53, size=n).astype(float)


def test_simulator_is_reproducible_and_valid():
    one = simulate_bgnbd(1000, **TRUE, T=_ages(1000, 0), random_state=5)
    two = simulate_bgnbd(1000, **TRUE, T=_ages(1000, 0), random_state=5)
    assert one.equals(two)
    assert (one["recency"] <= one["T"]).all()
    assert (one.loc[one["frequency"] == 0, "recency"] == 0).all()
    assert (one.loc[one["frequency"] > 0, "recency"] > 0).all()


@pytest.mark.slow
def test_true_parameters_lie_in_the_95_percent_intervals():
    # 5 seeds x 4 parameters = 20 intervals; each misses with probability 0.05, so <= 2 misses
    # is expected 92% of the time (binomial(20, 0.05)); these fixed seeds give 2.
    misses, estimates = 0, []
    for seed in range(5):
        n = 200_000
        data = simulate_bgnbd(n, **TRUE, T=_ages(n, 100 + seed), random_state=seed)
        # Recency on a daily grid (as rfm_summary produces for weekly units) for compression.
        data["recency"] = np.round(data["recency"] * 7) / 7
        data.loc[(data["frequency"] > 0) & (data["recency"] == 0), "recency"] = 1 / 7
        model = BetaGeoModel().fit(data, time_unit="W")
        summary = model.summary_
        for name, value in TRUE.items():
            inside = summary.loc[name, "lower_95"] <= value <= summary.loc[name, "upper_95"]
            misses += not inside
        estimates.append(model.params_)
    assert misses <= 2, (misses, estimates)
    mean = np.mean(estimates, axis=0)
    np.testing.assert_allclose(mean, list(TRUE.values()), rtol=0.05)


def test_modified_model_recovers_its_parameters():
    n = 100_000
    truth = {"r": 0.5, "alpha": 6.0, "a": 0.9, "b": 1.6}
    data = simulate_bgnbd(n, **truth, T=_ages(n, 7), modified=True, random_state=11)
    data["recency"] = np.round(data["recency"] * 7) / 7
    data.loc[(data["frequency"] > 0) & (data["recency"] == 0), "recency"] = 1 / 7
    model = ModifiedBetaGeoModel().fit(data)
    z = (model.params_ - np.array(list(truth.values()))) / model.summary_["std_error"]
    assert np.all(np.abs(z) < 4), z

"""The calibration caveat says when the error comes from a churn rate that moved over time.

Figures from the Online Retail backtest of this run's scoring pass (test window from
2011-09-09: 42.9% churned, the classifier predicted 49.0% on average, the training
windows had 47.9% churn, ECE 6.2%).
"""

from __future__ import annotations

import pandas as pd

from churnlab.model_choice import _calibration_caveat


def test_a_moved_churn_rate_is_named():
    scores = pd.Series({"ece": 0.062, "mean_predicted": 0.490, "churn_rate": 0.429})
    text = _calibration_caveat(scores, train_rate=0.479)
    assert text.startswith("The classifier's probabilities are off by 6.2% on average")
    assert "it predicted 49% churn on average, and 43% churned, while 48% had churned" in text
    assert text.endswith("so read them as a ranking.")


def test_a_stable_churn_rate_is_not_blamed():
    scores = pd.Series({"ece": 0.05, "mean_predicted": 0.47, "churn_rate": 0.46})
    text = _calibration_caveat(scores, train_rate=0.465)
    assert "moved" not in text and "off by 5.0%" in text

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churnlab.classifier.backtest import backtest, backtest_cutoffs, score_customers
from churnlab.classifier.drivers import customer_reasons, permutation_drivers
from churnlab.classifier.metrics import (
    evaluate_churn_scores,
    expected_calibration_error,
    lift_table,
)
from churnlab.classifier.phrases import reason_text
from churnlab.classifier.pipeline import ChurnClassifier, churn_labels
from churnlab.exceptions import ConfigError, DataValidationError, ModelNotFittedError

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def separable():
    rng = np.random.default_rng(3)
    n = 400
    X = pd.DataFrame(
        {
            "days_since_last": rng.exponential(60, n),
            "orders_change_pct": rng.normal(0, 50, n),
            "noise": rng.normal(size=n),
            "plan": rng.choice(["a", "b"], n),
        },
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )
    logit = (X["days_since_last"] - 60) / 20 - X["orders_change_pct"] / 40
    y = pd.Series(rng.random(n) < 1 / (1 + np.exp(-logit)), index=X.index, name="churned")
    return X, y


def test_churn_labels(tiny_transactions):
    # before 02-01: a (01-01, 01-15) and b (01-10); in [02-01, 02-21) only a buys (02-20)
    labels = churn_labels(tiny_transactions, cutoff="2024-02-01", horizon=20, horizon_unit="D")
    assert labels.to_dict() == {"a": False, "b": True}
    assert labels.name == "churned" and labels.index.name == "customer_id"


def test_churn_labels_window_beyond_data(tiny_transactions):
    with pytest.raises(DataValidationError, match="ends after the data"):
        churn_labels(tiny_transactions, cutoff="2024-03-01", horizon=3, horizon_unit="M")


@pytest.mark.parametrize("estimator", ["hist_gradient_boosting", "logistic"])
def test_classifier_learns(separable, estimator):
    X, y = separable
    model = ChurnClassifier(estimator=estimator, random_state=0, max_iter=50).fit(X[:300], y[:300])
    p = model.churn_probability(X[300:])
    assert p.between(0, 1).all() and p.index.equals(X.index[300:])
    table = evaluate_churn_scores(y[300:], {"model": p})
    assert table.loc["model", "roc_auc"] > 0.8
    assert model.predict(X[300:]).dtype == bool
    assert "fitted on 300 customers" in repr(model)


def test_classifier_is_reproducible(separable):
    X, y = separable
    a = ChurnClassifier(random_state=1, max_iter=30).fit(X, y).churn_probability(X)
    b = ChurnClassifier(random_state=1, max_iter=30).fit(X, y).churn_probability(X)
    pd.testing.assert_series_equal(a, b)
    raw = ChurnClassifier(calibration=None, max_iter=30, random_state=1).fit(X, y)
    assert raw.churn_probability(X).between(0, 1).all()


def test_classifier_errors(separable):
    X, y = separable
    with pytest.raises(ModelNotFittedError, match="not fitted yet"):
        ChurnClassifier().churn_probability(X)
    with pytest.raises(DataValidationError, match="expects a pandas DataFrame"):
        ChurnClassifier().fit(X.to_numpy(), y)
    with pytest.raises(DataValidationError, match="feature rows but"):
        ChurnClassifier().fit(X, y[:10])
    with pytest.raises(DataValidationError, match="both churners and non-churners"):
        ChurnClassifier().fit(X, np.zeros(len(X), bool))
    with pytest.raises(ConfigError, match="estimator='forest' is not known"):
        ChurnClassifier(estimator="forest").fit(X, y)
    with pytest.raises(ConfigError, match="calibration='platt' is not known"):
        ChurnClassifier(calibration="platt").fit(X, y)
    model = ChurnClassifier(max_iter=10).fit(X, y)
    with pytest.raises(DataValidationError, match="lacks"):
        model.churn_probability(X.drop(columns="noise"))


def test_expected_calibration_error_known_value():
    # two bins: [0.1]*2 with outcomes 0,0 -> |0-0.1|; [0.9]*2 with 1,0 -> |0.5-0.9|
    y = np.array([0, 0, 1, 0])
    p = np.array([0.1, 0.1, 0.9, 0.9])
    assert expected_calibration_error(y, p) == pytest.approx(0.5 * 0.1 + 0.5 * 0.4)


def test_lift_table():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    p = np.linspace(1, 0, 10)
    table = lift_table(y, p)
    assert table["lift"].iloc[0] == pytest.approx(5.0)  # rate 1.0 vs base 0.2
    assert table["cumulative_gain"].iloc[1] == pytest.approx(1.0)
    assert table["cumulative_share"].iloc[-1] == pytest.approx(1.0)


def test_evaluate_same_customers():
    y = pd.Series([True, False, True, False], index=list("abcd"))
    scores = pd.DataFrame(
        {"m": [0.9, 0.1, 0.8, 0.3], "b": [0.5, 0.5, np.nan, 0.5]}, index=list("abcd")
    )
    table = evaluate_churn_scores(y, scores)
    assert (table["n"] == 3).all()  # customer c lacks a baseline score: dropped everywhere
    assert table.loc["m", "roc_auc"] == 1.0
    with pytest.raises(DataValidationError, match="both classes"):
        evaluate_churn_scores(y[y], scores)


def test_reason_text():
    assert reason_text("orders_change_pct", -60.0, 0.0) == (
        "ordered 60% less than in the quarter before"
    )
    assert reason_text("gap_ratio", 3.2, 1.0) == (
        "silent 3.2 times longer than their usual gap between purchases"
    )
    assert reason_text("recency", 2.0, 1.0) == ""  # model units are never a reason
    assert reason_text("ipt_mean_days", np.nan, 3.0) == "has bought on only one day so far"
    assert reason_text("ipt_std_days", np.nan, 3.0) == ""  # one gap: two purchase days
    assert reason_text("p_alive", np.nan, 1.0) == ""


class _Contrarian:
    """A classifier that finds frequent, recent buyers risky: its effects contradict sense."""

    feature_names_in_ = np.array(["frequency", "days_since_last", "ipt_mean_days", "ipt_cv"])

    def churn_probability(self, X):
        score = 0.05 * X["frequency"] - 0.01 * X["days_since_last"] + 0.001 * X["ipt_cv"].fillna(0)
        return pd.Series(1 / (1 + np.exp(-score)), index=X.index)


def test_reasons_never_contradict_the_customers_numbers():
    typical = pd.DataFrame(
        {
            "frequency": [3.0] * 5,
            "days_since_last": [30.0] * 5,
            "ipt_mean_days": [40.0] * 5,
            "ipt_cv": [0.5] * 5,
        },
        index=[f"stay{i}" for i in range(5)],
    )
    # 17 repeat purchases, bought 2 days ago: the classifier blames both, wrongly
    loyal = pd.DataFrame(
        {"frequency": [17.0], "days_since_last": [2.0], "ipt_mean_days": [12.0], "ipt_cv": [0.9]},
        index=["loyal"],
    )
    reasons = customer_reasons(_Contrarian(), loyal, reference=typical)
    texts = [t for t in reasons.loc["loyal", ["reason_1", "reason_2", "reason_3"]] if t]
    assert not any("repeat purchases" in t or "no purchase for" in t for t in texts)
    assert texts == ["buys at irregular intervals"] or texts == []


def test_one_reason_per_theme_and_no_duplicates():
    class Rhythmic:
        feature_names_in_ = np.array(["ipt_mean_days", "ipt_std_days", "ipt_cv", "regularity"])

        def churn_probability(self, X):
            return 0.1 + 0.2 * X.isna().sum(axis=1)  # each missing gap feature adds risk

    reference = pd.DataFrame(
        {"ipt_mean_days": [30.0], "ipt_std_days": [5.0], "ipt_cv": [0.2], "regularity": [0.8]}
    )
    once = pd.DataFrame({c: [np.nan] for c in reference.columns}, index=["once"])
    reasons = customer_reasons(Rhythmic(), once, reference=reference)
    assert reasons.loc["once", "reason_1"] == "has bought on only one day so far"
    assert reasons.loc["once", "reason_2"] == "" and reasons.loc["once", "reason_3"] == ""


def test_reasons_batch_size_does_not_change_them(separable):
    X, y = separable
    model = ChurnClassifier(random_state=0, max_iter=50).fit(X[:300], y[:300])
    whole = customer_reasons(model, X[300:], reference=X[:300][~y[:300]])
    small = customer_reasons(model, X[300:], reference=X[:300][~y[:300]], batch=50)
    pd.testing.assert_frame_equal(whole, small)


def test_drivers_and_reasons(separable):
    X, y = separable
    model = ChurnClassifier(random_state=0, max_iter=50).fit(X[:300], y[:300])
    drivers = permutation_drivers(model, X[300:], y[300:], n_repeats=2, random_state=0)
    assert drivers.index[0] in {"days_since_last", "orders_change_pct"}
    reasons = customer_reasons(model, X[300:], reference=X[:300][~y[:300]])
    risky = reasons["churn_probability"].idxmax()
    assert reasons.loc[risky, "feature_1"] in {"days_since_last", "orders_change_pct"}
    assert reasons.loc[risky, "reason_1"]
    assert (reasons["effect_1"].dropna() > 0).all()


def test_backtest(random_transactions):
    train, test = backtest_cutoffs(random_transactions, horizon=3, n_train=2)
    assert train[-1] < test and len(train) == 2
    result = backtest(
        random_transactions,
        train_cutoff=train,
        test_cutoff=test,
        random_state=0,
        classifier=ChurnClassifier(max_iter=30, random_state=0),
    )
    assert set(result.evaluation.index) == {"classifier", "logistic", "bgnbd"}
    assert result.evaluation["n"].nunique() == 1
    assert result.test_labels.index.equals(result.test_features.index)
    assert result.train_features.index.names == ["cutoff", "customer_id"]


def test_backtest_overlap_is_refused(random_transactions):
    with pytest.raises(ConfigError, match="passes test_cutoff"):
        backtest(random_transactions, train_cutoff="2023-01-01", test_cutoff="2023-02-01")


def test_churn_plots(separable):
    from churnlab.plotting.churn import plot_calibration, plot_churn_drivers, plot_gains, plot_lift

    X, y = separable
    scores = pd.DataFrame({"a": X["days_since_last"].rank(pct=True), "b": 0.5}, index=X.index)
    for plot in (plot_calibration, plot_lift, plot_gains):
        assert plot(y, scores).get_title()
    importance = pd.DataFrame(
        {"importance_mean": [0.2, 0.1], "importance_std": [0.01, 0.02]}, index=["x", "y"]
    )
    assert plot_churn_drivers(importance).get_title()
    matplotlib.pyplot.close("all")


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.floats(0, 1)), min_size=2, max_size=60).filter(
        lambda rows: len({y for y, _ in rows}) == 2
    )
)
def test_metric_invariants(rows):
    y = np.array([r[0] for r in rows])
    p = np.array([r[1] for r in rows])
    assert 0.0 <= expected_calibration_error(y, p) <= 1.0
    table = lift_table(y, p)
    assert table["n"].sum() == len(y) and table["churners"].sum() == y.sum()
    assert table["cumulative_gain"].iloc[-1] == pytest.approx(1.0)
    assert np.all(np.diff(table["cumulative_gain"]) >= -1e-12)


def test_calibration_folds_keep_a_customer_on_one_side(separable):
    X, y = separable
    stacked = pd.concat([X, X], keys=["2024-01-01", "2024-02-01"], names=["cutoff"])
    labels = np.concatenate([y, y])
    folds = ChurnClassifier(random_state=0)._calibration_folds(stacked, labels)
    customers = stacked.index.get_level_values("customer_id")
    for fit_rows, calibration_rows in folds:
        assert not set(customers[fit_rows]) & set(customers[calibration_rows])


def test_backtest_reuses_the_scoring_pass_snapshot(random_transactions):
    # the pass's last training snapshot (now - horizon) is the backtest's test snapshot:
    # built once, and equal to the one the backtest builds on its own
    now = pd.Timestamp(random_transactions["date"].max()).normalize() + pd.Timedelta(days=1)
    snapshots: dict = {}
    model = ChurnClassifier(max_iter=20, random_state=0)
    scored = score_customers(
        random_transactions, cutoff=now, classifier=model, spend_model=None,
        snapshots=snapshots,
    )  # fmt: skip
    assert len(snapshots) == 2
    train, test = backtest_cutoffs(random_transactions, horizon=3, n_train=2, observation_end=now)
    options = {"train_cutoff": train, "test_cutoff": test, "baselines": False, "random_state": 0}
    shared = backtest(random_transactions, classifier=model, snapshots=snapshots, **options)
    alone = backtest(random_transactions, classifier=model, **options)
    assert len(snapshots) == 4  # two training snapshots added, the test one found
    last = scored.train_features.xs(str(test.date()), level="cutoff")
    pd.testing.assert_frame_equal(shared.test_features, last[shared.test_features.columns])
    pd.testing.assert_frame_equal(shared.test_features, alone.test_features)
    pd.testing.assert_series_equal(shared.test_labels, alone.test_labels)
    pd.testing.assert_frame_equal(shared.evaluation, alone.evaluation)

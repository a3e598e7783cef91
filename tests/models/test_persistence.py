"""Saving models to JSON and loading them back: identical predictions, clear errors."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnlab.exceptions import ChurnlabError, ConfigError, ModelNotFittedError
from churnlab.models import BetaGeoModel, ParetoNBDModel, ShiftedBetaGeoModel
from churnlab.models.bgbb import BetaGeoBetaBinomModel
from churnlab.models.persistence import from_json, load_model, save_model, to_json

#: New customers the reloaded models score (not the training rows).
NEW = pd.DataFrame(
    {"frequency": [0, 1, 4, 12], "recency": [0, 3.5, 20.0, 37.1], "T": [5.0, 10.0, 30.0, 38.0]},
    index=pd.Index(["n1", "n2", "n3", "n4"], name="customer_id"),
)
NEW_SPEND = pd.DataFrame({"frequency": [1, 3, 8], "monetary_value": [12.5, 40.0, 31.2]})
NEW_DISCRETE = pd.DataFrame({"frequency": [0, 1, 3], "recency": [0, 2, 5], "T": [3, 5, 8]})


def _same(a: pd.Series, b: pd.Series) -> None:
    pd.testing.assert_series_equal(a, b, check_exact=True)


@pytest.mark.parametrize("fixture", ["bg_cdnow", "mbg_cdnow", "pnbd_cdnow"])
def test_transaction_models_round_trip(fixture, request, tmp_path: Path):
    model = request.getfixturevalue(fixture)
    path = tmp_path / "model.json"
    save_model(model, path)
    loaded = load_model(path)
    assert type(loaded) is type(model)
    assert loaded.time_unit_ == model.time_unit_ == "W"
    pd.testing.assert_series_equal(loaded.params_, model.params_, check_exact=True)
    pd.testing.assert_frame_equal(loaded.covariance_, model.covariance_, check_exact=True)
    pd.testing.assert_frame_equal(loaded.summary_, model.summary_, check_exact=True)
    assert loaded.health_ == model.health_
    assert loaded.log_likelihood_ == model.log_likelihood_
    for t in (1.0, 26.0):
        _same(loaded.expected_purchases(NEW, t), model.expected_purchases(NEW, t))
        _same(loaded.probability_no_purchase(NEW, t), model.probability_no_purchase(NEW, t))
    _same(loaded.probability_alive(NEW), model.probability_alive(NEW))
    assert repr(loaded) == repr(model)


def test_file_is_readable_json(bg_cdnow, tmp_path: Path):
    path = tmp_path / "bg.json"
    save_model(bg_cdnow, path)
    document = json.loads(path.read_text())
    assert document["model_class"] == "BetaGeoModel"
    assert document["time_unit"] == "W"
    assert set(document["parameters"]["__series__"]["index"]) == {"r", "alpha", "a", "b"}
    assert document["health"]["__health__"]["ok"] is True
    assert document["churnlab_version"]


def test_spend_retention_and_bgbb_round_trip(gg_cdnow):
    loaded = from_json(to_json(gg_cdnow))
    _same(loaded.expected_spend(NEW_SPEND), gg_cdnow.expected_spend(NEW_SPEND))
    assert loaded.health_.q_above_one == gg_cdnow.health_.q_above_one

    # Fader & Hardie (2007), Table 1, "high end" cohort.
    sbg = ShiftedBetaGeoModel().fit(
        [100, 86.9, 74.3, 65.3, 59.3, 55.1, 51.7, 49.1], cohort_size=1000
    )
    loaded = from_json(to_json(sbg))
    np.testing.assert_array_equal(loaded.survival(np.arange(12)), sbg.survival(np.arange(12)))
    assert loaded.dert(0.1, renewals=3) == sbg.dert(0.1, renewals=3)

    rng = np.random.default_rng(3)
    x = rng.integers(0, 6, 500)
    last = np.where(x > 0, np.maximum(x, rng.integers(1, 7, 500)), 0)
    data = pd.DataFrame({"frequency": x, "recency": last, "T": 6})
    bgbb = BetaGeoBetaBinomModel(penalizer=0.01).fit(data)
    loaded = from_json(to_json(bgbb), model_class=BetaGeoBetaBinomModel)
    assert loaded.penalizer == 0.01
    _same(loaded.expected_purchases(NEW_DISCRETE, 3), bgbb.expected_purchases(NEW_DISCRETE, 3))
    _same(loaded.dert(NEW_DISCRETE, 0.1), bgbb.dert(NEW_DISCRETE, 0.1))


def test_covariate_models_round_trip_when_present(cdnow_summary):
    module = pytest.importorskip("churnlab.models.bgnbd_covariates")
    model_cls = module.BetaGeoCovariateModel
    rng = np.random.default_rng(0)
    data = cdnow_summary.copy()
    data["z"] = rng.normal(size=len(data))
    try:
        model = model_cls().fit(data, purchase_covariates=["z"], dropout_covariates=["z"])
    except TypeError as exc:  # the covariate API is still being written
        pytest.skip(f"covariate model API not ready: {exc}")
    loaded = from_json(to_json(model))
    new = data.iloc[:50]
    _same(loaded.expected_purchases(new, 10.0), model.expected_purchases(new, 10.0))


def test_wrong_class_is_refused(bg_cdnow, tmp_path: Path):
    path = tmp_path / "bg.json"
    save_model(bg_cdnow, path)
    with pytest.raises(ChurnlabError, match="holds a BetaGeoModel, not the ParetoNBDModel"):
        load_model(path, model_class=ParetoNBDModel)
    assert isinstance(load_model(path, model_class=BetaGeoModel), BetaGeoModel)


def test_unknown_version_and_damage_are_refused(bg_cdnow, tmp_path: Path):
    document = json.loads(to_json(bg_cdnow))
    newer = dict(document, format_version=99)
    with pytest.raises(ChurnlabError, match=r"format version 99.*reads version 1"):
        from_json(json.dumps(newer))
    with pytest.raises(ChurnlabError, match="the JSON is damaged"):
        from_json(to_json(bg_cdnow)[:-40])
    with pytest.raises(ChurnlabError, match='no "format"'):
        from_json(json.dumps({"model_class": "BetaGeoModel"}))
    missing = {k: v for k, v in document.items() if k != "covariance"}
    with pytest.raises(ChurnlabError, match="content is damaged"):
        from_json(json.dumps(missing))
    foreign = dict(document, module="os", model_class="system")
    with pytest.raises(ChurnlabError, match="is not a churnlab model"):
        from_json(json.dumps(foreign))
    gone = dict(document, module="churnlab.models.bgnbd", model_class="NoSuchModel")
    with pytest.raises(ChurnlabError, match="does not have"):
        from_json(json.dumps(gone))
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe not json")
    with pytest.raises(ChurnlabError, match="it is not UTF-8 text, so it is damaged"):
        load_model(bad)


def test_unfitted_and_foreign_objects_are_refused(tmp_path: Path):
    with pytest.raises(ConfigError, match="could not read"):
        load_model(tmp_path / "missing.json")
    with pytest.raises(ModelNotFittedError, match="not fitted"):
        to_json(BetaGeoModel())
    with pytest.raises(ConfigError, match=r"saves churnlab\.models estimators"):
        to_json(importlib.import_module("sklearn.linear_model").LinearRegression())

"""Fixtures of the model tests: the CDNOW reference data and models fitted on it once."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from churnlab import config


def _cdnow_summary() -> pd.DataFrame:
    """The 2357-customer CDNOW cohort (weekly, 39-week calibration) shipped with lifetimes."""
    try:
        from churnlab.datasets import load_cdnow

        data = load_cdnow("summary")
    except (ImportError, AttributeError):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from lifetimes.datasets import load_cdnow_summary

        data = load_cdnow_summary(index_col=[0])
        data.index = data.index.rename(config.CUSTOMER_ID)
    data = data[[config.FREQUENCY, config.RECENCY, config.T]].copy()
    data.attrs["time_unit"] = "W"
    return data


@pytest.fixture(scope="session")
def cdnow_summary() -> pd.DataFrame:
    """CDNOW frequency/recency/T, indexed by customer_id, attrs['time_unit'] == 'W'."""
    return _cdnow_summary()


@pytest.fixture(scope="session")
def cdnow_spend() -> pd.DataFrame:
    """lifetimes' cdnow_customers_summary_with_transactions.csv (946 repeat buyers)."""
    from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

    data = load_cdnow_summary_data_with_monetary_value()
    data.index = data.index.rename(config.CUSTOMER_ID)
    data.attrs["time_unit"] = "W"
    return data


@pytest.fixture(scope="session")
def bg_cdnow(cdnow_summary):
    from churnlab.models.bgnbd import BetaGeoModel

    return BetaGeoModel().fit(cdnow_summary)


@pytest.fixture(scope="session")
def mbg_cdnow(cdnow_summary):
    from churnlab.models.mbgnbd import ModifiedBetaGeoModel

    return ModifiedBetaGeoModel().fit(cdnow_summary)


@pytest.fixture(scope="session")
def pnbd_cdnow(cdnow_summary):
    from churnlab.models.pareto_nbd import ParetoNBDModel

    return ParetoNBDModel().fit(cdnow_summary)


@pytest.fixture(scope="session")
def gg_cdnow(cdnow_spend):
    from churnlab.models.gamma_gamma import GammaGammaModel

    return GammaGammaModel().fit(cdnow_spend)


@pytest.fixture(scope="session")
def lifetimes_at():
    """Build a lifetimes fitter carrying a model's parameters, to compare formulas (no refit)."""

    def build(fitter_cls, model):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            fitter = fitter_cls()
        fitter.params_ = model.params_.copy()
        return fitter

    return build

"""churnlab: a churn and customer-lifetime-value lab.

The public API, from data to decisions::

    from churnlab import datasets, load_transactions, rfm_summary, BetaGeoModel, score

Modules: :mod:`churnlab.data` (loading and cleaning), :mod:`churnlab.features`
(RFM and behaviour features), :mod:`churnlab.models` (BG/NBD family, Gamma-Gamma,
sBG, CLV, churn classifier), :mod:`churnlab.scoring` (the one scoring pass),
:mod:`churnlab.segments`, :mod:`churnlab.retention`, :mod:`churnlab.kpis`,
:mod:`churnlab.reasons`, :mod:`churnlab.subscriptions`, :mod:`churnlab.plotting`
and :mod:`churnlab.report`.

Names are imported on first use (PEP 562), so ``import churnlab`` and the
``churnlab`` command start at once; ``from churnlab import X`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> the module that defines it ("" for a submodule of the same name).
_EXPORTS: dict[str, str] = {
    "BetaGeoModel": "churnlab.models",
    "ChurnClassifier": "churnlab.classifier",
    "ChurnlabError": "churnlab.exceptions",
    "CleaningPolicy": "churnlab.data",
    "CleaningReport": "churnlab.data",
    "ConfigError": "churnlab.exceptions",
    "ConvergenceWarning": "churnlab.exceptions",
    "DataQualityWarning": "churnlab.exceptions",
    "DataValidationError": "churnlab.exceptions",
    "GammaGammaModel": "churnlab.models",
    "LoadedCustomers": "churnlab.data",
    "LoadedTransactions": "churnlab.data",
    "ModifiedBetaGeoModel": "churnlab.models",
    "ParetoNBDModel": "churnlab.models",
    "ScoringSettings": "churnlab.scoring",
    "ShiftedBetaGeoModel": "churnlab.models",
    "behaviour_features": "churnlab.features",
    "calibration_holdout_split": "churnlab.features",
    "customer_lifetime_value": "churnlab.models",
    "datasets": "",
    "kpis": "",
    "load_customers": "churnlab.data",
    "load_transactions": "churnlab.data",
    "reasons": "",
    "retention": "",
    "rfm_summary": "churnlab.features",
    "score": "churnlab.scoring",
    "scoring": "",
    "segments": "",
    "subscriptions": "",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'churnlab' has no attribute {name!r}")
    module = _EXPORTS[name]
    value = (
        importlib.import_module(f"churnlab.{name}")
        if not module
        else getattr(importlib.import_module(module), name)
    )
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])

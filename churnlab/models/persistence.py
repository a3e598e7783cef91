"""Save fitted models to JSON and load them back to score new data.

A model file is one JSON object, readable by people and by other tools::

    {"format": "churnlab.model", "format_version": 1, "churnlab_version": "0.1.0",
     "model_class": "BetaGeoModel", "module": "churnlab.models.bgnbd",
     "hyperparameters": {...}, "time_unit": "W",
     "parameters": {"r": 0.24, ...}, "covariance": {...}, "health": {...},
     "attributes": {...}}

``parameters``, ``covariance``, ``time_unit`` and ``health`` are the fitted values a reader
looks for; ``attributes`` holds every other fitted attribute (names ending in ``_``), so
any estimator in :mod:`churnlab.models` whose fitted state is numbers, strings, Series and
DataFrames round-trips, the static-covariate models included. Floats are written with
Python's shortest exact representation, so a reloaded model predicts bit for bit what the
saved one did. Only classes defined in :mod:`churnlab.models` are ever instantiated.
"""

from __future__ import annotations

import importlib
import json
import os
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from churnlab.exceptions import ConfigError, DataValidationError, ModelNotFittedError
from churnlab.models._base import ModelHealth

__all__ = ["from_json", "load_model", "save_model", "to_json"]

FORMAT = "churnlab.model"
FORMAT_VERSION = 1
_TOP = {"params_": "parameters", "covariance_": "covariance", "health_": "health"}


class ModelFileError(DataValidationError):
    """A model file is damaged, of an unknown format version, or holds another model class."""


def _version() -> str:
    try:
        return metadata.version("churnlab")
    except metadata.PackageNotFoundError:
        return "unknown"


# ----------------------------------------------------------------- encoding
def _encode(value: Any, name: str) -> Any:
    """Turn a fitted attribute into JSON values (tagged objects for pandas types)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, ModelHealth):
        return {"__health__": value.to_dict()}
    if isinstance(value, pd.Series):
        return {
            "__series__": {
                "name": _encode(value.name, name),
                "index": [_encode(v, name) for v in value.index],
                "index_name": value.index.name,
                "values": [_encode(v, name) for v in value.tolist()],
                "dtype": str(value.dtype),
            }
        }
    if isinstance(value, pd.DataFrame):
        if isinstance(value.index, pd.MultiIndex) or isinstance(value.columns, pd.MultiIndex):
            raise ConfigError(f"save_model cannot store attribute {name!r}: it has a MultiIndex.")
        return {
            "__frame__": {
                "index": [_encode(v, name) for v in value.index],
                "index_name": value.index.name,
                "columns": [str(c) for c in value.columns],
                "data": [[_encode(v, name) for v in value[c].tolist()] for c in value.columns],
                "dtypes": [str(t) for t in value.dtypes],
            }
        }
    if isinstance(value, np.ndarray):
        return {"__array__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, list | tuple):
        return [_encode(v, name) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v, name) for k, v in value.items()}
    raise ConfigError(
        f"save_model cannot store attribute {name!r} of type {type(value).__name__}; only "
        "numbers, strings, lists, arrays, Series and DataFrames can be saved."
    )


def _decode(value: Any) -> Any:
    """Inverse of :func:`_encode`."""
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__health__" in value:
        return ModelHealth(**value["__health__"])
    if "__series__" in value:
        s = value["__series__"]
        index = pd.Index(s["index"], name=s["index_name"])
        return pd.Series(s["values"], index=index, name=s["name"], dtype=s["dtype"])
    if "__frame__" in value:
        f = value["__frame__"]
        frame = pd.DataFrame(
            dict(zip(f["columns"], f["data"], strict=True)),
            index=pd.Index(f["index"], name=f["index_name"]),
            columns=f["columns"],
        )
        return frame.astype(dict(zip(f["columns"], f["dtypes"], strict=True)))
    if "__array__" in value:
        return np.asarray(value["__array__"], dtype=value["dtype"])
    return {k: _decode(v) for k, v in value.items()}


# ------------------------------------------------------------------ public
def to_json(model: Any) -> str:
    """Return a fitted churnlab model as a JSON string (see the module docstring).

    Parameters
    ----------
    model : estimator from churnlab.models
        A fitted model (``params_`` set), e.g. :class:`~churnlab.models.BetaGeoModel`.

    Returns
    -------
    str

    Raises
    ------
    ConfigError
        If ``model`` is not a churnlab model, or a fitted attribute cannot be stored.
    ModelNotFittedError
        If the model is not fitted.
    """
    cls = type(model)
    if not (isinstance(model, BaseEstimator) and cls.__module__.startswith("churnlab.models.")):
        raise ConfigError(
            f"save_model saves churnlab.models estimators (BetaGeoModel, ParetoNBDModel, ...); "
            f"got a {cls.__module__}.{cls.__name__}."
        )
    if not hasattr(model, "params_"):
        raise ModelNotFittedError(
            f"This {cls.__name__} is not fitted, so there is nothing to save. Call .fit() first."
        )
    fitted = {k: v for k, v in vars(model).items() if k.endswith("_") and not k.startswith("_")}
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "churnlab_version": _version(),
        "model_class": cls.__name__,
        "module": cls.__module__,
        "hyperparameters": _encode(model.get_params(deep=False), "hyperparameters"),
        "time_unit": fitted.pop("time_unit_", None),
    }
    for attr, key in _TOP.items():
        document[key] = _encode(fitted.pop(attr, None), attr)
    document["attributes"] = {k: _encode(v, k) for k, v in sorted(fitted.items())}
    return json.dumps(document, indent=1)


def _fail(where: str, what: str) -> ModelFileError:
    return ModelFileError(
        f"{where} is not a usable churnlab model file: {what}. Save the model again with "
        "churnlab.models.save_model(model, path)."
    )


def _model_class(document: dict[str, Any], where: str) -> type:
    module, name = document.get("module"), document.get("model_class")
    if not (isinstance(module, str) and isinstance(name, str)):
        raise _fail(where, "it does not say which model class it holds")
    if not module.startswith("churnlab.models."):
        raise _fail(where, f"its model class {module}.{name} is not a churnlab model")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise ModelFileError(
            f"{where} holds a {name} from {module}, which this churnlab ({_version()}) does not "
            "have. Load it with the churnlab version that saved it "
            f"({document.get('churnlab_version', 'unknown')})."
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, BaseEstimator)):
        raise _fail(where, f"{module}.{name} is not a model class")
    return cls


def from_json(text: str, *, model_class: type | None = None, where: str = "The text") -> Any:
    """Rebuild a fitted model from :func:`to_json`'s output.

    Parameters
    ----------
    text : str
        The JSON document.
    model_class : type, optional
        The class the caller expects (e.g. ``BetaGeoModel``); another class is an error.
    where : str
        How to name the source in error messages.

    Returns
    -------
    estimator
        A fitted model that predicts exactly as the saved one.

    Raises
    ------
    ModelFileError
        (a :class:`~churnlab.exceptions.DataValidationError`) If the JSON is damaged, is not a
        churnlab model, has an unknown format version, or holds a class other than
        ``model_class``.
    """
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise _fail(where, f"the JSON is damaged ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _fail(where, f'it has no "format": "{FORMAT}" marker')
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{where} has model-file format version {version!r}, but this churnlab "
            f"({_version()}) reads version {FORMAT_VERSION}. It was written by churnlab "
            f"{document.get('churnlab_version', 'unknown')}: load it with that version, or "
            "refit and save the model again."
        )
    cls = _model_class(document, where)
    if model_class is not None and cls is not model_class:
        raise ModelFileError(
            f"{where} holds a {cls.__name__}, not the {model_class.__name__} that was asked "
            f"for. Load it with model_class={cls.__name__} (or without model_class)."
        )
    try:
        model = cls(**_decode(document["hyperparameters"]))
        state = {k: _decode(v) for k, v in document["attributes"].items()}
        for attr, key in _TOP.items():
            state[attr] = _decode(document[key])
        state["time_unit_"] = document["time_unit"]
        expected = getattr(cls, "_param_names", ())
        params = state["params_"]
        if not isinstance(params, pd.Series) or (expected and tuple(params.index) != expected):
            raise ValueError(f"parameters must be {list(expected)}")
        if not np.all(np.isfinite(params.to_numpy(dtype=float))):
            raise ValueError("parameters must be finite numbers")
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail(where, f"its content is damaged ({type(exc).__name__}: {exc})") from None
    for key, value in state.items():
        setattr(model, key, value)
    return model


def save_model(model: Any, path: str | os.PathLike[str]) -> None:
    """Write a fitted model to a JSON file (see :func:`to_json`).

    Parameters
    ----------
    model : estimator from churnlab.models
        A fitted model.
    path : str or path-like
        The file to write (overwritten).
    """
    text = to_json(model)
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise ConfigError(f"save_model could not write {os.fspath(path)!r}: {exc}.") from None


def load_model(path: str | os.PathLike[str], *, model_class: type | None = None) -> Any:
    """Read a model written by :func:`save_model`.

    Parameters
    ----------
    path : str or path-like
        The JSON file.
    model_class : type, optional
        The class expected; a file holding another class raises an error.

    Returns
    -------
    estimator
        The fitted model, ready to score new data.

    Raises
    ------
    ModelFileError
        If the file is damaged, of an unknown format version or of another class.
    ConfigError
        If the file cannot be read.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise _fail(
            repr(os.fspath(path)), f"it is not UTF-8 text, so it is damaged ({exc})"
        ) from None
    except OSError as exc:
        raise ConfigError(f"load_model could not read {os.fspath(path)!r}: {exc}.") from None
    return from_json(text, model_class=model_class, where=repr(os.fspath(path)))

"""Typed, validated parameters of a report run.

A run is described by a :class:`ReportConfig`: which notebooks to run, where
to write, the timeouts, and the :class:`ReportParameters` every notebook
receives. Everything is checked here, before a notebook or a data file is
touched: an unknown or mistyped parameter is a :class:`ConfigError` that names
it.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from churnlab import config
from churnlab.data.validation import parse_date
from churnlab.exceptions import ConfigError
from churnlab.units import check_unit

__all__ = [
    "ReportConfig",
    "ReportParameters",
    "load_config_file",
    "parse_override",
]

#: Bundled sources that are customer snapshots, not transaction logs (run them as
#: their own report, e.g. ``churnlab report --preset telco``).
SNAPSHOT_SOURCES = frozenset({"telco"})
#: Kinds of run data (``[data] kind``): a purchase log, or a customer table with one row
#: per subscriber, which runs the contractual pages (``notebooks/contractual``).
DATA_KINDS = ("transactions", "subscriptions")
#: Names of the bundled sources; any other ``*_source`` value is a path.
BUNDLED_SOURCES = frozenset({"online_retail", "cdnow"}) | SNAPSHOT_SOURCES


def absolute_source(value: object) -> object:
    """Return a path-valued source as an absolute path, resolved once from the working folder.

    Notebooks run from their own folder, so a relative path handed to them would
    be read from another place than the one validated and fingerprinted.
    Bundled names, empty strings and non-strings are returned unchanged.

    Parameters
    ----------
    value : object
        A ``data_source`` or ``*_source`` parameter value.

    Returns
    -------
    object
    """
    if not isinstance(value, str) or not value or value in BUNDLED_SOURCES:
        return value
    return os.path.abspath(os.path.expanduser(value))


#: Parameters of the whole run: the data and the scoring pass's settings
#: (:class:`churnlab.scoring.ScoringSettings`), which every page shares.
RUN_LEVEL_PARAMETERS = frozenset(
    {
        "data_source", "sample_customers", "observation_end", "time_unit", "random_state",
        "churn_horizon_months", "clv_horizon_months", "monthly_discount_rate", "holdout_weeks",
        "penalizer", "clv_interval", "retention_points", "valuable_share",
        "min_churn_probability",
    }
)  # fmt: skip

#: Allowed range (inclusive; None = open) of each numeric notebook parameter, checked
#: before any notebook runs. A list value (e.g. ``retention_points``) is checked item by item.
PARAMETER_RANGES: dict[str, tuple[float | None, float | None]] = {
    "sample_customers": (0, None),
    "random_state": (0, 2**32 - 1),
    "churn_horizon_months": (0.5, 36),
    "horizon_months": (0.5, 36),
    "clv_horizon_months": (1, 120),
    "holdout_weeks": (1, 260),
    "monthly_discount_rate": (0, 0.5),
    "penalizer": (0, 100),
    "top_n": (1, 10_000),
    "valuable_share": (0.001, 1),
    "slipping_threshold": (0, 1),
    "n_clusters": (2, 20),
    "n_train_cutoffs": (1, 24),
    "n_periods": (1, 60),
    "n_themes": (1, 20),
    "retention_points": (0, 50),
    "clv_interval": (0.5, 0.99),
    "min_churn_probability": (0, 1),
    "margin": (0, 1),
    "renewal_cost": (0, None),
    "subscription_revenue_share": (0.001, 1),
    "acquisition_discount": (0, 1),
    "auto_renew_cost": (0, None),
    "auto_renew_retention_points": (0, 100),
}


def check_range(name: str, value: object, *, where: str) -> None:
    """Raise :class:`ConfigError` if a numeric parameter is outside its declared range.

    Parameters
    ----------
    name : str
        Parameter name (a key of :data:`PARAMETER_RANGES`; others are not checked).
    value : object
        Its value; lists are checked item by item.
    where : str
        Where the value was given, for the message.
    """
    if name not in PARAMETER_RANGES:
        return
    low, high = PARAMETER_RANGES[name]
    for item in value if isinstance(value, list | tuple) else [value]:
        if not isinstance(item, int | float) or isinstance(item, bool):
            continue
        if (low is not None and item < low) or (high is not None and item > high):
            bounds = f"at least {low:g}" if high is None else f"between {low:g} and {high:g}"
            raise ConfigError(
                f"{where}: parameter '{name}' must be {bounds}, got {item!r}. Fix it in the "
                f"config file or on the command line (-p {name}=...)."
            )


def check_data_options(values: object) -> dict[str, object]:
    """Check the ``[data]`` table: source options plus ``currency`` (an ISO 4217 code).

    Parameters
    ----------
    values : object
        The table from the config file or the command line.

    Returns
    -------
    dict
        Options that are set; ``currency`` upper-cased.

    Raises
    ------
    ConfigError
        For a value that is not a table, an unknown option or a bad value.
    """
    from churnlab.data.customers import CUSTOMER_OPTIONS, check_customer_options
    from churnlab.data.options import source_options

    if not isinstance(values, Mapping):
        raise ConfigError(f"report config: 'data' must be a table of options, got {values!r}.")
    options = dict(values)
    currency = options.pop("currency", None)
    kind = options.pop("kind", None) or "transactions"
    if kind not in DATA_KINDS:
        raise ConfigError(
            f'report config: data kind {kind!r} is not known. Use kind = "transactions" for '
            'a purchase log or kind = "subscriptions" for a customer table with start and '
            "end dates or a tenure and churn flag (CLI: --customers PATH)."
        )
    customer = {k: options.pop(k) for k in CUSTOMER_OPTIONS if k in options}
    if customer and kind != "subscriptions":
        raise ConfigError(
            f"report config: {', '.join(repr(k) for k in customer)} describe a customer table; "
            'add kind = "subscriptions" to the [data] table (CLI: --customers PATH), or '
            "leave them out for a transaction log."
        )
    checked = source_options(options)
    if kind == "subscriptions":
        checked = {"kind": kind, **checked, **check_customer_options(customer)}
    if currency not in (None, ""):
        if not isinstance(currency, str) or not re.fullmatch(r"[A-Za-z]{3}", currency):
            raise ConfigError(
                f"currency must be a three-letter ISO 4217 code such as 'GBP', 'EUR' or "
                f"'USD', got {currency!r} (CLI: --currency EUR)."
            )
        checked["currency"] = currency.upper()
    return checked


def _absolute_sources(values: Mapping[str, object]) -> dict[str, object]:
    return {k: absolute_source(v) if k.endswith("_source") else v for k, v in values.items()}


def _type_name(value: object) -> str:
    return type(value).__name__


def _check_type(name: str, value: object, expected: type, *, where: str) -> object:
    """Return ``value`` if it has the ``expected`` type (int accepted for float)."""
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is not bool and isinstance(value, bool):
        ok = False
    else:
        ok = isinstance(value, expected)
    if not ok:
        raise ConfigError(
            f"{where}: parameter '{name}' must be {expected.__name__}, got "
            f"{_type_name(value)} {value!r}. Fix the value in the config file or on the "
            "command line (e.g. -p sample_customers=300)."
        )
    return value


@dataclass(frozen=True)
class ReportParameters:
    """Parameters passed to every notebook that declares them.

    Parameters
    ----------
    data_source : str, default "online_retail"
        Bundled dataset name ("online_retail", "cdnow", "telco") or a path.
    sample_customers : int, default 0
        Sample this many customers; 0 means all.
    observation_end : str, default ""
        ISO date closing the observation window; "" means the last date in the data.
    time_unit : {"D", "W", "M"}, default "W"
        Time unit of RFM summaries and models.
    random_state : int, default 42
        Seed for every stochastic step.
    mask_customer_ids : bool, default False
        Hide raw customer ids in stakeholder HTML.
    extra : mapping, default empty
        Further notebook parameters (e.g. ``horizon``); each must be declared by
        at least one selected notebook.
    """

    data_source: str = "online_retail"
    sample_customers: int = 0
    observation_end: str = ""
    time_unit: str = "W"
    random_state: int = 42
    mask_customer_ids: bool = False
    extra: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = "report parameters"
        for item in dataclasses.fields(self):
            if item.name != "extra":
                expected = {"str": str, "int": int, "bool": bool}[str(item.type)]
                _check_type(item.name, getattr(self, item.name), expected, where=where)
        if not self.data_source:
            raise ConfigError(
                "report parameters: 'data_source' is empty. Give a bundled name "
                "('online_retail', 'cdnow', 'telco') or a path to a transactions file."
            )
        if self.sample_customers < 0:
            raise ConfigError(
                f"report parameters: 'sample_customers' must be >= 0 (0 = all customers), "
                f"got {self.sample_customers}."
            )
        check_unit(self.time_unit, name="report parameter time_unit")
        if self.observation_end:
            try:  # any reading: an ambiguous date is settled by ReportConfig's [data] options
                parse_date(self.observation_end, name="observation_end", dayfirst=True)
            except ConfigError as exc:
                raise ConfigError(
                    f"report parameters: 'observation_end' {self.observation_end!r} is not a "
                    f"date ({exc}). Use an ISO date such as '2011-12-09', or '' for the last date."
                ) from None
        object.__setattr__(self, "data_source", absolute_source(self.data_source))
        bad = [key for key in self.extra if not isinstance(key, str) or not key.isidentifier()]
        if bad:
            raise ConfigError(
                f"report parameters: {bad!r} are not valid parameter names; names must be "
                "Python identifiers such as 'horizon'."
            )
        object.__setattr__(self, "extra", _absolute_sources(self.extra))

    def common(self) -> dict[str, object]:
        """Return the common parameters (without ``extra``) as a dict."""
        return {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"
        }

    def as_dict(self) -> dict[str, object]:
        """Return common and extra parameters in one flat dict."""
        return {**self.common(), **dict(self.extra)}

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> ReportParameters:
        """Build parameters from a flat mapping; names not in the dataclass go to ``extra``."""
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        common = {k: v for k, v in values.items() if k in names}
        extra = {k: v for k, v in values.items() if k not in names}
        return cls(**common, extra=extra)


_CONFIG_KEYS = {
    "notebooks": "list of notebook numbers or names, e.g. ['00', '20']",
    "notebooks_dir": "folder holding NN-topic.ipynb notebooks",
    "output_dir": "reports folder",
    "cell_timeout": "seconds per cell (0 = none)",
    "run_timeout": "seconds for the whole run (0 = none)",
    "lock_timeout": "seconds to wait for another run's lock",
    "kernel_name": "Jupyter kernel",
    "progress": "show progress bars",
    "jobs": "notebooks run at once, each in its own process (default 1)",
    "parameters": "table of notebook parameters",
    "notebook_parameters": "table of per-notebook parameter tables",
    "data": "table of column mapping and reading options of data_source, its currency and "
    "kind ('transactions' or 'subscriptions')",
}


@dataclass(frozen=True)
class ReportConfig:
    """Everything one ``churnlab report`` run needs, validated on construction.

    Parameters
    ----------
    parameters : ReportParameters
        Parameters passed to every notebook that declares them.
    notebooks : tuple of str, default ()
        Notebook numbers ("00") or stems ("00-data-quality") to run; empty = all.
    notebooks_dir : Path, default config.NOTEBOOKS_DIR
        Where the notebooks live.
    output_dir : Path, default config.REPORTS_DIR
        Reports folder: one sub-folder per run, ``index.html`` and ``latest``.
    cell_timeout : float or None, default 600
        Seconds one cell may run; None means no limit.
    run_timeout : float or None, default 1800
        Seconds the whole run may take; None means no limit.
    lock_timeout : float, default 60
        Seconds to wait for another run's lock before giving up.
    kernel_name : str, default "python3"
        Jupyter kernel that executes the notebooks.
    progress : bool, default True
        Show progress bars per notebook and per cell.
    jobs : int, default 1
        Notebooks executed at once, each in its own child process after the scoring
        pass (they only read its output); 2 on a two-core machine roughly halves the
        notebooks' time.
    notebook_parameters : mapping, default empty
        Per-notebook parameters, keyed by notebook number or stem, e.g.
        ``{"40": {"reasons_source": "exit_survey.csv"}}``.
    data : mapping, default empty
        How to read ``data_source``: the column mapping and reading options of
        :data:`churnlab.config.SOURCE_OPTIONS` (``customer_id = "Kunde"``,
        ``date_format = "%d.%m.%Y"``, ``encoding = "latin-1"``, ...) and ``currency``,
        the ISO code of the amounts (e.g. ``"EUR"``), used to format money. With
        ``kind = "subscriptions"`` the source is a customer table and the mapping also
        takes ``start``, ``end``, ``churned``, ``tenure``, ``tenure_unit``, ``plan``
        and ``revenue`` (:func:`churnlab.data.load_customers`).
    """

    parameters: ReportParameters = field(default_factory=ReportParameters)
    notebooks: tuple[str, ...] = ()
    notebooks_dir: Path = config.NOTEBOOKS_DIR
    output_dir: Path = config.REPORTS_DIR
    cell_timeout: float | None = 600.0
    run_timeout: float | None = 1800.0
    lock_timeout: float = 60.0
    kernel_name: str = "python3"
    progress: bool = True
    jobs: int = 1
    notebook_parameters: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    data: Mapping[str, object] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The run's data kind: ``"transactions"`` or ``"subscriptions"``."""
        return str(self.data.get("kind", "transactions"))

    def __post_init__(self) -> None:
        where = "report config"
        object.__setattr__(self, "data", check_data_options(self.data))
        if self.parameters.observation_end:
            end = parse_date(
                self.parameters.observation_end,
                name="observation_end",
                date_format=self.data.get("date_format"),
                dayfirst=self.data.get("dayfirst"),
            )
            iso = end.isoformat() if end != end.normalize() else str(end.date())
            object.__setattr__(self, "parameters", replace(self.parameters, observation_end=iso))
        for name in ("cell_timeout", "run_timeout", "lock_timeout"):
            value = getattr(self, name)
            if value is None and name != "lock_timeout":
                continue
            value = _check_type(name, value, float, where=where)
            if value < 0:
                raise ConfigError(f"{where}: '{name}' must be >= 0 seconds, got {value}.")
            object.__setattr__(self, name, None if value == 0 and name != "lock_timeout" else value)
        _check_type("kernel_name", self.kernel_name, str, where=where)
        _check_type("progress", self.progress, bool, where=where)
        if _check_type("jobs", self.jobs, int, where=where) < 1:
            raise ConfigError(f"{where}: 'jobs' must be at least 1, got {self.jobs}.")
        for name in ("notebooks_dir", "output_dir"):
            value = getattr(self, name)
            if not isinstance(value, str | Path):
                raise ConfigError(f"{where}: '{name}' must be a path, got {value!r}.")
            object.__setattr__(self, name, Path(value).expanduser())
        if isinstance(self.notebooks, str) or not all(isinstance(n, str) for n in self.notebooks):
            raise ConfigError(
                f"{where}: 'notebooks' must be a list of notebook numbers such as "
                f"['00', '20'], got {self.notebooks!r}."
            )
        object.__setattr__(self, "notebooks", tuple(n.strip() for n in self.notebooks if n.strip()))
        for key, values in self.notebook_parameters.items():
            if not isinstance(values, Mapping):
                raise ConfigError(
                    f"{where}: notebook_parameters for {key!r} must be a table of "
                    f"name = value pairs, got {values!r}."
                )
        resolved = {k: _absolute_sources(v) for k, v in self.notebook_parameters.items()}
        object.__setattr__(self, "notebook_parameters", resolved)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ReportConfig:
        """Build a config from a (config-file shaped) mapping, rejecting unknown keys.

        Parameters
        ----------
        values : mapping
            Keys as in :data:`_CONFIG_KEYS`; ``parameters`` is a flat table.

        Returns
        -------
        ReportConfig

        Raises
        ------
        ConfigError
            For an unknown key or a mistyped value, naming it.
        """
        unknown = sorted(set(values) - set(_CONFIG_KEYS))
        if unknown:
            known = ", ".join(sorted(_CONFIG_KEYS))
            raise ConfigError(
                f"report config: unknown option(s) {', '.join(repr(u) for u in unknown)}. "
                f"Known options: {known}. Notebook parameters go in the [parameters] table."
            )
        kwargs = dict(values)
        params = kwargs.pop("parameters", {}) or {}
        if not isinstance(params, Mapping):
            raise ConfigError(f"report config: 'parameters' must be a table, got {params!r}.")
        notebooks = kwargs.get("notebooks", ())
        if isinstance(notebooks, str):
            kwargs["notebooks"] = tuple(notebooks.split(","))
        elif isinstance(notebooks, list | tuple):  # TOML/YAML may give 0 for "00"
            kwargs["notebooks"] = tuple(
                f"{n:02d}" if isinstance(n, int) and not isinstance(n, bool) else str(n)
                for n in notebooks
            )
        nb_params = kwargs.get("notebook_parameters", {}) or {}
        if not isinstance(nb_params, Mapping):
            raise ConfigError(
                f"report config: 'notebook_parameters' must be a table, got {nb_params!r}."
            )
        kwargs["notebook_parameters"] = {str(k): v for k, v in nb_params.items()}
        return cls(parameters=ReportParameters.from_mapping(params), **kwargs)


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a TOML (``.toml``) or YAML (``.yaml``/``.yml``) report config.

    Parameters
    ----------
    path : str or Path
        The config file.

    Returns
    -------
    dict
        The raw mapping; pass it to :meth:`ReportConfig.from_mapping`.

    Raises
    ------
    ConfigError
        If the file is missing, has another extension, or does not parse.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist. Check the --config path.")
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        elif suffix in {".yaml", ".yml"}:
            import yaml

            with path.open(encoding="utf-8") as handle:
                data = yaml.safe_load(handle) or {}
        else:
            raise ConfigError(
                f"config file {str(path)!r} has extension {suffix!r}; use .toml, .yaml or .yml."
            )
    except ConfigError:
        raise
    except Exception as exc:  # tomllib/yaml parse errors
        raise ConfigError(f"config file {str(path)!r} does not parse: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a table of options at top level.")
    return data


def parse_override(text: str) -> tuple[str, object]:
    """Parse one ``-p KEY=VALUE`` override; VALUE is a Python/JSON literal or a string.

    Parameters
    ----------
    text : str
        For example ``"sample_customers=300"``, ``"mask_customer_ids=true"`` or
        ``"40.data_source=telco"`` (a per-notebook override).

    Returns
    -------
    tuple of (str, object)
        The key and the typed value.

    Raises
    ------
    ConfigError
        If there is no ``=`` or the key is empty.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(
            f"parameter override {text!r} must look like KEY=VALUE, e.g. -p sample_customers=300."
        )
    raw = raw.strip()
    lowered = raw.lower()
    if lowered in {"true", "false"}:
        return key, lowered == "true"
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(raw)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(value, str | int | float | bool):
            return key, value
    return key, raw

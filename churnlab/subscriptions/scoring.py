"""The contractual scoring pass: one customer table and one configuration in, one set of numbers.

:func:`score_subscribers` computes, once, everything the contractual report pages show:
the Kaplan-Meier survival curve with its interval (Kaplan & Meier 1958, via lifelines),
retention by tenure, by plan and by start cohort, the shifted-beta-geometric fit and
projection with its health (Fader & Hardie 2007, "How to Project Customer Retention"),
each active subscriber's discounted expected residual lifetime (DERL) and residual value
(Fader & Hardie 2010, "Customer-Base Valuation in a Contractual Setting", eq. 6) and a
KPI record (:mod:`churnlab.subscriptions.kpis`). It is the subscription counterpart of
:func:`churnlab.scoring.score`; ``churnlab report`` writes its table as
``subscribers.parquet`` next to ``kpis.json``. There is no random step: the same table
and settings give identical output.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from churnlab import config
from churnlab.data.customers import (
    END,
    PLAN,
    REVENUE,
    START,
    TENURE,
    LoadedCustomers,
    load_customers,
)
from churnlab.datasets import TRANSACTION_SOURCES, load_telco
from churnlab.exceptions import ConfigError
from churnlab.subscriptions.cohorts import (
    fit_cohort_sbg,
    projected_survival,
    residual_value,
    retention_by_cohort,
)
from churnlab.subscriptions.kpis import SUBSCRIBER_HEADLINE_KPIS, SUBSCRIBER_KPI_GLOSSARY
from churnlab.subscriptions.survival import retention_by_tenure, survival_curve

__all__ = [
    "SUBSCRIBERS_FILE",
    "SUBSCRIBER_COLUMNS",
    "SUBSCRIBER_HEADLINE_KPIS",
    "SUBSCRIBER_KPI_GLOSSARY",
    "TELCO_CUSTOMERS",
    "SubscriberResult",
    "SubscriberSettings",
    "load_subscribers",
    "score_subscribers",
]

_YEAR_DAYS = 365.2425

#: File of the per-subscriber table in a run folder (next to ``kpis.json``).
SUBSCRIBERS_FILE = "subscribers.parquet"
#: Columns of ``subscribers.parquet``, in order.
SUBSCRIBER_COLUMNS = (
    "start", "end", "tenure", "churned", "plan", "revenue", "cohort", "renewals",
    "survival_to_date", "derl", "expected_remaining_periods", "residual_value",
)  # fmt: skip


@dataclass(frozen=True)
class SubscriberSettings:
    """The one documented configuration of the contractual scoring pass.

    Parameters
    ----------
    yearly_discount_rate : float, default 0.10
        Discount rate of residual values, per year (converted to the tenure period).
    ci : float, default 0.95
        Level of the Kaplan-Meier confidence interval (exponential Greenwood).
    cohort_freq : {"auto", "Y", "Q", "M"}, default "auto"
        Width of start cohorts; "auto" takes years when the starts span more than three
        years, quarters when more than a year, else months.
    lifetime_horizon_years : float, default 10
        Horizon of the expected remaining lifetime.
    projection_years : float, default 2
        How far the sBG projection runs past the longest observed tenure.
    currency : str, default ""
        ISO code of the revenue (e.g. "USD"), used to format money on the pages.
    """

    yearly_discount_rate: float = 0.10
    ci: float = 0.95
    cohort_freq: str = "auto"
    lifetime_horizon_years: float = 10.0
    projection_years: float = 2.0
    currency: str = ""

    def __post_init__(self) -> None:
        if not (0 <= self.yearly_discount_rate <= 1):
            raise ConfigError(
                f"yearly_discount_rate must be between 0 and 1 (e.g. 0.1 for 10% a year), "
                f"got {self.yearly_discount_rate!r}."
            )
        if self.cohort_freq not in ("auto", "Y", "Q", "M"):
            raise ConfigError(
                f"cohort_freq must be 'auto', 'Y', 'Q' or 'M', got {self.cohort_freq!r}."
            )
        for name in ("lifetime_horizon_years", "projection_years"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be above 0 years, got {getattr(self, name)!r}.")

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> SubscriberSettings:
        """Build settings from a mapping, ignoring names that are not settings."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


@dataclass
class SubscriberResult:
    """Everything the contractual scoring pass computed; what every contractual page reads.

    Attributes
    ----------
    customers : pandas.DataFrame
        One row per subscriber (index ``customer_id``), columns :data:`SUBSCRIBER_COLUMNS`.
    kpis : dict
        The KPI record (:mod:`~churnlab.subscriptions.kpis`) plus ``kind``, ``currency``,
        ``tenure_unit``, ``periods_per_year``, ``observation_end``, the sBG parameters
        and ``caveats``.
    caveats : list of str
        Model-health problems and what they mean for the figures, in plain words.
    survival : pandas.DataFrame
        Kaplan-Meier curve with interval (:func:`~churnlab.subscriptions.survival_curve`).
    survival_by_plan : pandas.DataFrame or None
        The same per plan, when the table has plans.
    retention : pandas.DataFrame
        Retention by tenure period (:func:`~churnlab.subscriptions.retention_by_tenure`).
    cohorts : pandas.DataFrame or None
        Survival by start cohort, when the table has start dates.
    projection : pandas.DataFrame
        sBG projection next to the observed curve
        (:func:`~churnlab.subscriptions.projected_survival`).
    settings : SubscriberSettings
    sbg : ShiftedBetaGeoModel
        The fitted model.
    cleaning, dropped
        The table's cleaning report and its dropped rows.
    transactions : None
        A customer table has no transaction log (pages that read one see None).
    """

    customers: pd.DataFrame
    kpis: dict[str, Any]
    caveats: list[str]
    survival: pd.DataFrame
    survival_by_plan: pd.DataFrame | None
    retention: pd.DataFrame
    cohorts: pd.DataFrame | None
    projection: pd.DataFrame
    settings: SubscriberSettings
    sbg: Any
    cleaning: Any = None
    dropped: pd.DataFrame | None = None
    transactions: None = None
    models: dict[str, Any] = field(default_factory=dict)


#: How the bundled Telco table maps onto :func:`churnlab.data.load_customers`.
TELCO_CUSTOMERS = {
    "tenure": "Tenure in Months",
    "churned": "Churn Label",
    "plan": "Contract",
    "revenue": "Monthly Charge",
}


def load_subscribers(
    source: Any,
    *,
    sample_customers: int = 0,
    random_state: int = 0,
    observation_end: str | None = None,
    **options: Any,
) -> LoadedCustomers:
    """Load a subscription table for the contractual pass: ``"telco"`` or a table with a mapping.

    Parameters
    ----------
    source : str, path or pandas.DataFrame
        ``"telco"`` (the bundled IBM Telco table, mapped by :data:`TELCO_CUSTOMERS`) or
        a source of :func:`churnlab.data.load_customers`.
    sample_customers : int, default 0
        Keep a random sample of this many customers (0 = all); rows are cleaned first.
    random_state : int, default 0
        Seed of the sample.
    observation_end : str, optional
        The date the table describes ("" or None: the latest date in it).
    **options
        Column mapping and reading options of :func:`churnlab.data.load_customers`
        (``customer_id``, ``start``, ``end``, ``churned``, ``tenure``, ``tenure_unit``,
        ``plan``, ``revenue``, ``date_format``, ``dayfirst``, ``encoding``, ``sep``,
        ``decimal``, ``sheet``, ``timezone``); ``currency`` and ``kind`` are ignored here.

    Returns
    -------
    LoadedCustomers

    Raises
    ------
    ConfigError
        For a bundled transaction log (``"online_retail"``, ``"cdnow"``), or a bad mapping.
    """
    reading = {k: v for k, v in options.items() if k not in ("currency", "kind")}
    if isinstance(source, str) and source in TRANSACTION_SOURCES:
        raise ConfigError(
            f"{source!r} is a bundled transaction log, not a customer table. Pass the path of "
            "a table with one row per customer (CLI: --customers PATH), or 'telco' for the "
            "bundled Telco table (churnlab report --preset telco)."
        )
    if isinstance(source, str) and source == "telco":
        source, reading = load_telco(), {**TELCO_CUSTOMERS, **reading}
    loaded = load_customers(source, observation_end=observation_end or None, **reading)
    if sample_customers and sample_customers < len(loaded.data):
        sampled = loaded.data.sample(n=int(sample_customers), random_state=random_state)
        data = loaded.data.loc[loaded.data.index.isin(sampled.index)]  # input order
        data.attrs = dict(loaded.data.attrs)
        loaded = loaded._replace(data=data)
    return loaded


def _cohort_freq(starts: pd.Series, freq: str) -> str:
    if freq != "auto":
        return freq
    span = (starts.max() - starts.min()).days / _YEAR_DAYS
    return "Y" if span > 3 else "Q" if span > 1 else "M"


def _remaining_periods(model: Any, renewals: np.ndarray, horizon: int) -> np.ndarray:
    """Return the expected further payments within ``horizon`` periods, sum of S(n+t) / S(n)."""
    steps = np.arange(1, horizon + 1)
    out = {}
    for n in np.unique(renewals):
        out[int(n)] = float(np.sum(model.survival(n + steps)) / model.survival(n))
    return np.array([out[int(n)] for n in renewals])


def _sbg_caveats(model: Any, projection: pd.DataFrame, unit: str) -> list[str]:
    caveats = []
    if not model.health_.ok:
        problems = "; ".join(model.health_.problems)
        caveats.append(
            f"The retention model (shifted-beta-geometric) did not fit cleanly ({problems}). "
            "The projection and the residual values depend on it: treat them as rough."
        )
    observed = projection.dropna(subset=["observed_survival"])
    gap = (observed["survival"] - observed["observed_survival"]).abs()
    if len(gap) and gap.max() > 0.03:
        at = int(gap.idxmax())
        caveats.append(
            f"The retention model's curve differs from the observed one by up to "
            f"{100 * gap.max():.0f} percentage points of survival (at {unit} {at}): it "
            "assumes each subscriber keeps a fixed chance of leaving, which these data only "
            "roughly follow. Residual values and the projection beyond the data are estimates."
        )
    return caveats


def score_subscribers(
    customers: LoadedCustomers | pd.DataFrame, settings: SubscriberSettings | None = None
) -> SubscriberResult:
    """Run the contractual scoring pass.

    Parameters
    ----------
    customers : LoadedCustomers or pandas.DataFrame
        The cleaned customer table (:func:`churnlab.data.load_customers` output).
    settings : SubscriberSettings, optional
        Default :class:`SubscriberSettings()`.

    Returns
    -------
    SubscriberResult
    """
    s = settings or SubscriberSettings()
    loaded = customers if isinstance(customers, LoadedCustomers) else None
    data = loaded.data if loaded is not None else customers
    unit = data.attrs.get("tenure_unit", "M")
    per_year = _YEAR_DAYS / config.TIME_UNIT_DAYS.get(unit, config.TIME_UNIT_DAYS["M"])
    caveats: list[str] = []

    survival = survival_curve(data, ci=s.ci)
    by_plan = survival_curve(data, by=PLAN, ci=s.ci) if PLAN in data else None
    retention = retention_by_tenure(data)
    cohorts, width = None, None
    starts = data[START].dropna() if START in data else pd.Series(dtype="datetime64[ns]")
    if len(starts) == len(data) and len(data):
        width = _cohort_freq(starts, s.cohort_freq)
        cohorts = retention_by_cohort(data, freq=width)

    model = fit_cohort_sbg(data)
    longest = int(retention.index.max())
    projection = projected_survival(
        model, longest + round(s.projection_years * per_year), customers=data
    )
    unit_word = {"D": "day", "W": "week", "M": "month"}.get(unit, "period")
    caveats += _sbg_caveats(model, projection, unit_word)
    if data[config.CHURNED].all():
        caveats.append("Every subscriber in the table has left: there is no base to value.")
    rate = (1 + s.yearly_discount_rate) ** (1 / per_year) - 1
    has_revenue = REVENUE in data and data[REVENUE].notna().any()
    if not has_revenue:
        caveats.append(
            "The table has no revenue per subscriber, so residual values are shown in "
            "periods (DERL) only. Load it with revenue='<column>' to value the base."
        )
    values = residual_value(
        data, model, discount_rate=rate, revenue=None if has_revenue else np.nan
    )
    horizon = round(s.lifetime_horizon_years * per_year)
    active = ~values[config.CHURNED].to_numpy(dtype=bool)
    remaining = np.zeros(len(values))
    remaining[active] = _remaining_periods(model, values["renewals"].to_numpy()[active], horizon)

    table = pd.DataFrame(index=data.index)
    for column in (START, END, TENURE, config.CHURNED):
        table[column] = data[column]
    table[PLAN] = data[PLAN].astype("string") if PLAN in data else pd.NA
    table[REVENUE] = data[REVENUE].astype("float64") if REVENUE in data else np.nan
    table["cohort"] = pd.Series(pd.NA, index=data.index, dtype="string")
    if width is not None:
        table["cohort"] = data[START].dt.to_period(width).astype("str").astype("string")
    table["renewals"] = values["renewals"]
    at = survival["survival"]
    table["survival_to_date"] = np.interp(data[TENURE].to_numpy(float), at.index, at.to_numpy())
    table["derl"] = values["derl"]
    table["expected_remaining_periods"] = remaining
    table["residual_value"] = values["residual_value"]
    table = table[list(SUBSCRIBER_COLUMNS)]
    table.index.name = config.CUSTOMER_ID

    yearly = None
    if survival.index.max() >= per_year:
        curve = survival["survival"]
        yearly = float(curve[curve.index <= per_year].iloc[-1])
    n, n_active = len(table), int(active.sum())
    kpis: dict[str, Any] = {
        "customers": n,
        "active_customers": n_active,
        "churned_share": round(1 - n_active / n, 6) if n else None,
        "monthly_retention": None if yearly is None else round(yearly ** (1 / 12), 6),
        "yearly_retention": None if yearly is None else round(yearly, 6),
        "recurring_revenue_per_year": (
            round(float(table.loc[active, REVENUE].sum() * per_year), 2) if has_revenue else None
        ),
        "base_value": (
            round(float(table.loc[active, "residual_value"].sum()), 2) if has_revenue else None
        ),
        "expected_remaining_years": (
            round(float(remaining[active].mean() / per_year), 4) if n_active else None
        ),
    }
    if yearly is None:
        caveats.append(
            "No subscriber has been observed for a full year, so yearly retention cannot be "
            "measured from the data."
        )
    end = data.attrs.get("observation_end")
    kpis.update(
        kind="subscriptions",
        currency=s.currency,
        tenure_unit=unit,
        periods_per_year=round(per_year, 6),
        observation_end=None if end is None or pd.isna(end) else str(pd.Timestamp(end).date()),
        sbg_alpha=round(float(model.alpha_), 6),
        sbg_beta=round(float(model.beta_), 6),
        sbg_healthy=bool(model.health_.ok),
        cohort_width=width,
        discount_rate_per_period=round(rate, 8),
        caveats=caveats,
    )
    return SubscriberResult(
        customers=table,
        kpis=kpis,
        caveats=caveats,
        survival=survival,
        survival_by_plan=by_plan,
        retention=retention,
        cohorts=cohorts,
        projection=projection,
        settings=s,
        sbg=model,
        cleaning=loaded.report if loaded is not None else None,
        dropped=loaded.dropped if loaded is not None else None,
        models={"sbg": model},
    )

"""What the contractual (subscription) pages say: accounting, survival, retention, the sBG fit.

The notebooks in ``notebooks/contractual`` call these functions and display what they
return; they compute nothing themselves. Every number comes from the run's one
contractual scoring pass (:func:`churnlab.subscriptions.scoring.score_subscribers`),
read with :func:`open_subscribers`. Money is shown in the run's currency through
:mod:`churnlab.report.formatting`, tables through :func:`churnlab.report.tables.styled`,
and text from the data (plan names) is escaped. Value pages and the executive summary
are in :mod:`churnlab.report.subscriber_value`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from IPython.display import Markdown

from churnlab.markup import escape_markdown
from churnlab.report.formatting import currency_prefix, format_kpi, format_money
from churnlab.report.narrative import caveat_box
from churnlab.report.tables import styled
from churnlab.scoring import load_outputs
from churnlab.subscriptions.scoring import (
    SUBSCRIBER_KPI_GLOSSARY,
    SubscriberResult,
    SubscriberSettings,
    load_subscribers,
    score_subscribers,
)

__all__ = [
    "caveat_box",
    "cleaning_table",
    "cleaning_text",
    "cohort_table",
    "cohort_text",
    "format_subscriber_kpi",
    "md_money",
    "milestones",
    "open_subscribers",
    "plan_table",
    "plan_text",
    "projection_table",
    "retention_table",
    "retention_text",
    "sbg_text",
    "subscribers_text",
    "survival_table",
    "survival_text",
]

#: Currency of the bundled customer tables (IBM Telco charges are US dollars).
BUNDLED_CURRENCIES = {"telco": "USD"}
_UNITS = {"D": ("day", "days"), "W": ("week", "weeks"), "M": ("month", "months")}

#: Why :func:`churnlab.data.load_customers` set a row aside, in words.
CUSTOMER_DROP_DESCRIPTIONS = {
    "missing_customer_id": "without a customer id",
    "duplicate_customer_id": "repeating a customer id already read",
    "unparsable_start": "without a readable start date",
    "future_start": "starting after the date the table describes",
    "unparsable_end": "with an end date that is not a date",
    "end_before_start": "ending before they started",
    "missing_tenure": "without a tenure",
    "negative_tenure": "with a negative tenure",
    "unparsable_churn_flag": "without a readable churn flag",
    "churn_flag_conflict": "whose churn flag contradicts their end date",
}


def open_subscribers(
    run_dir: str = "",
    *,
    data_source: str = "telco",
    sample_customers: int = 0,
    observation_end: str = "",
    data_options: dict[str, Any] | None = None,
    **settings: Any,
) -> SubscriberResult:
    """Return the contractual result a page shows: the run's, or a fresh one in JupyterLab.

    Parameters
    ----------
    run_dir : str, default ""
        The run folder ``churnlab report`` passes to every page; "" (an analyst in
        JupyterLab) scores ``data_source`` here and now with the same function.
    data_source : str, default "telco"
        ``"telco"`` or the path of a customer table (used when ``run_dir`` is "").
    sample_customers : int, default 0
        Customer sample (used when ``run_dir`` is "").
    observation_end : str, default ""
        The date the table describes ("" = its latest date).
    data_options : dict, optional
        Column mapping and reading options of :func:`churnlab.data.load_customers`.
    **settings
        :class:`~churnlab.subscriptions.scoring.SubscriberSettings` fields (others are
        ignored, e.g. ``random_state``, which seeds the sample).

    Returns
    -------
    SubscriberResult
    """
    if run_dir:
        return load_outputs(run_dir)
    options = dict(data_options or {})
    currency = options.get("currency") or BUNDLED_CURRENCIES.get(data_source, "")
    values = SubscriberSettings.from_mapping({"currency": currency, **settings})
    loaded = load_subscribers(
        data_source,
        sample_customers=sample_customers,
        random_state=int(settings.get("random_state", 0)),
        observation_end=observation_end,
        **options,
    )
    return score_subscribers(loaded, values)


def format_subscriber_kpi(name: str, value: Any, currency: str = "") -> str:
    """Format one contractual KPI by its kind in the contractual glossary."""
    return format_kpi(name, value, currency, glossary=SUBSCRIBER_KPI_GLOSSARY)


def md_money(value: float | None, currency: str = "") -> str:
    """Return an amount for a Markdown sentence: formatted, with ``$`` escaped (not maths)."""
    return format_money(value, currency).replace("$", "\\$")


def _unit(result: SubscriberResult, count: float = 2) -> str:
    one, many = _UNITS.get(result.kpis.get("tenure_unit", "M"), ("period", "periods"))
    return one if count == 1 else many


def _money(result: SubscriberResult) -> str:
    return currency_prefix(result.settings.currency)


def _pct(value: float) -> str:
    return f"{value:.0%}" if 0.01 <= value <= 0.99 or value in (0, 1) else f"{value:.1%}"


def milestones(result: SubscriberResult, *, beyond: bool = False) -> list[int]:
    """Return the tenures a table shows: a period, a quarter, half a year, then whole years.

    Parameters
    ----------
    result : SubscriberResult
    beyond : bool, default False
        Include tenures past the longest observed one (for the projection).

    Returns
    -------
    list of int
    """
    per_year = float(result.kpis["periods_per_year"])
    last = int(result.projection.index.max() if beyond else result.retention.index.max())
    points = [1, round(per_year / 4), round(per_year / 2)]
    points += [round(per_year * y) for y in range(1, 1 + int(last / per_year))]
    return sorted({p for p in points if 1 <= p <= last} | ({last} if not beyond else set()))


def _survival_at(curve: pd.DataFrame, t: float) -> pd.Series:
    """Return the row of a Kaplan-Meier curve in force at tenure ``t``."""
    return curve[curve.index <= t].iloc[-1]


def cleaning_text(result: SubscriberResult) -> Markdown:
    """Say how many rows were read, kept and set aside (by reason), in one or two sentences."""
    report = result.cleaning
    if report is None:
        return Markdown(f"**{len(result.customers):,}** subscribers were read.")
    total, kept = report.input_rows, report.kept_rows
    if kept == total:
        return Markdown(f"All **{total:,}** rows read were kept: one row per subscriber.")
    parts = [
        f"{n:,} {CUSTOMER_DROP_DESCRIPTIONS.get(r, r.replace('_', ' '))}"
        for r, n in sorted(report.dropped.items(), key=lambda item: -item[1])
        if n
    ]
    return Markdown(
        f"Of the **{total:,}** rows read, **{kept:,}** were kept, one per subscriber, and "
        f"**{total - kept:,}** ({_pct((total - kept) / total)}) were set aside: "
        f"{'; '.join(parts)}."
    )


def cleaning_table(result: SubscriberResult) -> pd.io.formats.style.Styler:
    """Return rows kept and set aside per reason; kept plus set aside equals rows read."""
    report = result.cleaning
    total = report.input_rows if report is not None else len(result.customers)
    rows = {"Kept": report.kept_rows if report is not None else total}
    for reason, n in (report.dropped if report is not None else {}).items():
        if n:
            rows["Set aside: " + CUSTOMER_DROP_DESCRIPTIONS.get(reason, reason)] = n
    rows["Rows read"] = total
    frame = pd.DataFrame({"Rows": rows}).rename_axis("")
    frame["Share"] = frame["Rows"] / max(total, 1)
    return styled(frame, percent=["Share"])


def subscribers_text(result: SubscriberResult) -> Markdown:
    """Say who the subscribers are: how many, how many left, how long they stay, revenue."""
    k, table, cur = result.kpis, result.customers, result.settings.currency
    left = k["customers"] - k["active_customers"]
    median = float(table["tenure"].median())
    text = (
        f"**{k['customers']:,}** subscribers, of whom **{k['active_customers']:,}** "
        f"({_pct(1 - k['churned_share'])}) are still active and **{left:,}** "
        f"({_pct(k['churned_share'])}) have left. Half of them have stayed "
        f"{median:,.0f} {_unit(result, median)} or more so far."
    )
    if k.get("recurring_revenue_per_year") is not None:
        per = k["recurring_revenue_per_year"] / k["periods_per_year"]
        text += (
            f" The active subscribers pay **{md_money(per, cur)}** a {_unit(result, 1)}, "
            f"**{md_money(k['recurring_revenue_per_year'], cur)}** a year."
        )
    if k.get("observation_end"):
        text += f" The table describes the base on {k['observation_end']}."
    return Markdown(text)


def plan_table(result: SubscriberResult) -> pd.io.formats.style.Styler | Markdown:
    """Return subscribers, share who left, tenure, revenue and 1-year survival per plan."""
    table = result.customers
    if table["plan"].isna().all():
        return Markdown("The table has no plan or contract column, so plans are not compared.")
    per_year = float(result.kpis["periods_per_year"])
    groups = table.groupby("plan", sort=True)
    frame = pd.DataFrame(
        {
            "Subscribers": groups.size(),
            "Still active": groups["churned"].apply(lambda c: int((~c).sum())),
            "Share who left": groups["churned"].mean(),
            f"Median tenure ({_unit(result)})": groups["tenure"].median().round().astype("int64"),
            f"Revenue per {_unit(result, 1)}": groups["revenue"].mean(),
        }
    )
    if result.survival_by_plan is not None and result.retention.index.max() >= per_year:
        frame["Still active after a year"] = [
            float(_survival_at(result.survival_by_plan.loc[plan], per_year)["survival"])
            for plan in frame.index
        ]
    frame.index.name = "Plan"
    return styled(
        frame,
        money=[f"Revenue per {_unit(result, 1)}"],
        percent=["Share who left", "Still active after a year"],
        currency=_money(result),
        decimals=1,
    )


def plan_text(result: SubscriberResult) -> Markdown:
    """Compare the plans' survival after a year (or at the longest common tenure)."""
    curves = result.survival_by_plan
    if curves is None:
        return Markdown("")
    plans = sorted(curves.index.get_level_values(0).unique())
    horizon = min(float(result.kpis["periods_per_year"]), float(result.retention.index.max()))
    at = {p: float(_survival_at(curves.loc[p], horizon)["survival"]) for p in plans}
    best, worst = max(at, key=at.get), min(at, key=at.get)
    if best == worst:
        return Markdown("")
    return Markdown(
        f"After {horizon:,.0f} {_unit(result, horizon)}, **{_pct(at[best])}** of "
        f"*{escape_markdown(best)}* subscribers are still active against **{_pct(at[worst])}** "
        f"of *{escape_markdown(worst)}* subscribers."
    )


def survival_text(result: SubscriberResult) -> Markdown:
    """Say how many subscribers are still active after a period, a year and the longest tenure."""
    curve, level = result.survival, result.settings.ci
    per_year = float(result.kpis["periods_per_year"])
    first = _survival_at(curve, 1)
    text = (
        f"After their first {_unit(result, 1)}, **{_pct(first['survival'])}** of subscribers "
        "are still active"
    )
    if curve.index.max() >= per_year:
        year = _survival_at(curve, per_year)
        text += (
            f"; after a year, **{_pct(year['survival'])}** ({level:.0%} interval "
            f"{_pct(year['survival_lower'])} to {_pct(year['survival_upper'])})"
        )
    last = float(curve.index.max())
    end = _survival_at(curve, last)
    text += (
        f"; after {last:,.0f} {_unit(result, last)}, the longest tenure in the table, "
        f"**{_pct(end['survival'])}**."
    )
    return Markdown(text)


def survival_table(result: SubscriberResult) -> pd.io.formats.style.Styler:
    """Return the Kaplan-Meier survival with its interval at the milestone tenures."""
    curve = result.survival
    rows = {t: _survival_at(curve, t) for t in milestones(result)}
    level = f"{result.settings.ci:.0%}"
    frame = pd.DataFrame(
        {
            "Still active": [r["survival"] for r in rows.values()],
            f"Lower bound ({level})": [r["survival_lower"] for r in rows.values()],
            f"Upper bound ({level})": [r["survival_upper"] for r in rows.values()],
        },
        index=pd.Index(list(rows), name=f"Tenure ({_unit(result)})"),
    )
    return styled(frame, percent=list(frame.columns))


def retention_text(result: SubscriberResult) -> Markdown:
    """Say in which period subscribers leave most, and how retention changes with tenure."""
    rate = result.retention["retention_rate"].dropna()
    at_risk = result.retention.loc[rate.index, "at_risk"]
    # Read a rate only where enough subscribers are left: 30, and a tenth of the table.
    rate = rate[at_risk >= max(30, 0.1 * len(result.customers))]
    if rate.empty:
        return Markdown("Too few subscribers per period to read a retention rate.")
    worst = int(rate.idxmin())
    text = (
        f"Subscribers are most likely to leave in {_unit(result, 1)} {worst}: "
        f"**{_pct(rate[worst])}** of those still active at its start stay to its end."
    )
    per_year = round(float(result.kpis["periods_per_year"]))
    later = [t for t in (per_year, 2 * per_year) if t in rate.index and t != worst]
    if later:
        parts = [f"{_pct(rate[t])} in {_unit(result, 1)} {t}" for t in later]
        text += f" Later on retention is {' and '.join(parts)}."
    return Markdown(text)


def retention_table(result: SubscriberResult) -> pd.io.formats.style.Styler:
    """Return period retention (survived the period ÷ active at its start) at the milestones."""
    table = result.retention.loc[[t for t in milestones(result) if t in result.retention.index]]
    frame = pd.DataFrame(
        {
            "Active at the start": table["at_risk"],
            "Left during it": table["churned"],
            "Retention": table["retention_rate"],
        }
    )
    frame.index.name = _unit(result, 1).capitalize()
    return styled(frame, percent=["Retention"], decimals=1)


def cohort_text(result: SubscriberResult) -> Markdown:
    """Say whether start cohorts can be compared, and how the newest and oldest compare."""
    matrix = result.cohorts
    if matrix is None:
        return Markdown(
            "The table gives each subscriber's tenure but not the date they started, so "
            "subscribers cannot be grouped by when they joined; the plans above are the "
            "comparison this table allows."
        )
    width = {"Y": "year", "Q": "quarter", "M": "month"}[result.kpis["cohort_width"]]
    return Markdown(
        f"Subscribers grouped by the {width} they started (rows): the share of each group "
        f"still active after each {_unit(result, 1)} of tenure. A newer group has fewer "
        "columns because it has been observed for less time."
    )


def cohort_table(result: SubscriberResult) -> pd.DataFrame | None:
    """Return the cohort survival matrix at the milestone tenures (None without start dates)."""
    matrix = result.cohorts
    if matrix is None:
        return None
    columns = [0, *[t for t in milestones(result) if t in matrix.columns]]
    shown = matrix[columns].copy()
    shown.attrs = dict(matrix.attrs)
    return shown


def sbg_text(result: SubscriberResult) -> Markdown:
    """Explain the sBG fit in words: the average chance of leaving, and what it implies."""
    model, k = result.sbg, result.kpis
    a, b = float(model.alpha_), float(model.beta_)
    per_year = float(k["periods_per_year"])
    one = _unit(result, 1)
    year = round(per_year)
    text = (
        "The retention model (shifted-beta-geometric, Fader & Hardie 2007) gives every "
        f"subscriber their own chance of leaving each {one}; across subscribers these chances "
        f"average **{_pct(a / (a + b))}**. Those most likely to leave go first, so the "
        f"retention of the remaining base rises with tenure: the model expects "
        f"{_pct(float(model.retention_rate(1)))} of subscribers to stay through their first "
        f"{one} and {_pct(float(model.retention_rate(year)))} of those still there to stay "
        f"through {one} {year}."
    )
    text += (
        " The fit converged cleanly."
        if k["sbg_healthy"]
        else " The fit has problems (see the note at the top)."
    )
    return Markdown(text)


def projection_table(result: SubscriberResult) -> pd.io.formats.style.Styler:
    """Return observed and projected survival side by side at the milestone tenures."""
    curve = result.projection
    rows = [t for t in milestones(result, beyond=True) if t in curve.index]
    frame = pd.DataFrame(
        {
            "Observed": curve.loc[rows, "observed_survival"],
            "Retention model": curve.loc[rows, "survival"],
        }
    )
    frame.index.name = f"Tenure ({_unit(result)})"
    return styled(frame, percent=list(frame.columns))

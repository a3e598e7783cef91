"""What a stakeholder page says: formatted numbers, sentences computed from results, caveats.

The notebooks call these functions and display what they return; they compute
nothing themselves. Money is shown in the run's currency, shares as percentages,
counts with thousands separators, labels come from the KPI glossary
(:data:`churnlab.kpis.KPI_GLOSSARY`), and data text is escaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown

from churnlab.exceptions import ConfigError
from churnlab.kpis import KPI_GLOSSARY, kpi_label
from churnlab.markup import escape_html, escape_markdown
from churnlab.report.formatting import currency_prefix, format_kpi, format_money
from churnlab.report.tables import mask_ids, styled
from churnlab.scoring import ScoringResult, action_list
from churnlab.segments import value_loyalty_grid
from churnlab.units import unit_name

__all__ = [
    "action_table",
    "caveat_box",
    "format_kpi",
    "format_money",
    "glossary_text",
    "health_table",
    "kpi_change_table",
    "kpi_changes",
    "kpi_table",
    "segment_table",
    "settings_text",
    "what_if_text",
]


def kpi_table(
    kpis: Mapping[str, Any], names: Iterable[str], *, currency: str = ""
) -> pd.io.formats.style.Styler:
    """Return a two-column table of KPIs: the glossary label and the formatted value.

    Parameters
    ----------
    kpis : mapping
        The KPI record (``ScoringResult.kpis``).
    names : iterable of str
        KPIs to show, in order (missing ones are skipped).
    currency : str, default ""
        ISO code of the run's currency.

    Returns
    -------
    pandas.io.formats.style.Styler
    """
    points = kpis.get("retention_what_if_points", 2)
    rows = {
        kpi_label(n, points=points): format_kpi(n, kpis[n], currency) for n in names if n in kpis
    }
    frame = pd.DataFrame({"Value": list(rows.values())}, index=pd.Index(list(rows), name="KPI"))
    return styled(frame)


def caveat_box(result: ScoringResult, *, brief: bool = False) -> HTML | Markdown:
    """Return the model-health caveats as a visible note for the top of a page.

    Parameters
    ----------
    result : ScoringResult
    brief : bool, default False
        Give only the first clause of each caveat (the executive summary), with a
        pointer to the pages that explain them.

    Returns
    -------
    IPython.display.HTML or Markdown
        Empty Markdown when the run has no caveats.
    """
    if not result.caveats:
        return Markdown("")
    texts = [_first_clause(t) for t in result.caveats] if brief else result.caveats
    items = "".join(f"<li>{escape_html(text)}</li>" for text in texts)
    more = " The model pages (20 and 30) explain each." if brief else ""
    return HTML(
        '<div class="churnlab-caveat" role="note">'
        f"<strong>Read these figures with care.</strong>{more}<ul>{items}</ul></div>"
    )


def _first_clause(text: str) -> str:
    """Return a caveat's first sentence, or its part before a colon, with a full stop."""
    head = re.split(r"(?<=[a-z0-9)%])(?:\. |: )", text, maxsplit=1)[0].rstrip(".")
    return head + "."


def settings_text(result: ScoringResult) -> Markdown:
    """Say, in words, how churn and lifetime value are defined in this run."""
    s = result.settings
    unit = unit_name(s.time_unit)
    return Markdown(
        f"Churn means **no purchase in the next {s.churn_horizon_months:g} months**. Lifetime "
        f"value covers the next **{s.clv_horizon_months} months**, discounted at "
        f"{s.monthly_discount_rate:.1%} a month. The purchase model "
        f"(**{escape_markdown(result.kpis['transaction_model'])}**, chosen on its error over "
        f"the last {s.holdout_weeks} weeks) counts time in {unit}; the data ends on "
        f"{result.kpis['observation_end']}."
    )


def what_if_text(result: ScoringResult) -> Markdown:
    """Say what the extra points of yearly retention are worth, from the what-if table."""
    row, cur = result.what_if.iloc[0], result.settings.currency
    return Markdown(
        f"**{result.settings.retention_points:g} points** more yearly retention "
        f"({row['retention_base']:.0%} to {row['retention_new']:.0%}) would be worth "
        f"**{format_money(row['value_change'], cur)}** over three years "
        f"({row['value_change_pct']:.1f}% more than the base's "
        f"{format_money(row['value_base'], cur, compact=True)} over those three years). This "
        "is a projection on the purchase model, not a promise."
    )


def model_choice_text(result: ScoringResult) -> Markdown:
    """Say which purchase model was chosen, on which score, and which were unhealthy."""
    table, chosen = result.model_comparison, result.kpis["transaction_model"]
    weeks = result.settings.holdout_weeks
    parts = [
        f"{escape_markdown(name)} {row['holdout_mae']:.3f}"
        for name, row in table.iterrows()
        if pd.notna(row.get("holdout_mae"))
    ]
    text = (
        f"Three purchase models were fitted on the data before the last {weeks} weeks and "
        f"scored on those weeks (mean absolute error of purchases per customer: "
        f"{', '.join(parts)}). **{escape_markdown(chosen)}** is used"
    )
    unhealthy = [str(n) for n in table.index[~table["healthy"].astype(bool)]]
    if len(unhealthy) == len(table):
        text += " although every model has a problem (see the note at the top)."
    elif unhealthy:
        text += f": the lowest error among the healthy ones ({', '.join(unhealthy)} not)."
    else:
        text += ": the lowest error."
    sample, base = result.settings.training_customers, len(result.customers)
    if base > sample:  # as churnlab.scoring.training_log decides
        text += (
            f" The back-test uses every purchase of a random sample of {sample:,} of the "
            f"{base:,} customers; the chosen model is then fitted on all of them."
        )
    return Markdown(text)


def churn_choice_text(result: ScoringResult) -> Markdown:
    """Say which churn probability the pages use and how the two candidates scored."""
    table, source = result.churn_comparison, result.kpis["churn_probability_source"]
    if table.empty:
        return Markdown(f"Churn probability comes from the **{source}** (no backtest possible).")
    other = next(i for i in table.index if i != "classifier")
    c, m = table.loc["classifier"], table.loc[other]
    name = escape_markdown(other)
    words = (f"higher than {name}'s", f"lower than {name}'s")
    auc = _compared(c["roc_auc"], m["roc_auc"], words, tie=f"the same as {name}'s")
    brier = _compared(c["brier"], m["brier"], ("higher (worse)", "lower (better)"))
    used = "the churn classifier" if source == "classifier" else escape_markdown(other)
    return Markdown(
        f"On a backtest ({int(c['n']):,} customers, the last "
        f"{result.settings.churn_horizon_months:g} months held out), the churn classifier's "
        f"ROC AUC is {auc} ({c['roc_auc']:.3f} vs "
        f"{m['roc_auc']:.3f}) and its Brier score is {brier} ({c['brier']:.3f} vs "
        f"{m['brier']:.3f}). The pages use **{used}**."
    )


def _compared(value: float, other: float, words: tuple[str, str], *, tie: str = "the same") -> str:
    """Say how ``value`` compares, or ``tie`` when both agree to the three decimals shown."""
    if round(value, 3) == round(other, 3):
        return tie
    return words[0] if value > other else words[1]


def segment_table(result: ScoringResult, *, top: int | None = None) -> pd.io.formats.style.Styler:
    """Return customers, value and value at risk per RFM segment, largest risk first.

    Parameters
    ----------
    result : ScoringResult
    top : int, optional
        Show the ``top`` segments with the most revenue at risk and one row
        "Other segments" for the rest (the executive summary); default all.

    Returns
    -------
    pandas.io.formats.style.Styler
    """
    customers = result.customers
    if top is not None:
        risk = customers.groupby("segment", observed=True)["revenue_at_risk"].sum()
        kept = risk.sort_values(ascending=False, kind="stable").index[:top]
        named = customers["segment"].astype(object).where(customers["segment"].isin(kept))
        customers = customers.assign(segment=named.fillna("Other segments"))
    table = customers.groupby("segment", observed=True).agg(
        customers=("clv", "size"),
        clv=("clv", "sum"),
        churn_probability=("churn_probability", "mean"),
        revenue_at_risk=("revenue_at_risk", "sum"),
    )
    table["share"] = table["customers"] / len(customers)
    table = table.sort_values("revenue_at_risk", ascending=False)
    if "Other segments" in table.index:  # the rest goes last, whatever its size
        table = table.reindex([*table.index.drop("Other segments"), "Other segments"])
    table = table[["customers", "share", "clv", "churn_probability", "revenue_at_risk"]]
    table.columns = [
        "Customers", "Share of customers", "Lifetime value", "Average churn probability",
        "Revenue at risk",
    ]  # fmt: skip
    table.index.name = "Segment"
    return styled(
        table,
        money=["Lifetime value", "Revenue at risk"],
        percent=["Share of customers", "Average churn probability"],
        currency=currency_prefix(result.settings.currency),
    )


def action_table(
    result: ScoringResult, *, top: int | None = None, mask: bool = False
) -> pd.io.formats.style.Styler:
    """Return the action list as a work list: one row per customer to contact."""
    listed = action_list(result)
    caption = None
    if top is not None and len(listed) > top:
        caption = (
            f"The {top} with the most revenue at risk, of {len(listed):,} customers to "
            "contact (the CSV has all of them)."
        )
        listed = listed.head(top)
    table = pd.DataFrame(
        {
            "Segment": listed["segment"],
            "Lifetime value": listed["clv"],
            "Churn probability": listed["churn_probability"],
            "Revenue at risk": listed["revenue_at_risk"],
            "Days since last purchase": listed["days_since_last_purchase"].astype("Int64"),
            "Why": listed[["reason_1", "reason_2"]].apply(
                lambda r: "; ".join(str(v) for v in r if pd.notna(v)), axis=1
            ),
            "What to do": listed["action"],
        },
        index=mask_ids(listed.index, enabled=mask).rename("Customer"),
    )
    return styled(
        table,
        money=["Lifetime value", "Revenue at risk"],
        percent=["Churn probability"],
        currency=currency_prefix(result.settings.currency),
        caption=caption,
    )


def health_table(result: ScoringResult) -> pd.io.formats.style.Styler:
    """Return customers, share and value per health tier (Good, Average, Poor)."""
    customers = result.customers
    table = customers.groupby("health_tier").agg(
        customers=("clv", "size"), clv=("clv", "sum"), revenue_at_risk=("revenue_at_risk", "sum")
    )
    table = table.reindex(["Good", "Average", "Poor"]).dropna(how="all")
    table["customers"] = table["customers"].astype("int64")
    table.insert(1, "share", table["customers"] / len(customers))
    table.columns = ["Customers", "Share of customers", "Lifetime value", "Revenue at risk"]
    table.index.name = "Health"
    return styled(
        table,
        money=["Lifetime value", "Revenue at risk"],
        percent=["Share of customers"],
        currency=currency_prefix(result.settings.currency),
    )


def glossary_text(
    names: Iterable[str], *, points: float = 2.0, collapsed: bool = False
) -> Markdown | HTML:
    """Return the definitions of KPIs as a list (from the one glossary).

    Parameters
    ----------
    names : iterable of str
        KPIs to define, in order (unknown ones are skipped).
    points : float, default 2.0
        Points of the retention what-if, named in its label.
    collapsed : bool, default False
        Return a closed "How to read this page" disclosure (HTML ``details``)
        instead of an open Markdown list, so a short page stays short.

    Returns
    -------
    IPython.display.Markdown or HTML
    """
    known = [n for n in names if n in KPI_GLOSSARY]
    if collapsed:
        items = "".join(
            f"<li><strong>{escape_html(kpi_label(n, points=points))}</strong>: "
            f"{escape_html(KPI_GLOSSARY[n][2])}</li>"
            for n in known
        )
        return HTML(
            '<details class="churnlab-glossary"><summary>How to read this page: what each '
            f"figure means</summary><ul>{items}</ul></details>"
        )
    lines = [f"- **{kpi_label(n, points=points)}**: {KPI_GLOSSARY[n][2]}" for n in known]
    return Markdown("\n".join(lines))


def value_grid(result: ScoringResult) -> pd.DataFrame:
    """Return every customer's value tier and risk tier, with their revenue at risk."""
    customers = result.customers
    grid = value_loyalty_grid(customers["clv"], customers["churn_probability"].fillna(0.5))
    return grid.assign(revenue_at_risk=customers["revenue_at_risk"].fillna(0.0))


def value_grid_text(result: ScoringResult) -> Markdown:
    """Name the value × risk cell that holds the most revenue at risk, from the grid."""
    grid = value_grid(result)
    cells = grid.groupby(["value_tier", "risk_tier"], observed=True)["revenue_at_risk"]
    total, top = cells.sum(), cells.sum().idxmax()
    share = total[top] / total.sum() if total.sum() > 0 else 0.0
    count = int(cells.size()[top])
    return Markdown(
        f"The most value at risk sits with **{str(top[0]).lower()}-value, "
        f"{str(top[1]).lower()}-risk** customers: {count:,} customers with "
        f"{format_money(total[top], result.settings.currency)} at risk "
        f"({share:.0%} of the total). Colour shows revenue at risk, not head count."
    )


def retention_table(result: ScoringResult, *, months: int = 12) -> pd.io.formats.style.Styler:
    """Return the last ``months`` of monthly active-base retention, with plain labels."""
    table = result.monthly_retention.tail(months)
    table = table[
        ["customers_start", "new_customers", "customers_end", "retention_rate", "churn_rate"]
    ]
    table = table.set_axis(
        ["Active at start (S)", "Joined (N)", "Active at end (E)", "Retention", "Churn"], axis=1
    )
    table.index = table.index.astype(str)
    table.index.name = "Month"
    return styled(table, percent=["Retention", "Churn"])


def action_download(run_dir: str) -> Markdown:
    """Link the run's ``actions.csv`` (written by the report runner) when there is a run."""
    if not run_dir:
        return Markdown("")
    return Markdown(
        "[Download the action list as CSV](actions.csv) (one row per customer to contact)."
    )


def kpi_changes(kpis: Mapping[str, object], previous: str | Mapping[str, object]) -> pd.DataFrame:
    """Return each KPI with the previous run's value and the change.

    Parameters
    ----------
    kpis : mapping
        This run's KPIs.
    previous : str or mapping
        The previous run's KPIs, or their JSON (the runner passes
        ``previous_kpis`` as JSON); "" or "{}" means no previous run.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``kpi``: ``value``, ``previous`` and ``change`` (NaN when the
        previous run did not record the KPI).

    Raises
    ------
    ConfigError
        If ``previous`` is not valid JSON of an object.
    """
    if isinstance(previous, str):
        try:
            previous = json.loads(previous or "{}")
        except ValueError as exc:
            raise ConfigError(f"previous_kpis is not valid JSON: {exc}") from exc
    if not isinstance(previous, Mapping):
        raise ConfigError("previous_kpis must be a JSON object of KPI name -> value.")
    rows = []
    for name, value in kpis.items():
        before = previous.get(name)
        numeric = isinstance(value, int | float) and isinstance(before, int | float)
        change = float(value) - float(before) if numeric else np.nan
        rows.append((name, value, before if before is not None else np.nan, change))
    frame = pd.DataFrame(rows, columns=["kpi", "value", "previous", "change"], dtype=object)
    return frame.set_index("kpi")


def kpi_change_table(
    kpis: Mapping[str, Any],
    names: Iterable[str],
    previous_kpis: str | Mapping[str, Any],
    *,
    currency: str = "",
    glossary: Mapping[str, tuple[str, str, str]] = KPI_GLOSSARY,
    label: Any = None,
) -> pd.io.formats.style.Styler:
    """Return each KPI of ``names`` with the previous run's value and the change, formatted.

    Parameters
    ----------
    kpis : mapping
        This run's KPI record.
    names : iterable of str
        KPIs to show, in order (missing ones are skipped).
    previous_kpis : str or mapping
        The previous successful run's KPIs (JSON, as the runner passes them).
    currency : str, default ""
        ISO code of the run's currency.
    glossary : mapping, default :data:`churnlab.kpis.KPI_GLOSSARY`
        Labels and kinds (the contractual pages pass theirs).
    label : callable, optional
        ``label(name)`` for the row names; default the glossary's label.

    Returns
    -------
    pandas.io.formats.style.Styler
    """
    names = [n for n in names if n in kpis]
    changes = kpi_changes({n: kpis[n] for n in names}, previous_kpis)

    def shown(name: str, value: Any) -> str:
        known = value is not None and not (isinstance(value, float) and np.isnan(value))
        return format_kpi(name, value if known else None, currency, glossary=glossary)

    def change(name: str, value: Any) -> str:
        if value is None or pd.isna(value):
            return "–"
        if value == 0:
            return "no change"
        if glossary[name][1] == "percent":
            return f"{value * 100:+.1f} points"
        return ("+" if value > 0 else "−") + shown(name, abs(value))

    frame = pd.DataFrame(
        {
            "This run": [shown(n, kpis[n]) for n in names],
            "Previous run": [shown(n, v) for n, v in changes["previous"].items()],
            "Change": [change(n, changes.loc[n, "change"]) for n in names],
        },
        index=pd.Index([label(n) if label else glossary[n][0] for n in names], name="KPI"),
    )
    return styled(frame)

"""The contractual report through the command line: the Telco preset, and one's own table."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from churnlab import config
from churnlab.cli import build_parser, main, report_config_from_args
from churnlab.datasets import load_telco
from churnlab.exceptions import ConfigError
from churnlab.report.notebooks import plan_run
from churnlab.report.runner import _previous_kpis
from churnlab.subscriptions import fit_cohort_sbg

CONTRACTUAL = ["00-subscribers", "10-survival-and-retention", "20-subscriber-value"]
# Fader & Hardie (2007), "How to Project Customer Retention", Table 1, regular segment:
# customers of a cohort of 1,000 still active at the start of years 0-7.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]


def _text(path: Path) -> str:
    """The page as a reader sees it: tags dropped, entities and spacing normalised."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    text = text.replace("&amp;", "&").replace("&#x27;", "'").replace("&quot;", '"')
    return " ".join(text.replace("&nbsp;", " ").split())


def _run(args: list[str], out: Path) -> tuple[int, Path]:
    code = main(["report", *args, "--output-dir", str(out), "--no-progress"])
    return code, out / "latest"


@pytest.fixture(scope="module")
def telco_run(tmp_path_factory):
    return _run(["--preset", "telco"], tmp_path_factory.mktemp("telco") / "reports")


@pytest.fixture(scope="module")
def telco_km():
    telco = load_telco()
    return KaplanMeierFitter(alpha=0.05).fit(telco["Tenure in Months"], telco["churned"])


def test_telco_preset_runs_the_contractual_pages_and_the_reasons_page(telco_run):
    code, run = telco_run
    assert code == 0
    pages = sorted(p.stem for p in run.glob("*.html") if p.stem != "index")
    assert pages == [*CONTRACTUAL, "40-churn-reasons", "90-executive-summary"]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["kind"] == "subscriptions" and manifest["status"] == "succeeded"
    assert manifest["scoring"]["files"] == ["subscribers.parquet", "kpis.json"]
    assert not (run / "scores.parquet").exists() and not (run / "scoring.pkl").exists()
    # Page 40 describes the stated reasons of the same Telco table.
    assert "IBM Telco snapshot: 7,043 customers, 1,869 churned" in _text(
        run / "40-churn-reasons.html"
    )


def test_kaplan_meier_figures_are_lifelines_on_the_same_table(telco_run, telco_km):
    _, run = telco_run
    subscribers = pd.read_parquet(run / "subscribers.parquet")
    assert len(subscribers) == 7043
    direct = telco_km.survival_function_at_times(subscribers["tenure"]).to_numpy()
    np.testing.assert_allclose(subscribers["survival_to_date"], direct, rtol=1e-12)
    kpis = json.loads((run / "kpis.json").read_text())
    year = float(telco_km.survival_function_at_times(12).iloc[0])
    assert kpis["yearly_retention"] == pytest.approx(year, abs=1e-6)
    assert kpis["monthly_retention"] == pytest.approx(year ** (1 / 12), abs=1e-6)
    assert kpis["customers"] == 7043 and kpis["active_customers"] == 7043 - 1869
    # The survival table on page 10: lifelines' estimate and 95% interval at each tenure.
    page = _text(run / "10-survival-and-retention.html")
    band = telco_km.confidence_interval_survival_function_
    for months in (1, 12, 24, 72):
        row = band[band.index <= months].iloc[-1]
        estimate = float(telco_km.survival_function_at_times(months).iloc[0])
        assert f"{months} {estimate:.1%} {row.iloc[0]:.1%} {row.iloc[1]:.1%}" in page
    assert f"after a year, {year:.0%} (95% interval {band.loc[12.0].iloc[0]:.0%}" in page


def test_sbg_fit_is_the_known_value_fit(telco_run):
    _, run = telco_run
    # The fitting function reproduces FH (2007), section 4 (alpha = 0.704, beta = 1.182)...
    tenure = [t for t in range(1, 8) for _ in range(REGULAR[t - 1] - REGULAR[t])]
    cohort = pd.DataFrame(
        {
            "start": pd.NaT,
            "end": pd.NaT,
            "tenure": [float(t) for t in tenure] + [7.0] * REGULAR[-1],
            "churned": [True] * len(tenure) + [False] * REGULAR[-1],
        }
    )
    regular = fit_cohort_sbg(cohort)
    assert regular.alpha_ == pytest.approx(0.704, abs=5e-4)
    assert regular.beta_ == pytest.approx(1.182, abs=5e-4)
    # ...and the report's fit is that function on the Telco table.
    telco = load_telco().rename(columns={"Tenure in Months": "tenure"})[["tenure", "churned"]]
    direct = fit_cohort_sbg(telco.assign(start=pd.NaT, end=pd.NaT))
    kpis = json.loads((run / "kpis.json").read_text())
    assert kpis["sbg_alpha"] == pytest.approx(direct.alpha_, rel=1e-5)
    assert kpis["sbg_beta"] == pytest.approx(direct.beta_, rel=1e-5)
    assert kpis["sbg_healthy"] is True


def test_value_page_shows_the_calculator_in_dollars_with_its_inputs(telco_run):
    _, run = telco_run
    page = _text(run / "20-subscriber-value.html")
    kpis = json.loads((run / "kpis.json").read_text())
    assert f"yearly retention {kpis['yearly_retention']:.0%}" in page
    assert "A class of 1,000 new subscribers" in page and "$8.00 of renewal reminders" in page
    worth = re.search(r"worth \$([\d,.]+) after year 1 and \$([\d,.]+) by year 3", page)
    assert worth and float(worth[1].replace(",", "")) < float(worth[2].replace(",", ""))
    assert "Moving renewals onto card auto-renewal would cut the renewal cost to $1.00" in page
    base = float(re.search(r"expected to pay \$([\d,]+) from now on", page)[1].replace(",", ""))
    assert base == pytest.approx(kpis["base_value"], abs=1)


def test_no_transactional_kpi_or_sample_anywhere(telco_run):
    _, run = telco_run
    for name in [*CONTRACTUAL, "90-executive-summary"]:
        text = _text(run / f"{name}.html")
        for word in ("Revenue at risk", "Online Retail", "£", "purchase model"):
            assert word not in text, (name, word)
        assert not re.search(r"\b(nan|None|NaN|NaT)\b", text), name
    manifest = json.loads((run / "manifest.json").read_text())
    assert "revenue_at_risk" not in manifest["kpis"] and "expected_value" not in manifest["kpis"]
    index = _text(run.parent / "index.html")
    assert "Subscriptions (customer table)" in index and "Revenue at risk" not in index
    assert "Residual value of the base" in index


def _own_table(path: Path) -> pd.DataFrame:
    """600 subscribers of a German gym: start and end as dd.mm.yyyy, some still active."""
    rng = np.random.default_rng(11)
    start = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 1000, 600), unit="D")
    stay = pd.to_timedelta(rng.exponential(500, 600).astype(int) + 20, unit="D")
    end = start + stay
    active = end > pd.Timestamp("2024-06-30")
    table = pd.DataFrame(
        {
            "Kunde": [f"K{i:04d}" for i in range(600)],
            "Beginn": start.strftime("%d.%m.%Y"),
            "Ende": np.where(active, "", end.strftime("%d.%m.%Y")),
            "Tarif": np.where(rng.random(600) < 0.5, "Basis", "Premium"),
            "Monatsbeitrag": np.round(rng.uniform(20, 60, 600), 2),
        }
    )
    table.to_csv(path, index=False, encoding="latin-1")
    return table


def test_own_customer_table_with_day_first_dates_in_euros(tmp_path):
    source = tmp_path / "mitglieder.csv"
    table = _own_table(source)
    mapping = ["--customer-id", "Kunde", "--start", "Beginn", "--end", "Ende"]
    mapping += ["--plan", "Tarif", "--revenue", "Monatsbeitrag", "--dayfirst"]
    options = [*mapping, "--encoding", "latin-1", "--currency", "EUR"]
    # Starts span 2021-01 to 2023-09 (2.7 years), so cohorts are quarters ("auto").
    code, run = _run(["--customers", str(source), *options], tmp_path / "reports")
    assert code == 0
    assert sorted(p.stem for p in run.glob("*.html") if p.stem != "index") == [
        *CONTRACTUAL,
        "90-executive-summary",
    ]
    subscribers = pd.read_parquet(run / "subscribers.parquet")
    first = table.iloc[0]
    assert subscribers.loc["K0000", "start"] == pd.to_datetime(first["Beginn"], format="%d.%m.%Y")
    km = KaplanMeierFitter().fit(subscribers["tenure"], subscribers["churned"])
    direct = km.survival_function_at_times(subscribers["tenure"]).to_numpy()
    np.testing.assert_allclose(subscribers["survival_to_date"], direct, rtol=1e-12)
    assert json.loads((run / "kpis.json").read_text())["currency"] == "EUR"
    for name in [*CONTRACTUAL, "90-executive-summary"]:
        text = _text(run / f"{name}.html")
        assert "$" not in text and "Telco" not in text and "£" not in text, name
    assert "€" in _text(run / "20-subscriber-value.html")
    assert "Subscribers grouped by the quarter they started" in _text(
        run / "10-survival-and-retention.html"
    )


def test_config_file_kind_subscriptions_plans_the_contractual_pages(tmp_path):
    config = tmp_path / "report.toml"
    config.write_text(
        '[parameters]\ndata_source = "mitglieder.csv"\n\n[data]\nkind = "subscriptions"\n'
        'customer_id = "Kunde"\nstart = "Beginn"\nend = "Ende"\ndayfirst = true\n'
        'currency = "EUR"\n',
        encoding="utf-8",
    )
    args = build_parser().parse_args(["report", "--config", str(config)])
    report = report_config_from_args(args)
    assert report.kind == "subscriptions"
    assert report.data["start"] == "Beginn" and report.data["currency"] == "EUR"
    names = [p.name for p in plan_run(report)]
    assert names == [*CONTRACTUAL, "90-executive-summary"]
    # The same table of options without kind is refused, saying what to add.
    config.write_text('[data]\nstart = "Beginn"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match='add kind = "subscriptions"'):
        report_config_from_args(build_parser().parse_args(["report", "--config", str(config)]))


@pytest.mark.parametrize("path", sorted(Path(config.NOTEBOOKS_DIR, "contractual").glob("*.ipynb")))
def test_contractual_notebook_is_thin_and_committed_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    imports = ast.parse(nb.cells[0].source).body
    assert imports and all(isinstance(n, ast.Import | ast.ImportFrom) for n in imports)
    assert "parameters" in nb.cells[1].metadata.get("tags", [])
    names = set()
    for node in ast.parse(nb.cells[1].source).body:
        assert isinstance(node, ast.Assign), f"{path.name}: parameters cell holds logic"
        ast.literal_eval(node.value)
        names.add(node.targets[0].id)
    assert {"data_source", "sample_customers", "run_dir"} <= names
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert not cell.get("outputs") and cell.get("execution_count") is None
        tree = ast.parse(cell.source)
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.If | ast.For | ast.While)]


def test_calculator_parameters_are_range_checked_before_anything_runs(tmp_path):
    args = build_parser().parse_args(
        ["report", "--preset", "telco", "-p", "20.margin=1.5", "--output-dir", str(tmp_path)]
    )
    with pytest.raises(ConfigError, match="parameter 'margin' must be between 0 and 1"):
        plan_run(report_config_from_args(args))


def test_previous_kpis_come_from_a_run_of_the_same_kind(tmp_path):
    def manifest(folder: str, kind: str | None, started: str, kpis: dict) -> None:
        (tmp_path / folder).mkdir()
        data = {"run_id": folder, "status": "succeeded", "scope": "full", "started_at": started}
        data.update({"kpis": kpis, **({"kind": kind} if kind else {})})
        (tmp_path / folder / "manifest.json").write_text(json.dumps(data))

    manifest("r1", None, "2026-01-01T00:00:00", {"customers": 4338})  # older runs: no kind
    manifest("r2", "subscriptions", "2026-01-02T00:00:00", {"customers": 7043})
    (tmp_path / "latest").symlink_to("r2")
    assert json.loads(_previous_kpis(tmp_path, "transactions")) == {"customers": 4338}
    assert json.loads(_previous_kpis(tmp_path, "subscriptions")) == {"customers": 7043}

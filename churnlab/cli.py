"""The ``churnlab`` command: parse arguments, call one function, map errors to exit codes.

``churnlab report`` runs the notebooks and publishes HTML reports;
``churnlab score DATA -o scores.parquet`` writes the per-customer table for CRM
import. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from churnlab import config
from churnlab.exceptions import (
    ChurnlabError,
    ConfigError,
    DataValidationError,
    ReportExecutionError,
    ReportLockedError,
)

__all__ = ["EXIT_CODES", "build_parser", "main"]

#: Exit code per error class (first match wins); 0 = success.
EXIT_CODES: dict[type[BaseException], int] = {
    ConfigError: 2,
    DataValidationError: 3,
    ReportExecutionError: 4,
    ReportLockedError: 5,
    ChurnlabError: 1,
}


#: Named reports that are not a run on the transaction log (``--preset``): the Telco
#: walk-through is the contractual pages on the bundled Telco customer table plus the
#: churn-reason page on its stated reasons.
PRESETS: dict[str, dict[str, object]] = {
    "telco": {
        "data_source": "telco",
        "data": {"kind": "subscriptions"},
        "notebook_parameters": {"40": {"reasons_source": "telco"}},
    },
}

#: Customer-table columns (``--customers PATH``); same names as load_customers.
_CUSTOMER_FLAGS = (
    ("start", "COLUMN", "start date column, e.g. signup_date"),
    ("end", "COLUMN", "end date column, empty while active, e.g. cancel_date"),
    ("churned", "COLUMN", "churn flag column (Yes/No, 1/0), e.g. 'Churn Label'"),
    ("tenure", "COLUMN", "tenure column (instead of start/end), e.g. 'Tenure in Months'"),
    ("tenure-unit", "UNIT", "unit of the tenure: D, W or M (default M)"),
    ("plan", "COLUMN", "plan or contract column, e.g. Contract"),
    ("revenue", "COLUMN", "revenue per period column, e.g. 'Monthly Charge'"),
)


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    """Add the column mapping and reading options, named as in the API and config file."""
    group = parser.add_argument_group(
        "your data", "how to read the transaction log (same names as the [data] config table)"
    )
    for name, example in (
        ("customer-id", "Kunde"),
        ("date", "order_date"),
        ("amount", "dollar_value"),
        ("quantity", "units"),
        ("price", "unit_price"),
        ("order-id", "invoice"),
        ("product-id", "sku"),
    ):
        group.add_argument(f"--{name}", metavar="COLUMN", help=f"column name, e.g. {example}")
    group.add_argument("--date-format", metavar="FORMAT", help="e.g. '%%d/%%m/%%Y'")
    group.add_argument(
        "--dayfirst",
        action="store_const",
        const=True,
        default=None,
        help="read 05/01/2024 as 5 January",
    )
    group.add_argument(
        "--monthfirst",
        action="store_const",
        dest="dayfirst",
        const=False,
        help="read 05/01/2024 as 1 May",
    )
    group.add_argument("--encoding", help="text encoding of a CSV, e.g. latin-1")
    group.add_argument("--sep", help="column separator of a CSV, e.g. ';' ('\\t' for a tab)")
    group.add_argument("--decimal", help="decimal mark of a CSV's numbers, e.g. ','")
    group.add_argument("--sheet", help="Excel sheet name (or its position, 0 = first)")
    group.add_argument("--timezone", help="time zone of the dates, e.g. Europe/London")
    group.add_argument("--currency", help="ISO code of the amounts, e.g. EUR")


def _add_customer_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--customers`` and the customer-table mapping (a subscription run)."""
    group = parser.add_argument_group(
        "a subscription table", "one row per customer: runs the contractual pages"
    )
    group.add_argument(
        "--customers",
        metavar="PATH",
        help="customer table (CSV, Parquet, Excel); same as --data-source PATH --kind "
        "subscriptions",
    )
    group.add_argument(
        "--kind",
        choices=("transactions", "subscriptions"),
        help="what data_source is: a purchase log (default) or a customer table",
    )
    for name, metavar, text in _CUSTOMER_FLAGS:
        group.add_argument(f"--{name}", metavar=metavar, help=text)


def _data_options(args: argparse.Namespace) -> dict[str, object]:
    customer = ("kind", "start", "end", "churned", "tenure", "tenure_unit", "plan", "revenue")
    names = (*config.SOURCE_OPTIONS, "currency", *customer)
    values = {name: getattr(args, name, None) for name in names}
    if isinstance(values.get("sheet"), str) and values["sheet"].isdigit():
        values["sheet"] = int(values["sheet"])
    return {k: v for k, v in values.items() if v is not None}


def _add_report(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser(
        "report",
        help="run the notebooks and export stakeholder HTML reports",
        description="Run every notebook (or a subset) with papermill and publish HTML reports, "
        "a manifest and an index page. Options override the config file.",
    )
    report.add_argument("--config", type=Path, help="TOML or YAML config file")
    report.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="a named report: telco = the subscription pages and the churn-reason page on "
        "the bundled Telco customer table",
    )
    report.add_argument("--notebooks", help="comma-separated notebook numbers, e.g. 00,20")
    report.add_argument("--notebooks-dir", type=Path, help="folder of the notebooks")
    report.add_argument("--data-source", help="bundled name (online_retail, cdnow) or a path")
    report.add_argument("--sample-customers", type=int, help="sample this many customers (0 = all)")
    report.add_argument(
        "--output-dir", type=Path, help=f"reports folder (default {config.REPORTS_DIR})"
    )
    report.add_argument(
        "--mask-customer-ids",
        action="store_true",
        default=None,
        help="mask customer ids in the HTML",
    )
    report.add_argument("--cell-timeout", type=float, help="seconds per cell (0 = none)")
    report.add_argument("--run-timeout", type=float, help="seconds for the whole run (0 = none)")
    report.add_argument("--lock-timeout", type=float, help="seconds to wait for another run")
    report.add_argument("--no-progress", action="store_true", help="hide progress bars")
    report.add_argument(
        "--jobs", type=int, help="notebooks run at once after the scoring pass (default 1)"
    )
    report.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="notebook parameter, e.g. -p time_unit=M or -p 40.n_themes=6",
    )
    _add_data_options(report)
    _add_customer_options(report)


def _add_score(sub: argparse._SubParsersAction) -> None:
    score = sub.add_parser(
        "score",
        help="write the per-customer scores table for CRM import",
        description="Fit the models on a transaction log and write one row per customer: "
        "P(alive), churn probability, expected purchases, CLV, segment, health tier.",
    )
    score.add_argument("data", help="transactions: bundled name or a CSV/Parquet path")
    score.add_argument("-o", "--output", type=Path, required=True, help="output .parquet or .csv")
    score.add_argument("--time-unit", default="W", help="D, W or M (default W)")
    score.add_argument("--horizon", type=int, default=12, help="months of lifetime value (12)")
    score.add_argument(
        "--churn-horizon", type=float, default=3.0, help="churned = no purchase in this many months"
    )
    score.add_argument("--observation-end", default=None, help="ISO date (default: last date)")
    score.add_argument("--sample-customers", type=int, default=0, help="0 = all customers")
    score.add_argument("--random-state", type=int, default=42)
    _add_data_options(score)


def build_parser() -> argparse.ArgumentParser:
    """Return the ``churnlab`` argument parser.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(prog="churnlab", description="churn and CLV lab")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_report(sub)
    _add_score(sub)
    return parser


def report_config_from_args(args: argparse.Namespace) -> object:
    """Merge the config file and command-line options into a ``ReportConfig``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``churnlab report`` arguments.

    Returns
    -------
    churnlab.report.ReportConfig

    Raises
    ------
    ConfigError
        For an unknown or mistyped option or parameter.
    """
    from churnlab.report.params import ReportConfig, load_config_file, parse_override

    values = load_config_file(args.config) if args.config else {}
    if not isinstance(values.get("parameters") or {}, dict):
        raise ConfigError(
            "config file: 'parameters' must be a table of name = value pairs, got "
            f"{values['parameters']!r}."
        )
    data = values.get("data") or {}
    if not isinstance(data, dict):
        raise ConfigError(f"report config: 'data' must be a table of options, got {data!r}.")
    if args.preset:
        preset = PRESETS[args.preset]
        values.setdefault("parameters", {})["data_source"] = preset["data_source"]
        data = {**data, **preset["data"]}
        chosen = [n.strip()[:2] for n in (args.notebooks or "").split(",") if n.strip()]
        for key, extra in preset["notebook_parameters"].items():
            if not chosen or key in chosen:  # --notebooks 00,90 leaves page 40 out
                values.setdefault("notebook_parameters", {}).setdefault(key, {}).update(extra)
    if getattr(args, "customers", None):
        values.setdefault("parameters", {})["data_source"] = args.customers
        data = {**data, "kind": "subscriptions"}
    values["data"] = {**data, **_data_options(args)}
    params = dict(values.get("parameters") or {})
    per_notebook = {k: dict(v) for k, v in (values.get("notebook_parameters") or {}).items()}
    options = {
        "notebooks": args.notebooks,
        "notebooks_dir": args.notebooks_dir,
        "output_dir": args.output_dir,
        "cell_timeout": args.cell_timeout,
        "run_timeout": args.run_timeout,
        "lock_timeout": args.lock_timeout,
        "jobs": args.jobs,
    }
    values.update({k: v for k, v in options.items() if v is not None})
    if args.no_progress:
        values["progress"] = False
    for key, value in (
        ("data_source", args.data_source),
        ("sample_customers", args.sample_customers),
        ("mask_customer_ids", args.mask_customer_ids),
    ):
        if value is not None:
            params[key] = value
    for text in args.parameter:
        key, value = parse_override(text)
        notebook, dot, name = key.partition(".")
        if dot:
            per_notebook.setdefault(notebook, {})[name] = value
        else:
            params[key] = value
    values["parameters"] = params
    values["notebook_parameters"] = per_notebook
    return ReportConfig.from_mapping(values)


def _run_report(args: argparse.Namespace) -> int:
    from churnlab.report.runner import run_report

    result = run_report(report_config_from_args(args))
    print(f"report {result.run_id} written to {result.run_dir}")
    print(f"index: {result.run_dir.parent / 'index.html'}")
    return 0


def _run_score(args: argparse.Namespace) -> int:
    from churnlab.data.datasets import CURRENCIES
    from churnlab.report.params import check_data_options
    from churnlab.report.scoring import (
        accounting_line,
        check_output_path,
        iso_date,
        score_source,
        write_scores,
    )
    from churnlab.scoring import ScoringSettings

    check_output_path(args.output, source=args.data)
    options = check_data_options(_data_options(args))
    currency = str(options.pop("currency", "") or CURRENCIES.get(args.data, ""))
    settings = ScoringSettings(
        time_unit=args.time_unit,
        clv_horizon_months=args.horizon,
        churn_horizon_months=args.churn_horizon,
        observation_end=iso_date(args.observation_end, data_options=options),
        random_state=args.random_state,
        currency=currency,
    )
    result = score_source(
        os.path.abspath(args.data) if os.path.exists(args.data) else args.data,
        settings=settings,
        sample_customers=args.sample_customers,
        data_options=options,
    )
    path = write_scores(result.customers, args.output)
    print(f"{accounting_line(result)} -> {path}")
    for caveat in result.caveats:
        print(f"note: {caveat}")
    return 0


def _one_line(text: str, *, limit: int = 2000) -> str:
    """Collapse a message to one line of at most ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 20] + " ... (shortened)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``churnlab`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code: 0 success, 2 bad config or parameter, 3 bad data, 4 a notebook
        failed, 5 another run holds the lock, 1 any other error, 130 on Ctrl-C.
    """
    args = build_parser().parse_args(argv)
    handlers = {"report": _run_report, "score": _run_score}
    try:
        return handlers[args.command](args)
    except ChurnlabError as exc:
        code = next(c for cls, c in EXIT_CODES.items() if isinstance(exc, cls))
        message = _one_line(str(exc))
        print(f"churnlab {args.command}: error: {message}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        print(f"churnlab {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("CHURNLAB_DEBUG"):
            raise
        message = _one_line(str(exc), limit=500)
        print(
            f"churnlab {args.command}: unexpected error: {type(exc).__name__}: {message} "
            "(set CHURNLAB_DEBUG=1 to see the traceback, and please report it)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Execute a planned run into a temporary folder and publish it atomically.

Called by :func:`churnlab.report.runner.run_report` once parameters and data
are validated and the lock is held.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from churnlab.exceptions import ReportExecutionError
from churnlab.kpis import HEADLINE_KPIS
from churnlab.report.html import RunContext, export_debug_html, export_report_html
from churnlab.report.index import latest_run, update_latest, write_index, write_run_page
from churnlab.report.kpis import extract_kpis
from churnlab.report.notebooks import NotebookPlan
from churnlab.report.params import ReportConfig
from churnlab.report.run_info import (
    RunInterrupted,
    RunResult,
    RunTimeout,
    package_versions,
    reproduce_command,
)
from churnlab.report.tables import mask_ids, spreadsheet_safe
from churnlab.report.workers import (
    NotebookFailure,
    describe_failure,
    disarm_run_timer,
    execute_notebook,
    run_in_parallel,
)
from churnlab.scoring import (
    KPIS_FILE,
    RESULT_FILE,
    SCORES_FILE,
    action_list,
    score,
    write_outputs,
)
from churnlab.subscriptions.scoring import (
    SUBSCRIBER_HEADLINE_KPIS,
    SUBSCRIBERS_FILE,
    SubscriberSettings,
    score_subscribers,
)

__all__ = ["execute_run"]

logger = logging.getLogger("churnlab.report")


@contextlib.contextmanager
def _stderr_to(path: Path):
    """Send file descriptor 2 (kernels' warnings and tracebacks) to ``path``.

    Yields a stream on the original stderr for the progress bars, so the console
    shows progress and the final one-line message only.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    console = os.fdopen(os.dup(saved), "w", buffering=1)
    with path.open("a", encoding="utf-8") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield console
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            console.close()


@contextlib.contextmanager
def _run_log(path: Path):
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    saved = []
    for name in ("papermill", "churnlab"):
        log = logging.getLogger(name)
        saved.append((log, log.level, log.propagate))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    try:
        yield
    finally:
        for log, level, propagate in saved:
            log.removeHandler(handler)
            log.setLevel(level)
            log.propagate = propagate
        handler.close()


def _write_manifest(run_dir: Path, manifest: dict) -> None:
    path = run_dir / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")


ACTIONS_FILE = "actions.csv"


def _scoring_pass(
    scoring: tuple, folder: Path, manifest: dict, *, mask: bool
) -> NotebookFailure | None:
    """Run the one scoring pass into the run folder; a failure is returned, not raised."""
    loaded, settings = scoring
    subscriptions = isinstance(settings, SubscriberSettings)
    begin = time.monotonic()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = (score_subscribers if subscriptions else score)(loaded, settings)
        if subscriptions:
            write_outputs(result, folder, table_file=SUBSCRIBERS_FILE)
        else:
            write_outputs(result, folder)
            actions = action_list(result)
            actions.index = mask_ids(actions.index, enabled=mask)
            spreadsheet_safe(actions).to_csv(folder / ACTIONS_FILE, float_format="%.4f")
    except (Exception, RunTimeout, RunInterrupted) as exc:
        disarm_run_timer()
        reason = str(exc) if isinstance(exc, RunInterrupted | RunTimeout) else repr(exc)
        logger.error("scoring pass failed: %s", reason)
        return NotebookFailure(
            f"the scoring pass failed before any notebook ran: {reason}",
            cell=None,
            execution_count=None,
        )
    if subscriptions:
        manifest["kpis"].update(
            {k: result.kpis[k] for k in SUBSCRIBER_HEADLINE_KPIS if k in result.kpis}
        )
        manifest["scoring"] = {
            "seconds": round(time.monotonic() - begin, 2),
            "kind": "subscriptions",
            "model": "shifted-beta-geometric",
            "sbg_alpha": result.kpis["sbg_alpha"],
            "sbg_beta": result.kpis["sbg_beta"],
            "currency": settings.currency,
            "caveats": result.caveats,
            "files": [SUBSCRIBERS_FILE, KPIS_FILE],
        }
        logger.info("contractual scoring pass done in %.1f s", manifest["scoring"]["seconds"])
        return None
    manifest["kpis"].update({k: result.kpis[k] for k in HEADLINE_KPIS if k in result.kpis})
    manifest["scoring"] = {
        "seconds": round(time.monotonic() - begin, 2),
        "transaction_model": result.kpis.get("transaction_model"),
        "churn_probability_source": result.kpis.get("churn_probability_source"),
        "currency": settings.currency,
        "retention_what_if_points": settings.retention_points,
        "caveats": result.caveats,
        "files": [SCORES_FILE, KPIS_FILE, ACTIONS_FILE],
    }
    logger.info("scoring pass done in %.1f s", manifest["scoring"]["seconds"])
    return None


def execute_run(
    config: ReportConfig,
    plans: list[NotebookPlan],
    data: dict[str, dict[str, object]],
    *,
    run_id: str,
    deadline: float | None,
    scoring: tuple | None = None,
) -> RunResult:
    """Run the scoring pass, execute ``plans`` into ``.tmp-<run_id>`` and publish the run.

    Parameters
    ----------
    config : ReportConfig
        The run config.
    plans : list of NotebookPlan
        Validated notebooks and their parameters.
    data : dict
        Facts about each data source (from ``validate_data``).
    run_id : str
        Folder name of the run.
    deadline : float or None
        ``time.monotonic()`` value when the whole run must stop.
    scoring : tuple, optional
        ``(LoadedTransactions, ScoringSettings)`` of the run's one scoring pass (or
        ``(LoadedCustomers, SubscriberSettings)`` of a subscription run, which writes
        ``subscribers.parquet``); its
        ``scores.parquet`` and ``kpis.json`` are written into the run folder before
        any notebook runs, and its headline KPIs go into the manifest.

    Returns
    -------
    RunResult

    Raises
    ------
    ReportExecutionError
        Naming the notebook and the cell that failed.
    """
    from tqdm.auto import tqdm

    output_dir = config.output_dir
    tmp = output_dir / f".tmp-{run_id}"
    tmp.mkdir(parents=True)
    started = datetime.now(UTC)
    versions = package_versions()
    manifest: dict = {
        "run_id": run_id,
        "status": "running",
        "started_at": started.isoformat(timespec="seconds"),
        "parameters": config.parameters.as_dict(),
        "notebook_parameters": {p.name: p.parameters for p in plans},
        "data": data,
        "versions": versions,
        "timeouts": {"cell": config.cell_timeout, "run": config.run_timeout},
        "reproduce": reproduce_command(config),
        "kind": config.kind,
        "scope": "subset" if config.notebooks else "full",
        "notebooks": [{"name": p.name, "status": "not run"} for p in plans],
        "kpis": {},
        "error": None,
    }
    _write_manifest(tmp, manifest)  # a killed run leaves this behind for the next run to record
    clock = time.monotonic()
    failure: NotebookFailure | None = None
    with _run_log(tmp / "run.log"), _stderr_to(tmp / "kernels.log") as console:
        if scoring is not None:
            mask = bool(config.parameters.mask_customer_ids)
            failure = _scoring_pass(scoring, tmp, manifest, mask=mask)
        if failure is not None:
            plans = []
        logger.info("run %s: %d notebook(s)", run_id, len(plans))
        bar = tqdm(
            total=len(plans),
            desc="churnlab report",
            unit="notebook",
            disable=not config.progress,
            file=console,
        )

        def executed(plan: NotebookPlan) -> Path:
            return tmp / f"{plan.name}.ipynb"

        def finish(index: int, failed: NotebookFailure | None, seconds: float) -> None:
            """Record one notebook's outcome: its page and KPIs, or its debug page."""
            plan, entry = plans[index], manifest["notebooks"][index]
            context = RunContext(
                run_id=run_id,
                started_at=manifest["started_at"],
                parameters=plan.parameters,
                data=data,
                versions=versions,
                reproduce=manifest["reproduce"],
            )
            entry.update(notebook=executed(plan).name, data_source=plan.data_source)
            if failed is None:
                try:
                    nb = nbformat.read(executed(plan), as_version=4)
                    entry["kpis"] = extract_kpis(nb)
                    html = tmp / f"{plan.name}.html"
                    export_report_html(nb, html, context=context, data_source=plan.data_source)
                except Exception as exc:
                    failed = describe_failure(exc, plan, executed(plan), config, deadline)
            bar.update()
            if failed is None:
                entry.update(
                    status="succeeded", html=f"{plan.name}.html", seconds=round(seconds, 2)
                )
                logger.info("%s done in %.1f s", plan.name, seconds)
                return
            logger.error("%s", failed)
            entry.update(status="failed", seconds=round(seconds, 2))
            outcomes[index] = failed
            debug = tmp / f"{plan.name}.debug.html"
            exists = executed(plan).exists()
            source = nbformat.read(executed(plan) if exists else plan.path, as_version=4)
            with contextlib.suppress(Exception):
                export_debug_html(source, debug, context=context, error=str(failed))
                entry["debug_html"] = debug.name

        outcomes: dict[int, NotebookFailure] = {}
        if config.jobs > 1 and len(plans) > 1:
            run_in_parallel(
                plans, executed, config, deadline, jobs=config.jobs, log=tmp / "run.log",
                done=finish,
            )  # fmt: skip
        else:
            for index, plan in enumerate(plans):
                begin = time.monotonic()
                try:
                    execute_notebook(plan, executed(plan), config, deadline, console)
                    finish(index, None, time.monotonic() - begin)
                except (Exception, RunTimeout, RunInterrupted) as exc:
                    disarm_run_timer()
                    failed = describe_failure(exc, plan, executed(plan), config, deadline)
                    finish(index, failed, time.monotonic() - begin)
                if index in outcomes:
                    break
        failure = failure or (outcomes[min(outcomes)] if outcomes else None)
        for entry in manifest["notebooks"]:  # in the run's order, whatever order they ended in
            if entry["status"] == "succeeded":
                manifest["kpis"].update(entry["kpis"])
        bar.close()
        disarm_run_timer()
    (tmp / RESULT_FILE).unlink(missing_ok=True)  # raw ids and models: not for publishing
    manifest["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    manifest["duration_seconds"] = round(time.monotonic() - clock, 2)
    if failure is not None:
        manifest["status"] = "failed"
        manifest["error"] = {
            "notebook": next(
                (e["name"] for e in manifest["notebooks"] if e["status"] == "failed"),
                "scoring pass",
            ),
            "cell": failure.cell,
            "execution_count": failure.execution_count,
            "message": str(failure),
        }
        _write_manifest(tmp, manifest)
        write_run_page(tmp, manifest)
        final = output_dir / f"{run_id}-failed"
        os.rename(tmp, final)
        write_index(output_dir)
        debug = next(
            (e.get("debug_html") for e in manifest["notebooks"] if e.get("debug_html")), None
        )
        hint = f" Debug report: {final / debug}" if debug else f" Log: {final / 'run.log'}"
        raise ReportExecutionError(f"{failure}.{hint}")
    manifest["status"] = "succeeded"
    _write_manifest(tmp, manifest)
    write_run_page(tmp, manifest)
    final = output_dir / run_id
    os.rename(tmp, final)
    if manifest["scope"] == "full" or latest_run(output_dir) is None:
        update_latest(output_dir, run_id)  # a subset never replaces the latest complete run
    write_index(output_dir)
    return RunResult(run_id=run_id, run_dir=final, manifest=manifest)

"""Execute a planned run into a temporary folder and publish it atomically.

Called by :func:`churnlab.report.runner.run_report` once parameters and data
are validated and the lock is held.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import signal
import sys
import threading
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
_HELPER_TAGS = {"injected-parameters", "papermill-error-cell-tag"}


class _NotebookFailure(Exception):
    def __init__(self, message: str, *, cell: int | None, execution_count: int | None) -> None:
        super().__init__(message)
        self.cell = cell
        self.execution_count = execution_count


def _failed_cell(executed: Path, source_text: str | None) -> tuple[int | None, int | None]:
    """Return (1-based cell number in the source notebook, execution count) of the failure."""
    if not executed.exists():
        return None, None
    nb = nbformat.read(executed, as_version=4)
    position, candidate = 0, (None, None)
    for cell in nb.cells:
        if set(cell.metadata.get("tags", [])) & _HELPER_TAGS:
            continue
        position += 1
        meta = cell.metadata.get("papermill", {})
        if source_text is not None and cell.cell_type == "code" and cell.source == source_text:
            return position, cell.get("execution_count")
        if meta.get("status") == "failed":
            return position, cell.get("execution_count")
        if meta.get("start_time"):
            candidate = (position, cell.get("execution_count"))
    return candidate


def _describe(
    exc: BaseException,
    plan: NotebookPlan,
    executed: Path,
    config: ReportConfig,
    deadline: float | None,
) -> _NotebookFailure:
    from nbclient.exceptions import CellTimeoutError
    from papermill.exceptions import PapermillExecutionError

    source = exc.source if isinstance(exc, PapermillExecutionError) else None
    cell, count = _failed_cell(executed, source)
    where = f"cell {cell}" if cell else "an unknown cell"
    if count:
        where += f" (In [{count}])"
    if isinstance(exc, PapermillExecutionError):
        detail = (str(exc.evalue).strip().splitlines() or [""])[0][:300]
        reason = f"{exc.ename}: {detail}"
    elif isinstance(exc, RunTimeout) or (
        isinstance(exc, CellTimeoutError)
        and deadline is not None
        and time.monotonic() >= deadline - 1
    ):
        reason = f"the whole run exceeded its timeout ({config.run_timeout:g} s, --run-timeout)"
    elif isinstance(exc, RunInterrupted):
        reason = str(exc)
    elif isinstance(exc, CellTimeoutError):
        limit = f"{config.cell_timeout:g} s, --cell-timeout"
        reason = f"the cell ran longer than the per-cell timeout ({limit})"
    else:
        reason = f"{type(exc).__name__}: {exc}"
    return _NotebookFailure(
        f"notebook '{plan.name}' failed at {where}: {reason}", cell=cell, execution_count=count
    )


def _disarm_run_timer() -> None:
    if threading.current_thread() is threading.main_thread():
        signal.setitimer(signal.ITIMER_REAL, 0)


def _execute(
    plan: NotebookPlan,
    executed: Path,
    config: ReportConfig,
    deadline: float | None,
    console: object,
) -> None:
    import papermill

    cell_timeout = config.cell_timeout or math.inf
    if deadline is not None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RunTimeout
        cell_timeout = min(cell_timeout, remaining)
    with _inline_figures():
        papermill.execute_notebook(
            str(plan.path),
            str(executed),
            parameters=plan.parameters,
            kernel_name=config.kernel_name,
            language="python",
            progress_bar=(
                {"desc": plan.name, "leave": False, "file": console} if config.progress else False
            ),
            log_output=True,
            cwd=str(plan.path.parent),
            execution_timeout=None if math.isinf(cell_timeout) else max(1, math.ceil(cell_timeout)),
        )


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
def _inline_figures():
    """Let the kernel use the inline backend, so figures land in the notebook as PNGs.

    A caller's ``MPLBACKEND`` (e.g. ``Agg`` in test suites) would otherwise be
    inherited by the kernel and the report would have no figures.
    """
    saved = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = saved


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
) -> _NotebookFailure | None:
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
        _disarm_run_timer()
        reason = str(exc) if isinstance(exc, RunInterrupted | RunTimeout) else repr(exc)
        logger.error("scoring pass failed: %s", reason)
        return _NotebookFailure(
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
    failure: _NotebookFailure | None = None
    with _run_log(tmp / "run.log"), _stderr_to(tmp / "kernels.log") as console:
        if scoring is not None:
            mask = bool(config.parameters.mask_customer_ids)
            failure = _scoring_pass(scoring, tmp, manifest, mask=mask)
        if failure is not None:
            plans = []
        logger.info("run %s: %d notebook(s)", run_id, len(plans))
        bar = tqdm(
            plans,
            desc="churnlab report",
            unit="notebook",
            disable=not config.progress,
            file=console,
        )
        for plan, entry in zip(bar, manifest["notebooks"], strict=False):
            executed = tmp / f"{plan.name}.ipynb"
            context = RunContext(
                run_id=run_id,
                started_at=manifest["started_at"],
                parameters=plan.parameters,
                data=data,
                versions=versions,
                reproduce=manifest["reproduce"],
            )
            entry.update(notebook=executed.name, data_source=plan.data_source)
            begin = time.monotonic()
            try:
                _execute(plan, executed, config, deadline, console)
                nb = nbformat.read(executed, as_version=4)
                entry["kpis"] = extract_kpis(nb)
                export_report_html(
                    nb, tmp / f"{plan.name}.html", context=context, data_source=plan.data_source
                )
            except (Exception, RunTimeout, RunInterrupted) as exc:
                _disarm_run_timer()
                failure = _describe(exc, plan, executed, config, deadline)
                logger.error("%s", failure)
                entry.update(status="failed", seconds=round(time.monotonic() - begin, 2))
                debug = tmp / f"{plan.name}.debug.html"
                source = nbformat.read(executed if executed.exists() else plan.path, as_version=4)
                with contextlib.suppress(Exception):
                    export_debug_html(source, debug, context=context, error=str(failure))
                    entry["debug_html"] = debug.name
                break
            entry.update(
                status="succeeded",
                html=f"{plan.name}.html",
                seconds=round(time.monotonic() - begin, 2),
            )
            manifest["kpis"].update(entry["kpis"])
            logger.info("%s done in %.1f s", plan.name, entry["seconds"])
        bar.close()
        _disarm_run_timer()
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

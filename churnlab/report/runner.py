"""Run the report: validate, execute notebooks with papermill, export, publish.

Order of work (see DESIGN.md, Reports): parameters and notebooks are checked
(:func:`churnlab.report.notebooks.plan_run`), the input data is loaded and
fingerprinted, a lock on the reports folder is taken, each notebook runs into a
temporary folder, and only a fully successful run is renamed into place and
becomes ``latest``. A failed run is kept as ``<run-id>-failed`` with a debug
HTML and a manifest whose status is ``failed``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import secrets
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from churnlab import config
from churnlab.data.datasets import CURRENCIES
from churnlab.data.io import LoadedTransactions
from churnlab.exceptions import (
    ChurnlabError,
    ConfigError,
    DataValidationError,
    ReportExecutionError,
    ReportLockedError,
)
from churnlab.report.execution import execute_run
from churnlab.report.index import latest_run, read_manifests, write_index, write_run_page
from churnlab.report.notebooks import NotebookPlan, plan_run
from churnlab.report.params import SNAPSHOT_SOURCES, ReportConfig
from churnlab.report.run_info import (
    RunInterrupted,
    RunResult,
    RunTimeout,
    reproduce_command,
    signals_as_failures,
)
from churnlab.report.tables import MASK_KEY_VARIABLE
from churnlab.scoring import ScoringSettings
from churnlab.subscriptions.scoring import SubscriberSettings, load_subscribers

__all__ = [
    "RunResult",
    "data_fingerprint",
    "load_data",
    "report_lock",
    "reproduce_command",
    "run_report",
]

logger = logging.getLogger("churnlab.report")


def data_fingerprint(frame: pd.DataFrame) -> str:
    """Return ``sha256:<hex>`` of a frame's values, index and column names.

    Parameters
    ----------
    frame : pandas.DataFrame
        The loaded data.

    Returns
    -------
    str
    """
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return "sha256:" + digest.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


_LOADED: dict[tuple, LoadedTransactions] = {}
#: Currency of the bundled customer tables (IBM Telco charges are US dollars).
_CUSTOMER_CURRENCIES = {"telco": "USD"}


def load_transactions_for_run(
    source: str,
    *,
    sample_customers: int = 0,
    random_state: int = 0,
    options: Mapping[str, object] | None = None,
) -> LoadedTransactions:
    """Load and clean a run's transaction log once (the last one is kept for the run).

    Parameters
    ----------
    source : str
        Bundled name or (absolute) path.
    sample_customers, random_state : int
        The run's customer sample.
    options : mapping, optional
        Column mapping and reading options (:data:`churnlab.config.SOURCE_OPTIONS`).

    Returns
    -------
    LoadedTransactions
    """
    from churnlab import datasets

    reading = {k: v for k, v in (options or {}).items() if k != "currency"}
    key = (source, _source_stamp(source), sample_customers, random_state, sorted(reading.items()))
    key = tuple(map(str, key))
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = datasets.load_source(
            source, sample_customers=sample_customers, random_state=random_state, **reading
        )
    return _LOADED[key]


def load_data(
    source: str,
    *,
    snapshot: bool = False,
    sample_customers: int = 0,
    random_state: int = 0,
    options: Mapping[str, object] | None = None,
    observation_end: str = "",
) -> pd.DataFrame:
    """Load a run's input the way its notebooks will, to validate it up front.

    Parameters
    ----------
    source : str
        Bundled name or path.
    snapshot : bool, default False
        True for customer-snapshot sources (``"telco"`` or a table path).
    sample_customers : int, default 0
        As the notebooks receive it.
    random_state : int, default 0
        As the notebooks receive it.
    options : mapping, optional
        The run's ``[data]`` options; ``kind = "subscriptions"`` loads a customer table
        (:func:`churnlab.subscriptions.scoring.load_subscribers`).
    observation_end : str, default ""
        The run's observation end (used for customer tables).

    Returns
    -------
    pandas.DataFrame
        Transactions (or the snapshot or customer table).
    """
    from churnlab import datasets

    if (options or {}).get("kind") == "subscriptions":
        return load_subscribers(
            source,
            sample_customers=sample_customers,
            random_state=random_state,
            observation_end=observation_end,
            **dict(options or {}),
        ).data
    if snapshot:
        if source == "telco":
            return datasets.load_telco()
        from churnlab.data import load_table

        return load_table(source)
    return load_transactions_for_run(
        source, sample_customers=sample_customers, random_state=random_state, options=options
    ).data


_load_data_default = load_data


def validate_data(
    plans: list[NotebookPlan], *, options: Mapping[str, object] | None = None
) -> dict[str, dict[str, object]]:
    """Load every data source of the run once and describe it.

    Parameters
    ----------
    plans : list of NotebookPlan
        The planned notebooks.
    options : mapping, optional
        The run's ``[data]`` options (column mapping, reading options).

    Returns
    -------
    dict
        Data source -> facts (rows, customers, date range, fingerprint, file sha256).

    Raises
    ------
    DataValidationError
        If a source cannot be read or fails validation; the message names it.
    """
    facts: dict[str, dict[str, object]] = {}
    for plan in plans:
        source = plan.data_source
        if source in facts:
            continue
        subscriptions = (options or {}).get("kind") == "subscriptions"
        snapshot = source in SNAPSHOT_SOURCES and not subscriptions
        end = str(plan.parameters.get("observation_end", "") or "")
        sample = int(
            plan.parameters.get("sample_customers", plan.declared.get("sample_customers") or 0)
        )
        seed = plan.parameters.get("random_state", plan.declared.get("random_state", 0))
        key = (source, snapshot, sample, int(seed or 0), _source_stamp(source), str(options), end)
        if key in _FACTS_CACHE:
            facts[source] = dict(_FACTS_CACHE[key])
            continue
        try:
            frame = load_data(
                source,
                snapshot=snapshot,
                sample_customers=sample,
                random_state=int(seed or 0),
                options=options,
                **({"observation_end": end} if subscriptions else {}),
            )
        except ChurnlabError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataValidationError(
                f"data_source {source!r} (used by notebook {plan.name!r}) cannot be loaded: "
                f"{exc}. Pass a bundled name ('online_retail', 'cdnow', 'telco') or the path "
                "of a file with churnlab's canonical columns."
            ) from exc
        info: dict[str, object] = {"rows": len(frame)}
        if "customer_id" in frame.columns:
            info["customers"] = int(frame["customer_id"].nunique())
        elif frame.index.name == "customer_id":
            info["customers"] = int(frame.index.nunique())
        dates = "start" if subscriptions else "date"
        if dates in frame.columns and len(frame) and frame[dates].notna().any():
            info["first_date"] = str(frame[dates].min().date())
            info["last_date"] = str(frame[dates].max().date())
        if subscriptions:
            info["kind"] = "subscriptions"
        if sample:
            info["sample_customers"] = sample
        info["fingerprint"] = data_fingerprint(frame)
        if Path(source).is_file():
            info["file_sha256"] = _file_sha256(Path(source))
        facts[source] = info
        if load_data is _load_data_default:
            _FACTS_CACHE[key] = dict(info)
    for plan in plans:
        _check_observation_end(plan, facts[plan.data_source])
    return facts


def _check_observation_end(plan: NotebookPlan, facts: dict[str, object]) -> None:
    """Refuse an ``observation_end`` before the data starts or after today (exit 2)."""
    end = plan.parameters.get("observation_end")
    if not end or "first_date" not in facts:
        return
    stamp = pd.Timestamp(str(end))
    first, last = pd.Timestamp(facts["first_date"]), pd.Timestamp(facts["last_date"])
    today = pd.Timestamp.now().normalize()
    if stamp < first or stamp > today:
        raise ConfigError(
            f"observation_end {end!r} is outside the data and the calendar: the data runs from "
            f"{first.date()} to {last.date()} and today is {today.date()}. Pass a date in "
            f"that range (-p observation_end={last.date()}), or '' for the last date."
        )


#: Facts of sources already validated in this process (long-lived schedulers, tests),
#: keyed by source, sample, seed and the files' size and modification time.
_FACTS_CACHE: dict[tuple, dict[str, object]] = {}


def _source_stamp(source: str) -> tuple:
    path = Path(source)
    files = [path] if path.is_file() else sorted(Path(config.DATA_DIR).glob("*"))
    return tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.is_file())


@contextlib.contextmanager
def report_lock(output_dir: Path, *, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on ``output_dir/.lock`` (``fcntl.flock``).

    Parameters
    ----------
    output_dir : Path
        The reports folder.
    timeout : float
        Seconds to wait for another run to finish.

    Raises
    ------
    ReportLockedError
        If the lock is still held after ``timeout`` seconds.
    """
    path = output_dir / ".lock"
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
    except OSError as exc:
        raise ConfigError(
            f"the reports folder {str(output_dir)!r} cannot be written ({exc.strerror or exc}). "
            "Pass --output-dir with a folder you can write to (not a file)."
        ) from None
    with handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ReportLockedError(
                        f"another churnlab report run holds the lock {str(path)!r} "
                        f"(waited {timeout:g} s). Wait for it to finish, or raise "
                        "--lock-timeout; scheduled runs should not overlap."
                    ) from None
                time.sleep(0.2)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _run_deadline(seconds: float | None) -> Iterator[None]:
    """Interrupt the run after ``seconds`` (main thread only; elsewhere per-cell limits)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _expire(signum: int, frame: object) -> None:
        raise RunTimeout

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _new_run_id(output_dir: Path) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_id, n = stamp, 1
    while any(
        (output_dir / name).exists() for name in (run_id, f"{run_id}-failed", f".tmp-{run_id}")
    ):
        n += 1
        run_id = f"{stamp}-{n}"
    return run_id


def _recover_killed_runs(output_dir: Path) -> None:
    """Record runs that were killed without a chance to clean up (``kill -9``, power loss).

    Called with the lock held, so no other run is active: every ``.tmp-<id>`` left
    behind becomes ``<id>-failed`` with a failed manifest, and shows on the index.
    """
    for tmp in sorted(output_dir.glob(".tmp-*")):
        if not tmp.is_dir():
            continue
        run_id = tmp.name.removeprefix(".tmp-")
        path = tmp / "manifest.json"
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = {"run_id": run_id, "notebooks": [], "kpis": {}}
        manifest.update(
            status="failed",
            error={
                "notebook": None,
                "cell": None,
                "message": "the run was killed before it could finish (for example kill -9 or "
                "the machine stopping); found and recorded by the next run",
            },
        )
        path.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
        write_run_page(tmp, manifest)
        final = output_dir / f"{run_id}-failed"
        if final.exists():
            final = output_dir / f"{run_id}-killed-{os.getpid()}"
        os.rename(tmp, final)
        logger.warning("recorded the killed run %s as failed", run_id)
    write_index(output_dir)


@contextlib.contextmanager
def _mask_key_for_run() -> Iterator[None]:
    """Give every notebook kernel of this run the same id-masking key, never on disk.

    With ``$CHURNLAB_MASK_KEY`` set, pseudonyms are stable across runs; otherwise a
    random key is made for this run (so one customer has one pseudonym on every page
    of the run, and another one in the next run).
    """
    if os.environ.get(MASK_KEY_VARIABLE):
        yield
        return
    os.environ[MASK_KEY_VARIABLE] = secrets.token_hex(32)
    try:
        yield
    finally:
        os.environ.pop(MASK_KEY_VARIABLE, None)


def _previous_kpis(output_dir: Path, kind: str = "transactions") -> str:
    """Return the KPIs of the latest complete run of the same data kind as JSON.

    Read with the lock held. A subscription run is never compared with a run on a
    transaction log, nor the other way round.
    """
    latest = latest_run(output_dir)
    runs = [
        m
        for m in read_manifests(output_dir)
        if m.get("kind", "transactions") == kind
        and m.get("status") == "succeeded"
        and m.get("scope", "full") == "full"
    ]
    previous = next((m for m in runs if m["_folder"] == latest), runs[0] if runs else {})
    return json.dumps(previous.get("kpis", {}), sort_keys=True)


def run_report(config: ReportConfig) -> RunResult:
    """Run every selected notebook and publish the HTML reports.

    Parameters
    ----------
    config : ReportConfig
        The validated run config.

    Returns
    -------
    RunResult
        The published run.

    Raises
    ------
    ConfigError
        An unknown or mistyped parameter (before anything runs).
    DataValidationError
        The input data cannot be loaded (before any notebook runs).
    ReportLockedError
        Another run holds the reports folder's lock.
    ReportExecutionError
        A notebook failed or timed out, or the run was stopped by SIGTERM/SIGINT;
        names the notebook and the cell.
    """
    output_dir = config.output_dir
    plans = plan_run(config, runner_values={"run_id": "", "previous_kpis": "{}"})
    deadline = time.monotonic() + config.run_timeout if config.run_timeout else None
    try:
        with _run_deadline(config.run_timeout), signals_as_failures(), _mask_key_for_run():
            data = validate_data(plans, options=config.data)
            scoring = _scoring_input(config, plans)
            with report_lock(output_dir, timeout=config.lock_timeout):
                _recover_killed_runs(output_dir)
                run_id = _new_run_id(output_dir)
                runner_values = {
                    "run_id": run_id,
                    "previous_kpis": _previous_kpis(output_dir, config.kind),
                    "run_dir": str(output_dir.resolve() / f".tmp-{run_id}"),
                }
                plans = [
                    replace(p, parameters={**p.parameters, **_declared(runner_values, p)})
                    for p in plans
                ]
                return execute_run(
                    config, plans, data, run_id=run_id, deadline=deadline, scoring=scoring
                )
    except RunTimeout:
        raise ReportExecutionError(
            f"the run exceeded its timeout ({config.run_timeout:g} s, --run-timeout) while "
            "loading and checking the data, before any notebook ran. Raise --run-timeout or "
            "use --sample-customers."
        ) from None
    except RunInterrupted as exc:
        raise ReportExecutionError(
            f"{exc} before any notebook ran; nothing was published."
        ) from None


def _declared(values: dict[str, object], plan: NotebookPlan) -> dict[str, object]:
    return {k: v for k, v in values.items() if k in plan.declared}


def _scoring_input(config: ReportConfig, plans: list[NotebookPlan]) -> tuple | None:
    """Return the log and settings of the run's one scoring pass, if a notebook reads it."""
    if not any("run_dir" in p.declared for p in plans):
        return None
    params = config.parameters
    if config.kind == "subscriptions":
        loaded = load_subscribers(
            params.data_source,
            sample_customers=params.sample_customers,
            random_state=params.random_state,
            observation_end=params.observation_end,
            **dict(config.data),
        )
        currency = config.data.get("currency") or _CUSTOMER_CURRENCIES.get(params.data_source, "")
        return loaded, SubscriberSettings.from_mapping({**params.as_dict(), "currency": currency})
    if params.data_source in SNAPSHOT_SOURCES:
        return None
    loaded = load_transactions_for_run(
        params.data_source,
        sample_customers=params.sample_customers,
        random_state=params.random_state,
        options=config.data,
    )
    currency = config.data.get("currency") or CURRENCIES.get(params.data_source, "")
    values = {**params.as_dict(), "currency": currency}
    return loaded, ScoringSettings.from_mapping(values)

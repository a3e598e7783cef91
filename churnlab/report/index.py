"""The reports folder's front pages: ``index.html``, per-run pages and ``latest``.

``reports/index.html`` lists every run (newest first) with its status,
headline KPIs and links. ``reports/latest`` (a symlink) and
``reports/latest.html`` (a redirect, for systems without symlinks) always point
at the latest *complete* run that succeeded: a run of a subset of the notebooks
(``--notebooks 00,90``) does not replace it.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
from collections.abc import Mapping
from pathlib import Path

from churnlab.kpis import HEADLINE_KPIS, KPI_GLOSSARY, kpi_label
from churnlab.report.formatting import format_kpi, format_money
from churnlab.subscriptions.scoring import SUBSCRIBER_HEADLINE_KPIS, SUBSCRIBER_KPI_GLOSSARY

__all__ = [
    "latest_run",
    "read_manifests",
    "scope",
    "update_latest",
    "write_index",
    "write_run_page",
]

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 1.5rem auto; padding: 0 1rem;
  color: #222; }
h1 { color: #1f4e79; } table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border-bottom: 1px solid #ddd; padding: .4rem .5rem; text-align: left;
  vertical-align: top; }
th { background: #f3f6fa; } .status-succeeded { color: #2e7d32; font-weight: 600; }
.status-failed { color: #c62828; font-weight: 600; } .latest { background: #f1f8e9; }
ul { margin: 0; padding-left: 1rem; }
.lead { font-size: 1.15rem; } a.summary { display: inline-block; background: #1f4e79; color: #fff;
  padding: .5rem 1rem; border-radius: 4px; text-decoration: none; font-weight: 600; }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def read_manifests(output_dir: Path) -> list[dict]:
    """Return the manifests of every run in ``output_dir``, newest first.

    Parameters
    ----------
    output_dir : Path
        The reports folder.

    Returns
    -------
    list of dict
        Each manifest gets a ``_folder`` key with its folder name.
    """
    runs = []
    for manifest in output_dir.glob("*/manifest.json"):
        if manifest.parent.name.startswith(".") or manifest.parent.is_symlink():
            continue
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(manifest.read_text(encoding="utf-8"))
            data["_folder"] = manifest.parent.name
            runs.append(data)
    return sorted(runs, key=lambda m: (m.get("started_at", ""), m["_folder"]), reverse=True)


SUMMARY_PAGE = "90-executive-summary.html"


def _kpi_items(kpis: Mapping[str, object], currency: str, kind: str = "transactions") -> str:
    return "".join(
        f"<li>{_e(_label(k, kind))}: <strong>{_e(_format(k, v, currency, kind))}</strong></li>"
        for k, v in kpis.items()
    )


def _label(name: str, kind: str) -> str:
    if kind == "subscriptions" and name in SUBSCRIBER_KPI_GLOSSARY:
        return SUBSCRIBER_KPI_GLOSSARY[name][0]
    return kpi_label(name)


def _format(name: str, value: object, currency: str, kind: str = "transactions") -> str:
    if kind == "subscriptions" and name in SUBSCRIBER_KPI_GLOSSARY:
        number_kind = SUBSCRIBER_KPI_GLOSSARY[name][1]
        if value is None:
            return "–"
        if number_kind == "money":
            return format_money(float(value), currency)
        if number_kind == "percent":
            return f"{float(value):.1%}"
        if number_kind == "count":
            return f"{int(value):,}"
        return f"{float(value):,.1f}"
    if name in KPI_GLOSSARY:
        return format_kpi(name, value, currency)
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 1 else f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _kpi_list(run: Mapping[str, object]) -> str:
    kpis = run.get("kpis", {}) or {}
    if not kpis:
        return "—"
    currency = (run.get("scoring") or {}).get("currency", "")
    kind = str(run.get("kind", "transactions"))
    names = SUBSCRIBER_HEADLINE_KPIS if kind == "subscriptions" else HEADLINE_KPIS
    head = {k: kpis[k] for k in names if k in kpis} or dict(list(kpis.items())[:5])
    rest = {k: v for k, v in kpis.items() if k not in head}
    more = (
        f"<details><summary>{len(rest)} more</summary><ul>{_kpi_items(rest, currency, kind)}"
        "</ul></details>"
        if rest
        else ""
    )
    return f"<ul>{_kpi_items(head, currency, kind)}</ul>{more}"


#: How the index names the kind of a run's data.
KIND_LABELS = {
    "transactions": "Transaction log",
    "subscriptions": "Subscriptions (customer table)",
}


def scope(run: Mapping[str, object]) -> str:
    """Return "full" for a run of every notebook, else "subset (00, 90)"."""
    if run.get("scope", "full") == "full":
        return "full"
    numbers = [str(nb.get("name", ""))[:2] for nb in run.get("notebooks", [])]
    return f"subset ({', '.join(numbers)})"


def _data(run: Mapping[str, object]) -> str:
    kind = str(run.get("kind", "transactions"))
    parts = [f"<strong>{_e(KIND_LABELS.get(kind, kind))}</strong>"]
    for source, facts in (run.get("data") or {}).items():
        name = Path(str(source)).name
        customers = facts.get("customers")
        span = f"{facts.get('first_date', '')} to {facts.get('last_date', '')}"
        dates = f"<br><small>{_e(span)}</small>" if "first_date" in facts else ""
        count = f", {customers:,} customers" if isinstance(customers, int) else ""
        parts.append(f"{_e(name)}{_e(count)}{dates}")
    return "<br>".join(parts)


def _links(run: Mapping[str, object], prefix: str) -> str:
    items = []
    notebooks = sorted(run.get("notebooks", []), key=lambda nb: nb.get("html") != SUMMARY_PAGE)
    for nb in notebooks:
        target = nb.get("html") or nb.get("debug_html")
        label = nb["name"] + (" (debug)" if not nb.get("html") and target else "")
        if target:
            items.append(
                f'<li><a href="{_e(prefix + target)}">{_e(label)}</a> '
                f"<small>{_e(nb.get('status', ''))}</small></li>"
            )
        else:
            items.append(f"<li>{_e(nb['name'])} <small>{_e(nb.get('status', ''))}</small></li>")
    return f"<ul>{''.join(items)}</ul>" if items else "—"


def _page(title: str, content: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{_e(title)}'
        f"</title><style>{_STYLE}</style></head><body><h1>{_e(title)}</h1>{content}</body></html>"
    )


def write_index(output_dir: Path) -> Path:
    """Rebuild ``output_dir/index.html`` from the runs' manifests.

    Parameters
    ----------
    output_dir : Path
        The reports folder.

    Returns
    -------
    Path
        The index file.
    """
    runs = read_manifests(output_dir)
    latest = latest_run(output_dir)
    rows = []
    for run in runs:
        folder = run["_folder"]
        status = run.get("status", "unknown")
        marker = ' class="latest"' if folder == latest else ""
        note = " (latest)" if folder == latest else ""
        error = run.get("error") or {}
        message = f"<br><small>{_e(error.get('message', ''))}</small>" if error else ""
        rows.append(
            f'<tr id="run-{_e(folder)}"{marker}><td><a href="{_e(folder)}/index.html">'
            f"{_e(run.get('run_id', folder))}</a>{note}</td>"
            f"<td>{_e(str(run.get('started_at', ''))[:16].replace('T', ' '))}</td>"
            f'<td class="status-{_e(status)}">{_e(status)}{message}</td>'
            f"<td>{_e(scope(run))}</td><td>{_data(run)}</td>"
            f"<td>{_kpi_list(run)}</td>"
            f"<td>{_links(run, folder + '/')}</td></tr>"
        )
    lead = "<p>No run has succeeded yet.</p>"
    if latest:
        summary = output_dir / latest / SUMMARY_PAGE
        link = f"{latest}/{SUMMARY_PAGE}" if summary.exists() else f"{latest}/index.html"
        kind = next(
            (str(r.get("kind", "transactions")) for r in runs if r["_folder"] == latest), ""
        )
        lead = (
            f'<p class="lead"><a class="summary" href="{_e(link)}">Read the executive summary '
            f"of the latest complete run</a> ({_e(latest)}, {_e(KIND_LABELS.get(kind, kind))})</p>"
        )
    table = (
        "<table><thead><tr><th>Run</th><th>Started (UTC)</th><th>Status</th><th>Scope</th>"
        "<th>Data</th>"
        f"<th>Headline KPIs</th><th>Reports</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p>No runs yet. Run <code>churnlab report</code>.</p>"
    )
    path = output_dir / "index.html"
    _atomic_write(path, _page("churnlab reports", lead + table))
    return path


def write_run_page(run_dir: Path, manifest: Mapping[str, object]) -> Path:
    """Write ``run_dir/index.html``: the run's reports, KPIs and status.

    Parameters
    ----------
    run_dir : Path
        The run's folder.
    manifest : mapping
        The run's manifest.

    Returns
    -------
    Path
    """
    status = manifest.get("status", "unknown")
    error = manifest.get("error") or {}
    content = (
        f'<p>Status: <span class="status-{_e(status)}">{_e(status)}</span>'
        f" · started {_e(manifest.get('started_at', ''))}"
        f" · {_e(manifest.get('duration_seconds', ''))} s</p>"
        + (f"<p><strong>Error:</strong> {_e(error.get('message', ''))}</p>" if error else "")
        + f"<h2>Reports</h2>{_links(manifest, '')}"
        + f"<h2>Data</h2><p>{_data(manifest)}</p>"
        + f"<h2>Headline KPIs</h2>{_kpi_list(manifest)}"
        + '<p><a href="../index.html">All runs</a></p>'
    )
    path = run_dir / "index.html"
    _atomic_write(path, _page(f"Run {manifest.get('run_id', run_dir.name)}", content))
    return path


def latest_run(output_dir: Path) -> str | None:
    """Return the folder name ``latest`` points at, or None when there is none."""
    link = output_dir / "latest"
    if link.is_symlink():
        target = os.readlink(link)
        if (output_dir / target / "manifest.json").exists():
            return Path(target).name
    return None


def update_latest(output_dir: Path, run_id: str) -> None:
    """Point ``latest`` (symlink) and ``latest.html`` (redirect) at a good run.

    Parameters
    ----------
    output_dir : Path
        The reports folder.
    run_id : str
        Folder name of the run that just succeeded.
    """
    tmp_link = output_dir / ".latest.tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp_link.unlink()
    os.symlink(run_id, tmp_link)
    os.replace(tmp_link, output_dir / "latest")
    target = _e(f"{run_id}/index.html")
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0; url={target}"><title>Latest report</title>'
        f'</head><body><p><a href="{target}">Latest report</a></p></body></html>'
    )
    _atomic_write(output_dir / "latest.html", page)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)

"""The reports folder's front pages: ``index.html``, per-run pages and ``latest``.

``reports/index.html`` lists every run (newest first) with its status,
headline KPIs and links. ``reports/latest`` (a symlink) and
``reports/latest.html`` (a redirect, for systems without symlinks) always point
at the last run that succeeded.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["format_kpi", "read_manifests", "update_latest", "write_index", "write_run_page"]

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 1.5rem auto; padding: 0 1rem;
  color: #222; }
h1 { color: #1f4e79; } table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border-bottom: 1px solid #ddd; padding: .4rem .5rem; text-align: left;
  vertical-align: top; }
th { background: #f3f6fa; } .status-succeeded { color: #2e7d32; font-weight: 600; }
.status-failed { color: #c62828; font-weight: 600; } .latest { background: #f1f8e9; }
ul { margin: 0; padding-left: 1rem; }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def format_kpi(value: object) -> str:
    """Format one KPI value for people: thousands separators, few decimals.

    Parameters
    ----------
    value : object
        A number or short text.

    Returns
    -------
    str
    """
    if isinstance(value, bool) or value is None:
        return "n/a" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3g}"
    return str(value)


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


#: KPIs shown first on the index (when a notebook records them); the rest fold away.
HEADLINE_KPIS = (
    "customers",
    "active_share",
    "retention_rate",
    "churn_rate",
    "revenue",
    "expected_value_12m",
    "total_clv",
    "revenue_at_risk",
    "repeat_share",
)


def _kpi_items(kpis: Mapping[str, object]) -> str:
    return "".join(
        f"<li>{_e(k.replace('_', ' '))}: {_e(format_kpi(v))}</li>" for k, v in kpis.items()
    )


def _kpi_list(kpis: Mapping[str, object]) -> str:
    if not kpis:
        return "—"
    head = {k: kpis[k] for k in HEADLINE_KPIS if k in kpis}
    if not head:
        head = dict(list(kpis.items())[:5])
    rest = {k: v for k, v in kpis.items() if k not in head}
    more = (
        f"<details><summary>{len(rest)} more</summary><ul>{_kpi_items(rest)}</ul></details>"
        if rest
        else ""
    )
    return f"<ul>{_kpi_items(head)}</ul>{more}"


def _links(run: Mapping[str, object], prefix: str) -> str:
    items = []
    for nb in run.get("notebooks", []):
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
    latest = _latest_run(output_dir)
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
            f"<td>{_e(', '.join(run.get('data', {}).keys()))}</td>"
            f"<td>{_kpi_list(run.get('kpis', {}))}</td>"
            f"<td>{_links(run, folder + '/')}</td></tr>"
        )
    lead = (
        f'<p>Latest good run: <a href="{_e(latest)}/index.html">{_e(latest)}</a></p>'
        if latest
        else "<p>No run has succeeded yet.</p>"
    )
    table = (
        "<table><thead><tr><th>Run</th><th>Started (UTC)</th><th>Status</th><th>Data</th>"
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
        + f"<h2>Headline KPIs</h2>{_kpi_list(manifest.get('kpis', {}))}"
        + '<p><a href="../index.html">All runs</a></p>'
    )
    path = run_dir / "index.html"
    _atomic_write(path, _page(f"Run {manifest.get('run_id', run_dir.name)}", content))
    return path


def _latest_run(output_dir: Path) -> str | None:
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

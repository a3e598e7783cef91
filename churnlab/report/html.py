"""Stakeholder and debug HTML from executed notebooks (nbconvert).

Stakeholder pages hide every code cell, drop cells tagged ``remove-cell`` and
stderr noise, embed figures as base64 and load nothing from the network, so a
page works offline as a single file. Each page gets a header (run id, time,
parameters, data source and fingerprint, package versions), a table of contents
built from the page's own headings, and a footer saying how to reproduce the
run. Every value from the run is HTML-escaped here; tables rendered by pandas
are already escaped by pandas. Both the stakeholder and the debug page then go
through the allow-list sanitiser (:mod:`churnlab.report.sanitise`).
"""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from churnlab.report.kpis import strip_kpi_outputs
from churnlab.report.sanitise import sanitise_page

__all__ = ["RunContext", "export_debug_html", "export_report_html"]

_TOC_MARKER = "<!-- churnlab:toc -->"
_HEADING = re.compile(r"<h([1-3])\b[^>]*\bid=\"([^\"]+)\"[^>]*>(.*?)</h\1>", re.S)
_TAG = re.compile(r"<[^>]+>")

_CSS = """
body.jp-Notebook { max-width: 1100px; margin: 0 auto; padding: 0 1.5rem; }
.churnlab-header { border-bottom: 3px solid #1f4e79; padding: 1rem 0 .6rem; margin-bottom: 1rem;
  font-family: system-ui, sans-serif; color: #222; }
.churnlab-header .cl-title { font-size: 1.6rem; font-weight: 600; color: #1f4e79; }
.churnlab-header .cl-meta { margin: .3rem 0; font-size: .9rem; color: #444; }
.churnlab-header code, .churnlab-footer code { background: #f3f3f3; padding: 0 .25rem; }
.churnlab-header table, .churnlab-footer table { border-collapse: collapse; font-size: .85rem; }
.churnlab-header td, .churnlab-header th { border: 1px solid #ddd; padding: .15rem .5rem;
  text-align: left; }
.churnlab-toc { font-family: system-ui, sans-serif; background: #f7f9fc; border: 1px solid #dde4ee;
  padding: .5rem 1rem; margin-bottom: 1.2rem; font-size: .95rem; }
.churnlab-toc h2 { font-size: 1rem; margin: .2rem 0; }
.churnlab-toc li.toc-2 { margin-left: 1.2rem; } .churnlab-toc li.toc-3 { margin-left: 2.4rem; }
.churnlab-toc ol { list-style: none; padding-left: 0; margin: .2rem 0; }
.churnlab-footer { border-top: 1px solid #ccc; margin-top: 2rem; padding: .8rem 0 2rem;
  font-family: system-ui, sans-serif; font-size: .85rem; color: #444; }
.churnlab-caveat { border-left: 5px solid #e69500; background: #fff6e5; padding: .5rem 1rem;
  margin: .5rem 0 1rem; }
.churnlab-columns { display: flex; flex-wrap: wrap; gap: 1rem 2rem; align-items: flex-start; }
.churnlab-columns > div { flex: 1 1 28rem; min-width: 0; overflow-x: auto; }
.churnlab-columns > div:first-child { flex-basis: 20rem; }
.churnlab-columns img { max-width: 36rem; height: auto; }
.churnlab-glossary { margin: 1.5rem 0; font-size: .9rem; }
.churnlab-glossary summary { cursor: pointer; font-weight: 600; }
.churnlab-header code, .churnlab-footer code { display: inline-block; line-height: 1.5; }
.churnlab-error { border: 2px solid #c62828; background: #fdecea; padding: .6rem 1rem;
  font-family: system-ui, sans-serif; margin: 1rem 0; }
.jp-RenderedHTMLCommon table td, .jp-RenderedHTMLCommon table th { font-variant-numeric:
  tabular-nums; }
"""

# Only code cells: a markdown cell's rendered text also sits in an "input" area.
_HIDE_CODE_CSS = (
    ".jp-CodeCell .jp-Cell-inputWrapper, .jp-CodeCell .jp-InputArea { display: none !important; }\n"
)

_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block extra_css %}<style type="text/css">{{ resources.churnlab_css }}</style>{% endblock %}
{%- block body_header -%}
{{ super() }}
{{ resources.churnlab_header }}
{{ resources.churnlab_toc }}
{%- endblock body_header -%}
{% block body_footer %}
{{ resources.churnlab_footer }}
{{ super() }}
{% endblock body_footer %}
"""


@dataclass(frozen=True)
class RunContext:
    """What a page's header and footer say about its run.

    Attributes
    ----------
    run_id : str
        The run's id (its folder name).
    started_at : str
        ISO time the run started (UTC).
    parameters : dict
        Parameters the notebook received.
    data : dict
        Data source -> facts (``fingerprint``, ``rows``, ``customers``, ...).
    versions : dict
        Package -> version.
    reproduce : str
        Shell command that repeats the run.
    """

    run_id: str
    started_at: str
    parameters: Mapping[str, object] = field(default_factory=dict)
    data: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    versions: Mapping[str, str] = field(default_factory=dict)
    reproduce: str = "churnlab report"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _rows(mapping: Mapping[str, object]) -> str:
    return "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in mapping.items())


def _title(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if match:
                return match.group(1).strip()
    return fallback


def _header(title: str, context: RunContext, data_source: str | None) -> str:
    facts = context.data.get(data_source or "", {})
    fingerprint = facts.get("fingerprint", "n/a")
    return (
        '<header class="churnlab-header">'
        f'<div class="cl-title">{_e(title)}</div>'
        f'<div class="cl-meta">Run <code>{_e(context.run_id)}</code> · {_e(context.started_at)}'
        f" · data <code>{_e(data_source or 'n/a')}</code> · fingerprint "
        f"<code>{_e(fingerprint)}</code></div>"
        "<details><summary>Parameters, data and package versions</summary>"
        f"<table><caption>Parameters</caption>{_rows(context.parameters)}</table>"
        f"<table><caption>Data</caption>{_rows(facts)}</table>"
        f"<table><caption>Versions</caption>{_rows(context.versions)}</table>"
        "</details></header>"
    )


def _footer(context: RunContext) -> str:
    return (
        '<footer class="churnlab-footer"><strong>How to reproduce this report.</strong> '
        "Install the same package versions (listed in the header), then run "
        f"<code>{_e(context.reproduce)}</code>. The data fingerprint in the header must "
        "match the new run's fingerprint (see its manifest.json); if it differs, the "
        f"data changed. Run <code>{_e(context.run_id)}</code>, produced by churnlab.</footer>"
    )


_DOLLAR = re.compile(r"(?<!\\)\$")


def _literal_dollars(outputs: list) -> None:
    """Escape ``$`` in Markdown outputs, so "$1,234 and $56" is money, not a formula.

    nbconvert's Markdown renderer reads text between two dollar signs as LaTeX, so a
    sentence with two amounts in dollars lost its bold and its numbers. The pages
    never show formulas from outputs, so every unescaped ``$`` is literal.
    """
    for output in outputs:
        data = output.get("data", {})
        if "text/markdown" in data:
            data["text/markdown"] = _DOLLAR.sub(r"\\$", data["text/markdown"])


def _toc(body: str) -> str:
    items = []
    for level, anchor, inner in _HEADING.findall(body):
        text = _TAG.sub("", inner).replace("¶", "").strip()
        if text:
            items.append(f'<li class="toc-{level}"><a href="#{anchor}">{text}</a></li>')
    if not items:
        return ""
    return (
        '<nav class="churnlab-toc" aria-label="Contents"><h2>Contents</h2><ol>'
        + "".join(items)
        + "</ol></nav>"
    )


def _exporter(*, hide_code: bool) -> object:
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    cfg = Config()
    cfg.HTMLExporter.exclude_input = hide_code
    cfg.HTMLExporter.exclude_input_prompt = hide_code
    cfg.HTMLExporter.exclude_output_prompt = hide_code
    cfg.HTMLExporter.embed_images = True
    if hide_code:
        cfg.TagRemovePreprocessor.enabled = True
        cfg.TagRemovePreprocessor.remove_cell_tags = {"remove-cell"}
        cfg.TagRemovePreprocessor.remove_input_tags = {"remove-input"}
        cfg.TagRemovePreprocessor.remove_all_outputs_tags = {"remove-output"}
    loader = DictLoader({"churnlab.html.j2": _TEMPLATE})
    return HTMLExporter(config=cfg, extra_loaders=[loader], template_file="churnlab.html.j2")


def _render(
    nb: nbformat.NotebookNode, name: str, resources: dict[str, object], *, hide: bool
) -> str:
    exporter = _exporter(hide_code=hide)
    css = _CSS + (_HIDE_CODE_CSS if hide else "")
    base = {"metadata": {"name": name}, "churnlab_css": css, **resources}
    body, _ = exporter.from_notebook_node(nb, resources=base)
    return body


def export_report_html(
    notebook: nbformat.NotebookNode,
    path: Path,
    *,
    context: RunContext,
    data_source: str | None = None,
) -> Path:
    """Write the stakeholder HTML of an executed notebook.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        The executed notebook (not modified).
    path : Path
        Output ``.html`` file.
    context : RunContext
        Facts for the header and footer.
    data_source : str, optional
        The data source this notebook used (selects the fingerprint shown).

    Returns
    -------
    Path
        ``path``.
    """
    nb = copy.deepcopy(notebook)
    strip_kpi_outputs(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")
            ]
            _literal_dollars(cell.outputs)
    name = path.stem
    resources = {
        "churnlab_header": _header(_title(nb, name), context, data_source),
        "churnlab_toc": _TOC_MARKER,
        "churnlab_footer": _footer(context),
    }
    body = _render(nb, name, resources, hide=True)
    wants_toc = nb.metadata.get("churnlab", {}).get("toc", True)  # off on short pages
    body = body.replace(_TOC_MARKER, _toc(body) if wants_toc else "", 1)
    path.write_text(sanitise_page(body), encoding="utf-8")
    return path


def export_debug_html(
    notebook: nbformat.NotebookNode,
    path: Path,
    *,
    context: RunContext,
    error: str,
) -> Path:
    """Write a debug HTML of a failed notebook: all code, outputs and the error.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        The partly executed notebook, as papermill saved it.
    path : Path
        Output ``.html`` file.
    context : RunContext
        Facts for the header and footer.
    error : str
        One-line description of the failure, shown highlighted at the top.

    Returns
    -------
    Path
        ``path``.
    """
    nb = copy.deepcopy(notebook)
    strip_kpi_outputs(nb)
    name = path.stem
    resources = {
        "churnlab_header": _header(f"FAILED: {name}", context, None)
        + f'<div class="churnlab-error" role="alert">{_e(error)}</div>',
        "churnlab_toc": "",
        "churnlab_footer": _footer(context),
    }
    page = _render(nb, name, resources, hide=False)
    path.write_text(sanitise_page(page), encoding="utf-8")
    return path

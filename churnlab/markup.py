"""Escaping of data text where it enters HTML or Markdown (the one helper for both).

Any string that comes from the data or from run parameters (a reason category,
a file path, a customer id) is passed through :func:`escape_markdown` before it
is put into a Markdown sentence, and through :func:`escape_html` before it is
put into HTML. The final pages are also sanitised (see
:mod:`churnlab.report.sanitise`); escaping here keeps the text readable as text.
This module imports nothing from churnlab, so every layer may use it.
"""

from __future__ import annotations

import html
import re

__all__ = ["escape_html", "escape_markdown"]

# CommonMark lets a backslash escape any ASCII punctuation character; these are
# the ones that can start or end Markdown syntax (emphasis, links, code, tables,
# headings, lists, HTML).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>$])")


def escape_html(value: object) -> str:
    """Return ``str(value)`` with ``& < > " '`` replaced by HTML entities.

    Parameters
    ----------
    value : object
        Any value; it is converted with ``str``.

    Returns
    -------
    str
    """
    return html.escape(str(value), quote=True)


def escape_markdown(value: object) -> str:
    r"""Return ``str(value)`` safe to embed in Markdown: shown as typed, never as markup.

    HTML special characters become entities (so ``<iframe ...>`` is text) and
    Markdown punctuation is backslash-escaped (so ``[x](javascript:...)`` is not
    a link and ``*`` is not emphasis). Line breaks become spaces, so a value
    cannot start a heading or a list.

    Parameters
    ----------
    value : object
        Any value; it is converted with ``str``.

    Returns
    -------
    str

    Examples
    --------
    >>> escape_markdown("<b>Price</b> *now*")
    '&lt;b&gt;Price&lt;/b&gt; \\*now\\*'
    """
    text = " ".join(str(value).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", escape_html(text))

"""HTML as strings, escaped, for the long lists of the dashboards.

Dash builds one React component per element, and its renderer slows down sharply with their
number: a table of 200 SLOs as Dash components takes tens of seconds to appear. These lists are
sent as one HTML string instead (`raw_html`), which the browser parses natively in milliseconds;
the rest of each page stays ordinary Dash components. Every text and attribute value is escaped;
only `Markup` produced by `element` is inserted as is.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from dash import dcc, html

VOID = frozenset({"img", "br", "input"})


class Markup(str):
    """HTML that is already safe: built by `element`, never from user input directly."""

    __slots__ = ()


def _attribute(key: str, value: Any) -> str:
    name = "class" if key == "class_" else key.replace("_", "-")
    if value is True:
        return f" {name}"
    # Values sit between double quotes: those (and &, <, >) need escaping, single quotes not.
    return f' {name}="{escape(str(value), quote=False).replace(chr(34), "&quot;")}"'


def element(tag: str, *children: Any, **attributes: Any) -> Markup:
    """`<tag attributes>children</tag>`; `class_` is `class`, `data_value` is `data-value`.

    Children may be text (escaped), `Markup`, None (skipped) or iterables of those.
    """
    attrs = "".join(
        _attribute(key, value)
        for key, value in attributes.items()
        if value is not None and value is not False
    )
    if tag in VOID:
        return Markup(f"<{tag}{attrs} />")  # self-closed: Markdown's HTML reader needs it
    return Markup(f"<{tag}{attrs}>{join(children)}</{tag}>")


def join(children: Iterable[Any]) -> Markup:
    parts: list[str] = []
    for child in children:
        if child is None:
            continue
        if isinstance(child, Markup):
            parts.append(child)
        elif isinstance(child, str | int | float):
            parts.append(escape(str(child), quote=False))
        else:
            parts.append(join(child))
    return Markup("".join(parts))


def raw_html(markup: Markup, name: str, **attributes: Any) -> html.Div:
    """A block whose content is `markup`: the string travels in a Store, and a clientside
    callback (`RAW_HTML_JS`) puts it into the empty host element, which React leaves alone."""
    return html.Div(
        [
            dcc.Store(id={"raw-html": name}, data=str(markup)),
            html.Div(id={"raw-host": name}, **attributes),
        ]
    )


# Runs in the browser whenever blocks appear or change (one call for all blocks of a page: a
# MATCH callback is not called when a page brings several at once). A host may not be in the
# document yet when this runs, so each waits a few frames for it.
RAW_HTML_JS = """
function(markups, ids) {
    ids.forEach((id, index) => {
        const key = JSON.stringify({"raw-host": id["raw-html"]});
        let frames = 0;
        const fill = () => {
            const host = document.getElementById(key);
            if (host) {
                host.innerHTML = markups[index] || "";
            } else if (frames++ < 120) {
                window.requestAnimationFrame(fill);
            }
        };
        fill();
    });
    return ids.map(() => window.dash_clientside.no_update);
}
"""

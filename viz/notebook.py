"""A Value in a notebook: its graph, drawn inline; a whole page, in a frame.

The engine finds :func:`value_bundle` through the ``tinygrad_hw.display`` entry point
(pyproject.toml) -- it never imports the drawings itself -- and calls it when a cell's
result is a Value."""

from __future__ import annotations

import html

import graphviz

from tinygrad_hw.engine import Value

from .graph import draw_graph

__all__ = ["NOTEBOOK_NODES", "inline_page", "value_bundle"]

NOTEBOOK_NODES = 60  # values drawn inline; a larger graph is cut to those nearest the value


def value_bundle(value: Value) -> dict[str, str]:
    """``{"image/svg+xml": ...}``: the graph under ``value``, its nearest
    :data:`NOTEBOOK_NODES` values, fill by gradient as ``draw_graph`` does. Empty
    (the text alone shows) where Graphviz's ``dot`` is not installed."""
    try:
        svg = draw_graph(value, max_nodes=NOTEBOOK_NODES).pipe(format="svg").decode("utf-8")
    except graphviz.ExecutableNotFound:
        return {}
    return {"image/svg+xml": svg[svg.index("<svg") :]}


def inline_page(document: str, title: str, height: int = 720) -> str:
    """A whole HTML page as a notebook shows it: in a frame of its own (``srcdoc``), so
    that its script and style stay inside it."""
    return (
        f'<iframe srcdoc="{html.escape(document, quote=True)}" '
        f'style="width: 100%; height: {height}px; border: 1px solid #ccc" title="{html.escape(title)}"></iframe>'
    )

"""Watch backpropagation happen: a page that plays any graph's forward pass, then its
backward pass, one node at a time.

``step_through(loss)`` draws the graph as ``draw_graph`` does and works out every
step in Python with the engine's own rules and numbers (``stepthrough_steps``): the
given values, each value as its op makes it, then from the output back the chain
rule at each node and, for each input, its local derivative in the nodes' own names
and in numbers (``∂a1[1]/∂z1[1] = a1[1]·(1 − a1[1]) = 0.667·(1 − 0.667) = 0.2221``),
the product with the upstream gradient and the running sum at the input. Every
chain-rule line copies as LaTeX.

A network drawn one row per neuron (``level="neuron"``) unfolds a neuron on click
into its values (``stepthrough_neurons``), the same values the steps light up.

The result is one self-contained HTML file -- the SVGs inline, a small plain
script, no network, no fonts to fetch -- that opens from a USB stick, and shows
itself inline in Jupyter. The page's script only displays; every number on it
was computed here.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Union

from tinygrad_hw.atomic import write_atomic
from tinygrad_hw.engine import Value

from .formulas import MINUS
from .graph import DrawingOptions, _Drawing, _visible, prepare
from .stepthrough_neurons import neuron_views
from .stepthrough_steps import SHOWN, Names, steps_of

__all__ = ["SHOWN", "StepThrough", "step_through"]

Mark = Union[Value, "tuple[Value, Value]"]  # a value, or the edge (child, parent)
MAX_STEP_NODES = 250  # values a page shows before it cuts the graph nearest the output


def step_through(
    root: Value,
    path: str | os.PathLike[str] | None = None,
    *,
    model: Any = None,
    level: str = "value",
    max_nodes: int = MAX_STEP_NODES,
    collapse: bool = True,
    title: str = "",
    rankdir: str | None = None,
    marks: Mapping[Mark, str] | None = None,
) -> StepThrough:
    """The step-through page of the graph under ``root`` (written to ``path`` if given).

    ``model``, ``level`` and ``rankdir`` are ``draw_graph``'s: with ``level="neuron"``
    an MLP is drawn one row per neuron, each step lights up its row, and clicking a
    neuron unfolds it into its values. The graph flows top to bottom (left to right at
    neuron level) unless ``rankdir`` says otherwise; the fill is plain, since every
    gradient is shown as the pass reaches it. A graph of more than ``max_nodes`` values
    is cut to those nearest the output, the cut stated on the page (or, with
    ``collapse=False``, refused with its size). ``title`` heads the page.

    ``marks`` flags values, or edges given as ``(child, parent)``, with a short text
    (``{z: "yours: 0.31, right: 0.25"}``): each is outlined, its text written beside it
    and repeated in the steps that show it. A checker uses it to point at a wrong number.
    """
    if not isinstance(root, Value):
        raise TypeError(f"step_through() takes a Value, not {type(root).__name__}")
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, not {type(title).__name__}")
    if rankdir is None:  # boxes top to bottom; tables of neurons, whose rows are ports, left to right
        rankdir = "LR" if level == "neuron" else "TB"
    options = DrawingOptions(rankdir, max_nodes, color_by=None, model=model, level=level, collapse=collapse)
    drawing = prepare(root, options)  # the title heads the page, not the drawing
    drawing.marked = True
    svg = _minus_signs(drawing.render().pipe(format="svg").decode("utf-8"))
    steps = steps_of(root, drawing)
    shown = _marks(marks or {}, drawing)
    names = Names(drawing)
    labels = _edge_labels(steps)
    neurons = neuron_views(drawing, names, _by_ids(labels))
    for view in neurons:
        view["svg"] = _minus_signs(view["svg"])
    views = {"graph": _overview(drawing, labels), "neurons": neurons}
    heading = _visible(title) if title else "Backpropagation, step by step"  # as the drawing shows it
    page = StepThrough(_page(heading, svg, steps, drawing.note, shown, views), steps)
    if path is not None:
        page.save(path)
    return page


class StepThrough:
    """One step-through page: ``html`` (a whole document), ``steps`` (what each step
    shows, as the page has it), ``save(path)``, and inline display in Jupyter."""

    def __init__(self, document: str, steps: list[dict[str, Any]] | None = None) -> None:
        self.html = document
        self.steps = steps or []

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path``, atomically."""
        return write_atomic(path, self.html)

    def _repr_html_(self) -> str:
        """In a notebook: the page in a frame of its own, so its script and style stay in it."""
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            'style="width: 100%; height: 720px; border: 1px solid #ccc" title="step-through"></iframe>'
        )


def _marks(marks: Mapping[Mark, str], drawing: _Drawing) -> list[dict[str, str]]:
    """Each mark as the page finds it: a value's place, or an edge's "tail->head"."""
    shown = []
    for key, text in marks.items():
        ends: tuple[Value, ...] = key if isinstance(key, tuple) else (key,)
        if not all(isinstance(v, Value) for v in ends) or len(ends) not in (1, 2):
            raise TypeError("marks are keyed by a Value or a (child, parent) pair of Values")
        if any(v not in drawing.display for v in ends):
            raise ValueError(f"a marked value is not drawn on the page: {ends[0].label or ends[0]!r}")
        places = [drawing.place(v) for v in ends]
        if len(ends) == 2 and ends[0] not in ends[-1].children:
            raise ValueError(f"{places[0]} is not an input of {places[1]}: no edge to mark")
        mark = {"node": places[-1], "text": str(text)}
        if len(places) == 2:
            mark["edge"] = f"{places[0]}->{places[1]}"
        shown.append(mark)
    return shown


# -- what the script needs to find each value -------------------------------------------------


def _edge_labels(steps: list[dict[str, Any]]) -> dict[tuple[str, str, str, str], list[str]]:
    """Each edge's local derivatives (``∂z1[1]/∂W1[1,1] = 0.0000``), by (child id, parent id,
    child place, parent place), from the backward steps."""
    labels: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
    for step in steps:
        if step["phase"] != "backward":
            continue
        for c in step["contributions"]:
            key = (c["child_id"], step["ids"][0], c["child"], step["node"])
            labels[key].append(f"{c['derivative']} = {c['shown']['local']}")
    return labels


def _by_ids(labels: dict[tuple[str, str, str, str], list[str]]) -> dict[tuple[str, str], str]:
    return {(child, parent): ", ".join(texts) for (child, parent, _, _), texts in labels.items()}


def _overview(drawing: _Drawing, labels: dict[tuple[str, str, str, str], list[str]]) -> dict[str, Any]:
    """Where each value is drawn in the graph (its place, and the table cell that shows it,
    if any), and each edge's label, full and short (the number alone), by "tail->head"."""
    ids = drawing.ids
    places = {ids[v]: drawing.place(v) for v in drawing.nodes if v in drawing.display}
    cells: dict[str, list[str]] = {ids[v]: [cell] for v, cell in drawing.cells.items() if v in ids}
    for v, cell in drawing.cells.items():  # a neuron's name lights up with its z and a
        if v in ids and not v.is_leaf:
            cells[ids[v]].append(cell.rsplit(".c", 1)[0] + ".c0")
    by_edge: dict[str, list[list[str]]] = defaultdict(list)
    for (_, _, tail, head), texts in labels.items():
        if tail != head:
            by_edge[f"{tail}->{head}"] += [[text, text.rsplit(" = ", 1)[-1]] for text in texts]
    edges = {name: [", ".join(t[0] for t in texts), ", ".join(t[1] for t in texts)] for name, texts in by_edge.items()}
    return {"places": places, "cells": cells, "labels": edges}


def _minus_signs(svg: str) -> str:
    """The drawing's numbers and op symbols with the minus sign U+2212, as the steps write
    them: ``data −0.7313``, ``grad −0.2005``, an op ``−1`` (labels are left as they are)."""

    def fixed(match: re.Match[str]) -> str:
        text = match.group(2)
        if text.startswith(("data ", "grad ")) or re.fullmatch(r"[-+*/^().\d\s&#;e]+", text):
            text = text.replace("&#45;", MINUS).replace("-", MINUS)
        return match.group(1) + text + "</text>"

    return re.sub(r"(<text\b[^>]*>)([^<]*)</text>", fixed, svg)


# -- the page ------------------------------------------------------------------------------


def _page(
    title: str, svg: str, steps: list[dict[str, Any]], note: str, marks: list[dict[str, str]], views: dict[str, Any]
) -> str:
    """The whole document: style, the graph (and its neurons unfolded, hidden), the steps
    and where each value is drawn as JSON, the script."""
    folder = resources.files("viz")
    style = folder.joinpath("stepthrough.css").read_text(encoding="utf-8")
    script = folder.joinpath("stepthrough.js").read_text(encoding="utf-8")
    neurons = [{k: v for k, v in view.items() if k != "svg"} for view in views["neurons"]]
    data = {"steps": _finite(steps), "note": note, "title": title, "marks": marks}
    data.update(graph=views["graph"], neurons=neurons)
    text = json.dumps(data, ensure_ascii=True).replace("<", "\\u003c")  # no "</script>" (nor "<!--") inside
    svg = svg[svg.index("<svg") :]  # no XML prolog or doctype inside HTML
    unfolded = [
        f'<div class="neuron-view" data-key="{view["key"]}" hidden>{view["svg"]}</div>' for view in views["neurons"]
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            f"<style>\n{style}\n</style>",
            "</head>",
            "<body>",
            '<header><h1 id="page-title"></h1><p id="note"></p>',
            '<nav id="controls">',
            '<button id="first" title="the first step (Home)">start</button>',
            '<button id="previous" title="previous step (←)">◀</button>',
            '<button id="play" title="play or pause (space)">▶ play</button>',
            '<button id="next" title="next step (→)">▶</button>',
            '<button id="last" title="the last step (End)">end</button>',
            '<button id="backward" title="the first step of the backward pass">backward pass</button>',
            '<label>speed <input id="speed" type="range" min="1" max="20" value="4"></label>',
            '<label title="each edge\'s local derivative, ∂head/∂tail"><input id="edge-labels" type="checkbox">'
            " ∂ on edges</label>",
            '<span class="zoom"><button id="zoom-out" title="smaller (−)">−</button>',
            '<span id="scale" title="the drawing\'s size">100 %</span>',
            '<button id="zoom-in" title="larger (+)">+</button>',
            '<button id="zoom-fit" title="the whole graph in the window (F)">fit</button></span>',
            '<span id="position"></span>',
            "</nav></header>",
            '<main><div id="views"><div id="graph" class="scroller">',
            svg,
            '</div><section id="neuron" hidden><div id="neuron-head"><b id="neuron-title"></b>',
            '<label title="unfold the neuron of each step as the steps go"><input id="follow" type="checkbox">'
            " follow the steps</label>",
            '<button id="fold" title="back to the rows (Esc)">fold</button></div>',
            '<div id="neuron-graph" class="scroller">',
            *unfolded,
            "</div></section></div>",
            '<aside id="panel"><h2 id="step-title"></h2><div id="step-text"></div>',
            '<div id="contributions"></div></aside></main>',
            f'<script type="application/json" id="data">{text}</script>',
            f"<script>\n{script}\n</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _finite(data: Any) -> Any:
    """JSON has no inf or NaN: such numbers travel as strings ("inf", "-inf", "nan")."""
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_finite(v) for v in data]
    if isinstance(data, float) and not math.isfinite(data):
        return repr(data)
    return data

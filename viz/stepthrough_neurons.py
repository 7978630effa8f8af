"""A neuron unfolded: on a step-through page drawn one row per neuron, clicking a neuron
shows its values in full -- its inputs, its parameters, its weighted sum and its
activation, each edge labelled with its local derivative.

It is the same values the steps name (each drawn under the id the steps light up), so
unfolding changes what is seen, never the steps or their numbers. Graphviz places the
edge labels itself (they are real ``label``s, laid out with the nodes), so no label
sits on another or on a box however many inputs the neuron has.
"""

from __future__ import annotations

from typing import Any

import graphviz

from tinygrad_hw.engine import Value

from .graph import KIND_STYLE, OP_STYLE, _Drawing, _Row, _rows, _table, html_text, number, plain_label

__all__ = ["neuron_views"]

EDGE_FONT = {"fontname": "Courier", "fontsize": "10", "fontcolor": "#6a1b9a"}


def neuron_views(drawing: _Drawing, names: Any, labels: dict[tuple[str, str], str]) -> list[dict[str, Any]]:
    """One view per neuron of a neuron-level drawing: its SVG, the overview row it unfolds,
    and where each of its values is drawn (``places``: value id -> place in this view).
    ``labels`` are the local derivatives by (child id, parent id)."""
    if not drawing.collapsed:
        return []
    views = []
    for (k, i), members in sorted(drawing.members.items()):
        computed = [v for v in members if not v.is_leaf]
        if not computed:
            continue
        views.append(_view(drawing, names, labels, (k, i), members, computed))
    return views


def _view(
    drawing: _Drawing,
    names: Any,
    labels: dict[tuple[str, str], str],
    key: tuple[int, int],
    members: list[Value],
    computed: list[Value],
) -> dict[str, Any]:
    k, i = key
    prefix = f"n{k}_{i}"
    ids = drawing.ids
    params = [v for v in members if v.is_leaf]
    inputs = list(dict.fromkeys(c for v in computed for c in v.children if c not in members and c in ids))
    places = {ids[v]: f"{prefix}-{ids[v]}" for v in [*inputs, *params, *computed]}
    dot = graphviz.Digraph(
        name=f"layer {k}, neuron {i}",
        graph_attr={"rankdir": "LR", "id": prefix, "nodesep": "0.1", "ranksep": "0.35", "fontname": "Helvetica"},
        node_attr={"fontname": "Helvetica", "fontsize": "11"},
    )
    tables = {}
    for table, values, header in (
        (f"{prefix}-inputs", inputs, f"from layer {k - 1}" if k > 1 else "the inputs"),
        (f"{prefix}-parameters", params, f"neuron {i}'s parameters"),
    ):
        if not values:
            continue
        rows = []
        for j, v in enumerate(values):
            cells = [html_text(names(v)), f"data {number(v.data)}", f"grad {number(v.grad)}"]
            rows.append(_Row(cells, "white", "black", out=f"o{j}", anchor=places[ids[v]]))
            tables[v] = f"{table}:o{j}:e"
        kind = "parameter" if values is params else "input"
        dot.node(table, _table(rows, KIND_STYLE[kind]["color"], header), shape="plain")
    for v in computed:
        place = places[ids[v]]
        dot.node(place, _rows([html_text(names(v)), f"data {number(v.data)}", f"grad {number(v.grad)}"]), shape="box")
        dot.node(place + "_op", plain_label(v._op), **OP_STYLE)
        dot.edge(place + "_op", place, id=f"edge:{place}_op->{place}")
        for child in dict.fromkeys(v.children):
            if child not in ids:
                continue
            tail = tables.get(child, places.get(ids[child], ""))
            text = labels.get((ids[child], ids[v]), "")
            tail_place = places[ids[child]]
            dot.edge(tail, place + "_op", label=plain_label(text), id=f"edge:{tail_place}->{place}", **EDGE_FONT)
    svg = dot.pipe(format="svg").decode("utf-8")
    return {
        "key": f"{k},{i}",
        "row": drawing.display[members[0]] + f".in{i}",
        "title": f"layer {k}, neuron {i}",
        "svg": svg[svg.index("<svg") :],
        "places": places,
    }

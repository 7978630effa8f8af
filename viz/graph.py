"""Computation graphs as graphviz drawings: one box per value, one oval per op."""

from __future__ import annotations

import math

import graphviz

from tinygrad_hw.engine import Value, walk

__all__ = ["GraphTooLarge", "draw_graph", "number"]


class GraphTooLarge(ValueError):
    """The graph has more nodes than the drawing allows."""


def number(x: float) -> str:
    """At least four significant decimals: 0.1235, 1.235e-06, 1.235e+05."""
    if x == 0 or not math.isfinite(x) or 1e-3 <= abs(x) < 1e4:
        return f"{x:.4f}"
    return f"{x:.4g}" if abs(x) >= 1e4 else f"{x:.3e}"


def _escape(text: str) -> str:
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text


def draw_graph(root: Value, *, rankdir: str = "LR", max_nodes: int = 500) -> graphviz.Digraph:
    """The graph under ``root`` as a ``graphviz.Digraph`` (render it with ``.render(format="svg")``)."""
    nodes = walk(root)
    if len(nodes) > max_nodes:
        raise GraphTooLarge(
            f"the graph has {len(nodes)} nodes, more than max_nodes={max_nodes}; pass max_nodes={len(nodes)} to draw it"
        )
    ids = {v: f"v{i}" for i, v in enumerate(nodes)}
    dot = graphviz.Digraph(graph_attr={"rankdir": rankdir}, node_attr={"fontname": "Helvetica"})
    for v in nodes:
        name = ids[v]
        fields = [_escape(v.label)] if v.label else []
        fields += [f"data {number(v.data)}", f"grad {number(v.grad)}"]
        dot.node(name, "{ " + " | ".join(fields) + " }", shape="record")
        if not v.is_leaf:
            dot.node(name + "_op", _escape(v._op), shape="ellipse")
            dot.edge(name + "_op", name)
            for child in v._prev:
                dot.edge(ids[child], name + "_op")
    return dot

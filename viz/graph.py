"""Computation graphs as graphviz drawings a student can read.

One box per value (its label, data and grad), one oval per op, edges in the
direction data flows, left to right. Beyond micrograd's ``draw_dot`` and
torchviz's ``make_dot``:

* kinds at a glance: inputs (dashed), parameters (blue), the output (green,
  doubled) and the loss (red, doubled);
* fill colour by gradient magnitude, relative to the largest, with a legend;
* an MLP's nodes grouped into one box per layer and one per neuron;
* big graphs are cut to the ``max_nodes`` values nearest the output, the rest
  shown as one "more nodes" box (or refused, with the size and what to pass);
* no edge longer than a few levels (a value used far away is drawn again there,
  dotted), so Graphviz lays out big graphs in linear time;
* iterative walks only, and the same graph always gives the same DOT text.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict, deque
from contextlib import nullcontext
from typing import Any, Iterable

import graphviz

from tinygrad_hw.engine import Value, walk

__all__ = ["GraphTooLarge", "draw_graph", "number"]

ACTIVATION_OPS = {"sigmoid", "tanh", "relu"}

# border of a value box, by kind
KIND_STYLE: dict[str, dict[str, str]] = {
    "input": {"color": "#666666", "style": "filled,dashed", "penwidth": "1.2"},
    "parameter": {"color": "#1f4e99", "style": "filled", "penwidth": "2"},
    "intermediate": {"color": "#333333", "style": "filled", "penwidth": "1"},
    "output": {"color": "#2a8c2a", "style": "filled", "penwidth": "2", "peripheries": "2"},
    "loss": {"color": "#c0282b", "style": "filled", "penwidth": "2.5", "peripheries": "2"},
}
# fill by magnitude relative to the largest, in decades (gradients span many):
# (at least this fraction, fill, text colour)
SCALE = [
    (0.1, "#ef6548", "black"),
    (0.01, "#fc8d59", "black"),
    (0.001, "#fdbb84", "black"),
    (0.0001, "#fdd49e", "black"),
    (0.0, "#fef0d9", "black"),
]
ZERO_FILL, NONFINITE_FILL = "white", "#c5b0d5"
MAX_SPAN = 3  # levels an edge may cross before its tail is drawn again beside its head
OP_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "#dbe9f6", "color": "#6f8fb0", "fontsize": "10"}


class GraphTooLarge(ValueError):
    """The graph has more values than the drawing was allowed."""


def number(x: float) -> str:
    """At least four significant digits: 0.5000, 0.001235, 123.4560, 1.235e-05, nan."""
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0.0000"
    magnitude = math.floor(math.log10(abs(x)))
    if magnitude < -4 or magnitude >= 5:
        return f"{x:.3e}"
    return f"{x:.{max(4, 3 - magnitude)}f}"


# Characters XML 1.0 (and so SVG) cannot hold even as references, C1 controls, and
# lone surrogates (not UTF-8): drawn as their Python escape, visibly, instead.
_UNDRAWABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _visible(text: str) -> str:
    r"""``text`` with every character SVG cannot show replaced by its escape (``\x01``)."""
    return _UNDRAWABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text.replace("\r\n", "\n"))


def _dot_text(text: str) -> str:
    """Backslashes doubled (no ``\\N`` or ``\\G`` expansion), ``&`` as an entity (so that
    ``&amp;`` shows as ``&amp;``), and nothing SVG cannot hold."""
    return _visible(text).replace("\\", "\\\\").replace("&", "&amp;")


def plain_label(text: str) -> str:
    """Any string as a Graphviz label that shows it verbatim, newlines as line breaks,
    never read as an HTML-like label (``<b>x</b>`` stays text)."""
    return graphviz.nohtml(_dot_text(text).replace("\n", "\\n"))


def _field(text: str) -> str:
    """Any string as one field of a record label, where ``{ } | < > "`` are syntax."""
    text = _dot_text(text)
    for ch in '{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", "\\n")


def _parameters(params: Any) -> list[Value]:
    if params is None:
        return []
    if hasattr(params, "parameters"):
        return list(params.parameters())
    return list(params)


def _owners(model: Any) -> dict[Value, tuple[int, int]]:
    """parameter -> (layer, neuron), counted from 1, for an MLP-like model."""
    owners: dict[Value, tuple[int, int]] = {}
    for k, layer in enumerate(getattr(model, "layers", []), start=1):
        for i, neuron in enumerate(layer.neurons, start=1):
            for p in neuron.parameters():
                owners[p] = (k, i)
    return owners


def _keep_nearest(root: Value, limit: int) -> list[Value]:
    """The ``limit`` values nearest ``root`` (breadth first, deterministic)."""
    kept = {root: None}
    queue = deque([root])
    while queue and len(kept) < limit:
        for child in queue.popleft().children:
            if child not in kept:
                kept[child] = None
                queue.append(child)
                if len(kept) == limit:
                    break
    return list(kept)


def draw_graph(
    root: Value,
    *,
    rankdir: str = "LR",
    max_nodes: int = 400,
    color_by: str | None = "grad",
    group: bool = True,
    model: Any = None,
    params: Iterable[Value] | Any = None,
    output: Value | None = None,
    level: str = "value",
    collapse: bool = True,
    title: str = "",
) -> graphviz.Digraph:
    """The graph under ``root`` as a ``graphviz.Digraph``.

    ``model`` (an ``MLP``) marks its parameters and groups their nodes by layer and
    neuron (``group``); with ``level="neuron"`` each neuron is drawn as one box
    (its z, a and their gradients) instead of its weights and ops. ``params``
    marks parameters without a model; ``output`` marks the model's output when
    ``root`` is a loss (found by itself when a model is given). ``color_by`` is
    ``"grad"``, ``"data"`` or None. Beyond ``max_nodes`` values the drawing keeps
    those nearest ``root`` (``collapse=True``) or raises :class:`GraphTooLarge`.
    Render with ``.render(path, format="svg")`` or ``.pipe(format="svg")``; in
    Jupyter the object shows itself.
    """
    _check_arguments(root, color_by, level, model, max_nodes, title)
    everything = walk(root)
    if model is not None and not set(_owners(model)) & set(everything):
        raise ValueError(
            f"none of the model's parameters is in this graph: was it computed by another model? ({model!r})"
        )
    nodes, note = _select(root, everything, max_nodes, collapse)
    drawing = _Drawing(root, nodes, model, params, output, color_by, level == "neuron", group, rankdir)
    return drawing.render(title, note, len(everything))


def _check_arguments(root: Any, color_by: Any, level: Any, model: Any, max_nodes: Any, title: Any) -> None:
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph() takes a Value, not {type(root).__name__}")
    if color_by not in ("grad", "data", None):
        raise ValueError(f"color_by must be 'grad', 'data' or None, not {color_by!r}")
    if level not in ("value", "neuron"):
        raise ValueError(f"level must be 'value' or 'neuron', not {level!r}")
    if level == "neuron" and model is None:
        raise ValueError("level='neuron' needs the model: draw_graph(loss, model=model, level='neuron')")
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive integer, got {max_nodes!r}")
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, not {type(title).__name__}")


def _select(root: Value, everything: list[Value], max_nodes: int, collapse: bool) -> tuple[list[Value], str]:
    """The values to draw (children first), and a note when some are left out."""
    total = len(everything)
    if total <= max_nodes:
        return everything, ""
    if not collapse:
        raise GraphTooLarge(
            f"the graph has {total:,} values, more than max_nodes={max_nodes}: pass max_nodes={total} "
            f"to draw all of it, or collapse=True to draw the {max_nodes} nearest the output"
        )
    keep = set(_keep_nearest(root, max_nodes))
    nodes = [v for v in everything if v in keep]
    return nodes, f"showing the {len(nodes):,} values nearest the output of {total:,}; pass max_nodes={total} for all"


class _Drawing:
    """One drawing in the making: what each value is, where it goes, and its DOT."""

    def __init__(
        self,
        root: Value,
        nodes: list[Value],
        model: Any,
        params: Any,
        output: Value | None,
        color_by: str | None,
        collapsed: bool,
        group: bool,
        rankdir: str,
    ) -> None:
        self.root, self.nodes, self.model, self.color_by = root, nodes, model, color_by
        self.collapsed, self.group, self.rankdir = collapsed, group, rankdir
        self.ids = {v: f"v{i}" for i, v in enumerate(nodes)}
        owners = _owners(model) if model is not None else {}
        self.parameters = set(owners) | set(_parameters(params))
        self.neuron = _assign_neurons(nodes, owners) if owners else {}
        self.kinds = _kinds(nodes, root, self.parameters, self.neuron, output, model)
        self.members: dict[tuple[int, int], list[Value]] = defaultdict(list)
        for v in nodes:
            if v in self.neuron:
                self.members[self.neuron[v]].append(v)
        self.display = {
            v: (f"n{self.neuron[v][0]}_{self.neuron[v][1]}" if collapsed and v in self.neuron else self.ids[v])
            for v in nodes
        }
        self.top = _scale_top([v for v in nodes if v is not root] or nodes, color_by)  # not the seed ∂root/∂root = 1
        self.drawn: set[tuple[str, str]] = set()

    def render(self, title: str, note: str, total: int) -> graphviz.Digraph:
        graph_attr = {"rankdir": self.rankdir, "fontname": "Helvetica", "newrank": "true", "nodesep": "0.12"}
        label = "\n".join(x for x in (title, note) if x)
        if label:
            graph_attr.update(label=plain_label(label), labelloc="t", fontsize="16")
        dot = graphviz.Digraph(
            name="computation graph", graph_attr=graph_attr, node_attr={"fontname": "Helvetica", "fontsize": "11"}
        )
        for v in self.nodes:
            if not (v in self.neuron and (self.group or self.collapsed)):
                self._value(dot, v)
        self._layers(dot)
        self._edges(dot)
        if note:
            more = f"… {total - len(self.nodes):,} more values"
            dot.node("more", more, shape="box", style="dashed,rounded", color="#999999")
        if self.color_by is not None or self.parameters:
            dot.node("legend", _legend(self.color_by, self.top, set(self.kinds.values())), shape="plaintext")
        return dot

    def _value(self, target: graphviz.Digraph, v: Value) -> None:
        """A value's box (label, data, grad), and its op's oval if it was computed."""
        fields = ([_field(v.label)] if v.label else []) + [f"data {number(v.data)}", f"grad {number(v.grad)}"]
        attrs = dict(KIND_STYLE[self.kinds[v]])
        attrs["fillcolor"], attrs["fontcolor"] = _fill(v, self.color_by, self.top)
        target.node(self.ids[v], "{ " + " | ".join(fields) + " }", shape="record", **attrs)
        if not v.is_leaf:
            target.node(self.ids[v] + "_op", plain_label(v.symbol), **OP_STYLE)

    def _neuron(self, target: graphviz.Digraph, key: tuple[int, int], values: list[Value]) -> None:
        """One box for a whole neuron: its z and a, and its parameters' largest gradient."""
        sums = [v for v in values if v.op == "dot"]
        shown = [v for v in values if not v.is_leaf][:2]  # the first sample's z (and a)
        weights = [v for v in values if v.is_leaf]
        fields = [f"neuron {key[1]} of layer {key[0]}" + (f" ({len(sums)} samples)" if len(sums) > 1 else "")]
        fields += [f"{_field(v.label or v.op)}: data {number(v.data)} grad {number(v.grad)}" for v in shown]
        if weights:
            largest = max(abs(w.grad) for w in weights)
            fields.append(f"{len(weights)} parameters, largest \\|grad\\| {number(largest)}")
        kind = "output" if any(self.kinds[v] == "output" for v in values) else "intermediate"
        attrs = dict(KIND_STYLE[kind])
        attrs["fillcolor"], attrs["fontcolor"] = _fill(sums[0] if sums else values[0], self.color_by, self.top)
        stacked = " | ".join(fields)  # fields across the flow: stacked when drawn left to right
        label = stacked if self.rankdir in ("LR", "RL") else "{ " + stacked + " }"
        target.node(self.display[values[0]], label, shape="record", **attrs)

    def _layers(self, dot: graphviz.Digraph) -> None:
        """An MLP's values in one cluster per layer, and per neuron inside it (or one box per neuron)."""
        if not (self.group or self.collapsed):
            return
        for k in sorted({key[0] for key in self.members}):
            with dot.subgraph(name=f"cluster_layer{k}") if self.group else nullcontext(dot) as layer:
                if self.group:
                    activation = self.model.layers[k - 1].activation
                    layer.attr(label=f"layer {k} ({activation})", style="rounded", color="#999999")
                for key in sorted(key for key in self.members if key[0] == k):
                    if self.collapsed:
                        self._neuron(layer, key, self.members[key])
                        continue
                    with layer.subgraph(name=f"cluster_layer{k}_neuron{key[1]}") as box:
                        box.attr(label=f"neuron {key[1]}", style="rounded,dashed", color="#bbbbbb", fontsize="10")
                        for v in self.members[key]:
                            self._value(box, v)

    def _edge(self, dot: graphviz.Digraph, tail: str, head: str, **attrs: str) -> None:
        if tail != head and (tail, head) not in self.drawn:
            self.drawn.add((tail, head))
            dot.edge(tail, head, **attrs)

    def _edges(self, dot: graphviz.Digraph) -> None:
        """Data flowing in: child → op → value. A child drawn far away gets a dotted copy
        beside its consumer, so that no edge crosses more than MAX_SPAN levels."""
        depth = _depths(self.nodes, self.ids)
        ids, display = self.ids, self.display
        for v in self.nodes:
            if v.is_leaf:
                continue
            head = display[v] if self.collapsed and v in self.neuron else ids[v] + "_op"
            if head != display[v]:
                self._edge(dot, head, ids[v])
            for child in v.children:
                if child not in ids:
                    self._edge(dot, "more", head, style="dashed", color="#999999")
                elif depth[v] - depth[child] > MAX_SPAN and display[child] == ids[child]:
                    copy = f"{ids[child]}_at_{ids[v]}"
                    if (copy, head) not in self.drawn:
                        text = plain_label((child.label or "value") + f" ({number(child.data)})")
                        style = {"shape": "box", "style": "dotted,rounded", "color": "#666666", "fontsize": "9"}
                        dot.node(copy, text, tooltip="drawn in full upstream", **style)
                    self._edge(dot, copy, head)
                else:
                    self._edge(dot, display[child], head)


def _depths(nodes: list[Value], ids: dict[Value, str]) -> dict[Value, int]:
    """Levels from the inputs, a leaf placed just before its first consumer."""
    depth: dict[Value, int] = {}
    for v in nodes:  # children first
        depth[v] = 1 + max((depth[c] for c in v.children if c in ids), default=-1)
    first: dict[Value, int] = {}
    for v in nodes:
        for c in v.children:
            if c in ids and c.is_leaf:
                first[c] = min(first.get(c, depth[v]), depth[v])
    for c, d in first.items():
        depth[c] = d - 1
    return depth


def _assign_neurons(nodes: list[Value], owners: dict[Value, tuple[int, int]]) -> dict[Value, tuple[int, int]]:
    """Parameters, each neuron's weighted-sum node and its activation node -> (layer, neuron)."""
    neuron = {v: owners[v] for v in nodes if v in owners}
    for v in nodes:  # children come first, so a dot is assigned before its activation
        if v.op == "dot":
            owner = next((owners[c] for c in v.children if c in owners), None)
            if owner is not None:
                neuron[v] = owner
        elif v.op in ACTIVATION_OPS and v.children[0] in neuron and v.children[0].op == "dot":
            neuron[v] = neuron[v.children[0]]
    return neuron


def _kinds(
    nodes: list[Value],
    root: Value,
    parameters: set[Value],
    neuron: dict[Value, tuple[int, int]],
    output: Value | None,
    model: Any,
) -> dict[Value, str]:
    kinds = {v: ("parameter" if v in parameters else "input") if v.is_leaf else "intermediate" for v in nodes}
    outputs: set[Value] = set()
    if output is not None:
        outputs = {output}
    elif model is not None and neuron:
        last = len(model.layers)
        consumed = {c for v in nodes if v in neuron for c in v.children if c in neuron and neuron[c] == neuron[v]}
        outputs = {v for v, (k, _) in neuron.items() if k == last and not v.is_leaf and v not in consumed}
    for v in outputs:
        if v in kinds:
            kinds[v] = "output"
    if root not in outputs:
        kinds[root] = "loss" if outputs else "output"
    return kinds


def _magnitude(v: Value, color_by: str | None) -> float:
    return abs(v.grad if color_by == "grad" else v.data)


def _scale_top(nodes: list[Value], color_by: str | None) -> float:
    if color_by is None:
        return 0.0
    finite = [_magnitude(v, color_by) for v in nodes if math.isfinite(_magnitude(v, color_by))]
    return max(finite, default=0.0)


def _fill(v: Value, color_by: str | None, top: float) -> tuple[str, str]:
    if color_by is None:
        return "white", "black"
    m = _magnitude(v, color_by)
    if not math.isfinite(m):
        return NONFINITE_FILL, "black"
    if m == 0.0 or top == 0.0:
        return ZERO_FILL, "black"
    ratio = m / top
    return next((fill, text) for low, fill, text in SCALE if ratio >= low)


def _legend(color_by: str | None, top: float, kinds: set[str]) -> str:
    """An HTML-table legend: what the borders mean, and the colour scale."""
    rows = []
    names = {
        "input": "input",
        "parameter": "parameter",
        "intermediate": "computed value",
        "output": "output",
        "loss": "loss",
    }
    for kind in ("input", "parameter", "intermediate", "output", "loss"):
        if kind in kinds:
            style = KIND_STYLE[kind]
            border = (
                "dashed border"
                if "dashed" in style["style"]
                else ("double border" if "peripheries" in style else "border")
            )
            rows.append(
                f'<tr><td border="2" color="{style["color"]}"> </td><td align="left">{names[kind]} ({border})</td></tr>'
            )
    if color_by is not None:
        what = "|grad|, largest below the top node" if color_by == "grad" else "|data|, largest"
        rows.append(f'<tr><td colspan="2" align="left"><b>fill: {what}: {number(top)}</b></td></tr>')
        for low, fill, _ in SCALE:
            text = f"≥ {low:g} × largest" if low else "&gt; 0"
            rows.append(f'<tr><td bgcolor="{fill}"> </td><td align="left">{text}</td></tr>')
        rows.append(f'<tr><td bgcolor="{ZERO_FILL}"> </td><td align="left">0</td></tr>')
    return '<<table border="0" cellborder="1" cellspacing="2" cellpadding="3">' + "".join(rows) + "</table>>"

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

import html
import math
import re
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any, Iterable

import graphviz

from tinygrad_hw.engine import Value, walk

__all__ = ["DrawingOptions", "GraphTooLarge", "draw_graph", "number"]

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


LABEL_CHARS = 200  # a label or title longer than this is cut with "…", and whole in the tooltip
PIECE_CHARS = 2_000  # characters per quoted piece of a long string: at most ~14 KB once escaped


def _visible(text: str) -> str:
    r"""``text`` with every character SVG cannot show replaced by its escape (``\x01``), and
    every line break (``\r\n``, ``\r``) a ``\n``."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNDRAWABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), lines)


def _escaped(text: str) -> str:
    r"""``text`` as Graphviz reads it back verbatim, in a quoted string or an HTML-like label
    alike: backslashes doubled (so ``\N``, ``\G``, ``\E``, ``\L`` are not expanded), tabs
    as spaces (an HTML-like label drops a tab, or fails on one alone), and nothing SVG
    cannot hold."""
    return _visible(text).replace("\\", "\\\\").replace("\t", " ")


def _dot_text(text: str) -> str:
    """For a quoted string: escaped, and ``&`` as an entity (so that ``&amp;`` shows as
    ``&amp;``)."""
    return _escaped(text).replace("&", "&amp;")


def plain_label(text: str) -> str:
    """Any string as a Graphviz label that shows it verbatim, newlines as line breaks,
    never read as an HTML-like label (``<b>x</b>`` stays text)."""
    return graphviz.nohtml(_dot_text(text).replace("\n", "\\n"))


def html_text(text: str) -> str:
    """Any string as text in an HTML-like label: escaped, entities for ``& < > "``, line
    breaks for newlines."""
    return html.escape(_escaped(text), quote=True).replace("\n", "<br/>")


def cut(text: str) -> tuple[str, str]:
    """``text`` as a drawing shows it, and what its tooltip must add: a text longer than
    LABEL_CHARS is cut with "…" (Graphviz refuses a string of 16 KB), and kept whole in
    the tooltip."""
    if len(text) <= LABEL_CHARS:
        return text, ""
    return text[: LABEL_CHARS - 1] + "…", text


def tooltip(text: str) -> str:
    r"""Any text, however long, as a DOT string for a tooltip attribute that shows it verbatim.

    Graphviz reads a tooltip three times: HTML entities, then escapes (``\n`` a newline,
    ``\c`` a c), then ``\N``-style names (``\\`` a backslash): so each backslash is written
    four times, ``&`` as ``&amp;``, a newline as ``\n``. Pieces of at most PIECE_CHARS are
    quoted and joined by ``+``, since Graphviz refuses one string longer than 16 KB."""
    visible = _visible(text)
    pieces = [visible[k : k + PIECE_CHARS] for k in range(0, len(visible), PIECE_CHARS)] or [""]
    escaped = (p.replace("\\", "\\" * 4).replace("\n", "\\n").replace("&", "&amp;").replace('"', '\\"') for p in pieces)
    return " + ".join(f'"{p}"' for p in escaped)


def _rows(rows: list[str], ports: list[str] | None = None) -> str:
    """An HTML-like label: the rows (already escaped) stacked, a rule between them; a row
    with a port name is where edges attach."""
    cells = []
    for row, port in zip(rows, ports or [""] * len(rows)):
        where = f' port="{port}"' if port else ""
        cells.append(f"<tr><td{where}>{row}</td></tr>")
    return '<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">' + "<hr/>".join(cells) + "</table>>"


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
    ``"grad"``, ``"data"`` or None; ``rankdir`` is ``"LR"``, ``"RL"``, ``"TB"`` or ``"BT"``
    (any other value is a ValueError naming these). Beyond ``max_nodes`` values the drawing keeps
    those nearest ``root`` (``collapse=True``) or raises :class:`GraphTooLarge`.
    Render with ``.render(path, format="svg")`` or ``.pipe(format="svg")``; in
    Jupyter the object shows itself.
    """
    options = DrawingOptions(
        rankdir=rankdir,
        max_nodes=max_nodes,
        color_by=color_by,
        group=group,
        model=model,
        params=params,
        output=output,
        level=level,
        collapse=collapse,
        title=title,
    )
    return prepare(root, options).render()


RANKDIRS = ("LR", "RL", "TB", "BT")  # Graphviz's directions: left to right, right to left, top to bottom, up


@dataclass(frozen=True)
class DrawingOptions:
    """How a graph is drawn: ``draw_graph``'s options (see there), checked once, as
    ``prepare`` and ``step_through`` take them."""

    rankdir: str = "LR"
    max_nodes: int = 400
    color_by: str | None = "grad"
    group: bool = True
    model: Any = None
    params: Iterable[Value] | Any = None
    output: Value | None = None
    level: str = "value"
    collapse: bool = True
    title: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.rankdir, str) or self.rankdir not in RANKDIRS:
            raise ValueError(f"rankdir must be one of {', '.join(map(repr, RANKDIRS))}, not {self.rankdir!r}")
        for name in ("group", "collapse"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be True or False, not {getattr(self, name)!r}")
        if self.color_by not in ("grad", "data", None):
            raise ValueError(f"color_by must be 'grad', 'data' or None, not {self.color_by!r}")
        if self.level not in ("value", "neuron"):
            raise ValueError(f"level must be 'value' or 'neuron', not {self.level!r}")
        if self.level == "neuron" and self.model is None:
            raise ValueError("level='neuron' needs the model: draw_graph(loss, model=model, level='neuron')")
        if not isinstance(self.max_nodes, int) or isinstance(self.max_nodes, bool) or self.max_nodes < 1:
            raise ValueError(f"max_nodes must be a positive integer, got {self.max_nodes!r}")
        if not isinstance(self.title, str):
            raise TypeError(f"title must be a str, not {type(self.title).__name__}")


def prepare(root: Value, options: DrawingOptions) -> _Drawing:
    """What ``draw_graph`` draws, before it is drawn: the values kept, their node ids and
    where each is shown (the step-through page maps its steps onto them)."""
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph() takes a Value, not {type(root).__name__}")
    everything = walk(root)
    model = options.model
    if model is not None and not set(_owners(model)) & set(everything):
        raise ValueError(
            f"none of the model's parameters is in this graph: was it computed by another model? ({model!r})"
        )
    nodes, note = _select(root, everything, options.max_nodes, options.collapse)
    drawing = _Drawing(
        root,
        nodes,
        model,
        options.params,
        options.output,
        options.color_by,
        options.level == "neuron",
        options.group,
        options.rankdir,
    )
    drawing.title, drawing.note, drawing.total = options.title, note, len(everything)
    return drawing


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
    """One drawing in the making: what each value is, where it goes, and its DOT.

    A value is drawn as a box of its own, or as a row of a table: an MLP's parameters
    as one table per neuron (value level), its neurons as one table per layer (neuron
    level). A table keeps its rows in order, which Graphviz does not do for boxes in
    clusters, and its rows are ports where edges attach.
    """

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
        self.display, self.ports = self._places()
        self.top = _scale_top([v for v in nodes if v is not root] or nodes, color_by)  # not the seed ∂root/∂root = 1
        self.drawn: set[tuple[str, str]] = set()
        self.cells: dict[Value, str] = {}  # on a page, at neuron level: the table cell that shows each value
        self.tooltips: dict[str, list[str]] = defaultdict(list)  # node -> whole texts of its cut labels
        # the compass sides where edges enter and leave a box, in the direction data flows
        self._sides = {"LR": ("w", "e"), "RL": ("e", "w"), "TB": ("n", "s"), "BT": ("s", "n")}.get(rankdir, ("w", "e"))
        self.across = rankdir in ("LR", "RL")  # a table's rows run across the flow

    title, note, total = "", "", 0  # set by prepare()
    marked = False  # set for a page: table cells and edges carry ids its script finds them by

    def _places(self) -> tuple[dict[Value, str], dict[Value, tuple[str, str]]]:
        """Where each value is drawn (a node name), and for a table's rows the ports their
        edges come in by and go out from."""
        display = dict(self.ids)
        ports: dict[Value, tuple[str, str]] = {}
        for (k, i), values in self.members.items():
            if self.collapsed:  # the whole neuron is row i of layer k's table
                for v in values:
                    display[v], ports[v] = f"L{k}", (f"in{i}", f"out{i}")
            elif self.group:  # its parameters are the rows of the neuron's table
                for j, v in enumerate(w for w in values if w.is_leaf):
                    display[v], ports[v] = f"P{k}_{i}", (f"r{j}", f"r{j}")
        return display, ports

    def render(self) -> graphviz.Digraph:
        title, note, total = self.title, self.note, self.total
        graph_attr = {"rankdir": self.rankdir, "fontname": "Helvetica", "nodesep": "0.12"}
        if self.collapsed:  # room for the many edges between two layers' tables
            graph_attr.update(ranksep="1.4" if self.marked else "0.9", splines="line")
        elif self.marked:  # a page scrolls to each step: the drawing can be compact
            graph_attr.update(ranksep="0.4", nodesep="0.3")
        self.tooltips.clear()
        shown_title, whole_title = cut(title)
        label = "\n".join(x for x in (shown_title, note) if x)
        if label:
            graph_attr.update(label=plain_label(label), labelloc="t", fontsize="16")
        dot = graphviz.Digraph(
            name="computation graph", graph_attr=graph_attr, node_attr={"fontname": "Helvetica", "fontsize": "11"}
        )
        if whole_title:
            dot.body.append(f"\ttooltip={tooltip(whole_title)}\n")
        for v in self.nodes:
            if not (v in self.neuron and (self.group or self.collapsed)):
                self._value(dot, v)
        self._layers(dot)
        self._edges(dot)
        if note:
            more = f"… {total - len(self.nodes):,} more values"
            dot.node("more", more, shape="box", style="dashed,rounded", color="#999999")
        if not self.marked and (self.color_by is not None or self.parameters):
            legend = _legend(self.color_by, self.top, set(self.kinds.values()))
            with dot.subgraph(graph_attr={"rank": "source" if self.across else "sink"}) as place:
                place.node("legend", legend, shape="plaintext")  # beside the inputs, or below the output
        for node, texts in self.tooltips.items():  # written raw: a tooltip may be longer than one DOT string
            dot.body.append(f"\t{graphviz.quoting.quote(node)} [tooltip={tooltip(chr(10).join(texts))}]\n")
        return dot

    def _shown(self, node: str, text: str) -> str:
        """``text`` as ``node`` shows it: cut if long, the whole of it then in the node's tooltip."""
        shown, whole = cut(text)
        if whole:
            self.tooltips[node].append(whole)
        return shown

    def _value(self, target: graphviz.Digraph, v: Value) -> None:
        """A value's box (label over data over grad), and its op's oval if it was computed."""
        node = self.ids[v]
        name = [html_text(self._shown(node, v.label))] if v.label else [f"<i>{node}</i>"] if self.marked else []
        rows = [*name, f"data {number(v.data)}", f"grad {number(v.grad)}"]
        attrs = dict(KIND_STYLE[self.kinds[v]])
        attrs["fillcolor"], attrs["fontcolor"] = _fill(v, self.color_by, self.top)
        target.node(self.ids[v], _rows(rows), shape="box", margin="0.04,0.02", **attrs)
        if not v.is_leaf:
            target.node(node + "_op", plain_label(self._shown(node + "_op", v._op)), **OP_STYLE)

    def _parameter_table(self, target: graphviz.Digraph, key: tuple[int, int], values: list[Value]) -> None:
        """A neuron's parameters, one row each, in order: W[i,1], W[i,2], …, b[i]."""
        rows = []
        for v in (w for w in values if w.is_leaf):
            fill, text = _fill(v, self.color_by, self.top)
            name = html_text(self._shown(f"P{key[0]}_{key[1]}", v.label or "parameter"))
            cells = [name, f"data {number(v.data)}", f"grad {number(v.grad)}"]
            rows.append(_Row(cells, fill, text, out=self.ports[v][1], anchor=self._anchor(v)))
        label = _table(rows, KIND_STYLE["parameter"]["color"], across=self.across)
        target.node(f"P{key[0]}_{key[1]}", label, shape="plain")

    def _layer_table(self, target: graphviz.Digraph, k: int) -> None:
        """A layer, one row per neuron in order: its parameters' largest gradient, z and a."""
        rows = []
        for key in sorted(key for key in self.members if key[0] == k):
            values = self.members[key]
            shown = [v for v in values if not v.is_leaf][:2]  # the first sample's z (and a)
            weights = [v for v in values if v.is_leaf]
            fill, text = _fill(shown[0] if shown else values[0], self.color_by, self.top)
            cells = [f"neuron {key[1]}"]
            anchor = self._anchor(values[0])
            if weights:  # on a page the gradients arrive step by step: no final |grad| here
                largest = "" if self.marked else f"<br/>|grad| ≤ {number(max(abs(w.grad) for w in weights))}"
                cells.append(f"{len(weights)} parameters{largest}")
                self.cells.update((w, f"{anchor}.c{len(cells) - 1}") for w in weights)
            for v in shown:
                name = html_text(self._shown(f"L{k}", v.label or _op_name(v)))
                cells.append(f"{name}<br/>data {number(v.data)}<br/>grad {number(v.grad)}")
                self.cells[v] = f"{anchor}.c{len(cells) - 1}"
            rows.append(_Row(cells, fill, text, into=f"in{key[1]}", out=f"out{key[1]}", anchor=anchor))
        output = any(self.kinds[v] == "output" for key in self.members if key[0] == k for v in self.members[key])
        header = f"layer {k} ({self.model.layers[k - 1].activation})"
        border = KIND_STYLE["output" if output else "intermediate"]["color"]
        target.node(f"L{k}", _table(rows, border, header, across=self.across), shape="plain")

    def _layers(self, dot: graphviz.Digraph) -> None:
        """An MLP's values: at neuron level a table per layer; at value level a cluster per
        layer and per neuron, the neuron's parameters a table in it."""
        if not (self.group or self.collapsed):
            return
        for k in sorted({key[0] for key in self.members}):
            if self.collapsed:
                self._layer_table(dot, k)
                continue
            with dot.subgraph(name=f"cluster_layer{k}") as layer:
                activation = self.model.layers[k - 1].activation
                layer.attr(label=f"layer {k} ({activation})", style="rounded", color="#999999")
                for key in sorted(key for key in self.members if key[0] == k):
                    with layer.subgraph(name=f"cluster_layer{k}_neuron{key[1]}") as box:
                        box.attr(label=f"neuron {key[1]}", style="rounded,dashed", color="#bbbbbb", fontsize="10")
                        values = self.members[key]
                        if any(v.is_leaf for v in values):
                            self._parameter_table(box, key, values)
                        for v in values:
                            if not v.is_leaf:
                                self._value(box, v)

    def place(self, v: Value) -> str:
        """The one name of where ``v`` is drawn: its box's node name, or ``node.port`` for
        a table's row."""
        if v in self.ports:
            into, out = self.ports[v]
            return f"{self.display[v]}.{into or out}"
        return self.display[v]

    def _anchor(self, v: Value) -> str:
        return self.place(v) if self.marked else ""

    def _end(self, v: Value, side: int) -> str:
        """Where an edge meets value ``v``: its box, or its table row's port on the side data
        flows in (``side`` 0) or out (1)."""
        if v in self.ports:
            return f"{self.display[v]}:{self.ports[v][side]}:{self._sides[side]}"
        return self.display[v]

    def _edge(self, dot: graphviz.Digraph, tail: str, head: str, name: str = "", **attrs: str) -> None:
        """One edge, once; ``name`` ("<place of tail>-><place of head>") becomes its SVG id
        on a marked drawing."""
        if tail.split(":")[0] != head.split(":")[0] and (tail, head) not in self.drawn:
            self.drawn.add((tail, head))
            if self.marked and name:
                attrs["id"] = "edge:" + name
            dot.edge(tail, head, **attrs)

    def _edges(self, dot: graphviz.Digraph) -> None:
        """Data flowing in: child → op → value. A child drawn far away gets a dotted copy
        beside its consumer, so that no edge crosses more than MAX_SPAN levels."""
        depth = _depths(self.nodes, self.ids)
        ids, display = self.ids, self.display
        for v in self.nodes:
            if v.is_leaf:
                continue
            in_table = v in self.ports
            head = self._end(v, 0) if in_table else ids[v] + "_op"
            if not in_table:
                self._edge(dot, head, ids[v], f"{ids[v]}_op->{ids[v]}")
            for child in v.children:
                if child not in ids:
                    self._edge(dot, "more", head, style="dashed", color="#999999")
                elif depth[v] - depth[child] > MAX_SPAN and display[child] == ids[child]:
                    copy = f"{ids[child]}_at_{ids[v]}"
                    if (copy, head) not in self.drawn:
                        name = self._shown(copy, child.label or "value")
                        if copy in self.tooltips:
                            self.tooltips[copy].insert(0, "drawn in full upstream:")
                        text = plain_label(f"{name} ({number(child.data)})")
                        style = {"shape": "box", "style": "dotted,rounded", "color": "#666666", "fontsize": "9"}
                        dot.node(copy, text, tooltip="drawn in full upstream", **style)
                    self._edge(dot, copy, head, f"{copy}->{self.place(v)}")
                else:
                    self._edge(dot, self._end(child, 1), head, f"{self.place(child)}->{self.place(v)}")


@dataclass
class _Row:
    """A table row: its cells (already escaped), colours, and the ports of its first cell
    (where edges come in) and its last (where they go out)."""

    cells: list[str]
    fill: str
    text: str
    into: str = ""
    out: str = ""
    anchor: str = ""  # when set, every cell is an SVG group "a_<anchor>.c<n>" a page can find


def _table(rows: list[_Row], border: str, header: str = "", across: bool = True) -> str:
    """An HTML-like table label, one row per ``_Row`` under an optional header -- or, with
    ``across`` False (a drawing flowing top to bottom), one column per ``_Row``, so that
    each one's first cell is on top, where edges come in, and its last at the bottom."""
    cells = [[_cell(row, c) for c in range(len(row.cells))] for row in rows]
    grid = cells if across else [list(line) for line in zip(*cells)]
    lines = [f'<<table border="2" cellborder="1" cellspacing="0" cellpadding="3" color="{border}">']
    if header and across:  # a title row on top
        lines.append(f'<tr><td colspan="{len(grid[0])}" bgcolor="#f4f4f4"><b>{header}</b></td></tr>')
    elif header:  # a title column on the left, clear of the edges above and below
        grid[0].insert(0, f'<td rowspan="{len(grid)}" bgcolor="#f4f4f4"><b>{header.replace(" (", "<br/>(")}</b></td>')
    lines += ["<tr>" + "".join(line) + "</tr>" for line in grid]
    return "".join(lines) + "</table>>"


def _cell(row: _Row, c: int) -> str:
    """Cell ``c`` of ``row``: its text and colours; the first a port for edges coming in, the
    last for edges going out."""
    port = row.into if c == 0 else (row.out if c == len(row.cells) - 1 else "")
    where = f' port="{port}"' if port else ""
    if row.anchor:  # Graphviz writes a cell's id into SVG only for a cell with a link
        where += f' id="{row.anchor}.c{c}" href="#{row.anchor}" title="{row.anchor}"'
    return f'<td{where} bgcolor="{row.fill}"><font color="{row.text}">{row.cells[c]}</font></td>'


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


def _op_name(v: Value) -> str:
    """The name of the op that made ``v`` ('' for a leaf)."""
    return v.op.name if v.op is not None else ""


def _assign_neurons(nodes: list[Value], owners: dict[Value, tuple[int, int]]) -> dict[Value, tuple[int, int]]:
    """Parameters, each neuron's weighted-sum node and its activation node -> (layer, neuron)."""
    neuron = {v: owners[v] for v in nodes if v in owners}
    for v in nodes:  # children come first, so a dot is assigned before its activation
        if _op_name(v) == "dot":
            owner = next((owners[c] for c in v.children if c in owners), None)
            if owner is not None:
                neuron[v] = owner
        elif _op_name(v) in ACTIVATION_OPS and v.children[0] in neuron and _op_name(v.children[0]) == "dot":
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

"""Watch backpropagation happen: a page that plays any graph's forward pass, then its
backward pass, one node at a time.

``step_through(loss)`` draws the graph as ``draw_graph`` does and works out every
step in Python with the engine's own rules and numbers:

* forward, children first: each value as its op makes it from its inputs;
* backward, from the output back: at each op, each local derivative as the op
  table writes it and then with numbers (``∂out/∂a = out·(1 − out) =
  0.5866·(1 − 0.5866) = 0.2425``), the upstream gradient, their product, and the
  running sum at the child (``w1.grad += −0.2005 → −0.2005``).

The result is one self-contained HTML file -- the SVG inline, a small plain
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
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Union

from tinygrad_hw.atomic import write_atomic
from tinygrad_hw.codegen import contributions, operand_order, template
from tinygrad_hw.derivatives import call_rule, local_derivatives
from tinygrad_hw.engine import Value, topological_order
from tinygrad_hw.ops import Op

from .graph import DrawingOptions, _Drawing, _visible, number, prepare

__all__ = ["StepThrough", "step_through"]

Mark = Union[Value, "tuple[Value, Value]"]  # a value, or the edge (child, parent)
SHOWN = ("local", "upstream", "product", "after")  # the numbers the page writes, as draw_graph writes them
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

    ``model``, ``level``, ``title`` and ``rankdir`` are ``draw_graph``'s: with
    ``level="neuron"`` an MLP is drawn one row per neuron and each step lights up its
    row. The graph flows top to bottom (left to right at neuron level) unless
    ``rankdir`` says otherwise; the fill is plain, since every gradient is shown as
    the pass reaches it. A graph
    of more than ``max_nodes`` values is cut to those nearest the output, the cut
    stated on the page (or, with ``collapse=False``, refused with its size).

    ``marks`` flags values, or edges given as ``(child, parent)``, with a short text
    (``{z: "yours: 0.31, right: 0.25"}``): each is outlined, its text written beside it
    and repeated in the steps that show it. A checker uses it to point at a wrong number.
    """
    if not isinstance(root, Value):
        raise TypeError(f"step_through() takes a Value, not {type(root).__name__}")
    if rankdir is None:  # boxes top to bottom; tables of neurons, whose rows are ports, left to right
        rankdir = "LR" if level == "neuron" else "TB"
    options = DrawingOptions(
        rankdir, max_nodes, color_by=None, model=model, level=level, collapse=collapse, title=title
    )
    drawing = prepare(root, options)
    drawing.marked = True
    svg = drawing.render().pipe(format="svg").decode("utf-8")
    steps = _steps(root, drawing)
    shown = _marks(marks or {}, drawing)
    heading = _visible(title) if title else "Backpropagation, step by step"  # as the drawing shows it
    page = StepThrough(_page(heading, svg, steps, drawing.note, shown), steps)
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


# -- the steps ----------------------------------------------------------------------------


class _Names:
    """How the page names a value: its label, else the name its box shows on the page
    (``v7``); a value outside the drawing (cut off) is ``…``."""

    def __init__(self, drawing: _Drawing) -> None:
        self.drawing = drawing

    def __call__(self, v: Value) -> str:
        if v.label:
            return _visible(v.label)  # as the drawing shows it: a lone surrogate as \ud800
        return self.drawing.place(v) if v in self.drawing.display else "…"

    def operand(self, v: Value) -> str:
        """The name as it appears inside a formula: bracketed unless it is one word."""
        name = self(v)
        return name if re.fullmatch(r"[\w\[\],.′'…]+", name) or _bracketed(name) else f"({name})"


def _bracketed(text: str) -> bool:
    """Whether ``text`` is one bracket pair around the whole of it."""
    if not text.startswith("("):
        return False
    level = 0
    for i, ch in enumerate(text):
        level += {"(": 1, ")": -1}.get(ch, 0)
        if level == 0:
            return i == len(text) - 1
    return False


def _numeral(x: float) -> str:
    """A number put into a formula: short, with a real minus sign, bracketed if negative."""
    shown = number(x)
    if math.isfinite(x) and "e" not in shown and "." in shown:
        shown = shown.rstrip("0").rstrip(".")
    return f"(−{shown[1:]})" if shown.startswith("-") else shown


def _pretty(text: str) -> str:
    """A rule's Python text as a reader writes it: · for *, − for -, 1 for 1.0."""
    for plain, shown in ((" * ", "·"), (" - ", " − "), ("-", "−"), (" / ", "/")):
        text = text.replace(plain, shown)
    return re.sub(r"\b(\d+)\.0\b", r"\1", text)


def _formula(text: str, values: dict[str, Any]) -> str:
    """A rule's text with ``values`` (names or numbers) put in for a, b, c, out."""
    names: dict[str, Any] = {name: name for name in ("a", "b", "c", "out")}
    names.update(values)
    return _pretty(template(text)).format(**names)


def _made_of(v: Value, show: Any) -> str:
    """What node ``v`` computes, with ``show(child)`` for each operand: ``σ(z)``, ``x − 1``,
    ``b + w1·x1 + w2·x2``."""
    if v.hand_written:  # no rule to write out: its name and its operands
        return f"{v._op or 'op'}({', '.join(show(c) for c in v.children)})"
    op = v.op
    assert isinstance(op, Op)
    start, terms = operand_order(op, len(v.children))
    if op.nary:
        parts = [_formula(op.formula, {n: show(v.children[i]) for n, i in b.items()}) for b in terms[:4]]
        parts += ["…"] * (len(terms) > 4)
        return " + ".join(([show(v.children[start])] if start is not None else []) + parts)
    names = {n: show(v.children[i]) for n, i in terms[0].items()}
    if " if " in op.formula:  # a rule with cases reads better by its name: ReLU(z)
        return f"{op.symbol}({names['a']})"
    if op.const and v.constant is not None:
        names["c"] = _numeral(v.constant)
    return _formula(op.formula, names)


def _steps(root: Value, drawing: _Drawing) -> list[dict[str, Any]]:
    """Every forward step, then every backward step, with the engine's numbers. (At
    neuron level a neuron's parameters are not drawn, and get no steps of their own.)"""
    name = _Names(drawing)
    steps: list[dict[str, Any]] = []
    for v in drawing.nodes:
        if drawing.collapsed and v.is_leaf and v in drawing.neuron:
            continue
        step: dict[str, Any] = {"phase": "forward", "node": drawing.place(v), "value": v.data}
        if v.is_leaf:
            step["title"] = f"{name(v)} = {number(v.data)}"
            step["text"] = [f"{name(v)} is given: {number(v.data)}"]
        else:
            step["title"] = _title(v, name)
            step["inputs"] = sorted({drawing.place(c) for c in v.children if c in drawing.display})
            numbers = _made_of(v, lambda c: _numeral(c.data))
            step["text"] = [step["title"], f"= {numbers}", f"= {number(v.data)}"]
        steps.append(step)
    return steps + _backward_steps(root, drawing, name)


def _title(v: Value, name: _Names) -> str:
    """A computed value and what made it: ``z = b + w1·x1``, or just ``x·x`` unlabelled."""
    made_of = _made_of(v, name.operand)
    return made_of if v.label == made_of else f"{name(v)} = {made_of}"


def _backward_steps(root: Value, drawing: _Drawing, name: _Names) -> list[dict[str, Any]]:
    """The backward pass as the engine runs it: from the output back, each op passes its
    gradient to its inputs, each child's gradient a running sum (from zero: this pass's
    own, as after ``zero_grad``)."""
    grads: dict[Value, float] = {root: 1.0}
    steps: list[dict[str, Any]] = []
    for v in reversed(topological_order(root)):
        if v not in drawing.display or v.is_leaf:
            continue
        upstream = grads.get(v, 0.0)
        rows = [_contribution(v, c, local, rule, upstream, grads, drawing, name) for c, local, rule in _locals(v)]
        gradient = f"∂{name.operand(root)}/∂{name.operand(v)} = {number(upstream)}"
        start = "The backward pass starts at the output: " if v is root else ""
        text = [f"{start}{gradient}, passed back to its inputs:"]
        steps.append(
            {
                "phase": "backward",
                "node": drawing.place(v),
                "grad": upstream,
                "shown_grad": number(upstream),
                "title": _title(v, name),
                "text": text,
                "contributions": [row for row in rows if row is not None],
            }
        )
    return steps


def _locals(v: Value) -> list[tuple[Value, float, str]]:
    """Each (child, ∂v/∂child, how it was found) in the order the engine adds them: from
    the op table's rule, or for a node made by hand from its ``_backward`` closure."""
    if v.hand_written:
        found = "from its _backward, written by hand (run with upstream gradient 1)"
        return [(child, local, f"{found}: {number(local)}") for child, local in local_derivatives(v)]
    op = v.op
    assert isinstance(op, Op)
    parts = contributions(op, len(v.children))
    return [(v.children[position], *_local(v, which, binds)) for position, which, binds in parts]


def _local(v: Value, which: int | None, binds: dict[str, int]) -> tuple[float, str]:
    """The local derivative from the op table: its value, and its formula as the table
    writes it, then with numbers, then worked out (``∂out/∂a = out·(1 − out) =
    0.5866·(1 − 0.5866) = 0.2425``)."""
    op = v.op
    assert isinstance(op, Op)
    if which is None:  # the start s of Value.sum(A, s) / Value.dot(A, B, s): a plain term
        return 1.0, "∂out/∂s = 1"
    operands = [v.children[binds[n]].data for n in "ab"[: op.arity]]
    _, partials = call_rule(op, operands, v.constant)
    values: dict[str, Any] = {n: _numeral(x) for n, x in zip("ab", operands)}
    if not op.nary:
        values["out"] = _numeral(v.data)
    if op.const and v.constant is not None:
        values["c"] = _numeral(v.constant)
    chain = [f"∂out/∂{'ab'[which]}", _formula(op.partials[which], {}), _formula(op.partials[which], values)]
    chain.append(number(partials[which]))
    shown = [chain[0]]
    for text in chain[1:]:  # each form once: "= 1", not "= 1 = 1 = 1.0000"
        if text != shown[-1] and not _same_number(text, shown[-1]):
            shown.append(text)
    return partials[which], " = ".join(shown)


def _same_number(a: str, b: str) -> bool:
    """Whether two shown texts are one number (``(−0.5)`` and ``-0.5000``)."""
    try:
        return float(a.strip("()").replace("−", "-")) == float(b.strip("()").replace("−", "-"))
    except ValueError:
        return False


def _contribution(
    v: Value,
    child: Value,
    local: float,
    rule: str,
    upstream: float,
    grads: dict[Value, float],
    drawing: _Drawing,
    name: _Names,
) -> dict[str, Any] | None:
    """One ``child.grad += ∂v/∂child · upstream``: the rule, the numbers, the running sum."""
    product = local * upstream
    before = grads.get(child, 0.0)
    after = before + product  # as the engine adds it (for ±1 it adds ±upstream: the same bits)
    grads[child] = after
    if child not in drawing.display:
        return None
    return {
        "child": drawing.place(child),
        "label": name(child),
        "derivative": f"∂{name.operand(v)}/∂{name.operand(child)}",
        "rule": rule,
        "local": local,
        "upstream": upstream,
        "product": product,
        "before": before,
        "after": after,
        "shown": {name: number(x) for name, x in zip(SHOWN, (local, upstream, product, after))},
    }


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


# -- the page ------------------------------------------------------------------------------


def _page(title: str, svg: str, steps: list[dict[str, Any]], note: str, marks: list[dict[str, str]]) -> str:
    """The whole document: style, the graph, the steps as JSON, the script."""
    folder = resources.files("viz")
    style = folder.joinpath("stepthrough.css").read_text(encoding="utf-8")
    script = folder.joinpath("stepthrough.js").read_text(encoding="utf-8")
    data = json.dumps({"steps": _finite(steps), "note": note, "title": title, "marks": marks}, ensure_ascii=True)
    data = data.replace("<", "\\u003c")  # no "</script>" (nor "<!--") inside the script, whatever a label says
    svg = svg[svg.index("<svg") :]  # no XML prolog or doctype inside HTML
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
            '<label><input id="edge-labels" type="checkbox"> ∂ on edges</label>',
            '<span class="zoom"><button id="zoom-out" title="smaller">−</button>',
            '<button id="zoom-fit" title="fit the window">100 %</button>',
            '<button id="zoom-in" title="larger">+</button></span>',
            '<span id="position"></span>',
            "</nav></header>",
            '<main><div id="graph">',
            svg,
            '</div><aside id="panel"><h2 id="step-title"></h2><div id="step-text"></div>',
            '<div id="contributions"></div></aside></main>',
            f'<script type="application/json" id="data">{data}</script>',
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

"""What each step of the step-through page shows, worked out in Python with the engine's
rules and numbers.

* the **given** values first: the inputs in one step, then each layer's parameters in
  one step (without a model, every leaf in one step), so the forward pass starts from
  the inputs and a network's 105 weights are not 105 steps;
* **forward**, children first: each value as its op makes it from its inputs, in the
  nodes' names, then in numbers (``z1[1] = b1[1] + W1[1,1]·x1 + W1[1,2]·x2``);
* **backward**, from the output back: the chain rule for the node's gradient
  (``∂C/∂z1[1] = ∂C/∂a1[1]·∂a1[1]/∂z1[1] = (−0.02535)·0.1970 = −0.004994``), then for
  each input its local derivative as the op table writes it, in the nodes' names
  (``∂z1[1]/∂W1[1,1] = x1 = 0``), the product with the upstream gradient and the
  running sum at the input (``W1[1,1].grad += 0 → 0``).

Every chain-rule line also comes as LaTeX (``\\frac{\\partial C}{\\partial z^{1}_{1}} = …``).
Numbers carry the minus sign U+2212; the raw floats travel beside them for checking.
"""

from __future__ import annotations

import ast
import functools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from tinygrad_hw.codegen import contributions, operand_order
from tinygrad_hw.derivatives import call_rule, local_derivatives
from tinygrad_hw.engine import Value, topological_order
from tinygrad_hw.ops import Op, label

from .formulas import MINUS, Operand, branch, factor, latex_name, latex_number, named, numeral, prepare, valued, write
from .graph import _Drawing, _visible, number

__all__ = ["SHOWN", "Names", "shown", "steps_of"]

SHOWN = ("local", "upstream", "product", "after")  # the numbers a contribution writes, as the boxes write them
MAX_TERMS = 8  # terms of a sum written out before "…"
MAX_LISTED = 40  # given values listed in one step before "… and N more"


def shown(x: float) -> str:
    """A number as the boxes write it (four significant digits), with the minus sign U+2212."""
    return number(x).replace("-", MINUS)


def _factor(x: float) -> str:
    """``shown(x)``, bracketed when negative: a factor of a product."""
    text = shown(x)
    return f"({text})" if text.startswith(MINUS) else text


def _latex_factor(x: float) -> str:
    text = latex_number(x)
    return rf"\left({text}\right)" if text.startswith("-") else text


class Names:
    """How the page names a value: its label, else the name its box shows (``v7``); a value
    outside the drawing (cut off) is ``…``."""

    def __init__(self, drawing: _Drawing) -> None:
        self.drawing = drawing

    def __call__(self, v: Value) -> str:
        if v.label:
            return _visible(v.label)  # as the drawing shows it: a lone surrogate as \ud800
        return self.drawing.ids[v] if v in self.drawing.ids else "…"

    def operand(self, v: Value) -> Operand:
        return named(self(v))

    def partial(self, top: Value, v: Value, latex: bool = False) -> str:
        """``∂top/∂v``: ``∂C/∂z1[1]``, or ``\\frac{\\partial C}{\\partial z^{1}_{1}}``."""
        upper, lower = self.operand(top), self.operand(v)
        if latex:
            return rf"\frac{{\partial {upper.latex}}}{{\partial {lower.latex}}}"
        return f"∂{_word(upper)}/∂{_word(lower)}"


def _word(o: Operand) -> str:
    return o.text if o.rank >= 7 else f"({o.text})"


def steps_of(root: Value, drawing: _Drawing) -> list[dict[str, Any]]:
    """Every step of the page: the given values, the forward pass, the backward pass."""
    names = Names(drawing)
    forward = _given(drawing, names)
    for v in drawing.nodes:
        if not v.is_leaf:
            forward.append(_forward(v, drawing, names))
    for step in forward:
        step["phase"] = "forward"
    return forward + _Backward(root, drawing, names).steps()


# -- given ------------------------------------------------------------------------------------


def _given(drawing: _Drawing, names: Names) -> list[dict[str, Any]]:
    """The leaves, given: the inputs in one step, then each layer's parameters in one (all
    leaves in one step when no model says which are parameters)."""
    leaves = [v for v in drawing.nodes if v.is_leaf]
    inputs = [v for v in leaves if v not in drawing.parameters]
    by_layer: dict[int, list[Value]] = defaultdict(list)
    for v in leaves:
        if v in drawing.parameters:
            by_layer[drawing.neuron[v][0] if v in drawing.neuron else 0].append(v)
    found = []
    if inputs:
        what = "the inputs" if drawing.parameters else "the values"
        title = f"Given: {_listing(inputs, names, 4)}" if len(inputs) <= 4 else f"Given: {what} ({len(inputs)})"
        text = [f"{what.capitalize()} are given; the forward pass starts from them:", *_lines(inputs, names)]
        found.append(_given_step(inputs, drawing, title, text))
    for k, values in sorted(by_layer.items()):
        whose = f"layer {k}'s" if k else "the"
        title = f"Given: {whose} {len(values)} parameters"
        text = [f"{whose.capitalize()} parameters are given, as the network holds them now:"]
        if k:
            neurons: dict[int, list[Value]] = defaultdict(list)
            for v in values:
                neurons[drawing.neuron[v][1]].append(v)
            rows = [f"neuron {i}: {_listing(vs, names)}" for i, vs in sorted(neurons.items())]
            text += rows[:MAX_LISTED] + [f"… and {len(rows) - MAX_LISTED} more neurons"] * (len(rows) > MAX_LISTED)
        else:
            text += _lines(values, names)
        found.append(_given_step(values, drawing, title, text))
    return found


def _listing(values: list[Value], names: Names, most: int = MAX_TERMS * 2) -> str:
    listed = [f"{names(v)} = {shown(v.data)}" for v in values[:most]]
    return ", ".join(listed + ["…"] * (len(values) > most))


def _lines(values: list[Value], names: Names) -> list[str]:
    lines = [f"{names(v)} = {shown(v.data)}" for v in values[:MAX_LISTED]]
    return lines + [f"… and {len(values) - MAX_LISTED} more"] * (len(values) > MAX_LISTED)


def _given_step(values: list[Value], drawing: _Drawing, title: str, text: list[str]) -> dict[str, Any]:
    places = list(dict.fromkeys(drawing.place(v) for v in values))
    return {
        "kind": "given",
        "node": places[0],
        "nodes": places,
        "ids": [drawing.ids[v] for v in values],
        "title": title,
        "text": text,
    }


# -- forward ----------------------------------------------------------------------------------


@dataclass
class _Written:
    """A formula three ways: in names, in numbers, in LaTeX (names, then numbers)."""

    names: str
    numbers: str
    latex: str
    latex_numbers: str
    reason: str = ""  # for cases: which holds ("0.6949 > 0")
    cases: bool = False


def _forward(v: Value, drawing: _Drawing, names: Names) -> dict[str, Any]:
    """A computed value: what made it, in names and in numbers, and its value."""
    made = _made_of(v, names)
    title = _title(v, names, made)
    text = [title]
    if made.cases:
        text = [f"{title}: {made.names}", f"here {made.reason}, so {made.numbers}"]
    elif made.numbers != shown(v.data):
        text.append(f"= {made.numbers}")
    text.append(f"= {shown(v.data)}")
    latex = " = ".join(_distinct([latex_name(names(v)), made.latex, made.latex_numbers, latex_number(v.data)]))
    shown_children = [c for c in v.children if c in drawing.display]
    return {
        "kind": "computed",
        "node": drawing.place(v),
        "nodes": [drawing.place(v)],
        "ids": [drawing.ids[v]],
        "data": v.data,
        "title": title,
        "text": text,
        "inputs": sorted({drawing.place(c) for c in shown_children}),
        "input_ids": sorted({drawing.ids[c] for c in shown_children}),
        "latex": latex,
    }


def _title(v: Value, names: Names, made: _Written) -> str:
    """``z = b + w1·x1``, or just ``x·x`` for a value its label already spells."""
    formula = made.names if not made.cases else _case_symbol(v, names)
    return formula if v.label == formula else f"{names(v)} = {formula}"


def _case_symbol(v: Value, names: Names) -> str:
    """A rule with cases reads by its op's name in a title: ``ReLU(z)``."""
    op = v.op
    assert isinstance(op, Op)
    return f"{label(op, v.constant)}({', '.join(names(c) for c in v.children)})"


def _made_of(v: Value, names: Names) -> _Written:
    """What ``v`` computes from its children, written in their names and in their numbers."""
    if v.hand_written:  # no rule to write out: its op's name and its operands
        symbol = v._op or "op"
        args = [names(c) for c in v.children]
        latex = rf"\operatorname{{{_latex_word(symbol)}}}\left({', '.join(latex_name(a) for a in args)}\right)"
        numbers = ", ".join(numeral(c.data) for c in v.children)
        latex_numbers = ", ".join(latex_number(c.data) for c in v.children)
        return _Written(
            f"{symbol}({', '.join(args)})",
            f"{symbol}({numbers})",
            latex,
            rf"\operatorname{{{_latex_word(symbol)}}}\left({latex_numbers}\right)",
        )
    op = v.op
    assert isinstance(op, Op)
    start, terms = operand_order(op, len(v.children))
    tree = prepare(op.formula, v.constant)
    if not op.nary:
        env = _env(op, v, terms[0], names, with_out=False)
        values = _env(op, v, terms[0], names, with_out=False, numbers=True)
        if isinstance(tree, ast.IfExp):
            taken, reasons = branch(tree, _data(op, v, terms[0]))
            reason = " and ".join(write(r, values) for r in reasons)
            latex_forms = write(tree, env, True), write(taken, values, True)
            return _Written(write(tree, env), write(taken, values), *latex_forms, reason=reason, cases=True)
        return _Written(write(tree, env), write(tree, values), write(tree, env, True), write(tree, values, True))
    parts: list[list[str]] = [[], [], [], []]
    if start is not None:
        s = v.children[start]
        parts[0].append(names(s))
        parts[1].append(numeral(s.data))
        parts[2].append(latex_name(names(s)))
        parts[3].append(latex_number(s.data))
    for binds in terms:
        env = _env(op, v, binds, names, with_out=False)
        values = _env(op, v, binds, names, with_out=False, numbers=True)
        parts[0].append(write(tree, env))
        parts[1].append(write(tree, values))
        parts[2].append(write(tree, env, True))
        parts[3].append(write(tree, values, True))
    text, numbers, latex, latex_numbers = (_sum(p, latex=k >= 2) for k, p in enumerate(parts))
    return _Written(text, numbers, latex, latex_numbers)


def _sum(terms: list[str], latex: bool = False) -> str:
    """Terms joined by +; beyond MAX_TERMS, the first ones, "…", and the last."""
    if len(terms) > MAX_TERMS:
        terms = [*terms[: MAX_TERMS - 2], r"\dots" if latex else "…", terms[-1]]
    joined = " + ".join(terms)
    return joined.replace(f"+ {MINUS}", f"{MINUS} ") if not latex else joined.replace("+ -", "- ")


def _latex_word(text: str) -> str:
    return "".join(ch if ch.isalnum() else rf"\char{ord(ch)}" if ord(ch) < 128 else "?" for ch in text) or "op"


def _data(op: Op, v: Value, binds: dict[str, int]) -> dict[str, float]:
    """The numbers a rule reads for one application: its operands' data, ``c``, ``out``."""
    data = {name: v.children[i].data for name, i in binds.items()}
    if op.const and v.constant is not None:
        data["c"] = v.constant
    data["out"] = v.data
    return data


def _env(
    op: Op, v: Value, binds: dict[str, int], names: Names, with_out: bool = True, numbers: bool = False
) -> dict[str, Operand]:
    """What each of the rule's names stands for: the children's names (or numbers), the
    constant as its number, ``out`` as the node (for an n-ary rule, the term itself)."""
    env: dict[str, Operand] = {
        n: valued(v.children[i].data) if numbers else names.operand(v.children[i]) for n, i in binds.items()
    }
    if op.const and v.constant is not None:
        env["c"] = valued(v.constant)
    if with_out:
        if op.nary:  # ``out`` of one term: the term, bracketed
            term = prepare(op.formula, v.constant)
            inner = _env(op, v, binds, names, with_out=False, numbers=numbers)
            env["out"] = Operand(write(term, inner), write(term, inner, True), rank=0)
        else:
            env["out"] = valued(v.data) if numbers else names.operand(v)
    return env


def _distinct(forms: list[str]) -> list[str]:
    """Each form once, in order: ``= 1``, not ``= 1 = 1 = 1.0000``."""
    kept: list[str] = []
    for text in forms:
        if not kept or (text != kept[-1] and not _same_number(text, kept[-1])):
            kept.append(text)
    return kept


def _same_number(a: str, b: str) -> bool:
    """Whether two shown texts are one number (``(−0.5)`` and ``−0.5000``)."""
    try:
        return float(a.strip("()").replace(MINUS, "-")) == float(b.strip("()").replace(MINUS, "-"))
    except ValueError:
        return False


# -- backward ---------------------------------------------------------------------------------


@dataclass
class _Received:
    """One contribution a value received: from ``parent``, ∂parent/∂value · parent's gradient."""

    parent: Value
    local: float
    upstream: float
    product: float


class _Backward:
    """The backward pass as the engine runs it: from the output back, each op passes its
    gradient to its inputs, each child's gradient a running sum (from zero: this pass's
    own, as after ``zero_grad``)."""

    def __init__(self, root: Value, drawing: _Drawing, names: Names) -> None:
        self.root, self.drawing, self.names = root, drawing, names
        self.grads: dict[Value, float] = {root: 1.0}
        self.received: dict[Value, list[_Received]] = defaultdict(list)
        self.count: dict[Value, int] = defaultdict(int)  # contributions each value will receive

    def steps(self) -> list[dict[str, Any]]:
        order = [v for v in reversed(topological_order(self.root)) if v in self.drawing.display and not v.is_leaf]
        for v in order:
            for c in v.children:
                self.count[c] += 1
        return [self.step(v) for v in order]

    def step(self, v: Value) -> dict[str, Any]:
        upstream = self.grads.get(v, 0.0)
        names, drawing = self.names, self.drawing
        rows = [self.contribution(v, c, local, rule, upstream) for c, local, rule in _locals(v, names)]
        chain, latex = self.chain(v, upstream)
        start = "The backward pass starts at the output: " if v is self.root else ""
        return {
            "phase": "backward",
            "node": drawing.place(v),
            "nodes": [drawing.place(v)],
            "ids": [drawing.ids[v]],
            "grad": upstream,
            "shown_grad": shown(upstream),
            "title": _title(v, names, _made_of(v, names)),
            "text": [f"{start}{chain}", "and passes it back to its inputs:"],
            "chain": chain,
            "latex": latex,
            "contributions": [row for row in rows if row is not None],
        }

    def chain(self, v: Value, grad: float) -> tuple[str, str]:
        """The chain rule for ``v``'s gradient, in names and numbers, as text and LaTeX: the
        sum over the ops that use it of ∂root/∂op · ∂op/∂v."""
        names, root = self.names, self.root
        whole = names.partial(root, v)
        whole_latex = names.partial(root, v, latex=True)
        if v is root:
            return f"{whole} = 1", f"{whole_latex} = 1"
        terms = self.received[v]
        symbols = [f"{names.partial(root, r.parent)}·{names.partial(r.parent, v)}" for r in terms]
        numbers = [f"{_factor(r.upstream)}·{_factor(r.local)}" for r in terms]
        latex_symbols = [f"{names.partial(root, r.parent, True)} {names.partial(r.parent, v, True)}" for r in terms]
        latex_numbers = [rf"{_latex_factor(r.upstream)} \cdot {_latex_factor(r.local)}" for r in terms]
        text = " = ".join(_distinct([whole, _sum(symbols), _sum(numbers), shown(grad)]))
        latex = " = ".join([whole_latex, _sum(latex_symbols, True), _sum(latex_numbers, True), latex_number(grad)])
        return text, latex

    def contribution(self, v: Value, child: Value, local: float, rule: _Rule, upstream: float) -> dict[str, Any] | None:
        """One ``child.grad += ∂v/∂child · upstream``: the rule, the numbers, the running sum."""
        product = local * upstream
        before = self.grads.get(child, 0.0)
        after = before + product  # as the engine adds it (for ±1 it adds ±upstream: the same bits)
        self.grads[child] = after
        self.received[child].append(_Received(v, local, upstream, product))
        if child not in self.drawing.display:
            return None
        names, root = self.names, self.root
        sign = "=" if self.count[child] == 1 else r"\mathrel{+}="
        chain = f"{names.partial(root, v, True)} {names.partial(v, child, True)}"
        forms = [chain, rf"{_latex_factor(upstream)} \cdot {rule.latex_named}"] if rule.latex_named else [chain]
        forms += [rf"{_latex_factor(upstream)} \cdot {_latex_factor(local)}", latex_number(product)]
        return {
            "child": self.drawing.place(child),
            "child_id": self.drawing.ids[child],
            "label": names(child),
            "derivative": names.partial(v, child),
            "rule": rule.text,
            "local": local,
            "upstream": upstream,
            "product": product,
            "before": before,
            "after": after,
            "shown": {k: shown(x) for k, x in zip(SHOWN, (local, upstream, product, after))},
            "chain": f"{names.partial(root, v)}·{names.partial(v, child)} = {_factor(upstream)}·{_factor(local)}"
            f" = {shown(product)}",
            "latex": f"{names.partial(root, child, True)} {sign} " + " = ".join(forms),
            "latex_local": rule.latex,
        }


@dataclass
class _Rule:
    """A local derivative as the page writes it: the text line, and LaTeX (the whole line,
    and the rule in the nodes' names alone as a factor, or "" where it is a bare number)."""

    text: str
    latex: str
    latex_named: str = ""


def _locals(v: Value, names: Names) -> list[tuple[Value, float, _Rule]]:
    """Each (child, ∂v/∂child, its rule) in the order the engine adds them: from the op
    table's rule, or for a node made by hand measured from its ``_backward`` closure."""
    if v.hand_written:
        found = "from its _backward, written by hand (run with upstream gradient 1)"
        measured = local_derivatives(v)
        rules = [_Rule(f"{found}: {shown(x)}", f"{names.partial(v, c, True)} = {latex_number(x)}") for c, x in measured]
        return [(c, x, rule) for (c, x), rule in zip(measured, rules)]
    op = v.op
    assert isinstance(op, Op)
    return [
        (v.children[position], *_local(v, which, binds, names))
        for position, which, binds in contributions(op, len(v.children))
    ]


def _local(v: Value, which: int | None, binds: dict[str, int], names: Names) -> tuple[float, _Rule]:
    """The local derivative from the op table: its value, and its formula in the nodes'
    names, then in numbers, then worked out (``∂a1[1]/∂z1[1] = a1[1]·(1 − a1[1]) =
    0.667·(1 − 0.667) = 0.2221``); a rule with cases says which holds."""
    op = v.op
    assert isinstance(op, Op)
    if which is None:  # the start of Value.sum(A, s) / Value.dot(A, B, s): a plain term
        child = v.children[-1]
        return 1.0, _Rule(f"{names.partial(v, child)} = 1", f"{names.partial(v, child, True)} = 1")
    child = v.children[binds[op.operands[which]]]
    data = [v.children[binds[n]].data for n in op.operands]
    _, partials = call_rule(op, data, v.constant)
    local = partials[which]
    tree = prepare(op.partials[which], v.constant)
    env = _env(op, v, binds, names)
    numbers = _env(op, v, binds, names, numbers=True)
    if op.nary:  # ``out`` of the term, in numbers: the term's own value
        numbers["out"] = valued(call_rule(op, data, v.constant)[0])
    derivative_of = functools.partial(names.partial, v, child)
    named_text, named_latex, as_factor = write(tree, env), write(tree, env, True), factor(tree, env, True)
    if isinstance(tree, ast.IfExp):
        taken, reasons = branch(tree, _data(op, v, binds))
        reason = " and ".join(write(r, numbers) for r in reasons)
        worked = _distinct([write(taken, numbers), shown(local)])
        text = f"{derivative_of(False)} = {named_text}; here {reason}, so {' = '.join(worked)}"
        latex = f"{derivative_of(True)} = {named_latex} = " + " = ".join(
            _distinct([write(taken, numbers, True), latex_number(local)])
        )
        return local, _Rule(text, latex, as_factor)
    text = " = ".join(_distinct([derivative_of(False), named_text, write(tree, numbers), shown(local)]))
    latex_forms = _distinct([derivative_of(True), named_latex, write(tree, numbers, True), latex_number(local)])
    plain = _same_number(named_text, shown(local))  # the rule is a number: 1, −1, or c
    return local, _Rule(text, " = ".join(latex_forms), "" if plain else as_factor)

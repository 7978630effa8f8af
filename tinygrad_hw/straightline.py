"""Straight-line Python for one recorded graph: what ``replay`` runs.

Every node of the graph becomes one assignment, forward in the graph's order,
then every gradient contribution one statement, backward in the eager engine's
order, all from the op table's text::

    v2 = w0 * x0 + w1 * x1 + w2               # dot: the neuron's z
    v3 = 1.0 / (1.0 + exp(-v2))               # sigmoid
    ...
    gv2 = v3 * (1.0 - v3) * gv3               # ∂out/∂a · upstream
    gw0 = x0 * gv2

The same operations in the same order as ``backward()``: the same bits.

A neuron's sum of thousands of terms is written over several lines (one
expression of 3,000 terms is too deep for Python's compiler). Compiling costs
Python some tens of microseconds per statement, once; ``replay.choose`` sends
graphs too large for that to pay off to the loop in ``looped.py`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any, Callable

from .codegen import ARITH_ERRORS, can_raise, constant, contributions, expression, load, namespace, operand_order
from .engine import Value, topological_order
from .executor import FloatSteps
from .ops import Op

__all__ = ["StraightLine", "build"]

TERMS_PER_LINE = 64  # terms of an n-ary sum per line


@dataclass(frozen=True)
class Line:
    """One generated statement, as the op table writes it and IEEE-safe (where different)."""

    text: str
    safe: str | None


def _op(v: Value) -> Op:
    """The table's row that made ``v`` (the replay refuses nodes made by hand before this)."""
    if not isinstance(v.op, Op):
        raise ValueError(f"internal: node {v!r} has no row of the op table")
    return v.op


def _forward(v: Value, var: dict[Value, str]) -> list[Line]:
    """The assignment(s) computing node ``v`` from its children."""
    op = _op(v)
    target = var[v]
    start, terms = operand_order(op, len(v.children))
    const = {"c": constant(v._const)} if op.const and v._const is not None else {}
    binds = [{n: var[v.children[i]] for n, i in b.items()} for b in terms]
    risky = can_raise(op.formula)

    def term(names: dict[str, str], safe: bool) -> str:
        text = expression(op.formula, {**names, **const}, safe)
        return text if text.isidentifier() else f"({text})"

    if not op.nary:
        text = f"{target} = {expression(op.formula, {**binds[0], **const})}"
        safe = f"{target} = {expression(op.formula, {**binds[0], **const}, True)}" if risky else None
        return [Line(text, safe)]
    head = [var[v.children[start]]] if start is not None else []
    lines = []
    for first in range(0, len(binds), TERMS_PER_LINE):
        group = binds[first : first + TERMS_PER_LINE]
        lead = head if first == 0 else [target]  # later lines continue the sum, left to right as eager adds
        text = f"{target} = " + " + ".join(lead + [term(names, False) for names in group])
        safe = f"{target} = " + " + ".join(lead + [term(names, True) for names in group]) if risky else None
        lines.append(Line(text, safe))
    return lines


def _backward(root: Value, var: dict[Value, str], inputs: set[Value]) -> tuple[list[Line], set[Value]]:
    """Every gradient contribution, in the order ``backward()`` adds them; and the
    nodes whose gradient was assigned.

    A node's first contributions to gradients not yet started are written as one
    tuple assignment (``gw0, gw1, gv3 = x0 * g, x1 * g, g``), its other ones as
    ``+=`` lines after it: contributions to different gradients commute, those to one
    gradient keep their order, so the sums round as the engine's do -- and Python
    compiles one statement of many targets faster than many statements."""
    lines: list[Line] = []
    assigned: set[Value] = set()
    if not root.is_leaf:
        lines.append(Line(f"g{var[root]} = 1.0", None))
        assigned.add(root)
    for v in reversed(topological_order(root)):
        op = _op(v)
        upstream = "g" + var[v]
        fresh: list[tuple[str, str, str | None]] = []  # (target, value, IEEE-safe value)
        added: list[Line] = []
        for position, which, binds in contributions(op, len(v.children)):
            child = v.children[position]
            if child in inputs:
                continue  # nobody reads the gradient of an input number
            partial = "1.0" if which is None else op.partials[which]
            target, first = "g" + var[child], child not in assigned
            assigned.add(child)
            value, safe = _contribution(v, op, partial, binds, var, upstream)
            if first:
                fresh.append((target, value, safe))
            else:
                added.append(Line(f"{target} += {value}", f"{target} += {safe}" if safe else None))
        if fresh:
            targets = ", ".join(t for t, _, _ in fresh)
            text = f"{targets} = {', '.join(value for _, value, _ in fresh)}"
            risky = any(safe is not None for _, _, safe in fresh)
            safe_text = f"{targets} = {', '.join(safe or value for _, value, safe in fresh)}" if risky else None
            lines.append(Line(text, safe_text))
        lines += added
    return lines, assigned


def _contribution(
    v: Value, op: Op, partial: str, binds: dict[str, int], var: dict[Value, str], upstream: str
) -> tuple[str, str | None]:
    """``∂out/∂child × upstream`` as source (no multiply for ±1), and its IEEE-safe form
    where the partial can raise."""
    if partial == "1.0":
        return upstream, None
    if partial == "-1.0":
        return f"-{upstream}", None
    if partial in binds:  # a bare operand (dot's b, a): no template needed
        return f"{var[v.children[binds[partial]]]} * {upstream}", None
    names = {n: var[v.children[i]] for n, i in binds.items()}
    names["out"] = var[v]
    if op.const and v._const is not None:
        names["c"] = constant(v._const)
    value = f"({expression(partial, names)}) * {upstream}"
    return value, (f"({expression(partial, names, True)}) * {upstream}" if can_raise(partial) else None)


@dataclass
class StraightLine(FloatSteps):
    """A recorded graph as generated code: ``step(W, X)`` gives ``(loss, gradients)``
    and ``step(W, X, lr)`` gives ``(loss, W - lr · gradients)``, for the parameters'
    data ``W`` and the input numbers ``X``."""

    source: str  # the code as the op table writes it
    safe_source: Callable[[], str]  # the IEEE-safe code, generated when first needed
    filename: str
    fast: Callable[..., Any]
    safe: Callable[..., Any] | None = None

    def __call__(self, W: Sequence[float], X: Any, lr: float | None = None) -> tuple[float, tuple[float, ...]]:
        try:
            return self.fast(W, X, lr)
        except ARITH_ERRORS:  # exp(1000), 1/0, log(0): rerun the pure step with IEEE answers
            if self.safe is None:
                self.safe = _load(self.safe_source(), self.filename.replace(">", ", IEEE-safe>"))
            return self.safe(W, X, lr)


_serial = count(1)


def build(
    root: Value, nodes: list[Value], params: list[Value], inputs: list[Value], name: str = "step"
) -> StraightLine:
    """Generate and compile the straight-line step for this graph."""
    var: dict[Value, str] = {p: f"w{i}" for i, p in enumerate(params)}
    var.update({x: f"x{i}" for i, x in enumerate(inputs)})
    forward: list[Line] = []
    for k, v in enumerate(nodes):
        if v.is_leaf:
            if v not in var:
                raise ValueError("internal: a leaf that is neither a parameter nor an input")
            continue
        var[v] = f"v{k}"
        forward += _forward(v, var)
    backward, assigned = _backward(root, var, set(inputs))
    grads = ["g" + var[p] if p in assigned else ("1.0" if p is root else "0.0") for p in params]
    program = _Program(forward + backward, [var[p] for p in params], [var[x] for x in inputs], var[root], grads)
    filename = f"<replay {next(_serial)}: {name}>"
    source = program.source(safe=False)
    return StraightLine(source, lambda: program.source(safe=True), filename, _load(source, filename))


def _load(source: str, filename: str) -> Callable[..., Any]:
    """Compile generated code so that tracebacks, ``inspect`` and pdb can show it."""
    step: Callable[..., Any] = load(source, filename, dict(namespace(), __name__=__name__), keep="step")["step"]
    return step


@dataclass
class _Program:
    """The statements of one step and what it returns, written out as functions."""

    lines: list[Line]
    params: list[str]
    inputs: list[str]
    loss: str
    grads: list[str]

    def _returns(self, indent: str) -> list[str]:
        grads = ", ".join(self.grads)
        steps = ", ".join(f"{w} - lr * {g}" for w, g in zip(self.params, self.grads))
        tuple_of = (lambda text: f"({text},)") if self.params else (lambda text: "()")
        return [
            f"{indent}if lr is None:",
            f"{indent}    return {self.loss}, {tuple_of(grads)}",
            f"{indent}return {self.loss}, {tuple_of(steps)}",
        ]

    def source(self, safe: bool) -> str:
        body = [f"    {', '.join(self.params)}, = W"] if self.params else []
        body += [f"    {', '.join(self.inputs)}, = X"] if self.inputs else []
        body += ["    " + (line.safe if safe and line.safe is not None else line.text) for line in self.lines]
        return "\n".join(["def step(W, X, lr=None):", *body, *self._returns("    ")]) + "\n"

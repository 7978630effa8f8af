"""A recorded graph run by a loop over a flat list: no code to compile.

The straight-line replay (``straightline.py``) costs Python's compiler some tens
of microseconds per statement, once; for a graph of hundreds of thousands of
nodes that is minutes and gigabytes. Here the graph becomes a list of
``(op, result slot, operand slots, constant)`` and a loop runs it, calling each
op's rule from the table on plain floats: recording costs about as much as the
eager forward pass, and each run a few times less than eager (no ``Value``
objects, no sort). The same operations in the same order: the same bits.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Callable

from .codegen import ARITH_ERRORS, can_raise, contributions, expression, load, namespace, operand_order
from .engine import Value, topological_order
from .executor import FloatSteps
from .ops import Op

__all__ = ["Looped"]

Rule = Callable[..., Any]


def _compiled(text: str, params: str, name: str) -> Rule:
    """``def name(<params>): return <text>``, falling back to the IEEE-safe text where
    Python raises; registered with linecache, so that it debugs like written code."""
    fast = f"def {name}({params}):\n    return {expression(text, {})}\n"
    scope = load(fast, f"<tinygrad_hw looped: {name}>", dict(namespace(), __name__=__name__))
    fast_rule: Rule = scope[name]
    if not can_raise(text):
        return fast_rule
    safe = f"def {name}_ieee({params}):\n    return {expression(text, {}, safe=True)}\n"
    load(safe, f"<tinygrad_hw looped: {name}_ieee>", scope)
    safe_rule: Rule = scope[f"{name}_ieee"]

    def rule(*args: float) -> float:
        try:
            return fast_rule(*args)
        except ARITH_ERRORS:
            return safe_rule(*args)

    return rule


@functools.cache
def _rules(op: Op) -> tuple[Rule, tuple[Rule | float, ...]]:
    """An op's forward rule ``f(a, b, c)`` and its partials ``d(a, b, c, out)``; a partial
    of ±1 is kept as the number (added without a multiply, as eager does)."""
    partials = tuple(
        float(p) if p in ("1.0", "-1.0") else _compiled(p, "a, b, c, out", f"{op.name}_partial{i}")
        for i, p in enumerate(op.partials)
    )
    return _compiled(op.formula, "a, b, c", f"{op.name}_forward"), partials


@functools.lru_cache(maxsize=4096)
def _terms(op: Op, n_prev: int) -> tuple[int | None, list[tuple[int, int]]]:
    """The n-ary start's position (or None) and, per application of the rule, the
    positions of the children read as ``a`` and ``b`` (0 where the rule has no ``b``)."""
    start, terms = operand_order(op, n_prev)
    return start, [(b["a"], b.get("b", 0)) for b in terms]


@functools.lru_cache(maxsize=4096)
def _steps(op: Op, n_prev: int) -> list[tuple[int, float, Rule | float, tuple[int, int]]]:
    """Per gradient contribution, in ``backward()``'s order: the child's position, its
    kind (+1 or -1: add or subtract the upstream gradient; 0: multiply by the rule),
    the rule, and the positions of the children the rule reads."""
    _, partials = _rules(op)
    steps = []
    for position, which, binds in contributions(op, n_prev):
        rule = 1.0 if which is None else partials[which]
        kind = rule if isinstance(rule, float) else 0.0
        steps.append((position, kind, rule, (binds.get("a", 0), binds.get("b", 0))))
    return steps


def _op(v: Value) -> Op:
    if not isinstance(v.op, Op):
        raise ValueError(f"internal: node {v!r} has no row of the op table")
    return v.op


class Looped(FloatSteps):
    """The same interface as ``StraightLine``: ``step(W, X)`` gives ``(loss, gradients)``,
    ``step(W, X, lr)`` gives ``(loss, W - lr · gradients)``."""

    source = "(run by a loop over the recorded graph: too large to be worth compiling)"

    def __init__(self, root: Value, nodes: list[Value], params: list[Value], inputs: list[Value]) -> None:
        slot: dict[Value, int] = {p: i for i, p in enumerate(params)}
        slot.update({x: len(params) + i for i, x in enumerate(inputs)})
        self.n_params, self.n_inputs = len(params), len(inputs)
        self.forward: list[tuple[Any, ...]] = []
        for v in nodes:
            if v.is_leaf:
                if v not in slot:
                    raise ValueError("internal: a leaf that is neither a parameter nor an input")
                continue
            slot[v] = len(slot)
            op = _op(v)
            kids = [slot[c] for c in v.children]
            start, terms = _terms(op, len(kids))
            operands = [(kids[a], kids[b]) for a, b in terms]
            head = kids[start] if start is not None else None
            self.forward.append((_rules(op)[0], slot[v], op.nary, head, operands, v._const))
        self.backward: list[tuple[Any, ...]] = []
        inputs_at = range(self.n_params, self.n_params + self.n_inputs)
        for v in reversed(topological_order(root)):
            op = _op(v)
            kids = [slot[c] for c in v.children]
            steps = [
                (kids[child], kind, rule, (kids[a], kids[b]))
                for child, kind, rule, (a, b) in _steps(op, len(kids))
                if kids[child] not in inputs_at  # nobody reads the gradient of an input number
            ]
            self.backward.append((slot[v], v._const, steps))
        self.size, self.root, self.slot = len(slot), slot[root], slot

    def values(self, W: Sequence[float], X: Sequence[float], nodes: Sequence[Value]) -> list[float]:
        """The forward pass only: the values of recorded ``nodes`` for one sample."""
        V = self._forward(W, X)
        return [V[self.slot[v]] for v in nodes]

    def _forward(self, W: Sequence[float], X: Sequence[float]) -> list[float]:
        V = [0.0] * self.size
        V[: self.n_params] = W
        V[self.n_params : self.n_params + self.n_inputs] = X
        for rule, out, nary, head, operands, c in self.forward:
            if not nary:
                a, b = operands[0]
                V[out] = rule(V[a], V[b], c)
                continue
            terms = iter(operands)
            total = V[head] if head is not None else rule(*(V[i] for i in next(terms)), c)
            for a, b in terms:
                total += rule(V[a], V[b], c)
            V[out] = total
        return V

    def __call__(self, W: Sequence[float], X: Any, lr: float | None = None) -> tuple[float, tuple[float, ...]]:
        V = self._forward(W, X)
        G = [0.0] * self.size
        G[self.root] = 1.0
        for out, c, steps in self.backward:
            g, value = G[out], V[out]
            for child, kind, rule, (a, b) in steps:
                if kind == 1.0:
                    G[child] += g
                elif kind == -1.0:
                    G[child] -= g
                else:  # the partial first, then times the upstream gradient, as eager does
                    G[child] += rule(V[a], V[b], c, value) * g
        grads = G[: self.n_params]
        if lr is None:
            return V[self.root], tuple(grads)
        return V[self.root], tuple(w - lr * g for w, g in zip(W, grads))

"""The local derivatives at one node, as numbers: what the step-through page shows.

The kernels compute ∂node/∂child and add it times ``node.grad`` in one statement;
this module gives the numbers themselves, per child, in the order the kernels
add them -- from the op's rule for a node of the table, or measured from the
``_backward`` closure of a node made by hand.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Callable

from .codegen import ARITH_ERRORS, contributions, load, namespace, safe_form
from .ops import Op
from .value import HandWrittenOp, Value

__all__ = ["call_rule", "local_derivatives"]


def local_derivatives(node: Value) -> list[tuple[Value, float]]:
    """(child, ∂node/∂child) for each child of ``node``, in the order its backward step
    adds them. A child used twice appears twice (``a * a``); a leaf has none."""
    op = node.op
    if op is None:
        return []
    if isinstance(op, HandWrittenOp):
        return _measured(node)
    children = node.children
    pairs: list[tuple[Value, float]] = []
    results: dict[tuple[int, ...], tuple[float, ...]] = {}
    for position, which, binds in contributions(op, len(children)):
        if which is None:  # an n-ary start (a neuron's bias): ∂out/∂start = 1
            pairs.append((children[position], 1.0))
            continue
        key = tuple(binds[name] for name in op.operands)
        if key not in results:
            results[key] = call_rule(op, [children[i].data for i in key], node.constant)[1]
        pairs.append((children[position], results[key][which]))
    return pairs


def _measured(node: Value) -> list[tuple[Value, float]]:
    """A node made by hand has no rule, only its ``_backward`` closure: run that once with
    ``node.grad`` 1 and its children's at 0, and read off what it adds to each (the local
    derivatives, for a closure linear in ``node.grad`` as the chain rule's is). Every
    ``grad`` is put back as it was."""
    saved = [(v, v.grad) for v in (node, *node.children)]
    try:
        for child in node.children:
            child.grad = 0.0
        node.grad = 1.0
        node._backward()
        return [(child, child.grad) for child in node.children]
    finally:
        for v, g in saved:
            v.grad = g


def call_rule(op: Op, data: Sequence[float], const: float | None) -> tuple[float, tuple[float, ...]]:
    """``op.rule(*data[, const])``: its output and local derivatives. Where Python's maths
    raises (``math.exp(1000)``, ``1 / 0``), the rule's IEEE-754 twin answers instead
    (``inf``, ``nan``), as the kernels do."""
    args = [*data, const] if op.const else list(data)
    try:
        result: tuple[float, tuple[float, ...]] = op.rule(*args)
    except ARITH_ERRORS:
        result = _ieee_twin(op)(*args)
    return result


@functools.cache
def _ieee_twin(op: Op) -> Callable[..., Any]:
    """The rule with ``safe_exp``, ``safe_div``... for ``math.exp``, ``/``: generated from its
    text, registered with linecache so that it debugs like written code."""
    params = ", ".join([*op.operands, *("c" * op.const)])
    partials = ", ".join(safe_form(p) for p in op.partials)
    source = f"def {op.name}_ieee({params}):\n    out = {safe_form(op.formula)}\n    return out, ({partials},)\n"
    scope = load(source, f"<tinygrad_hw rule, IEEE-safe: {op.name}>", dict(namespace(), __name__=__name__))
    twin: Callable[..., Any] = scope[f"{op.name}_ieee"]
    return twin

"""Backpropagation, the plain way. Read this first.

This is the whole of reverse-mode autodiff in a few lines, shaped like
micrograd's ``backward``: order the nodes, then walk them from the output back,
and at each node ask its op's rule (a plain function in ``ops.py``) for the
local derivatives and apply the chain rule::

    child.grad += ∂node/∂child × node.grad

``Value.backward()`` does exactly this arithmetic, in exactly this order, through
kernels generated from the same rules (``kernels.py``) -- one straight function
per op instead of a call to the rule, a tuple of partials and a loop -- and
the tests hold the two equal, bit for bit, on random graphs. Set a breakpoint in
a rule (``ops.sigmoid``, say) and run ``backward(loss)`` from here to watch it
work on your own graph.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from .codegen import ARITH_ERRORS, NAMESPACE, load, safe_form
from .codegen import operand_order as terms_of
from .engine import Value, topological_order
from .ops import OPERANDS, Op

__all__ = ["backward", "local_derivatives"]


def backward(root: Value, gradient: float = 1.0) -> None:
    """Fill in ``grad`` for every node under ``root``: ∂root/∂node.

    The same contract as ``root.backward()``: leaves accumulate (as in PyTorch),
    interior nodes hold this call's gradient.
    """
    order = topological_order(root)  # the computed nodes, each after the nodes it was computed from
    for node in order:
        node.grad = 0.0  # interior nodes start from zero; leaves keep what they hold, and accumulate
    root.grad = gradient if order else root.grad + gradient  # ∂root/∂root (a lone leaf accumulates)
    for node in reversed(order):  # from the output back: a node's grad is complete before it is passed on
        for child, local in local_derivatives(node):
            child.grad += local * node.grad  # the chain rule


def local_derivatives(node: Value) -> list[tuple[Value, float]]:
    """(child, ∂node/∂child) for each child of ``node``, from its op's rule, in the order
    the engine applies them. A child used twice appears twice (``a * a``)."""
    if node.hand_written:
        return _measured(node)
    op = node.operation
    if op is None:
        return []  # a leaf: nothing below it
    children = node.children
    start, terms = terms_of(op, len(children))
    pairs: list[tuple[Value, float]] = []
    if start is not None:
        pairs.append((children[start], 1.0))  # an n-ary sum's start (a neuron's bias): ∂/∂start = 1
    for binds in terms:  # one application of the rule (one term of an n-ary sum)
        operands = [children[binds[name]] for name in OPERANDS[: op.arity]]
        _, partials = call_rule(op, [v.data for v in operands], node.constant)
        pairs += zip(operands, partials)
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


def call_rule(op: Op, data: list[float], const: float | None) -> tuple[float, tuple[float, ...]]:
    """``op.rule(*data[, const])``: its output and local derivatives. Where Python's maths
    raises (``math.exp(1000)``, ``1 / 0``), the rule's IEEE-754 twin answers instead
    (``inf``, ``nan``), as the engine does."""
    args = [*data, const] if op.const else data
    try:
        return op.rule(*args)  # type: ignore[no-any-return]
    except ARITH_ERRORS:
        return _ieee_twin(op)(*args)  # type: ignore[no-any-return]


@functools.cache
def _ieee_twin(op: Op) -> Callable[..., Any]:
    """The rule with ``safe_exp``, ``safe_div``... for ``math.exp``, ``/``: generated from its
    text, registered with linecache so that it debugs like written code."""
    params = ", ".join([*OPERANDS[: op.arity], *("c" * op.const)])
    partials = ", ".join(safe_form(p) for p in op.partials)
    source = f"def {op.name}_ieee({params}):\n    out = {safe_form(op.forward)}\n    return out, ({partials},)\n"
    scope = load(source, f"<tinygrad_hw rule, IEEE-safe: {op.name}>", dict(NAMESPACE, __name__=__name__))
    return scope[f"{op.name}_ieee"]  # type: ignore[no-any-return]

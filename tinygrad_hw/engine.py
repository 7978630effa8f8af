"""The engine, put together: ``Value`` (value.py) with each row of the op table (ops.py)
given its two kernels (kernels.py), grad mode, and the functions around backward.

Importing this module attaches the kernels; ``tinygrad_hw`` imports it first, so a
``Value`` is always ready to compute. :func:`register_op` adds an op while the
program runs -- its rule, its row and, if its rule calls a new function, a maths row
-- with kernels from the same generator as the table's own.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any, Callable

from .codegen import unload
from .generate import compile_kernels, kernel_filename
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .maths import Maths, add_maths, remove_maths
from .ops import OPS, Op, add_op, remove_op
from .value import HandWrittenOp, Value, display_renderers, graph_signature, paused_gc, topological_order, walk

__all__ = [
    "HandWrittenOp",
    "Registration",
    "Value",
    "display_renderers",
    "dot",
    "enable_grad",
    "grad",
    "graph_signature",
    "is_grad_enabled",
    "no_grad",
    "paused_gc",
    "register_op",
    "set_grad_enabled",
    "topological_order",
    "walk",
    "zero_grad",
]


def _attach_kernels() -> None:
    """Give every row of the table its kernels from kernels.py.

    A row kernels.py lacks (a rule added since ``make kernels`` last ran), or a
    kernels.py that does not import, gets kernels compiled in memory by the same
    generator, with a warning: the engine works, and ``make kernels`` -- which
    imports the engine -- can always repair the file.
    """
    try:
        from .kernels import KERNELS
    except Exception as error:  # any failure: the generator must still run to rewrite the file
        warnings.warn(f"tinygrad_hw/kernels.py does not import ({error!r}): run `make kernels`", stacklevel=2)
        KERNELS = {}
    missing = [op for name, op in OPS.items() if name not in KERNELS]
    if missing:
        names = ", ".join(op.name for op in missing)
        warnings.warn(f"tinygrad_hw/kernels.py is stale (no kernels for {names}): run `make kernels`", stacklevel=2)
    for op in missing:
        op.attach(*compile_kernels(op))
    for name, (forward, backward) in KERNELS.items():
        if name in OPS:
            OPS[name].attach(forward, backward)


_attach_kernels()
dot = Value.dot


def grad(output: Value, inputs: Iterable[Value]) -> list[float]:
    """∂output/∂input for each input, leaving every ``.grad`` as it was.

    ``torch.autograd.grad`` for scalars: nothing accumulates, so it is safe inside
    a training step. An input the output does not depend on gets 0.0.
    """
    nodes = walk(output)
    saved = [v.grad for v in nodes]
    for v in nodes:
        v.grad = 0.0
    reached = set(nodes)
    try:
        output.backward()
        return [x.grad if x in reached else 0.0 for x in inputs]
    finally:
        for v, g in zip(nodes, saved):
            v.grad = g


def zero_grad(values: Iterable[Value]) -> None:
    """Reset ``grad`` to 0 for each value (PyTorch's ``optimizer.zero_grad()``)."""
    for v in values:
        v.grad = 0.0


class Registration:
    """An op added by :func:`register_op`; ``remove()`` (or leaving its ``with`` block)
    takes it out again: its row, its maths rows, its ``Value`` method."""

    def __init__(self, op: Op, maths: list[str], method: str | None) -> None:
        self.op, self.maths, self.method = op, maths, method

    def remove(self) -> None:
        if self.method is not None and self.method in vars(Value):
            delattr(Value, self.method)
        if OPS.get(self.op.name) is self.op:
            remove_op(self.op.name)
            unload(kernel_filename(self.op))
        for name in self.maths:
            remove_maths(name)

    def __enter__(self) -> Op:
        return self.op

    def __exit__(self, *exc: object) -> None:
        self.remove()


def register_op(
    rule: Callable[..., Any],
    symbol: str,
    *,
    method: str | None = None,
    usage: Sequence[Callable[..., Any]] = (),
    smooth: Callable[..., bool] | None = None,
    nary: bool = False,
    maths: Sequence[Maths] = (),
) -> Registration:
    """Add an op while the program runs: its ``rule`` (a function of the form ``ops.py``
    describes), how it is drawn (``symbol``), and -- if the rule calls a function the
    maths table lacks -- its ``maths`` rows. Everything that reads the table picks it
    up: its kernels are generated and compiled at once, the replay executors, the
    numpy program, the drawings and the test strategies read its row.

    ``method`` names the ``Value`` method that applies it (``x.sin()``; for an n-ary op
    a static method, ``Value.name(A[, B][, start])``); ``usage`` defaults to calling
    that method. Returns a :class:`Registration`: ``remove()`` it, or use it in a
    ``with`` block, to take the op out again.
    """
    if method is not None and (not method.isidentifier() or hasattr(Value, method)):
        raise ValueError(f"method {method!r}: Value already has it, or it is not a name")
    added: list[str] = []
    try:
        for row in maths:
            add_maths(row)
            added.append(row.name)
        if not usage and not nary and method is not None:
            usage = (_calling(method),)
        op = Op(rule, symbol, usage=tuple(usage), nary=nary, smooth=smooth)
        add_op(op)
    except BaseException:
        for name in added:
            remove_maths(name)
        raise
    registration = Registration(op, added, None)
    try:
        op.attach(*compile_kernels(op))
        if method is not None:
            setattr(Value, method, staticmethod(op.forward) if nary else op.forward)
            registration.method = method
    except BaseException:
        registration.remove()
        raise
    return registration


def _calling(method: str) -> Callable[..., Any]:
    """The usage of an op applied by a method: ``a.<method>()`` (and ``a.<method>(b)``,
    ``a.<method>(c)`` for two operands or a constant)."""

    def usage(a: Any, *rest: Any, **named: Any) -> Any:
        return getattr(a, method)(*rest, *named.values())

    usage.__name__ = f"a.{method}"
    return usage

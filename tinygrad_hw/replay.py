"""Trace once, replay fast: one training step's graph compiled to straight-line Python.

A training step builds the same graph every time; only the numbers change.
``compile`` records the graph on the first call and turns it, from the op
table's own text, into one generated Python function over plain floats: no
``Value`` objects per step, no topological sort, no dispatch. Later calls run
that function on the new inputs and the parameters' current ``.data``, and add
the gradients into the parameters' ``.grad`` as ``backward()`` would -- the same
operations in the same order, so the same bits::

    step = compile(lambda x, y: mse(model(x), y))
    for x, y in data:
        loss = step(x, y)          # a float; the parameters' .grad accumulated
        opt.step()
        opt.zero_grad()

The contract, as for tinygrad's TinyJit: the function must build the same graph
on every call. Its arguments (numbers, Values, and lists or tuples of them) are
the replay's inputs; every other leaf the graph reads (the model's parameters)
is read afresh from its ``.data`` on each call. The replay checks what is cheap
to check -- the arguments' structure and kinds (a new structure is traced anew,
as a first call) -- but it cannot see Python control flow on ``.data`` or on
the numbers passed in (``if x > 0: ...``): a function that branches on its
inputs replays the branch it was traced with. ``check=True`` (or ``check=N``, every
Nth call) re-runs the function eagerly and raises :class:`ReplayError` if the
graph or the numbers differ; use it while developing.
"""

from __future__ import annotations

import builtins
import math
from dataclasses import dataclass
from typing import Any, Callable

from .codegen import ARITH_ERRORS, NAMESPACE, accumulate, contributions, expression, operand_order
from .engine import Value, enable_grad, grad, topological_order, walk

__all__ = ["Replay", "ReplayError", "Tape", "compile", "record"]


class ReplayError(RuntimeError):
    """The recorded graph does not fit this call, or check mode found a difference."""


def _flatten(args: Any) -> tuple[tuple[Any, ...], list[Any]]:
    """(structure, leaves in order) of nested lists/tuples of numbers and Values."""
    leaves: list[Any] = []
    signature: list[Any] = []
    stack = [args]
    while stack:
        item = stack.pop()
        if isinstance(item, Value):
            signature.append("v")
            leaves.append(item)
        elif isinstance(item, (list, tuple)):
            signature.append(len(item))
            stack.extend(reversed(item))
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            signature.append("n")
            leaves.append(float(item))
        elif hasattr(item, "tolist"):  # numpy arrays and scalars
            stack.append(item.tolist())
        else:
            raise TypeError(f"replay arguments must be numbers, Values, or lists of them, not {type(item).__name__}")
    return tuple(signature), leaves


def _unflatten(signature: tuple[Any, ...], leaves: list[Any]) -> Any:
    """Rebuild the nested arguments ``_flatten`` took apart (iteratively)."""
    feed = iter(leaves)
    root: list[Any] = []
    stack: list[tuple[list[Any], int]] = [(root, 1)]  # (list being filled, items still to come)
    for mark in signature:
        target, _ = stack[-1]
        if isinstance(mark, int):
            child: list[Any] = []
            target.append(child)
            stack[-1] = (target, stack[-1][1] - 1)
            stack.append((child, mark))
        else:
            target.append(next(feed))
            stack[-1] = (target, stack[-1][1] - 1)
        while len(stack) > 1 and stack[-1][1] == 0:
            stack.pop()
    return root[0]


@dataclass
class Tape:
    """One recorded graph, compiled.

    ``run(W, X) -> (loss, grads)`` and ``sgd(W, X, lr) -> (loss, new W)`` take the
    parameters' data ``W`` (in ``params`` order) and the inputs ``X``.
    """

    params: list[Value]  # leaves read afresh each call: captured ones, then Value arguments
    captured: int  # how many of ``params`` are captured (the rest come from the arguments)
    value_args: list[int]  # positions of Value arguments among the flat arguments
    input_args: list[int]  # positions of number arguments
    run: Callable[..., Any]
    sgd: Callable[..., Any]
    source: str
    shape: tuple[Any, ...]


def _shape(nodes: list[Value]) -> tuple[Any, ...]:
    """What makes a graph the same graph: each node's op, constant and children."""
    index = {v: i for i, v in enumerate(nodes)}
    return tuple((v.op, v._const, tuple(index[c] for c in v._prev)) for v in nodes)


def generate(root: Value, nodes: list[Value], params: list[Value], inputs: list[Value], safe: bool = False) -> str:
    """Python source of ``run(W, X)`` and ``sgd(W, X, lr)`` for this graph.

    Forward in ``nodes`` order (children first); backward in the reverse of
    ``topological_order``, adding each contribution in ``contributions`` order:
    exactly the eager engine's arithmetic. ``safe`` writes the IEEE-safe forms.
    """
    var: dict[Value, str] = {p: f"w{i}" for i, p in enumerate(params)}
    var.update({x: f"x{i}" for i, x in enumerate(inputs)})
    forward: list[str] = []
    for k, v in enumerate(nodes):
        if v.is_leaf:
            if v not in var:
                raise ReplayError("internal: a leaf that is neither a parameter nor an input")
            continue
        var[v] = f"v{k}"
        op = v._kernel.op  # type: ignore[union-attr]
        start, terms = operand_order(op, len(v._prev))
        const = {"c": repr(v._const)} if op.const else {}
        parts = [expression(op.out, {**{n: var[v._prev[i]] for n, i in b.items()}, **const}, safe) for b in terms]
        if op.nary:
            head = [var[v._prev[start]]] if start is not None else []
            forward.append(f"{var[v]} = " + " + ".join(head + [f"({p})" for p in parts]))
        else:
            forward.append(f"{var[v]} = {parts[0]}")

    backward: list[str] = []
    gname = {v: "g" + var[v] for v in var}
    assigned: set[Value] = set()
    if not root.is_leaf:
        backward.append(f"{gname[root]} = 1.0")
        assigned.add(root)
    inputs_set = set(inputs)
    for v in reversed(topological_order(root)):
        op = v._kernel.op  # type: ignore[union-attr]
        for position, partial, binds in contributions(op, len(v._prev)):
            child = v._prev[position]
            if child in inputs_set:
                continue  # nobody reads the gradient of an input number
            names = {n: var[v._prev[i]] for n, i in binds.items()}
            names["out"] = var[v]
            if op.const:
                names["c"] = repr(v._const)
            text = partial if partial in ("1.0", "-1.0") else expression(partial, names, safe)
            backward.append(accumulate(gname[child], text, gname[v], first=child not in assigned))
            assigned.add(child)
    grads = [gname[p] if p in assigned else ("1.0" if p is root else "0.0") for p in params]
    unpack = [f"{', '.join(var[p] for p in params)}, = W"] if params else []
    unpack += [f"{', '.join(var[x] for x in inputs)}, = X"] if inputs else []
    body = "\n".join("    " + line for line in unpack + forward + backward)
    tuple_of = (lambda items: f"({', '.join(items)},)") if params else (lambda items: "()")
    return (
        f"def run(W, X):\n{body}\n    return {var[root]}, {tuple_of(grads)}\n\n"
        f"def sgd(W, X, lr):\n{body}\n"
        f"    return {var[root]}, {tuple_of([f'{var[p]} - lr * {g}' for p, g in zip(params, grads)])}\n"
    )


def compile_tape(
    root: Value, nodes: list[Value], params: list[Value], inputs: list[Value]
) -> tuple[Callable[..., Any], Callable[..., Any], str]:
    """``run`` and ``sgd`` for this graph, and their source.

    Each is generated twice, as the op table writes it and IEEE-safe; the fast one
    runs and the safe one only if the fast one raises (they are pure, so a rerun
    is harmless).
    """
    fast: dict[str, Any] = dict(NAMESPACE)
    safe: dict[str, Any] = dict(NAMESPACE)
    source = generate(root, nodes, params, inputs)
    exec(builtins.compile(source, "<replay>", "exec"), fast)
    exec(builtins.compile(generate(root, nodes, params, inputs, safe=True), "<replay, IEEE-safe>", "exec"), safe)
    fast_run, safe_run, fast_sgd, safe_sgd = fast["run"], safe["run"], fast["sgd"], safe["sgd"]

    def run(W: Any, X: Any) -> Any:
        try:
            return fast_run(W, X)
        except ARITH_ERRORS:
            return safe_run(W, X)

    def sgd(W: Any, X: Any, lr: float) -> Any:
        try:
            return fast_sgd(W, X, lr)
        except ARITH_ERRORS:
            return safe_sgd(W, X, lr)

    return run, sgd, source


def record(fn: Callable[..., Value], args: Any, params: list[Value] | None = None) -> tuple[Tape, Value, list[Value]]:
    """Run ``fn`` once eagerly on ``args`` with the numbers as placeholder leaves, and
    compile the graph it builds. ``params`` fixes the order (and the set) of the
    captured leaves' slots in ``W``; by default, the order the graph meets them.
    Returns the tape, the loss node and the placeholders."""
    signature, flat = _flatten(args)
    placeholders = [x if isinstance(x, Value) else Value(x, f"input {i}") for i, x in enumerate(flat)]
    with enable_grad():  # a step compiled inside no_grad() still has a graph to record
        out = fn(*_unflatten(signature, placeholders))
    if not isinstance(out, Value):
        raise ReplayError(f"the function must return a Value (its loss), not {type(out).__name__}")
    value_args = [i for i, x in enumerate(flat) if isinstance(x, Value)]
    input_args = [i for i, x in enumerate(flat) if not isinstance(x, Value)]
    for i in value_args:
        if not flat[i].is_leaf:
            raise ReplayError(f"argument {i} is a computed Value; pass leaves (or its .data) to a replay")
    nodes = walk(out)
    inputs = [placeholders[i] for i in input_args]
    from_args = [placeholders[i] for i in value_args]
    known = set(inputs) | set(from_args)
    captured = [v for v in nodes if v.is_leaf and v not in known]
    if params is not None:
        listed = set(params)
        captured = list(params) + [v for v in captured if v not in listed]
    params = captured + from_args
    run, sgd, source = compile_tape(out, nodes, params, inputs)
    tape = Tape(params, len(captured), value_args, input_args, run, sgd, source, _shape(nodes))
    return tape, out, placeholders


class Replay:
    """``fn`` recorded on its first call (per argument structure) and replayed after.

    Calling it returns the loss as a float and adds the gradients into the
    ``.grad`` of every parameter (and of every Value argument), as
    ``loss = fn(*args); loss.backward()`` would. See the module docstring for the
    contract; ``check`` re-runs ``fn`` eagerly (every call, or every Nth) and
    raises :class:`ReplayError` on any difference.
    """

    def __init__(self, fn: Callable[..., Value], check: bool | int = False) -> None:
        if not callable(fn):
            raise TypeError(f"compile() takes a function, not {type(fn).__name__}")
        if isinstance(check, bool):
            self.every = 1 if check else 0
        elif isinstance(check, int) and check >= 0:
            self.every = check
        else:
            raise ValueError(f"check must be True, False or a number of calls, not {check!r}")
        self.fn = fn
        self.tapes: dict[tuple[Any, ...], Tape] = {}
        self.calls = 0

    def __call__(self, *args: Any) -> float:
        signature, flat = _flatten(args)
        tape = self.tapes.get(signature)
        if tape is None:
            tape, out, _ = record(self.fn, args)
            self.tapes[signature] = tape
            out.backward()  # the first call is an eager step
            return out.data
        self.calls += 1
        values = tape.params[: tape.captured] + [flat[i] for i in tape.value_args]
        X = [flat[i] for i in tape.input_args]
        loss, grads = tape.run([v.data for v in values], X)
        if self.every and self.calls % self.every == 0:
            self._check(tape, args, loss, grads, values)
        for v, g in zip(values, grads):
            v.grad += g
        return loss

    def _check(self, tape: Tape, args: Any, loss: float, grads: tuple[float, ...], values: list[Value]) -> None:
        fresh, out, placeholders = record(self.fn, args)
        if fresh.shape != tape.shape:
            raise ReplayError(
                "the function built a different graph than the one recorded (Python control flow on the data?); "
                "replay cannot be used for it, or give each case its own compile()"
            )
        expected = grad(out, fresh.params[: fresh.captured] + [p for p in placeholders if p in fresh.params])
        if out.data != loss or any(not _same(a, b) for a, b in zip(expected, grads)):
            raise ReplayError(
                f"replay gave loss {loss!r}, the eager engine {out.data!r}: the graph depends on the data"
            )

    @property
    def source(self) -> str:
        """The generated code of the most recently recorded graph (for reading)."""
        return next(reversed(self.tapes.values())).source if self.tapes else ""


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def compile(fn: Callable[..., Value] | None = None, *, check: bool | int = False) -> Any:
    """Record ``fn`` on its first call and replay it after; usable as a decorator
    (``@compile`` or ``@compile(check=True)``). See :class:`Replay`."""
    if fn is None:
        return lambda f: Replay(f, check=check)
    return Replay(fn, check=check)

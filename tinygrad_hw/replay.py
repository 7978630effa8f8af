"""Trace once, replay fast: one training step's graph compiled to straight-line Python.

A training step builds the same graph every time; only the numbers change.
``jit`` records the graph on the first call and turns it, from the op
table's own text, into one generated Python function over plain floats: no
``Value`` objects per step, no topological sort, no dispatch. Later calls run
that function on the new inputs and the parameters' current ``.data``, and add
the gradients into the parameters' ``.grad`` as ``backward()`` would -- the same
operations in the same order, so the same bits::

    step = jit(lambda x, y: mse(model(x), y))
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

import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable

from .engine import Value, enable_grad, grad, graph_signature, paused_gc, walk
from .executor import EXECUTORS, Executor
from .looped import Looped
from .numpyprogram import NumpyProgram, groups_of, numpy_lacks
from .ops import Op
from .straightline import build

__all__ = ["EXECUTORS", "Replay", "ReplayError", "Tape", "choose", "jit", "record", "record_numpy"]


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
    executor: Executor | None  # what runs it (see ``choose``); None if recorded only
    shape: tuple[Any, ...]

    @property
    def step(self) -> Executor:
        """The executor, which a tape recorded with ``executor="none"`` lacks."""
        if self.executor is None:
            raise ReplayError("this tape was recorded without an executor (executor='none')")
        return self.executor

    def run(self, W: Sequence[float], X: Any) -> tuple[float, Sequence[float]]:
        return self.step.run(W, X)

    def sgd(self, W: Sequence[float], X: Any, lr: float) -> tuple[float, Any]:
        return self.step.sgd(W, X, lr)

    @property
    def source(self) -> str:
        return self.step.source


def record(
    fn: Callable[..., Value],
    args: Any,
    params: list[Value] | None = None,
    executor: str = "auto",
    runs: int = 1000,
) -> tuple[Tape, Value, list[Value]]:
    """Run ``fn`` once eagerly on ``args`` with the numbers as placeholder leaves, and
    compile the graph it builds. ``params`` fixes the order (and the set) of the
    captured leaves' slots in ``W``; by default, the order the graph meets them.
    ``executor`` is ``"auto"`` (:func:`choose` decides, for about ``runs`` runs of the
    step), one of :data:`EXECUTORS`, or ``"none"`` (record only). Returns the tape,
    the loss node and the placeholders."""
    signature, flat = _flatten(args)
    placeholders = [x if isinstance(x, Value) else Value(x, f"input {i}") for i, x in enumerate(flat)]
    with enable_grad(), paused_gc:  # a step compiled inside no_grad() still has a graph to record
        out = fn(*_unflatten(signature, placeholders))
    if not isinstance(out, Value):
        raise ReplayError(f"the function must return a Value (its loss), not {type(out).__name__}")
    value_args = [i for i, x in enumerate(flat) if isinstance(x, Value)]
    input_args = [i for i, x in enumerate(flat) if not isinstance(x, Value)]
    for i in value_args:
        if not flat[i].is_leaf:
            raise ReplayError(f"argument {i} is a computed Value; pass leaves (or its .data) to a replay")
    with paused_gc:
        nodes = walk(out)
        _refuse_hand_written(nodes)
        inputs = [placeholders[i] for i in input_args]
        from_args = [placeholders[i] for i in value_args]
        known = set(inputs) | set(from_args)
        captured = [v for v in nodes if v.is_leaf and v not in known]
        if params is not None:
            listed = set(params)
            captured = list(params) + [v for v in captured if v not in listed]
        params = captured + from_args
        name = getattr(fn, "__qualname__", type(fn).__name__)
        step = None if executor == "none" else _build(executor, name, out, nodes, params, inputs, runs)
        tape = Tape(params, len(captured), value_args, input_args, step, graph_signature(nodes))
    return tape, out, placeholders


def _refuse_hand_written(nodes: list[Value]) -> None:
    """A node made by hand runs a Python closure backward: nothing a replay can record."""
    for v in nodes:
        if v.hand_written:
            raise ReplayError(
                f"the step has a node made by hand ({v._op or 'no _op'}{', ' + repr(v.label) if v.label else ''}): "
                "its _backward is a Python closure, which a replay cannot trace. Build it from the table's ops "
                "(x.tanh(), x.exp(), ...; see tinygrad_hw.ops to add one), or run the step eagerly (engine='eager')"
            )


TAPES_KEPT = 8  # argument structures a Replay keeps compiled
STRAIGHT_LINE_LIMIT = 20_000  # graph size (nodes + edges) up to which generated code pays for its compiling
# What one step costs, measured by benchmarks/bench_scale.py on the 2-core machine the
# README describes: per line of straight-line code, per node or edge of the loop, per
# numpy statement and per value (row × sample) of the numpy program.
COST_PER_LINE = 0.045e-6
COST_PER_LOOPED = 0.3e-6
COST_PER_STATEMENT = 1.7e-6
COST_PER_VALUE = 0.01e-6
COMPILE_PER_LINE = 15e-6  # generating and compiling straight-line code, per node and edge


def choose(nodes: list[Value], runs: int = 1000) -> str:
    """The executor for ``runs`` steps of this graph, by the costs measured in
    ``benchmarks/bench_scale.py`` (table (j)).

    Straight-line code runs a node or an edge in a few tens of nanoseconds, but costs
    tens of microseconds per line to compile, once; the loop over the graph compiles
    nothing and runs each node or edge in a few hundred; both give the eager engine's
    bits, and the cheaper of the two over ``runs`` steps is the exact choice. A numpy
    program costs microseconds per statement (about three per group of like nodes)
    whatever the group's size: it wins where dense layers make the groups large, but
    its matrix products round their own way, so it is chosen only where a step takes
    less than half the time of straight-line code (of the loop, for graphs beyond
    :data:`STRAIGHT_LINE_LIMIT`)."""
    size = len(nodes) + sum(len(v.children) for v in nodes)
    looped = COST_PER_LOOPED * size
    line = COST_PER_LINE * size if size <= STRAIGHT_LINE_LIMIT else math.inf
    exact = "straight-line" if (line * runs + COMPILE_PER_LINE * size) <= looped * runs else "looped"
    fastest_exact = min(line, looped)
    numpy_can = not nodes[-1].is_leaf and not numpy_lacks({v.op for v in nodes if isinstance(v.op, Op)})
    if numpy_can and fastest_exact > 2 * COST_PER_STATEMENT * 6:  # numpy could win: count its groups
        numpy = COST_PER_STATEMENT * 3 * len(groups_of(nodes)) + COST_PER_VALUE * len(nodes)
        if numpy < fastest_exact / 2:
            return "numpy"
    return exact


def _build(
    executor: str,
    name: str,
    out: Value,
    nodes: list[Value],
    params: list[Value],
    inputs: list[Value],
    runs: int = 1000,
) -> Executor:
    if executor == "auto":
        executor = choose(nodes, runs)
    if executor == "numpy":
        if out.is_leaf:
            raise ReplayError("a graph whose output is a leaf has nothing for numpy to run")
        return NumpyProgram(out, nodes, params, inputs)
    if executor == "straight-line":
        return build(out, nodes, params, inputs, name)
    if executor == "looped":
        return Looped(out, nodes, params, inputs)
    raise ValueError(f"unknown executor {executor!r}: choose one of {', '.join(EXECUTORS)} or 'auto'")


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
            raise TypeError(f"jit() takes a function, not {type(fn).__name__}")
        if isinstance(check, bool):
            self.every = 1 if check else 0
        elif isinstance(check, int) and check >= 0:
            self.every = check
        else:
            raise ValueError(f"check must be True, False or a number of calls, not {check!r}")
        self.fn = fn
        self.tapes: OrderedDict[tuple[Any, ...], Tape] = OrderedDict()  # by argument structure, most recent last
        self.calls = 0

    def __call__(self, *args: Any) -> float:
        signature, flat = _flatten(args)
        tape = self.tapes.get(signature)
        if tape is not None:
            self.tapes.move_to_end(signature)
        if tape is None:
            tape, out, _ = record(self.fn, args)
            self.tapes[signature] = tape
            while len(self.tapes) > TAPES_KEPT:
                self.tapes.popitem(last=False)  # the least recently used structure is recorded again if it comes back
            out.backward()  # the first call is an eager step
            return out.data
        self.calls += 1
        values = tape.params[: tape.captured] + [flat[i] for i in tape.value_args]
        X = [flat[i] for i in tape.input_args]
        loss, grads = tape.run([v.data for v in values], X)
        if self.every and self.calls % self.every == 0:
            self._check(tape, args, loss, grads)
        for v, g in zip(values, grads):
            v.grad += g
        return loss

    def _check(self, tape: Tape, args: Any, loss: float, grads: Sequence[float]) -> None:
        fresh, out, placeholders = record(self.fn, args)
        if fresh.shape != tape.shape:
            raise ReplayError(
                "the function built a different graph than the one recorded (Python control flow on the data?); "
                "replay cannot be used for it, or give each case its own jit()"
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


def jit(fn: Callable[..., Value] | None = None, *, check: bool | int = False) -> Any:
    """Record ``fn`` on its first call and replay it after; usable as a decorator
    (``@jit`` or ``@jit(check=True)``). See :class:`Replay`."""
    if fn is None:
        return lambda f: Replay(f, check=check)
    return Replay(fn, check=check)


def record_numpy(fn: Callable[..., Value], sample: Any, params: list[Value] | None = None) -> NumpyProgram:
    """Record ``fn`` on one sample's arguments (numbers only) as a numpy program, which
    then runs on one sample or a batch of them at once (``run``, ``values``)."""
    tape, out, placeholders = record(fn, sample, params, executor="none")
    if tape.value_args:
        raise ValueError("a numpy program takes numbers as arguments, not Values")
    if out.is_leaf:
        raise ReplayError("a graph whose output is a leaf has nothing for numpy to run")
    return NumpyProgram(out, walk(out), tape.params, [placeholders[i] for i in tape.input_args])

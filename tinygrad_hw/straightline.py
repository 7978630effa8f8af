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

The same statements also make ``epoch``: a loop over a whole epoch's samples with
the SGD update after each, the weights in locals throughout (``fit``'s per-sample
training). Graphs of one structure get the same code, so it is kept by structure
(``clear_cache``) and each function is compiled when first called.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import count
from typing import Any, Callable

from .codecache import CodeCache
from .codegen import ARITH_ERRORS, can_raise, constant, contributions, expression, load, namespace, operand_order
from .engine import Value, topological_order
from .executor import FloatSteps
from .ops import Op

__all__ = ["StraightLine", "build", "cache_info", "clear_cache"]

TERMS_PER_LINE = 64  # terms of an n-ary sum per line


@dataclass(frozen=True)
class Line:
    """One generated statement, as the op table writes it and IEEE-safe (where different);
    a tuple assignment also as its separate assignments (``split``), which run faster
    where the statement runs many times (the epoch's loop) but compile slower."""

    text: str
    safe: str | None
    split: tuple[str, ...] = ()


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
            split = tuple(f"{target} = {value}" for target, value, _ in fresh) if len(fresh) > 1 else ()
            lines.append(Line(text, safe_text, split))
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
class _Code:
    """One graph structure's program and its functions, each compiled when first needed
    (``fit``'s per-sample epochs need only the epoch function); shared by every
    :class:`StraightLine` of that structure through the cache."""

    program: _Program
    filename: str
    source: str  # the step as the op table writes it
    _fast: Callable[..., Any] | None = None
    _safe: Callable[..., Any] | None = None
    _epoch: Callable[..., Any] | None = None

    @property
    def fast(self) -> Callable[..., Any]:
        if self._fast is None:
            self._fast = _load(self.source, self.filename, "step")
        return self._fast

    def run(self, W: Sequence[float], X: Any, lr: float | None) -> tuple[float, tuple[float, ...]]:
        """The step: compiled on this first call, then this method is that function itself."""
        self.run = self.fast  # type: ignore[method-assign]  # an attribute now: no property on later calls
        return self.run(W, X, lr)

    @property
    def safe(self) -> Callable[..., Any]:
        if self._safe is None:
            safe = self.filename.replace(">", ", IEEE-safe>")
            self._safe = _load(self.program.source(safe=True), safe, "step")
        return self._safe

    @property
    def epoch(self) -> Callable[..., Any]:
        if self._epoch is None:
            epoch = self.filename.replace(">", ", epoch>")
            self._epoch = _load(self.program.epoch_source(), epoch, "epoch")
        return self._epoch


@dataclass
class StraightLine(FloatSteps):
    """A recorded graph as generated code: ``step(W, X)`` gives ``(loss, gradients)``
    and ``step(W, X, lr)`` gives ``(loss, W - lr · gradients)``, for the parameters'
    data ``W`` and the input numbers ``X``; :meth:`epoch_function` runs a whole
    epoch of per-sample SGD steps in one call."""

    code: _Code
    source: str = field(init=False)  # the step's code as the op table writes it, for reading

    def __post_init__(self) -> None:
        self.source = self.code.source

    @property
    def filename(self) -> str:
        return self.code.filename

    @property
    def fast(self) -> Callable[..., Any]:
        return self.code.fast

    def __call__(self, W: Sequence[float], X: Any, lr: float | None = None) -> tuple[float, tuple[float, ...]]:
        try:
            return self.code.run(W, X, lr)
        except ARITH_ERRORS:  # exp(1000), 1/0, log(0): rerun the pure step with IEEE answers
            return self.code.safe(W, X, lr)

    def epoch_function(self) -> Callable[..., None]:
        """``epoch(S, XS, lr, flag, out)``: per-sample SGD steps over the samples ``XS``
        (each sample's flat inputs), in order, the same bits as :meth:`sgd` step by step.

        ``S`` is ``(*weights, loss so far, steps so far)``. Before each sample it stops if
        ``flag.pending`` (a Ctrl-C to honour); a sample whose loss is not finite stops it
        unstepped, that loss in ``out[1]``. However it ends -- even by an exception, such
        as Python's ``OverflowError`` where IEEE-754 says inf (rerun that sample with
        :meth:`sgd`) -- ``out[0]`` is ``S`` after the last completed step (see
        ``_Program.epoch_source`` for why no exception lands in half an update)."""
        return self.code.epoch


_serial = count(1)
CACHE_ENTRIES = 64  # graph structures whose code is kept compiled
CACHE_CHARS = 4_000_000  # characters of generated source kept, all entries together
_cache: CodeCache[_Code] = CodeCache(CACHE_ENTRIES, CACHE_CHARS)


def clear_cache() -> None:
    """Forget every compiled graph (the next record of each structure compiles again)."""
    _cache.clear()


def cache_info() -> dict[str, Any]:
    """Entries and characters held, hits and misses since the last :func:`clear_cache`."""
    return _cache.stats()


def _structure(nodes: list[Value], params: list[Value], inputs: list[Value], name: str) -> tuple[Any, ...]:
    """What the generated code depends on: each node's row of the op table, constant (by
    ``repr``: -0.0 is not 0.0, and NaN is itself) and children's positions, and where the
    parameters and inputs are. Equal structures get the same source, character for character."""
    index = {v: i for i, v in enumerate(nodes)}
    shape = tuple(
        [(v.op, None if v._const is None else repr(v._const), tuple([index[c] for c in v._prev])) for v in nodes]
    )
    where = index.get
    return name, shape, tuple([where(p, -1) for p in params]), tuple([where(x, -1) for x in inputs])


def build(
    root: Value, nodes: list[Value], params: list[Value], inputs: list[Value], name: str = "step"
) -> StraightLine:
    """The straight-line step for this graph: from the cache when a graph of the same
    structure was built before, else generated (and compiled when first run)."""
    key = _structure(nodes, params, inputs, name)
    code = _cache.get(key)
    if code is None:
        program = _generate(root, nodes, params, inputs)
        source = program.source(safe=False)
        code = _Code(program, f"<replay {next(_serial)}: {name}>", source)
        _cache.put(key, code, 3 * len(source))  # the step, its IEEE-safe twin and the epoch are about the same size
    return StraightLine(code)


def _generate(root: Value, nodes: list[Value], params: list[Value], inputs: list[Value]) -> _Program:
    """Every statement of the step, named by position: ``w``/``x`` for parameters and
    inputs, ``v`` for the k-th node (``g`` before a name for its gradient)."""
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
    return _Program(forward + backward, [var[p] for p in params], [var[x] for x in inputs], var[root], grads)


def _load(source: str, filename: str, name: str) -> Callable[..., Any]:
    """Compile generated code so that tracebacks, ``inspect`` and pdb can show it."""
    function: Callable[..., Any] = load(source, filename, dict(namespace(), __name__=__name__), keep=name)[name]
    return function


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

    def epoch_source(self) -> str:
        """``epoch(S, XS, lr, flag, out)`` (see :meth:`StraightLine.epoch_function`): the
        step's statements in a loop over the samples, the weights in locals throughout.

        The update is one assignment per weight, then the loss sum and the step count: no
        call and no backward jump among them, which are the only places CPython raises
        a signal's exception (Ctrl-C), so it never lands in half an update."""
        state = [*self.params, "total", "done"]
        sample = f"{', '.join(self.inputs)}," if self.inputs else "_"
        loss = self.loss
        body = [part for line in self.lines for part in (line.split or (line.text,))]
        body += [f"if {loss} - {loss} != 0.0:  # inf or nan: no step, and the epoch stops here"]
        body += [f"    out[1] = {loss}", "    break"]
        body += [f"{w} = {w} - lr * {g}" for w, g in zip(self.params, self.grads)]
        return (
            "\n".join(
                [
                    "def epoch(S, XS, lr, flag, out):",
                    f"    {', '.join(state)}, = S",
                    "    try:",
                    f"        for {sample} in XS:",
                    "            if flag.pending:",
                    "                break",
                    *["            " + line for line in body],
                    f"            total = total + {loss}",
                    "            done = done + 1",
                    "    finally:",
                    f"        out[0] = ({', '.join(state)},)",
                ]
            )
            + "\n"
        )

"""Replay one sample's graph over a whole batch at once, with numpy.

For mini-batch and full-batch training the straight-line replay (``replay.py``)
would repeat one sample's code for every sample. Here one sample's graph is
recorded and each value becomes a row of a (values × samples) array: every op
runs once per group of like nodes, on whole rows, with the op table's own text
read as numpy (``exp`` is ``np.exp``, ``x if c else y`` is ``np.where``).

* Nodes are grouped by depth and op; each group's results fill consecutive rows,
  so most operands are views, not copies.
* A group of ``dot`` nodes whose weights are parameters and whose inputs are the
  same rows for every node is a dense layer: a matrix product, forward and back.
* Where several contributions land on one row, a 0/1 matrix product adds them
  (twenty times faster than ``np.add.at``).

The loss of a batch is the mean of the per-sample losses (as for ``mse`` and
``bce``). numpy's ``exp`` and summation order round differently from Python's, so
the numbers match the eager engine to about 1e-15 relative, not bit for bit.
"""

from __future__ import annotations

import ast
import functools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .codegen import load, operand_order
from .engine import Value, walk
from .ops import OPERANDS, Op
from .replay import record

__all__ = ["BatchTape"]

_NUMPY = {"exp": np.exp, "log": np.log, "tanh": np.tanh, "pow": np.power, "abs": np.abs, "where": np.where}


class _Vectorize(ast.NodeTransformer):
    """``x if c else y`` -> ``where(c, x, y)``, so the op table's text runs on arrays."""

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        call = ast.Call(ast.Name("where", ast.Load()), [node.test, node.body, node.orelse], [])
        return ast.copy_location(call, node)


@functools.cache
def _array_function(text: str, name: str) -> Callable[..., Any]:
    """The rule's text as ``name(a, b, c, out)`` on numpy arrays, registered with
    linecache so that it debugs like written code."""
    tree = ast.fix_missing_locations(_Vectorize().visit(ast.parse(text, mode="eval")))
    source = f"def {name}(a, b, c, out):\n    return {ast.unparse(tree)}\n"
    return load(source, f"<tinygrad_hw batched: {name}>", dict(_NUMPY, __name__=__name__))[name]  # type: ignore[no-any-return]


def _rows(index: np.ndarray) -> slice | np.ndarray:
    """A slice when the rows are consecutive (a view, no copy), else the index array."""
    flat = index.ravel()
    if index.ndim == 1 and len(flat) and (np.diff(flat) == 1).all():
        return slice(int(flat[0]), int(flat[-1]) + 1)
    return index


@dataclass
class _Scatter:
    """How to add contributions (m, B) into rows ``index`` of the gradient array."""

    index: np.ndarray
    rows: slice | np.ndarray
    unique: np.ndarray | None = None  # target rows when some repeat ...
    summer: np.ndarray | None = None  # ... and the 0/1 matrix adding their contributions

    @classmethod
    def to(cls, index: np.ndarray) -> _Scatter:
        flat = index.ravel()
        unique, inverse = np.unique(flat, return_inverse=True)
        if len(unique) == len(flat):
            return cls(flat, _rows(flat))
        summer = np.zeros((len(unique), len(flat)))
        summer[inverse, np.arange(len(flat))] = 1.0
        return cls(flat, flat, unique, summer)

    def add(self, G: np.ndarray, contributions: np.ndarray) -> None:
        contributions = contributions.reshape(len(self.index), -1)
        if self.summer is None:
            G[self.rows] += contributions
        else:
            G[self.unique] += self.summer @ contributions


@dataclass
class _Group:
    """Like nodes at one depth: one numpy evaluation for all of them."""

    op: Op
    out: slice  # their rows
    operands: list[np.ndarray]  # per operand name: (n,) rows, or (n, terms) for n-ary ops
    takes: list[slice | np.ndarray]  # how to read each operand: a view where possible
    start: slice | np.ndarray | None  # n-ary start rows
    const: np.ndarray | None  # (n, 1)
    forward: Callable[..., Any]
    partials: list[Callable[..., Any] | None]  # None: the derivative is 1
    scatters: list[_Scatter]
    start_scatter: _Scatter | None
    dense: bool = False  # a layer: weights (parameter rows) times shared input rows


class BatchTape:
    """One sample's graph, replayed over a batch: ``run(W, X)`` and ``sgd(W, X, lr)``.

    ``W`` holds the parameters' data (in ``params`` order), ``X`` one row per sample
    with the sample's flattened arguments (as ``replay`` flattens them).
    """

    def __init__(self, root: Value, nodes: list[Value], params: list[Value], inputs: list[Value]) -> None:
        self.params = params
        depth: dict[Value, int] = {}
        groups: dict[tuple[Any, ...], list[Value]] = defaultdict(list)
        for v in nodes:  # children first
            if v.is_leaf:
                depth[v] = 0
                continue
            depth[v] = 1 + max(depth[c] for c in v.children)
            op = v.operation  # type: ignore[assignment]
            start, terms = operand_order(op, len(v.children))
            groups[(depth[v], op.name, len(terms) if op.nary else 0, start is not None)].append(v)
        row: dict[Value, int] = {p: i for i, p in enumerate(params)}
        row.update({x: len(params) + i for i, x in enumerate(inputs)})
        self.n_params, self.n_inputs = len(params), len(inputs)
        ordered = sorted(groups.items(), key=lambda item: item[0][0])
        for _, members in ordered:
            for v in members:
                row[v] = len(row)
        self.n_rows = len(row)
        self.root = row[root]
        self.groups = [self._group(members, row) for _, members in ordered]
        self.params_in_rows = any(
            not g.dense and any((ix < self.n_params).any() for ix in g.operands) for g in self.groups
        )

    def _group(self, members: list[Value], row: dict[Value, int]) -> _Group:
        op = members[0].operation  # type: ignore[assignment]
        orders = [operand_order(op, len(v.children)) for v in members]
        names = OPERANDS[: op.arity]
        if op.nary:
            operands = [
                np.array([[row[v.children[b[name]]] for b in terms] for v, (_, terms) in zip(members, orders)])
                for name in names
            ]
        else:
            operands = [np.array([row[v.children[orders[0][1][0][name]]] for v in members]) for name in names]
        start = (
            np.array([row[v.children[s]] for v, (s, _) in zip(members, orders)]) if orders[0][0] is not None else None
        )
        const = np.array([[v.constant] for v in members], dtype=float) if op.const else None
        out = slice(row[members[0]], row[members[-1]] + 1)
        dense = (
            op.name == "dot"
            and (operands[0] < self.n_params).all()
            and len(np.unique(operands[0])) == operands[0].size  # each weight once
            and (operands[1] == operands[1][0]).all()  # every node reads the same inputs ...
            and len(np.unique(operands[1][0])) == operands[1].shape[1]  # ... each once
            and (start is None or ((start < self.n_params).all() and len(np.unique(start)) == len(start)))
        )
        takes = [_rows(operands[1][0]) if dense and k == 1 else _rows(ix) for k, ix in enumerate(operands)]
        partials = [
            None if p == "1.0" else _array_function(p, f"{op.name}_partial{i}_arrays")
            for i, p in enumerate(op.partials)
        ]
        return _Group(
            op,
            out,
            operands,
            takes,
            _rows(start) if start is not None else None,
            const,
            _array_function(op.forward, f"{op.name}_forward_arrays"),
            partials,
            [_Scatter.to(ix) for ix in operands],
            _Scatter.to(start) if start is not None else None,
            dense,
        )

    # -- running ------------------------------------------------------------------------

    def _forward(self, W: np.ndarray, X: np.ndarray) -> np.ndarray:
        V = np.empty((self.n_rows, len(X)))
        if self.params_in_rows:
            V[: self.n_params] = W[:, None]
        V[self.n_params : self.n_params + self.n_inputs] = X.T
        for g in self.groups:
            if g.dense:
                z = W[g.operands[0]] @ V[g.takes[1]]
                V[g.out] = z if g.start is None else z + W[g.start][:, None]
                continue
            args = [V[t] for t in g.takes] + [None] * (2 - len(g.takes))
            value = g.forward(args[0], args[1], g.const, None)
            if g.op.nary:
                value = value.sum(axis=1)
                if g.start is not None:
                    value = value + V[g.start]
            V[g.out] = value
        return V

    def _backward(self, W: np.ndarray, V: np.ndarray) -> np.ndarray:
        G = np.zeros_like(V)
        grad_W = np.zeros(self.n_params)
        batch = V.shape[1]
        G[self.root] = 1.0 / batch  # the batch loss is the mean over samples
        for g in reversed(self.groups):
            up = G[g.out]
            if g.dense:  # z = W·a (+ b): ∂W = ∂z aᵀ, ∂a = Wᵀ ∂z, ∂b = Σ ∂z
                grad_W[g.operands[0]] += up @ V[g.takes[1]].T
                G[g.takes[1]] += W[g.operands[0]].T @ up
                if g.start is not None:
                    grad_W[g.start] += up.sum(axis=1)
                continue
            args = [V[t] for t in g.takes] + [None] * (2 - len(g.takes))
            if g.op.nary:
                up3 = up[:, None, :]
                for partial, scatter in zip(g.partials, g.scatters):
                    local = up3 if partial is None else partial(args[0], args[1], None, None) * up3
                    scatter.add(G, np.broadcast_to(local, args[0].shape))
                if g.start_scatter is not None:
                    g.start_scatter.add(G, up)
                continue
            out = V[g.out]
            for partial, scatter in zip(g.partials, g.scatters):
                scatter.add(G, up if partial is None else partial(args[0], args[1], g.const, out) * up)
        return grad_W + G[: self.n_params].sum(axis=1)

    def run(self, W: Any, X: Any) -> tuple[float, np.ndarray]:
        """(mean loss over the batch, gradient of it for each parameter)."""
        W, X = np.asarray(W, dtype=float), np.asarray(X, dtype=float)
        with np.errstate(all="ignore"):
            V = self._forward(W, X)
            return float(V[self.root].mean()), self._backward(W, V)

    def sgd(self, W: Any, X: Any, lr: float) -> tuple[float, np.ndarray]:
        """(mean loss, W - lr · gradient)."""
        loss, grads = self.run(W, X)
        return loss, np.asarray(W, dtype=float) - lr * grads

    @classmethod
    def record(cls, fn: Callable[..., Value], sample: Any, params: list[Value] | None = None) -> BatchTape:
        """Record ``fn`` on one sample's arguments and compile it for batches."""
        tape, out, placeholders = record(fn, sample, params)
        if tape.value_args:
            raise ValueError("a batched replay takes numbers as arguments, not Values")
        return cls(out, walk(out), tape.params, [placeholders[i] for i in tape.input_args])

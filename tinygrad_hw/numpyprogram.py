"""The numpy program: one sample's graph run with numpy, on one sample or a whole batch at once.

The straight-line replay (``straightline.py``) pays a Python statement per node
and per edge: unbeatable for the report's small network, slow for a layer of 64
neurons (4,000 weights) and hopeless for a batch. Here the recorded graph becomes
a short numpy program, generated once:

* nodes are grouped by depth and op; a group's values fill consecutive rows of a
  (rows × samples) array -- a vector of rows for one sample -- so that one numpy
  expression, the op's rule read as numpy (``exp`` is ``np.exp``, ``x if c else
  y`` is ``np.where``), computes them all, for every sample;
* a group of ``dot`` nodes whose weights are parameters and whose inputs are the
  same rows is a dense layer: one matrix product forward, two back;
* parameters live once, in one flat vector laid out so that each dense layer's
  weights are a matrix view of it; the arrays hold activations only, and are kept
  from one call to the next for a batch size, with every view the program reads
  made once;
* where several contributions land on one row, a 0/1 matrix product adds them
  (twenty times faster than ``np.add.at``); a row's first contribution is
  assigned, so nothing is zeroed that need not be.

The loss of a batch is the mean of the per-sample losses (as for ``mse`` and
``bce``). numpy sums a matrix product in its own order, and its ``exp`` may
round differently from Python's in the last bit: the numbers agree with the
eager engine to about 1e-15 relative, not bit for bit.

Which numbers are finite must not depend on that order, though: where eager's
``inf + -inf`` is ``nan``, numpy's matrix product (fused multiply-adds, its own
order) can give ``-inf``, or a finite number. So after each run the program checks
that every number it computed was finite and far from overflow (:data:`LIMIT`);
for the samples where one was not, it computes the answer again exactly, with the
eager engine's arithmetic in its order (``looped.py``).
"""

from __future__ import annotations

import ast
import math
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any, Callable

import numpy as np

from .codegen import library_names, load, missing, names_in, operand_order, template
from .engine import Value
from .looped import Looped
from .maths import MATHS
from .ops import OPERANDS, Op

__all__ = ["NumpyProgram", "numpy_lacks"]


def _namespace() -> dict[str, Any]:
    """The names the program's text may use: each maths function as its numpy ufunc."""
    return {"np": np, **library_names(np, "numpy")}


def numpy_lacks(ops: set[Op]) -> list[str]:
    """The maths functions these ops call that have no numpy form (maths.py): then there is
    no numpy program for the graph."""
    names = _namespace()
    return sorted({name for op in ops for name in missing(op, names)})


_UFUNCS = {
    ast.Add: "np.add",
    ast.Sub: "np.subtract",
    ast.Mult: "np.multiply",
    ast.Div: "np.divide",
    ast.MatMult: "np.matmul",
}
BUFFERS_KEPT = 4  # batch sizes whose arrays are kept for the next call
# Σ v² over the numbers of a run, at most, for numpy's answer to stand: then every |v| <= 1e150,
# every product of two is <= 1e300 and a sum of up to 1e8 of them cannot overflow in any order,
# so numpy and the eager engine agree on what is finite (beyond it: exact arithmetic, per sample).
LIMIT = 1e300
_Buffers = tuple[np.ndarray, np.ndarray, Callable[[], None], Callable[[float], None]]  # V, V and G flat, steps


def _into(target: str, expression: str) -> str:
    """``target[...] = expression`` written so that numpy computes straight into ``target``
    where it can (``np.divide(x, y, out=target)``), without a temporary and a copy."""
    node = ast.parse(expression, mode="eval").body
    if isinstance(node, ast.BinOp) and type(node.op) in _UFUNCS:
        ufunc, args = _UFUNCS[type(node.op)], [node.left, node.right]
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MATHS:
        ufunc, args = f"np.{MATHS[node.func.id].numpy}", node.args
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        ufunc, args = "np.negative", [node.operand]
    else:
        return f"{target}[...] = {expression}"
    return f"{ufunc}({', '.join(ast.unparse(a) for a in args)}, out={target})"


def _add_into(target: str, value: str) -> str:
    """``target += value``, in place (``+=`` on a name would make it a local of the step)."""
    return f"np.add({target}, {value}, out={target})"


def _span(index: np.ndarray) -> tuple[int, int] | None:
    """(first, end) when the rows are consecutive (or all one row): a view, no copy."""
    flat = index.ravel()
    if index.ndim != 1 or not len(flat):
        return None
    if len(flat) == 1 or (np.diff(flat) == 1).all():
        return int(flat[0]), int(flat[-1]) + 1
    if (flat == flat[0]).all():
        return int(flat[0]), int(flat[0]) + 1  # one row read by all: numpy broadcasts it
    return None


@dataclass
class _Group:
    """Like nodes at one depth: one numpy evaluation computes all of them."""

    op: Op
    members: list[Value]
    first: int = 0  # their rows: first ... first + len(members)
    dense: bool = False

    @property
    def rows(self) -> np.ndarray:
        return np.arange(self.first, self.first + len(self.members))


class _Writer:
    """The numpy program's text, the arrays it names, and the views it reads, made once."""

    def __init__(self, vector: bool) -> None:
        self.vector = vector  # one sample: rows are numbers, not rows of a (rows × samples) array
        self.column = "" if vector else "[:, None]"  # what turns a vector into a column to broadcast
        self.forward: list[str] = []
        self.backward: list[str] = []
        self.names: dict[str, Any] = {}
        self.views: dict[str, str] = {}  # name -> the slice it is, made when the arrays are
        self._serial = count()

    def name(self, prefix: str, value: Any) -> str:
        key = f"{prefix}{next(self._serial)}"
        self.names[key] = value
        return key

    def read(self, rows: np.ndarray, array: str = "V") -> str:
        """Rows of an array as an expression: a view made once where they are consecutive,
        else a gather (a copy) by an index array."""
        span = _span(rows)
        if span is None:
            return f"{array}[{self.name('I', rows)}]"
        name = f"{array}{span[0]}_{span[1]}"
        self.views[name] = f"{array}[{span[0]}:{span[1]}]"
        return name


class NumpyProgram:
    """A recorded graph as a numpy program: ``run(W, X)`` gives the mean loss over the
    rows of ``X`` (one sample's flattened arguments per row; or one sample as a flat
    sequence) and its gradient for each parameter (``W`` and the gradient in
    ``params`` order)."""

    def __init__(self, root: Value, nodes: list[Value], params: list[Value], inputs: list[Value]) -> None:
        lacking = numpy_lacks({v.op for v in nodes if isinstance(v.op, Op)})
        if lacking:
            raise ValueError(f"no numpy program for this graph: maths.py gives no numpy form of {', '.join(lacking)}")
        self.params = params
        self.n_inputs = len(inputs)
        self._graph = (root, nodes, params, inputs)
        self._exact: Looped | None = None  # the eager engine's arithmetic, for the samples numpy cannot vouch for
        self._layout(root, nodes, params, inputs)
        self._makers: dict[bool, Callable[..., Any]] = {}
        self.source = self._compile(vector=False)
        self._buffers: OrderedDict[int, _Buffers] = OrderedDict()

    # -- where everything lives --------------------------------------------------------------

    def _layout(self, root: Value, nodes: list[Value], params: list[Value], inputs: list[Value]) -> None:
        """Rows for inputs and computed values; a place in the flat parameter vector for
        every parameter, each dense layer's weights a contiguous matrix."""
        param_index = {p: i for i, p in enumerate(params)}
        self.groups, placed = _groups(nodes, param_index)
        reads_as_rows = {c for g in self.groups if not g.dense for v in g.members for c in v.children}
        for g in self.groups:  # a dense layer reads its inputs as rows (its weights are views of W)
            if g.dense:
                reads_as_rows.update(c for v in g.members for c in _dot_operands(v, g.op)[1])
        loose = [p for p in params if p in reads_as_rows]
        self.row: dict[Value, int] = {x: i for i, x in enumerate(inputs)}
        self.param_rows = (len(self.row), len(self.row) + len(loose))
        for p in loose:
            self.row[p] = len(self.row)
        aliases = _in_place(self.groups, nodes)
        self.n_rows = len(self.row)
        for group in self.groups:
            below = aliases.get(id(group))
            group.first = below.first if below is not None else self.n_rows
            for k, v in enumerate(group.members):
                self.row[v] = group.first + k
            self.n_rows = max(self.n_rows, group.first + len(group.members))
        self.in_place = {id(g) for g in self.groups if id(g) in aliases}
        self.root = self.row[root]
        order = list(placed) + [p for p in params if p not in placed]
        self.place = {p: i for i, p in enumerate(order)}
        self.perm = np.array([param_index[p] for p in order], dtype=np.intp)  # internal -> params order
        self.loose = np.array([self.place[p] for p in loose], dtype=np.intp)
        # The weights, then one sample's values and gradients, in one array: one dot product checks
        # all a per-sample step read or made (see _within). Zeros: a row never written holds no NaN.
        n = len(params)
        self._memory = np.zeros(n + 2 * self.n_rows)
        self.W, self._one = self._memory[:n], self._memory[n:]
        self.gW = np.zeros(n)

    # -- the program ----------------------------------------------------------------------

    def _compile(self, vector: bool) -> str:
        """Generate and load the program for a batch (``vector`` false) or for one sample."""
        writer = _Writer(vector)
        self._assigned: list[int] = []
        if len(self.loose):
            writer.forward.append(
                _into(writer.read(np.arange(*self.param_rows)), f"W[{writer.name('P', self.loose)}]{writer.column}")
            )
        for group in self.groups:
            (self._dense_forward if group.dense else self._forward_of)(group, writer)
        written, zeroed = {self.root}, set[int]()
        for group in reversed(self.groups):
            (self._dense_backward if group.dense else self._backward_of)(group, writer, written, zeroed)
        self._loose_gradients(writer)
        source = self._program(writer, sorted(zeroed), sorted(set(range(len(self.params))) - set(self._assigned)))
        what = "one sample" if vector else "a batch"
        filename = f"<tinygrad_hw numpy program {next(_programs)}: {len(self.groups)} groups, {what}>"
        scope = load(source, filename, {**_namespace(), **writer.names, "__name__": __name__}, keep="make")
        self._makers[vector] = scope["make"]
        return source

    def _forward_of(self, group: _Group, writer: _Writer) -> None:
        op = group.op
        operands, starts = self._operands(group)
        names = {n: writer.read(rows) for n, rows in zip(OPERANDS, operands)}
        if op.const:
            names["c"] = writer.name("C", self._constants(group, writer))
        value = template(op.formula, "numpy").format(**names)
        if op.nary:
            value = f"({value}).sum(axis=1)" + (f" + {writer.read(starts)}" if starts is not None else "")
        writer.forward.append(_into(writer.read(group.rows), value))

    def _dense_forward(self, group: _Group, writer: _Writer) -> None:
        weights, inputs, bias, _ = self._dense_parts(group, writer)
        out = writer.read(group.rows)
        writer.forward.append(f"np.matmul({weights}, {inputs}, out={out})")
        if bias is not None:
            writer.forward.append(_add_into(out, f"{bias}{writer.column}"))

    def _dense_parts(self, group: _Group, writer: _Writer) -> tuple[str, str, str | None, np.ndarray]:
        """Names of the layer's weight matrix and bias (views of ``W``), its inputs' rows as an
        expression and as an index array."""
        weights, reads, start = _dot_operands(group.members[0], group.op)
        n, m = len(group.members), len(reads)
        first = self.place[weights[0]]
        matrix = writer.name("Wm", (first, n, m))
        bias = writer.name("Wb", (first + n * m, n)) if start is not None else None
        rows = np.array([self.row[r] for r in reads])
        return matrix, writer.read(rows), bias, rows

    def _dense_backward(self, group: _Group, writer: _Writer, written: set[int], zeroed: set[int]) -> None:
        """∂W = ∂z · inputsᵀ, ∂b = Σ ∂z over the batch, ∂inputs = Wᵀ · ∂z."""
        weights, inputs, bias, rows = self._dense_parts(group, writer)
        up = writer.read(group.rows, "G")
        if writer.vector:
            writer.backward.append(f"np.outer({up}, {inputs}, out=g{weights})")
            if bias is not None:
                writer.backward.append(f"g{bias}[:] = {up}")
        else:
            writer.backward.append(f"np.matmul({up}, {inputs}.T, out=g{weights})")
            if bias is not None:
                writer.backward.append(f"np.sum({up}, axis=1, out=g{bias})")
        for v in group.members:
            w, _, start = _dot_operands(v, group.op)
            self._assigned.extend(self.place[p] for p in [*w, *([start] if start is not None else [])])
        self._scatter(rows, f"{weights}.T @ {up}", writer, written, zeroed)

    def _backward_of(self, group: _Group, writer: _Writer, written: set[int], zeroed: set[int]) -> None:
        op = group.op
        if id(group) in self.in_place:  # its rows were its layer's z's: ∂/∂z replaces ∂/∂a there
            written.difference_update(group.rows.tolist())
        operands, starts = self._operands(group)
        names = {n: writer.read(rows) for n, rows in zip(OPERANDS, operands)}
        names["out"] = writer.read(group.rows)
        if op.const:
            names["c"] = writer.name("C", self._constants(group, writer))
        up = writer.read(group.rows, "G") + ("[:, None]" if op.nary else "")
        if starts is not None:
            self._scatter(starts, writer.read(group.rows, "G"), writer, written, zeroed)
        for k, partial in enumerate(op.partials):
            if partial in ("1.0", "-1.0"):
                local = up if partial == "1.0" else f"-{up}"
                if op.nary:  # one upstream gradient per node, spread over its terms
                    shape = f"{operands[k].shape}" if writer.vector else f"{operands[k].shape} + (G.shape[1],)"
                    local = f"np.broadcast_to({local}, {shape})"
            else:
                local = f"({template(partial, 'numpy').format(**names)}) * {up}"
            self._scatter(operands[k], local, writer, written, zeroed)

    def _scatter(self, targets: np.ndarray, value: str, writer: _Writer, written: set[int], zeroed: set[int]) -> None:
        """Add ``value`` (rows in ``targets``' order, or n-ary (n, terms[, samples])) into G at
        ``targets``: assigned where these are the rows' first contributions, summed by a
        0/1 matrix where rows repeat. Contributions to inputs are dropped: nobody reads them."""
        flat = targets.ravel()
        if (flat < self.n_inputs).all():
            return
        shaped = value if targets.ndim == 1 else f"({value}).reshape({len(flat)}{'' if writer.vector else ', -1'})"
        unique, inverse = np.unique(flat, return_inverse=True)
        fresh = not (set(unique.tolist()) & written)
        if len(unique) == len(flat) and _span(flat) is not None and fresh:
            writer.backward.append(_into(writer.read(flat, "G"), shaped))
        elif len(unique) == len(flat):
            zeroed.update(set(unique.tolist()) - written)
            if _span(flat):
                writer.backward.append(_add_into(writer.read(flat, "G"), shaped))
            else:
                writer.backward.append(f"G[{writer.name('I', flat)}] += {shaped}")
        else:
            summer = np.zeros((len(unique), len(flat)))
            summer[inverse, np.arange(len(flat))] = 1.0
            zeroed.update(set(unique.tolist()) - written)
            added = f"{writer.name('S', summer)} @ ({shaped})"
            if _span(unique):
                writer.backward.append(_add_into(writer.read(unique, "G"), added))
            else:
                writer.backward.append(f"G[{writer.name('I', unique)}] += {added}")
        written.update(unique.tolist())

    def _loose_gradients(self, writer: _Writer) -> None:
        """Parameters read as rows: the sum of their rows' gradients over the batch (added to
        what a dense layer gave, for a weight read both ways)."""
        first = self.param_rows[0]
        dense = set(self._assigned)
        for add in (False, True):
            picked = [k for k, place in enumerate(self.loose.tolist()) if (place in dense) == add]
            if not picked:
                continue
            places = writer.name("P", self.loose[picked])
            rows = np.array(picked) + first
            grads = writer.read(rows, "G") if _span(rows) else f"G[{writer.name('I', rows)}]"
            total = grads if writer.vector else f"{grads}.sum(axis=1)"
            writer.backward.append(f"gW[{places}] {'+=' if add else '='} {total}")  # gW is a global, not a view
        self._assigned.extend(self.loose.tolist())

    def _operands(self, group: _Group) -> tuple[list[np.ndarray], np.ndarray | None]:
        """Per operand name, the rows each member reads ((n,) or, n-ary, (n, terms)); the starts."""
        op, members = group.op, group.members
        orders = [operand_order(op, len(v.children)) for v in members]
        names = OPERANDS[: op.arity]
        if op.nary:
            operands = [
                np.array([[self.row[v.children[b[n]]] for b in terms] for v, (_, terms) in zip(members, orders)])
                for n in names
            ]
        else:
            operands = [np.array([self.row[v.children[orders[0][1][0][n]]] for v in members]) for n in names]
        starts = None
        if orders[0][0] is not None:
            starts = np.array([self.row[v.children[s]] for v, (s, _) in zip(members, orders) if s is not None])
        return operands, starts

    @staticmethod
    def _constants(group: _Group, writer: _Writer) -> np.ndarray:
        constants = np.array([v._const for v in group.members], dtype=float)
        return constants if writer.vector else constants[:, None]

    def _program(self, writer: _Writer, zeroed: list[int], unreached: list[int]) -> str:
        """``make(V, G)``: the views of the arrays, made once, and the forward and backward
        steps that read them."""
        for key, spec in list(writer.names.items()):  # the parameter views
            if key.startswith(("Wm", "Wb")):
                first, n, *m = spec
                size = n * m[0] if m else n
                shape = (n, m[0]) if m else (n,)
                writer.names[key] = self.W[first : first + size].reshape(shape)
                writer.names["g" + key] = self.gW[first : first + size].reshape(shape)
        writer.names["W"], writer.names["gW"] = self.W, self.gW
        head = [f"    {name} = {view}" for name, view in writer.views.items()]
        clear = [f"        G[{writer.name('Z', np.array(zeroed))}] = 0.0"] if zeroed else []
        clear += [f"        gW[{writer.name('U', np.array(unreached))}] = 0.0"] if unreached else []
        return "\n".join(
            [
                "def make(V, G):",
                *head,
                "",
                "    def forward():",
                *(f"        {line}" for line in writer.forward or ["pass"]),
                "",
                "    def backward(scale):",
                *clear,
                f"        G[{self.root}] = scale",
                *(f"        {line}" for line in writer.backward),
                "",
                "    return forward, backward",
                "",
            ]
        )

    # -- running ----------------------------------------------------------------------------

    def _program_for(self, batch: int) -> _Buffers:
        """The value and gradient arrays and the program's steps for a batch size (0: one
        sample, as vectors), kept for the next call."""
        if batch in self._buffers:
            self._buffers.move_to_end(batch)
            return self._buffers[batch]
        vector = batch == 0
        if vector not in self._makers:
            self._compile(vector)
        shape = (self.n_rows,) if vector else (self.n_rows, batch)
        flat = self._one if vector else np.zeros(2 * math.prod(shape))  # V and G side by side
        V, G = flat[: flat.size // 2].reshape(shape), flat[flat.size // 2 :].reshape(shape)
        self._buffers[batch] = (V, flat, *self._makers[vector](V, G))
        while len(self._buffers) > BUFFERS_KEPT:
            self._buffers.popitem(last=False)
        return self._buffers[batch]

    def _step(self, X: Any) -> float:
        """Forward and backward on the held weights; the mean loss (gradients in ``gW``).
        ``X`` is one sample's inputs (a list or tuple) or an array of them, one row per
        sample. numpy's warnings are the caller's to silence (see ``run``)."""
        if isinstance(X, (list, tuple)) and (not X or isinstance(X[0], float)):  # one sample, as fit passes it
            V, both, forward, backward = self._program_for(0)
            V[: self.n_inputs] = X
            forward()
            backward(1.0)
            if not self._within(both):
                return self._exactly([X])
            return float(V[self.root])
        X = np.asarray(X, dtype=float)
        vector = X.ndim == 1
        V, both, forward, backward = self._program_for(0 if vector else len(X))
        V[: self.n_inputs] = X if vector else X.T
        forward()
        backward(1.0 if vector else 1.0 / len(X))
        if not self._within(both):
            return self._exactly([X.tolist()] if vector else X.tolist())
        return float(V[self.root]) if vector else float(V[self.root].mean())

    def _within(self, both: np.ndarray) -> bool:
        """Whether every number the last run read or made -- the weights, the values and the
        gradients (``both``, flat) -- was finite and within :data:`LIMIT` (a NaN fails too):
        one dot product for one sample, two for a batch. (The weights' gradients are
        products, or sums over the batch, of checked numbers.)"""
        if both is self._one:
            memory = self._memory
            return bool(memory @ memory <= LIMIT)
        return bool(both @ both + self.W @ self.W <= LIMIT)

    def _exactly(self, rows: Sequence[Sequence[float]]) -> float:
        """The mean loss and its gradient (into ``gW``) computed by the eager engine's
        arithmetic, sample by sample: for runs where numpy's order could change what is
        finite."""
        exact = self._exact_executor()
        weights = self.unpack(self.W)
        loss = 0.0
        grads = np.zeros(len(self.params))
        for row in rows:
            value, gradient = exact.run(weights, row)
            loss += value
            grads += gradient
        self.gW[:] = (grads / len(rows))[self.perm]
        return loss / len(rows)

    def _exact_executor(self) -> Looped:
        if self._exact is None:
            self._exact = Looped(*self._graph)
        return self._exact

    def run(self, W: Any, X: Any) -> tuple[float, list[float]]:
        """(mean loss over the rows of X, its gradient for each parameter), both in ``params`` order."""
        self.W[:] = np.asarray(W, dtype=float)[self.perm]
        with np.errstate(all="ignore"):  # overflow is inf, 0/0 is nan, as in the eager engine: no warnings
            loss = self._step(X)
        grads = np.empty(len(self.params))
        grads[self.perm] = self.gW
        return loss, grads.tolist()

    def values(self, W: Any, X: Any, nodes: Sequence[Value]) -> np.ndarray:
        """The forward pass only: the values of recorded ``nodes``, one row each, one column
        per row of ``X``. A sample with a number numpy cannot vouch for (see :data:`LIMIT`)
        is computed again with the eager engine's arithmetic."""
        self.W[:] = np.asarray(W, dtype=float)[self.perm]
        X = np.asarray(X, dtype=float)
        if False not in self._makers:
            self._compile(vector=False)
        V = np.empty((self.n_rows, len(X)))
        forward, _ = self._makers[False](V, V)  # no gradient array: the backward step is never run
        V[: self.n_inputs] = X.T
        with np.errstate(all="ignore"):
            forward()
            squares = np.einsum("ij,ij->j", V, V) + float(self.W @ self.W)
        out = V[[self.row[v] for v in nodes]]
        doubtful = np.flatnonzero(~(squares <= LIMIT))
        if len(doubtful):
            exact, weights = self._exact_executor(), self.unpack(self.W)
            for j in doubtful.tolist():
                out[:, j] = exact.values(weights, X[j].tolist(), nodes)
        return out

    def sgd(self, W: Any, X: Any, lr: float) -> tuple[float, np.ndarray]:
        """(mean loss, W - lr · gradient)."""
        loss, grads = self.run(W, X)
        return loss, np.asarray(W, dtype=float) - lr * np.asarray(grads)

    # the interface fit's fused loop uses: weights held inside, in this tape's own order
    def pack(self, W: Sequence[float]) -> np.ndarray:
        self.W[:] = np.asarray(W, dtype=float)[self.perm]
        return self.W

    def fused_sgd(self, state: Any, X: Any, lr: float) -> tuple[float, np.ndarray]:
        """One SGD step on the held weights; none if the loss is not finite. (``fit`` calls it
        inside ``np.errstate(all="ignore")``, entered once for the whole run.)"""
        loss = self._step(X)
        if math.isfinite(loss):
            self.W -= lr * self.gW
        return loss, self.W

    def unpack(self, state: Any) -> list[float]:
        W = np.empty(len(self.params))
        W[self.perm] = self.W
        return W.tolist()


_programs = count(1)


def _dot_operands(v: Value, op: Op) -> tuple[list[Value], list[Value], Value | None]:
    """A dot node's weights (its a's), what it reads (its b's), and its start."""
    start, terms = operand_order(op, len(v.children))
    return (
        [v.children[b["a"]] for b in terms],
        [v.children[b["b"]] for b in terms],
        (v.children[start] if start is not None else None),
    )


def groups_of(nodes: list[Value]) -> dict[tuple[Any, ...], list[Value]]:
    """The computed nodes by (depth, op, terms, with a start): what one numpy evaluation computes."""
    depth: dict[Value, int] = {}
    keyed: dict[tuple[Any, ...], list[Value]] = defaultdict(list)
    for v in nodes:  # children first
        if v.is_leaf:
            depth[v] = 0
            continue
        depth[v] = 1 + max(depth[c] for c in v.children)
        op = v.op
        if not isinstance(op, Op):
            raise ValueError("internal: a node made by hand in a recorded graph")
        start, terms = operand_order(op, len(v.children))
        keyed[(depth[v], op.name, len(terms) if op.nary else 0, start is not None)].append(v)
    return keyed


def _groups(nodes: list[Value], param_index: dict[Value, int]) -> tuple[list[_Group], dict[Value, int]]:
    """The groups in depth order, each marked dense or not; the dense weights' places."""
    keyed = groups_of(nodes)
    placed: dict[Value, int] = {}
    groups = []
    for key in sorted(keyed, key=lambda k: k[0]):
        first = keyed[key][0].op
        assert isinstance(first, Op)  # groups_of keeps table ops only
        group = _Group(first, keyed[key])
        group.dense = _is_dense(group, param_index, placed)
        groups.append(group)
    return groups, placed


def _in_place(groups: list[_Group], nodes: list[Value]) -> dict[int, _Group]:
    """Activations computed over their layer's z's, in place: group -> the dense group whose
    rows it takes. Allowed where each z feeds only its activation, in the same order, and
    the activation's derivative reads its output, not its input (sigmoid, tanh, exp), so
    the z's are not needed after the forward pass. Halves the arrays of an MLP."""
    uses: dict[Value, int] = defaultdict(int)
    for v in nodes:
        for c in v.children:
            uses[c] += 1
    group_of = {v: g for g in groups for v in g.members}
    aliases: dict[int, _Group] = {}
    for group in groups:
        op = group.op
        if op.nary or op.arity != 1 or any("a" in names_in(p) for p in op.partials):
            continue
        zs = [v.children[0] for v in group.members]
        below = group_of.get(zs[0])
        if below is not None and below.dense and below.members == zs and all(uses[z] == 1 for z in zs):
            aliases[id(group)] = below
    return aliases


def _is_dense(group: _Group, param_index: dict[Value, int], placed: dict[Value, int]) -> bool:
    """A layer: dot nodes whose weights are parameters (each once), reading the same
    inputs (each once), their starts parameters too. Places its weights if so."""
    if group.op.name != "dot":
        return False
    weights, reads, starts = zip(*(_dot_operands(v, group.op) for v in group.members))
    flat = [w for row in weights for w in row] + [s for s in starts if s is not None]
    dense = (
        all(w in param_index and w not in placed for w in flat)
        and len(set(flat)) == len(flat)
        and all(r == reads[0] for r in reads)
        and len(set(reads[0])) == len(reads[0])
        and (all(s is None for s in starts) or all(s is not None for s in starts))
    )
    if dense:
        for w in flat:  # weights row by row (one row per node), then the starts
            placed[w] = len(placed)
    return dense

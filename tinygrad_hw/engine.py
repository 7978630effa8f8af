"""``Value``: a scalar that remembers how it was computed, and backpropagates.

The maths of every op lives in ``ops.py``; this file is the machinery: building
graph nodes, ordering them, and running each op's backward step in reverse.

Design notes (see docs/benchmarks.md for what each buys):

* ``__slots__`` and no closures: a node is one small object and a tuple of children,
  with no reference cycles, so memory per node is under a quarter of micrograd's.
* Plain numbers are constants of the op (``2 * x`` is one node, not two).
* ``Value.dot`` and ``Value.sum`` are single n-ary nodes, so a neuron's weighted
  sum is one node instead of two per input.
* The topological sort is iterative: a chain of a million nodes is fine.
"""

from __future__ import annotations

import contextvars
from typing import Any, Callable, Iterable, Iterator

from .checks import as_number, type_name
from .kernels import Kernel, compile_kernel
from .ops import OPS, Op, label

__all__ = [
    "Value",
    "dot",
    "enable_grad",
    "grad",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "topological_order",
    "walk",
    "zero_grad",
]


# Whether ops record the graph. A context variable, as PyTorch's grad mode is
# thread-local: each thread, and each asyncio task, has its own, so one thread's
# ``no_grad()`` never switches recording off for another. Generated op code calls
# ``_recording()`` at every op.
_grad_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("tinygrad_hw_grad_enabled", default=True)
_recording = _grad_enabled.get
_new = object.__new__


_number = as_number  # the names this module used before they were public in checks.py
_type_name = type_name


class Value:
    """A scalar node of a computation graph: ``data``, ``grad``, and how it was made.

    ``Value(2.0, label="x")`` is a leaf. Arithmetic with other ``Value`` s or plain
    numbers builds the graph; ``backward()`` fills in ``grad`` by the chain rule.
    """

    __slots__ = ("_const", "_kernel", "_prev", "data", "grad", "label")

    data: float
    grad: float
    _prev: tuple[Value, ...]
    _kernel: Kernel | None
    _const: float | None
    label: str

    def __init__(self, data: float, label: str = "") -> None:
        number = _number(data)
        if number is None:
            raise TypeError(
                f"Value() takes a real number (int, float or numpy scalar), not {_type_name(data)}"
                + (": use .data to copy a Value" if isinstance(data, Value) else "")
            )
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, not {_type_name(label)}")
        self.data = number
        self.grad = 0.0
        self._prev = ()
        self._kernel = None
        self._const = None
        self.label = label

    # -- arithmetic: a Value and a Value, or a Value and a plain number --------------

    def __add__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return _add(self, other)
        c = _number(other)
        return NotImplemented if c is None else _add_c(self, c)

    def __radd__(self, other: float) -> Value:
        c = _number(other)
        return NotImplemented if c is None else _add_c(self, c)

    def __sub__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return _sub(self, other)
        c = _number(other)
        return NotImplemented if c is None else _sub_c(self, c)

    def __rsub__(self, other: float) -> Value:
        c = _number(other)
        return NotImplemented if c is None else _rsub_c(self, c)

    def __mul__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return _mul(self, other)
        c = _number(other)
        return NotImplemented if c is None else _mul_c(self, c)

    def __rmul__(self, other: float) -> Value:
        c = _number(other)
        return NotImplemented if c is None else _mul_c(self, c)

    def __truediv__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return _div(self, other)
        c = _number(other)
        return NotImplemented if c is None else _div_c(self, c)

    def __rtruediv__(self, other: float) -> Value:
        c = _number(other)
        return NotImplemented if c is None else _rdiv_c(self, c)

    def __pow__(self, exponent: float) -> Value:
        c = _number(exponent)
        if c is None:
            raise TypeError(f"Value ** takes a constant exponent (int or float), not {_type_name(exponent)}")
        return _pow_c(self, c)

    def __neg__(self) -> Value:
        return KERNELS["neg"].forward(self)

    def exp(self) -> Value:
        return KERNELS["exp"].forward(self)

    def log(self) -> Value:
        return KERNELS["log"].forward(self)

    def sigmoid(self) -> Value:
        return KERNELS["sigmoid"].forward(self)

    def tanh(self) -> Value:
        return KERNELS["tanh"].forward(self)

    def relu(self) -> Value:
        return KERNELS["relu"].forward(self)

    def square(self) -> Value:
        return KERNELS["square"].forward(self)

    @staticmethod
    def sum(values: Iterable[Value | float]) -> Value:
        """Σ values as one node, however many terms (``sum()`` would make one per term).

        Numbers among the values become leaves; an empty sum is ``Value(0.0)``.
        """
        terms = _as_values(values)
        return _sum(terms) if terms else Value(0.0)

    @staticmethod
    def dot(xs: Iterable[Value | float], ys: Iterable[Value | float], start: Value | float | None = None) -> Value:
        """``start + Σ xᵢ·yᵢ`` as one node: a neuron's weighted sum plus its bias.

        As micrograd's ``sum((wi * xi for ...), b)``, in the same order, but one node
        instead of two per term. Numbers among the operands become leaves.
        """
        try:  # the common case, sequences of Values: no copies, no checks per item
            if len(xs) == len(ys) > 0:  # type: ignore[arg-type]
                return _dot(xs, ys, start)
        except (TypeError, AttributeError):
            pass  # iterators, or numbers among the operands: the careful path below
        if start is not None and not isinstance(start, Value):
            start = _as_values([start])[0]
        xs, ys = _as_values(xs), _as_values(ys)
        if len(xs) != len(ys):
            raise ValueError(f"dot() needs sequences of one length, got {len(xs)} and {len(ys)}")
        if not xs:
            return start + 0.0 if start is not None else Value(0.0)
        return _dot(xs, ys, start)

    # -- backpropagation --------------------------------------------------------------

    def backward(self, gradient: float = 1.0) -> None:
        """Add ∂self/∂leaf to every leaf's ``grad`` (leaves accumulate, as in PyTorch).

        Interior nodes are reset first, so calling ``backward()`` twice gives the
        leaves exactly twice the gradient; after the call each interior node's
        ``grad`` holds this call's ∂self/∂node, for inspection and drawing.
        """
        seed = _number(gradient)
        if seed is None:
            raise TypeError(f"backward() takes a number as gradient, not {_type_name(gradient)}")
        if self._kernel is None:
            self.grad += seed
            return
        order = topological_order(self)
        for v in order:
            v.grad = 0.0
        self.grad = seed
        for v in reversed(order):
            v._kernel.backward(v)  # type: ignore[union-attr]

    # -- inspection ----------------------------------------------------------------------

    @property
    def symbol(self) -> str:
        """How the op that made this node reads in a drawing: ``+``, ``*3``, ``sigmoid``
        ('' for a leaf)."""
        return "" if self._kernel is None else label(self._kernel.op, self._const)

    @property
    def _op(self) -> str:
        """micrograd's name for :attr:`symbol`."""
        return self.symbol

    @property
    def op(self) -> str:
        """Name of the op in the table (``ops.OPS``) that made this node; '' for a leaf."""
        return "" if self._kernel is None else self._kernel.op.name

    @property
    def _backward(self) -> Callable[[], None]:
        """micrograd's per-node backward step: push this node's grad to its children."""
        kernel = self._kernel
        return (lambda: None) if kernel is None else (lambda: kernel.backward(self))

    @property
    def children(self) -> tuple[Value, ...]:
        """The values this node was computed from, in order (micrograd's ``_prev``)."""
        return self._prev

    @property
    def operation(self) -> Op | None:
        """The row of the op table (``ops.OPS``) that made this node; None for a leaf."""
        return None if self._kernel is None else self._kernel.op

    @property
    def constant(self) -> float | None:
        """The plain number the op took (the 2 of ``2 * x``), or None."""
        return self._const

    @property
    def is_leaf(self) -> bool:
        return self._kernel is None

    def item(self) -> float:
        return self.data

    def detach(self) -> Value:
        """A new leaf with the same data, cut off from the graph."""
        return Value(self.data, self.label)

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    # -- copying and pickling: flat, never recursive ------------------------------------

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle a graph as a flat list in topological order.

        The default protocol would recurse once per level of the graph and fail on
        deep ones. Leaves travel as objects, so a leaf pickled twice (a parameter, and
        inside a loss) stays one object; interior nodes travel as records.
        """
        if self._kernel is None:
            return (_leaf, (self.data, self.grad, self.label))
        nodes = walk(self)
        leaves = [v for v in nodes if v._kernel is None]
        interior = [v for v in nodes if v._kernel is not None]
        order = {v: i for i, v in enumerate(leaves + interior)}
        records = [
            (v.data, v.grad, v.label, v._kernel.op.name, v._const, tuple(order[c] for c in v._prev))  # type: ignore[union-attr]
            for v in interior
        ]
        return (_rebuild, (leaves, records))

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        """Copy the whole graph under this node, children first, without recursion."""
        for v in walk(self):
            if id(v) not in memo:
                c = _new(Value)
                c.data, c.grad, c.label, c._kernel, c._const = v.data, v.grad, v.label, v._kernel, v._const
                c._prev = tuple(memo[id(child)] for child in v._prev)
                memo[id(v)] = c
        return memo[id(self)]

    def __copy__(self) -> Value:
        """A new node with the same data and the same children (not a copy of the graph)."""
        v = _new(Value)
        v.data, v.grad, v.label = self.data, self.grad, self.label
        v._prev, v._kernel, v._const = self._prev, self._kernel, self._const
        return v


KERNELS: dict[str, Kernel] = {name: compile_kernel(op, Value, _recording) for name, op in OPS.items()}
K = KERNELS  # its name before 0.2
_add, _sub, _mul, _div = KERNELS["add"].forward, KERNELS["sub"].forward, KERNELS["mul"].forward, KERNELS["div"].forward
_add_c, _sub_c, _rsub_c = KERNELS["add_c"].forward, KERNELS["sub_c"].forward, KERNELS["rsub_c"].forward
_mul_c, _div_c, _rdiv_c, _pow_c = (
    KERNELS["mul_c"].forward,
    KERNELS["div_c"].forward,
    KERNELS["rdiv_c"].forward,
    KERNELS["pow_c"].forward,
)
_sum, _dot = KERNELS["sum"].forward, KERNELS["dot"].forward


def _leaf(data: float, grad: float, label: str) -> Value:
    v = Value(data, label)
    v.grad = grad
    return v


def _rebuild(leaves: list[Value], records: list[tuple[Any, ...]]) -> Value:
    nodes = list(leaves)
    for data, grad_, label_, op, const, children in records:
        v = _new(Value)
        v.data, v.grad, v.label = data, grad_, label_
        v._prev, v._kernel, v._const = tuple(nodes[i] for i in children), K[op], const
        nodes.append(v)
    return nodes[-1]


def _as_values(items: Iterable[Value | float]) -> list[Value]:
    """Values stay; numbers become leaves (n-ary ops keep operands as nodes)."""
    return [x if isinstance(x, Value) else Value(x) for x in items]


dot = Value.dot


def topological_order(root: Value) -> list[Value]:
    """The interior (non-leaf) nodes under ``root``, each after all of its children.

    These are the nodes with a backward step, in the order ``backward()`` reverses.
    """
    return _postorder([root], leaves=False)


def walk(roots: Value | Iterable[Value]) -> list[Value]:
    """Every node under ``roots``, leaves included, each after all of its children."""
    return _postorder([roots] if isinstance(roots, Value) else list(roots), leaves=True)


def _postorder(roots: list[Value], leaves: bool) -> list[Value]:
    """Depth-first post-order with an explicit stack: no recursion, so a graph's depth
    is bounded by memory alone (a chain of a million nodes is fine)."""
    order: list[Value] = []
    seen: set[Value] = set()
    for root in roots:
        if root in seen or not (leaves or root._kernel is not None):
            continue
        seen.add(root)
        stack: list[tuple[Value, Iterator[Value]]] = [(root, iter(root._prev))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if (leaves or child._kernel is not None) and child not in seen:
                    seen.add(child)
                    stack.append((child, iter(child._prev)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


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


class _GradModeSwitch:
    """Set grad mode for a ``with`` block (or a decorated function), then restore it.

    The setting is per thread and per asyncio task (a context variable), and the
    same object may be entered again while it is active (nested, or recursive
    decorated calls): each entry restores what it found.
    """

    enabled = True

    def __init__(self) -> None:
        self._tokens: list[contextvars.Token[bool]] = []

    def __enter__(self) -> None:
        self._tokens.append(_grad_enabled.set(self.enabled))

    def __exit__(self, *exc: object) -> None:
        _grad_enabled.reset(self._tokens.pop())

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        switch = no_grad if not self.enabled else enable_grad

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with switch():
                return fn(*args, **kwargs)

        wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        wrapper.__qualname__ = getattr(fn, "__qualname__", wrapper.__name__)
        wrapper.__doc__ = fn.__doc__
        return wrapper


class no_grad(_GradModeSwitch):
    """Context manager (or decorator): operations inside build no graph.

    Results are leaves, so nothing is kept alive for a backward pass that will not
    come -- for evaluation and for updating parameters. As in PyTorch, grad mode
    belongs to the current thread and asyncio task: a ``no_grad()`` in one thread
    does not stop another from recording.
    """

    enabled = False


class enable_grad(_GradModeSwitch):
    """Context manager (or decorator): record the graph, even inside ``no_grad()``."""

    enabled = True


class set_grad_enabled(_GradModeSwitch):
    """PyTorch's ``set_grad_enabled(mode)``: sets grad mode for the current thread or
    task at once; used in a ``with``, restores the previous mode on leaving it."""

    def __init__(self, mode: bool) -> None:
        super().__init__()
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled() takes True or False, not {_type_name(mode)}")
        self.enabled = mode
        self._previous = _grad_enabled.get()
        _grad_enabled.set(mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _grad_enabled.set(self._previous)


def is_grad_enabled() -> bool:
    """Whether ops record the graph in the current thread and asyncio task."""
    return _grad_enabled.get()

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
import gc
import threading
from typing import Any, Callable, Iterable, Iterator

from .checks import as_number, type_name
from .kernels import Kernel, compile_kernel
from .ops import OPS, Op, label

__all__ = [
    "Value",
    "dot",
    "enable_grad",
    "grad",
    "graph_signature",
    "is_grad_enabled",
    "no_grad",
    "paused_gc",
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

    ``Value(2.0, label="x")`` (or ``Value(2.0, "x")``) is a leaf. Arithmetic with other
    ``Value`` s or plain numbers builds the graph; ``backward()`` fills in ``grad`` by
    the chain rule.

    The constructor is also micrograd's, ``Value(data, _children=(), _op='',
    label='')``, so that an op can be written the lecture's way: make the node with
    its children and a name, then give it a ``_backward`` closure::

        t = math.tanh(x.data)
        out = Value(t, (x,), "tanh")
        def _backward():
            x.grad += (1 - t**2) * out.grad
        out._backward = _backward

    Such a node backpropagates, draws and prints like any other; the replay and
    pickling refuse it, since a closure cannot be traced or saved.
    """

    __slots__ = ("_const", "_kernel", "_prev", "data", "grad", "label")

    data: float
    grad: float
    _prev: tuple[Value, ...]
    _kernel: Kernel | None
    _const: float | None
    label: str

    def __init__(self, data: float, _children: Iterable[Value] | str = (), _op: str = "", label: str = "") -> None:
        number = _number(data)
        if number is None:
            raise TypeError(
                f"Value() takes a real number (int, float or numpy scalar), not {_type_name(data)}"
                + (": use .data to copy a Value" if isinstance(data, Value) else "")
            )
        if isinstance(_children, str):  # Value(2.0, "x"): the second argument is the label
            if label:
                raise TypeError(f"Value() got two labels, {_children!r} and label={label!r}")
            _children, label = (), _children
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, not {_type_name(label)}")
        self.data = number
        self.grad = 0.0
        self._prev = ()
        self._kernel = None
        self._const = None
        self.label = label
        if _children:
            self._by_hand(_children, _op)

    def _by_hand(self, children: Iterable[Value], op: str) -> None:
        """Make this a node computed by hand from ``children`` (micrograd's way): each child
        once, as micrograd's set keeps it; its backward step is the ``_backward`` given
        later (none until then). Under ``no_grad()`` it stays a leaf, like every op's result."""
        try:
            kept = tuple(dict.fromkeys(children))
        except TypeError:
            raise TypeError(f"Value() takes its children as a tuple of Values, not {_type_name(children)}") from None
        odd = next((c for c in kept if not isinstance(c, Value)), None)
        if odd is not None:
            raise TypeError(f"a Value's children must be Values, not {_type_name(odd)}")
        if not isinstance(op, str):
            raise TypeError(f"Value _op must be a str, not {_type_name(op)}")
        if _recording():
            self._prev = kept
            self._kernel = HandWritten(op)  # type: ignore[assignment]

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

    def __abs__(self) -> Value:
        return KERNELS["abs"].forward(self)

    # -- comparisons and conversions: on data, as PyTorch's for one number ------------------

    def __lt__(self, other: Value | float) -> bool:
        c = other.data if isinstance(other, Value) else _number(other)
        return NotImplemented if c is None else self.data < c

    def __le__(self, other: Value | float) -> bool:
        c = other.data if isinstance(other, Value) else _number(other)
        return NotImplemented if c is None else self.data <= c

    def __gt__(self, other: Value | float) -> bool:
        c = other.data if isinstance(other, Value) else _number(other)
        return NotImplemented if c is None else self.data > c

    def __ge__(self, other: Value | float) -> bool:
        c = other.data if isinstance(other, Value) else _number(other)
        return NotImplemented if c is None else self.data >= c

    # == and != stay identity (as in micrograd): a Value is a dict key and a set member.

    def __float__(self) -> float:
        return self.data

    def __int__(self) -> int:
        return int(self.data)

    def __bool__(self) -> bool:
        """As PyTorch's for a one-number tensor: false for 0.0, true otherwise (NaN too)."""
        return self.data != 0.0

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
        with paused_gc:  # nodes hold no cycles: the cyclic collector has nothing to find here
            order = _backward_order(self)  # interior grads are 0.0 after it
            self.grad = seed
            for v in reversed(order):
                v._kernel.backward(v)  # type: ignore[union-attr]

    # -- inspection ----------------------------------------------------------------------

    @property
    def symbol(self) -> str:
        """How the op that made this node reads in a drawing: ``+``, ``*3``, ``sigmoid``,
        the ``_op`` of a node made by hand ('' for a leaf)."""
        kernel = self._kernel
        if kernel is None:
            return ""
        return kernel.symbol if isinstance(kernel, HandWritten) else label(kernel.op, self._const)

    @property
    def _op(self) -> str:
        """micrograd's name for :attr:`symbol`."""
        return self.symbol

    @property
    def op(self) -> str:
        """Name of the op in the table (``ops.OPS``) that made this node: '' for a leaf, the
        ``_op`` of a node made by hand."""
        kernel = self._kernel
        if kernel is None:
            return ""
        return kernel.symbol if isinstance(kernel, HandWritten) else kernel.op.name

    @property
    def hand_written(self) -> bool:
        """Whether this node was made by hand (``Value(data, children, op)``), its backward
        step a ``_backward`` closure rather than a rule of the op table."""
        return isinstance(self._kernel, HandWritten)

    @property
    def _backward(self) -> Callable[[], None]:
        """micrograd's per-node backward step: push this node's grad to its children."""
        kernel = self._kernel
        if isinstance(kernel, HandWritten):
            return kernel.closure or _nothing
        return _nothing if kernel is None else (lambda: kernel.backward(self))

    @_backward.setter
    def _backward(self, closure: Callable[[], None]) -> None:
        if not isinstance(self._kernel, HandWritten):
            made = "a leaf" if self._kernel is None else f"made by the op table ({self.op})"
            raise AttributeError(
                f"this node is {made}: only a node made by hand, Value(data, (children...), 'op'), "
                "takes a _backward of its own"
            )
        if not callable(closure):
            raise TypeError(f"_backward must be a function of no arguments, not {_type_name(closure)}")
        self._kernel.closure = closure

    @property
    def children(self) -> tuple[Value, ...]:
        """The values this node was computed from, in order (micrograd's ``_prev``)."""
        return self._prev

    @property
    def operation(self) -> Op | None:
        """The row of the op table (``ops.OPS``) that made this node; None for a leaf and
        for a node made by hand (see :attr:`hand_written`)."""
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

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """In a notebook: the text, and the graph under this value drawn by the drawing
        package installed beside the engine (found by its entry point, see
        :func:`display_renderers`; the engine itself imports nothing to draw)."""
        bundle = {"text/plain": repr(self)}
        for render in display_renderers():
            bundle.update(render(self))
        return bundle

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
        _refuse_hand_written(nodes, "pickled")
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
        nodes = walk(self)
        _refuse_hand_written(nodes, "copied")
        for v in nodes:
            if id(v) not in memo:
                c = _new(Value)
                c.data, c.grad, c.label, c._kernel, c._const = v.data, v.grad, v.label, v._kernel, v._const
                c._prev = tuple(memo[id(child)] for child in v._prev)
                memo[id(v)] = c
        return memo[id(self)]

    def __copy__(self) -> Value:
        """A new node with the same data and the same children (not a copy of the graph)."""
        _refuse_hand_written([self], "copied")
        v = _new(Value)
        v.data, v.grad, v.label = self.data, self.grad, self.label
        v._prev, v._kernel, v._const = self._prev, self._kernel, self._const
        return v


class HandWritten:
    """What a node made by hand carries where a table op's node has its kernel: its op's
    name, and the ``_backward`` closure its author gave it (micrograd's way)."""

    __slots__ = ("closure", "symbol")
    op = None  # no row of the op table

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.closure: Callable[[], None] | None = None

    def backward(self, node: Value) -> None:
        if self.closure is not None:
            self.closure()


def _nothing() -> None:
    """The backward step of a leaf, or of a node made by hand before it has one."""


def _refuse_hand_written(nodes: Iterable[Value], what: str) -> None:
    """A graph with a node made by hand cannot be pickled or copied: its ``_backward`` is a
    closure over the original nodes, which a copy would still update."""
    for v in nodes:
        if isinstance(v._kernel, HandWritten):
            raise TypeError(
                f"this graph cannot be {what}: it has a node made by hand ({v.symbol or 'no _op'}"
                f"{', ' + repr(v.label) if v.label else ''}), whose _backward is a closure over the "
                f"original nodes. Build it from the table's ops (x.tanh(), x.exp(), ...), or {what[:-2]} "
                "its leaves (the parameters) instead"
            )


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


DISPLAY_GROUP = "tinygrad_hw.display"  # entry points: functions Value -> {mime type: text}
_display: list[Callable[[Value], dict[str, str]]] | None = None


def display_renderers() -> list[Callable[[Value], dict[str, str]]]:
    """The functions that draw a Value for a notebook: those installed packages declare
    as entry points in :data:`DISPLAY_GROUP` (``viz`` declares one), loaded once. One
    that cannot be imported is left out."""
    global _display
    if _display is None:
        from importlib.metadata import entry_points

        found = []
        for point in entry_points(group=DISPLAY_GROUP):
            try:
                found.append(point.load())
            except ImportError:
                continue
        _display = found
    return _display


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


DEEP = 10_000  # a depth-first walk this deep gives way to counting parents (Kahn's algorithm)


def topological_order(root: Value) -> list[Value]:
    """The interior (non-leaf) nodes under ``root``, each after all of its children.

    These are the nodes with a backward step, in the order ``backward()`` reverses.
    A depth-first post-order with an explicit stack of (node, its children's
    iterator): no recursion, and leaves -- most of a network's nodes -- are passed
    over at once. On a deep graph (a long chain) that stack grows as deep as the
    graph and slows down; past :data:`DEEP` levels the order comes from counting
    each node's parents instead, three times faster there.
    """
    if root._kernel is None:
        return []
    order: list[Value] = []
    seen = {root}
    stack = [(root, iter(root._prev))]
    push, pop, add, emit = stack.append, stack.pop, seen.add, order.append
    while stack:
        node, children = stack[-1]
        for child in children:
            if child._kernel is not None and child not in seen:
                add(child)
                push((child, iter(child._prev)))
                if len(stack) > DEEP:
                    return _order_by_parents(root)
                break
        else:
            pop()
            emit(node)
    return order


def _backward_order(root: Value) -> list[Value]:
    """``topological_order`` for ``backward()``, which zeroes the interior grads anyway: on
    a deep graph, each node's parents are counted in its ``grad`` (no dictionary), and
    the counts end at 0.0."""
    order = topological_order(root) if not _is_deep(root) else []
    if order or root._kernel is None:
        for v in order:
            v.grad = 0.0
        return order
    root.grad = 0.0
    stack, seen = [root], {root}
    while stack:
        for child in stack.pop()._prev:
            if child._kernel is not None:
                if child in seen:
                    child.grad += 1.0
                else:
                    seen.add(child)
                    child.grad = 1.0
                    stack.append(child)
    ready = [root]
    while ready:
        node = ready.pop()
        order.append(node)
        for child in node._prev:
            if child._kernel is not None:
                child.grad -= 1.0
                if child.grad == 0.0:
                    ready.append(child)
    order.reverse()
    return order


def _is_deep(root: Value) -> bool:
    """Whether the first path down from ``root`` is longer than :data:`DEEP` computed nodes:
    a chain, where counting parents beats the depth-first walk."""
    node = root
    for _ in range(DEEP):
        for child in node._prev:
            if child._kernel is not None:
                node = child
                break
        else:
            return False
    return True


def _order_by_parents(root: Value) -> list[Value]:
    """Kahn's algorithm from the root down: count each interior node's parents, then take
    a node once all of them are taken. The reverse is a topological order."""
    parents: dict[Value, int] = {root: 0}
    stack = [root]
    while stack:
        for child in stack.pop()._prev:
            if child._kernel is not None:
                if child in parents:
                    parents[child] += 1
                else:
                    parents[child] = 1
                    stack.append(child)
    order: list[Value] = []
    ready = [root]
    while ready:
        node = ready.pop()
        order.append(node)
        for child in node._prev:
            if child._kernel is not None:
                parents[child] -= 1
                if parents[child] == 0:
                    ready.append(child)
    order.reverse()
    return order


def walk(roots: Value | Iterable[Value]) -> list[Value]:
    """Every node under ``roots``, leaves included, each after all of its children."""
    return _postorder([roots] if isinstance(roots, Value) else list(roots), leaves=True)


def _postorder(roots: list[Value], leaves: bool) -> list[Value]:
    """Depth-first post-order with an explicit stack: no recursion, so a graph's depth
    is bounded by memory alone (a chain of a million nodes is fine)."""
    order: list[Value] = []
    seen: set[Value] = set()
    with paused_gc:
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


class _PausedGC:
    """The cyclic garbage collector off while a graph is built or walked, back as it was
    however that ends.

    Nodes hold no reference cycles -- reference counting frees them -- so the
    collector has nothing to find in a graph, yet it rescans every live node again
    and again as one grows: on a million-node chain, most of the time. Pauses
    nest and may overlap across threads: the first one records whether the
    collector was on, the last one puts it back so. A program that switched it
    off keeps it off.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._was_enabled = False

    def __enter__(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._depth += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._was_enabled:
                gc.enable()


paused_gc = _PausedGC()


def graph_signature(nodes: list[Value]) -> tuple[Any, ...]:
    """What makes a graph the same graph, for nodes in ``walk`` order: each node's op,
    constant (by ``repr``, so that a NaN equals itself) and children's positions."""
    index = {v: i for i, v in enumerate(nodes)}
    return tuple((v.op or None, repr(v._const), tuple([index[c] for c in v._prev])) for v in nodes)


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

"""``Value``: a scalar that remembers how it was computed, and backpropagates.

The maths of every op lives in ``ops.py`` and runs in its two kernels
(``kernels.py``, generated from the rules); this file is the node and the
backward loop.

Design notes (see docs/benchmarks.md for what each buys):

* ``__slots__`` and no closures: a node is one small object and a tuple of children,
  with no reference cycles, so memory per node is a fraction of micrograd's.
* Plain numbers are constants of the op (``2 * x`` is one node, not two).
* ``Value.dot`` and ``Value.sum`` are single n-ary nodes, so a neuron's weighted
  sum is one node instead of two per input.
* Every node is numbered as it is made, and its children are always older than
  it: sorting the nodes under a root by that number is a topological order, found
  without recursion (a chain of a million nodes is fine) and without a depth-first
  walk.
"""

from __future__ import annotations

import gc
import itertools
import os
import threading
from operator import attrgetter
from typing import Any, Callable, Iterable

from .checks import as_number, type_name
from .grad_mode import recording
from .ops import OPS, Op, label

__all__ = ["HandWrittenOp", "Value", "display_renderers", "graph_signature", "paused_gc", "topological_order", "walk"]

_new = object.__new__
serial: Callable[[], int] = itertools.count().__next__  # each node's number, in the order nodes are made

_ADD, _SUB, _MUL, _DIV = OPS["add"], OPS["sub"], OPS["mul"], OPS["div"]
_ADD_C, _SUB_C, _RSUB_C, _MUL_C = OPS["add_c"], OPS["sub_c"], OPS["rsub_c"], OPS["mul_c"]
_DIV_C, _RDIV_C, _POW_C, _NEG = OPS["div_c"], OPS["rdiv_c"], OPS["pow_c"], OPS["neg"]
_EXP, _LOG, _SIGMOID, _TANH = OPS["exp"], OPS["log"], OPS["sigmoid"], OPS["tanh"]
_RELU, _SQUARE, _ABS, _SUM, _DOT = OPS["relu"], OPS["square"], OPS["abs"], OPS["sum"], OPS["dot"]


class Value:
    """A scalar node of a computation graph: ``data``, ``grad``, and how it was made.

    ``Value(2.0, label="x")`` (or ``Value(2.0, "x")``) is a leaf. Arithmetic with other
    ``Value`` s or plain numbers builds the graph; ``backward()`` fills in ``grad`` by
    the chain rule. ``op`` is the row of the op table (``ops.OPS``) that made the
    node (None for a leaf), ``_prev`` its children, ``_const`` the plain number it took.

    The constructor is also micrograd's, ``Value(data, _children=(), _op='',
    label='')``, so that an op can be written the lecture's way: make the node with
    its children and a name, then give it a ``_backward`` closure::

        t = math.tanh(x.data)
        out = Value(t, (x,), "tanh")
        def _backward():
            x.grad += (1 - t**2) * out.grad
        out._backward = _backward

    Such a node (its ``op`` a :class:`HandWrittenOp`) backpropagates, draws and prints
    like any other; the replay and pickling refuse it, since a closure cannot be
    traced or saved.
    """

    __slots__ = ("_const", "_n", "_prev", "data", "grad", "label", "op")

    data: float
    grad: float
    label: str
    op: Op | HandWrittenOp | None
    _prev: tuple[Value, ...]
    _const: float | None
    _n: int

    def __init__(self, data: float, _children: Iterable[Value] | str = (), _op: str = "", label: str = "") -> None:
        number = data if type(data) is float else as_number(data)  # a float, the usual case, at once
        if number is None:
            raise TypeError(
                f"Value() takes a real number (int, float or numpy scalar), not {type_name(data)}"
                + (": use .data to copy a Value" if isinstance(data, Value) else "")
            )
        if isinstance(_children, str):  # Value(2.0, "x"): the second argument is the label
            if label:
                raise TypeError(f"Value() got two labels, {_children!r} and label={label!r}")
            label = _children
            _children = ()
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, not {type_name(label)}")
        self.data = number
        self.grad = 0.0
        self.label = label
        self._prev = ()
        self.op = None
        self._const = None
        if _children:
            self._by_hand(_children, _op)
        self._n = serial()  # after its children: they are older

    def _by_hand(self, children: Iterable[Value], op: str) -> None:
        """Make this a node computed by hand from ``children`` (micrograd's way): each child
        once, as micrograd's set keeps it; its backward step is the ``_backward`` given
        later (none until then). Under ``no_grad()`` it stays a leaf, like every op's result."""
        try:
            kept = tuple(dict.fromkeys(children))
        except TypeError:
            raise TypeError(f"Value() takes its children as a tuple of Values, not {type_name(children)}") from None
        odd = next((c for c in kept if not isinstance(c, Value)), None)
        if odd is not None:
            raise TypeError(f"a Value's children must be Values, not {type_name(odd)}")
        if not isinstance(op, str):
            raise TypeError(f"Value _op must be a str, not {type_name(op)}")
        if recording():
            self._prev = kept
            self.op = HandWrittenOp(op)

    # -- arithmetic: a Value and a Value, or a Value and a plain number --------------

    def __add__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return _ADD.forward(self, other)
        c = as_number(other)
        return NotImplemented if c is None else _ADD_C.forward(self, c)

    def __radd__(self, other: float) -> Value:
        c = as_number(other)
        return NotImplemented if c is None else _ADD_C.forward(self, c)

    def __sub__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return _SUB.forward(self, other)
        c = as_number(other)
        return NotImplemented if c is None else _SUB_C.forward(self, c)

    def __rsub__(self, other: float) -> Value:
        c = as_number(other)
        return NotImplemented if c is None else _RSUB_C.forward(self, c)

    def __mul__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return _MUL.forward(self, other)
        c = as_number(other)
        return NotImplemented if c is None else _MUL_C.forward(self, c)

    def __rmul__(self, other: float) -> Value:
        c = as_number(other)
        return NotImplemented if c is None else _MUL_C.forward(self, c)

    def __truediv__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return _DIV.forward(self, other)
        c = as_number(other)
        return NotImplemented if c is None else _DIV_C.forward(self, c)

    def __rtruediv__(self, other: float) -> Value:
        c = as_number(other)
        return NotImplemented if c is None else _RDIV_C.forward(self, c)

    def __pow__(self, exponent: float) -> Value:
        c = as_number(exponent)
        if c is None:
            raise TypeError(f"Value ** takes a constant exponent (int or float), not {type_name(exponent)}")
        return _POW_C.forward(self, c)

    def __neg__(self) -> Value:
        return _NEG.forward(self)

    def __abs__(self) -> Value:
        return _ABS.forward(self)

    def exp(self) -> Value:
        return _EXP.forward(self)

    def log(self) -> Value:
        return _LOG.forward(self)

    def sigmoid(self) -> Value:
        return _SIGMOID.forward(self)

    def tanh(self) -> Value:
        return _TANH.forward(self)

    def relu(self) -> Value:
        return _RELU.forward(self)

    def square(self) -> Value:
        return _SQUARE.forward(self)

    @staticmethod
    def sum(values: Iterable[Value | float], start: Value | float | None = None) -> Value:
        """``start + Σ values`` as one node, however many terms (``sum()`` would make one
        per term); as Python's ``sum(values, start)``, in the same order.

        Numbers among the values become leaves; an empty sum is its start, or ``Value(0.0)``.
        """
        terms = _as_values(values)
        if start is not None and not isinstance(start, Value):
            start = _as_values([start])[0]
        if not terms:
            return start + 0.0 if start is not None else Value(0.0)
        return _SUM.forward(terms, start)

    @staticmethod
    def dot(xs: Iterable[Value | float], ys: Iterable[Value | float], start: Value | float | None = None) -> Value:
        """``start + Σ xᵢ·yᵢ`` as one node: a neuron's weighted sum plus its bias.

        As micrograd's ``sum((wi * xi for ...), b)``, in the same order, but one node
        instead of two per term. Numbers among the operands become leaves.
        """
        try:  # the common case, sequences of Values: no copies, no checks per item
            if len(xs) == len(ys) > 0:  # type: ignore[arg-type]  # iterators have no len: the except below
                return _DOT.forward(xs, ys, start)
        except (TypeError, AttributeError):
            pass  # iterators, or numbers among the operands: the careful path below
        if start is not None and not isinstance(start, Value):
            start = _as_values([start])[0]
        xs, ys = _as_values(xs), _as_values(ys)
        if len(xs) != len(ys):
            raise ValueError(f"dot() needs sequences of one length, got {len(xs)} and {len(ys)}")
        if not xs:
            return start + 0.0 if start is not None else Value(0.0)
        return _DOT.forward(xs, ys, start)

    # -- comparisons and conversions: on data, as PyTorch's for one number ------------------

    def __lt__(self, other: Value | float) -> bool:
        c = other.data if isinstance(other, Value) else as_number(other)
        return NotImplemented if c is None else self.data < c

    def __le__(self, other: Value | float) -> bool:
        c = other.data if isinstance(other, Value) else as_number(other)
        return NotImplemented if c is None else self.data <= c

    def __gt__(self, other: Value | float) -> bool:
        c = other.data if isinstance(other, Value) else as_number(other)
        return NotImplemented if c is None else self.data > c

    def __ge__(self, other: Value | float) -> bool:
        c = other.data if isinstance(other, Value) else as_number(other)
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
        seed = as_number(gradient)
        if seed is None:
            raise TypeError(f"backward() takes a number as gradient, not {type_name(gradient)}")
        if self.op is None:  # a leaf: ∂self/∂self
            self.grad += seed
            return
        order = _interior(self, newest_first=True)  # each node before its children; their grads now 0.0
        self.grad = seed  # ∂self/∂self
        for node in order:  # node.grad is complete here: every node that uses it came before
            node.op.backward(node)  # type: ignore[union-attr]  # interior: its kernel, e.g. kernels.sigmoid_backward

    # -- inspection ----------------------------------------------------------------------

    @property
    def _op(self) -> str:
        """How the op that made this node reads in a drawing (micrograd's ``_op``): ``+``,
        ``*3``, ``sigmoid``, the name given to a node made by hand; '' for a leaf."""
        op = self.op
        if op is None:
            return ""
        return op.name if isinstance(op, HandWrittenOp) else label(op, self._const)

    @property
    def hand_written(self) -> bool:
        """Whether this node was made by hand (``Value(data, children, op)``), its backward
        step a ``_backward`` closure rather than a rule of the op table."""
        return isinstance(self.op, HandWrittenOp)

    @property
    def _backward(self) -> Callable[[], None]:
        """micrograd's per-node backward step: push this node's grad to its children."""
        op = self.op
        if isinstance(op, HandWrittenOp):
            return op.closure or _nothing
        return _nothing if op is None else (lambda: op.backward(self))

    @_backward.setter
    def _backward(self, closure: Callable[[], None]) -> None:
        if not callable(closure):
            raise TypeError(f"_backward must be a function of no arguments, not {type_name(closure)}")
        if isinstance(self.op, HandWrittenOp):
            self.op.closure = closure
        elif self.op is None and not recording():
            pass  # made under no_grad(): a leaf, with nothing to push back (as every op's result there)
        else:
            made = "a leaf" if self.op is None else f"made by the op table ({self.op.name})"
            raise AttributeError(
                f"this node is {made}: only a node made by hand, Value(data, (children...), 'op'), "
                "takes a _backward of its own"
            )

    @property
    def children(self) -> tuple[Value, ...]:
        """The values this node was computed from, in order (micrograd's ``_prev``). An
        n-ary node lists its a's, then its b's, then its start if ``op.start``."""
        return self._prev

    @property
    def constant(self) -> float | None:
        """The plain number the op took (the 2 of ``2 * x``), or None."""
        return self._const

    @property
    def is_leaf(self) -> bool:
        return self.op is None

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
        """Pickle a graph as a flat list, children first.

        The default protocol would recurse once per level of the graph and fail on
        deep ones. Leaves travel as objects, so a leaf pickled twice (a parameter, and
        inside a loss) stays one object; interior nodes travel as records.
        """
        if self.op is None:
            return (_leaf, (self.data, self.grad, self.label))
        nodes = walk(self)
        _refuse_hand_written(nodes, "pickle")
        leaves = [v for v in nodes if v.op is None]
        interior = [v for v in nodes if v.op is not None]
        order = {v: i for i, v in enumerate(leaves + interior)}
        records = [
            (v.data, v.grad, v.label, v.op.name, v.op.start, v._const, tuple(order[c] for c in v._prev))  # type: ignore[union-attr]  # interior: a table op
            for v in interior
        ]
        return (_rebuild, (leaves, records))

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        """Copy the whole graph under this node, children first, without recursion."""
        nodes = walk(self)
        _refuse_hand_written(nodes, "copy")
        for v in nodes:
            if id(v) not in memo:
                c = _new(Value)
                c.data, c.grad, c.label, c.op, c._const = v.data, v.grad, v.label, v.op, v._const
                c._prev = tuple(memo[id(child)] for child in v._prev)
                c._n = serial()
                memo[id(v)] = c
        return memo[id(self)]

    def __copy__(self) -> Value:
        """A new node with the same data and the same children (not a copy of the graph)."""
        _refuse_hand_written([self], "copy")
        v = _new(Value)
        v.data, v.grad, v.label = self.data, self.grad, self.label
        v._prev, v.op, v._const, v._n = self._prev, self.op, self._const, serial()
        return v


class HandWrittenOp:
    """What a node made by hand has for ``op``: the name its author gave it (micrograd's
    ``_op``) and the ``_backward`` closure they wrote, run as its backward step."""

    __slots__ = ("closure", "name")
    start = False  # never an n-ary node with a start

    def __init__(self, name: str) -> None:
        self.name = name
        self.closure: Callable[[], None] | None = None

    def backward(self, node: Value) -> None:
        if self.closure is not None:
            self.closure()

    def __repr__(self) -> str:
        return f"HandWrittenOp({self.name!r})"


def _nothing() -> None:
    """The backward step of a leaf, or of a node made by hand before it has one."""


_PAST = {"pickle": "pickled", "copy": "copied"}


def _refuse_hand_written(nodes: Iterable[Value], verb: str) -> None:
    """A graph with a node made by hand cannot be pickled or copied (``verb``): its
    ``_backward`` is a closure over the original nodes, which a copy would still update."""
    for v in nodes:
        if isinstance(v.op, HandWrittenOp):
            raise TypeError(
                f"this graph cannot be {_PAST[verb]}: it has a node made by hand ({v.op.name or 'no _op'}"
                f"{', ' + repr(v.label) if v.label else ''}), whose _backward is a closure over the "
                f"original nodes. Build it from the table's ops (x.tanh(), x.exp(), ...), or {verb} "
                "its leaves (the parameters) instead"
            )


def _leaf(data: float, grad: float, label: str) -> Value:
    v = Value(data, label)
    v.grad = grad
    return v


def _rebuild(leaves: list[Value], records: list[tuple[Any, ...]]) -> Value:
    nodes = list(leaves)
    for data, grad_, label_, name, start, const, children in records:
        op = OPS[name]
        v = _new(Value)
        v.data, v.grad, v.label = data, grad_, label_
        v._prev, v.op, v._const, v._n = (
            tuple(nodes[i] for i in children),
            op.with_start if start else op,
            const,
            serial(),
        )
        nodes.append(v)
    return nodes[-1]


def _as_values(items: Iterable[Value | float]) -> list[Value]:
    """Values stay; numbers become leaves (n-ary ops keep operands as nodes)."""
    return [x if isinstance(x, Value) else Value(x) for x in items]


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


# -- the order: one for backward, the replay, the drawings and the step-through page ------------

_number_of = attrgetter("_n")


def _interior(root: Value, newest_first: bool = False) -> list[Value]:
    """The interior (non-leaf) nodes under ``root``, each after all of its children -- or,
    ``newest_first``, before them, with their grads set to 0.0 (for ``backward``).

    A plain stack finds them (no recursion, no depth limit), skipping leaves, and
    sorting by the number each node got when it was made puts each after its
    children, which are always older.
    """
    if root.op is None:
        return []
    found = [root]
    seen = {root}
    add, append = seen.add, found.append
    for node in found:  # the list grows as it is read: every interior node is read once
        for child in node._prev:
            if child.op is not None and child not in seen:
                add(child)
                append(child)
    if newest_first:
        for node in found:
            node.grad = 0.0
    found.sort(key=_number_of, reverse=newest_first)
    return found


def topological_order(root: Value) -> list[Value]:
    """The interior (non-leaf) nodes under ``root``, each after all of its children.

    These are the nodes with a backward step, in the order ``backward()`` reverses.
    """
    return _interior(root)


def walk(roots: Value | Iterable[Value]) -> list[Value]:
    """Every node under ``roots``, leaves included, each after all of its children."""
    found = [roots] if isinstance(roots, Value) else list(dict.fromkeys(roots))
    seen = set(found)
    for node in found:
        for child in node._prev:
            if child not in seen:
                seen.add(child)
                found.append(child)
    found.sort(key=_number_of)
    return found


def graph_signature(nodes: list[Value]) -> tuple[Any, ...]:
    """What makes a graph the same graph, for nodes in ``walk`` order: each node's op,
    constant (by ``repr``, so that a NaN equals itself) and children's positions."""
    index = {v: i for i, v in enumerate(nodes)}
    return tuple(
        (v.op.name if v.op else None, v.op.start if v.op else False, repr(v._const), tuple([index[c] for c in v._prev]))
        for v in nodes
    )


class _PausedGC:
    """The cyclic garbage collector off while a graph is built, back as it was however
    that ends.

    Nodes hold no reference cycles -- reference counting frees them -- so the
    collector has nothing to find in a graph, yet it rescans every live node again
    and again as one grows: on a million-node chain, most of the time. Pauses
    nest and may overlap across threads: the first one records whether the
    collector was on, the last one puts it back so. A program that switched it
    off keeps it off. A process forked while another thread is inside a pause
    starts with only its own thread's pauses (the others' threads are not in it).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depths: dict[int, int] = {}  # thread ident -> pauses it is inside
        self._was_enabled = False

    def __enter__(self) -> None:
        me = threading.get_ident()
        with self._lock:
            if not self._depths:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._depths[me] = self._depths.get(me, 0) + 1

    def __exit__(self, *exc: object) -> None:
        me = threading.get_ident()
        with self._lock:
            depth = self._depths.pop(me) - 1
            if depth:
                self._depths[me] = depth
            elif not self._depths and self._was_enabled:
                gc.enable()

    def _after_fork_in_child(self) -> None:
        """Only the forking thread lives on in the child: forget the other threads' pauses,
        and give the collector back if none is left."""
        self._lock = threading.Lock()  # another thread may have held it at the fork
        me = threading.get_ident()
        self._depths = {me: self._depths[me]} if me in self._depths else {}
        if not self._depths and self._was_enabled:
            gc.enable()

    def _before_fork(self) -> None:
        self._lock.acquire()  # the fork sees a consistent state, not one half-updated

    def _after_fork_in_parent(self) -> None:
        self._lock.release()


paused_gc = _PausedGC()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=paused_gc._before_fork,
        after_in_parent=paused_gc._after_fork_in_parent,
        after_in_child=paused_gc._after_fork_in_child,
    )

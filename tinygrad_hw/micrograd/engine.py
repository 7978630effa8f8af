"""micrograd's ``Value``, on tinygrad_hw's engine: the same graph, node for node.

tinygrad_hw's own :class:`~tinygrad_hw.engine.Value` folds a plain number into the op
(``x * 2`` is one node ``*2``) and has its own ``neg``, ``-`` and ``/`` nodes. This
subclass builds what micrograd builds, so that a drawing shows the lecture's graph
and every forward value is micrograd's to the bit:

* a plain number on either side becomes a leaf of its own (``x * 2``: ``x``, ``2``, ``*``);
* ``-a`` is ``a * -1``, ``a - b`` is ``a + (-b)``, ``a / b`` is ``a * b**-1`` (with a
  number, ``a - 3`` is ``a + -3`` and ``a / 2`` is ``a * 0.5``);
* ``_op`` reads as micrograd's: ``+``, ``*``, ``**-1``, ``ReLU``.

Everything else is tinygrad_hw's: backward without recursion, ``no_grad``, drawings,
the step-through page, the extra ops (``exp``, ``tanh``, ``sigmoid``, ...), each
result again a micrograd ``Value``. Two differences remain, both on purpose: numbers
are floats (``Value(0)`` prints ``Value(data=0.0, grad=0.0)`` where micrograd keeps
the int), and ``_prev`` is a tuple of the operands in order (``a * a`` has ``(a, a)``), where
micrograd's is a set (``{a}``): iterating and ``in`` work the same, and a walk that
skips what it has seen, as the lecture's does, finds the same graph.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Union

from ..checks import as_number
from ..engine import Value as _EngineValue
from ..engine import walk
from ..ieee import safe_pow

__all__ = ["Value"]

Operand = Union[_EngineValue, float]


class Value(_EngineValue):
    """A scalar that builds micrograd's graph; ``Value(data, _children=(), _op='')`` as
    micrograd's (``label=`` too, as in the lecture)."""

    __slots__ = ()

    def __add__(self, other: _EngineValue | float) -> Value:
        operand = _operand(other)
        return NotImplemented if operand is None else _ours(_EngineValue.__add__(self, operand))

    def __radd__(self, other: float) -> Value:  # other + self, micrograd's self + other
        return self + other

    def __mul__(self, other: _EngineValue | float) -> Value:
        operand = _operand(other)
        return NotImplemented if operand is None else _ours(_EngineValue.__mul__(self, operand))

    def __rmul__(self, other: float) -> Value:
        return self * other

    def __neg__(self) -> Value:
        return self * -1

    def __sub__(self, other: _EngineValue | float) -> Value:
        if isinstance(other, _EngineValue):
            return self + (-other)
        number = as_number(other)  # x - 3: micrograd negates 3 in Python, then a leaf of -3
        return NotImplemented if number is None else self + (-number)

    def __rsub__(self, other: float) -> Value:
        return other + (-self)

    def __truediv__(self, other: _EngineValue | float) -> Value:
        if isinstance(other, _EngineValue):
            return self * other**-1
        number = as_number(other)  # x / 2: micrograd takes 2**-1 in Python, then a leaf of 0.5
        return NotImplemented if number is None else self * safe_pow(number, -1.0)  # x / 0: inf, as IEEE

    def __rtruediv__(self, other: float) -> Value:
        return other * self**-1

    def __pow__(self, exponent: float) -> Value:
        return _ours(_EngineValue.__pow__(self, exponent))

    def relu(self) -> Value:
        return _ours(_EngineValue.relu(self))

    def exp(self) -> Value:
        return _ours(_EngineValue.exp(self))

    def log(self) -> Value:
        return _ours(_EngineValue.log(self))

    def tanh(self) -> Value:
        return _ours(_EngineValue.tanh(self))

    def sigmoid(self) -> Value:
        return _ours(_EngineValue.sigmoid(self))

    def square(self) -> Value:
        return _ours(_EngineValue.square(self))

    def __abs__(self) -> Value:
        return _ours(_EngineValue.__abs__(self))

    @staticmethod
    def sum(values: Iterable[Operand], start: Operand | None = None) -> Value:
        return _ours(_EngineValue.sum(values, start))

    @staticmethod
    def dot(xs: Iterable[Operand], ys: Iterable[Operand], start: Operand | None = None) -> Value:
        return _ours(_EngineValue.dot(xs, ys, start))

    def detach(self) -> Value:
        return _ours(_EngineValue.detach(self))

    # The engine rebuilds a pickled or copied graph from its own class: these give the copy ours
    # back, so that ops on it build micrograd's graph as the original's do.

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        rebuild, args = super().__reduce__()
        return (_rebuilt_as_ours, (rebuild, args))

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        copied = super().__deepcopy__(memo)
        for v in walk(self):  # each copy of the class of its original (a mixed graph stays mixed)
            memo[id(v)].__class__ = type(v)
        return copied  # type: ignore[return-value]  # re-classed just above

    def __copy__(self) -> Value:
        return _ours(super().__copy__())

    @property
    def _op(self) -> str:
        """The op as micrograd names it: ``**-1`` where tinygrad_hw writes ``**(-1)``."""
        name: str = super()._op
        if name.startswith("**(") and name.endswith(")"):
            return f"**{name[3:-1]}"
        return name


def _operand(other: object) -> _EngineValue | None:
    """A Value as it is, a plain number as a new leaf (micrograd's way), anything else None."""
    if isinstance(other, _EngineValue):
        return other
    number = as_number(other)
    return None if number is None else Value(number)


def _rebuilt_as_ours(rebuild: Callable[..., _EngineValue], args: tuple[Any, ...]) -> Value:
    """Unpickling: the engine's rebuild, then its computed nodes made ours. (Leaves travel as
    objects, each through its own class's ``__reduce__``, so an engine leaf stays the engine's.)"""
    root = rebuild(*args)
    for v in walk(root):
        if not v.is_leaf:
            v.__class__ = Value
    return _ours(root)


def _ours(node: _EngineValue) -> Value:
    """The engine's result as a micrograd Value: the same object, so that the next op on it
    builds micrograd's graph too. (The subclass adds no fields, so its layout is the engine's.)"""
    node.__class__ = Value
    return node  # type: ignore[return-value]

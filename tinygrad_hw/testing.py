"""Property-test gradients the way tinygrad_hw's own tests do.

``expressions()`` is a hypothesis strategy for random expression graphs over every
op in the table, written the way a user writes them (``a * b``, ``2 - a``,
``a ** 3``, ``Value.dot(A, B)``), with shared sub-expressions and constants on
both sides; ``assert_gradients_match`` checks a function against finite
differences::

    from hypothesis import given
    from tinygrad_hw.testing import expressions, assert_gradients_match

    @given(expressions())
    def test_backward(expr):
        assert_gradients_match(expr)

Inputs are drawn where every op is smooth (``Op.smooth`` in ``ops.py``) with a
margin, and intermediate values stay moderate, so finite differences are a fair
judge and a failure means a wrong gradient.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from .checks import counted
from .engine import Value, grad
from .gradcheck import gradcheck
from .ops import OPS, Op

__all__ = ["Expression", "Step", "assert_gradients_match", "expressions", "spellings"]

# Inputs may move by _MARGIN (far more than finite differences' step) and every
# op must still be on the smooth side of its kinks and poles.
_MARGIN = 1e-4
_MAX_SENSITIVITY = 100.0  # |∂operand/∂input| summed over inputs, at most
_BOUND = 100.0  # |data| of every node, at most
_GROUPS = ("A", "B")  # an n-ary spelling's lists of operands; its start is ``s``


def spellings(op: Op) -> tuple[Callable[..., Any], ...]:
    """Every way a user writes ``op``, as functions of the names a, b, c (or, n-ary, of
    the lists A, B and the start s): the row's ``usage``, or for an n-ary op the
    static method ``Value.<name>`` without and with a start."""
    if not op.nary:
        return op.usage
    method = getattr(Value, op.name)
    groups = _GROUPS[: op.arity]

    def without_start(**names: Any) -> Any:
        return method(*(names[g] for g in groups))

    def with_start(**names: Any) -> Any:
        return method(*(names[g] for g in groups), names["s"])

    return without_start, with_start


def _has_start(op: Op, spelling: int) -> bool:
    return op.nary and spelling == 1


class _Formula:
    """What a spelling is given in place of each operand to write itself out as text."""

    def __init__(self, text: str, atom: bool = True) -> None:
        self.text, self.atom = text, atom

    def __str__(self) -> str:
        return self.text

    @staticmethod
    def _operand(x: Any) -> str:
        if isinstance(x, _Formula):
            return x.text if x.atom else f"({x.text})"
        return repr(x)

    def _binary(self, symbol: str, other: Any, reflected: bool = False) -> _Formula:
        left, right = (other, self) if reflected else (self, other)
        return _Formula(f"{self._operand(left)} {symbol} {self._operand(right)}", atom=False)

    def __add__(self, other: Any) -> _Formula:
        return self._binary("+", other)

    def __radd__(self, other: Any) -> _Formula:
        return self._binary("+", other, reflected=True)

    def __sub__(self, other: Any) -> _Formula:
        return self._binary("-", other)

    def __rsub__(self, other: Any) -> _Formula:
        return self._binary("-", other, reflected=True)

    def __mul__(self, other: Any) -> _Formula:
        return self._binary("*", other)

    def __rmul__(self, other: Any) -> _Formula:
        return self._binary("*", other, reflected=True)

    def __truediv__(self, other: Any) -> _Formula:
        return self._binary("/", other)

    def __rtruediv__(self, other: Any) -> _Formula:
        return self._binary("/", other, reflected=True)

    def __pow__(self, other: Any) -> _Formula:
        return self._binary("**", other)

    def __neg__(self) -> _Formula:
        return _Formula(f"-{self._operand(self)}", atom=False)

    def __abs__(self) -> _Formula:
        return _Formula(f"abs({self.text})")

    def __getattr__(self, method: str) -> Callable[..., _Formula]:
        if method.startswith("_"):
            raise AttributeError(method)
        return lambda *args: _Formula(f"{self._operand(self)}.{method}({', '.join(map(self._operand, args))})")


@dataclass(frozen=True)
class Step:
    """One op applied to earlier nodes (positions in the pool: inputs, then steps)."""

    op: str
    spelling: int  # which of the op's spellings (see :func:`spellings`): ``a + c`` or ``c + a``
    args: tuple[int, ...]  # operand positions; for n-ary ops group A, then group B, then the start
    const: float | None = None

    def names(self, pool: Sequence[Any]) -> dict[str, Any]:
        """The spelling's names (``a``, ``b``, ``c``; n-ary ``A``, ``B``, ``s``) bound to pool items."""
        op = OPS[self.op]
        if op.nary:
            start = _has_start(op, self.spelling)
            args = self.args[:-1] if start else self.args
            n = len(args) // op.arity
            names = {g: [pool[i] for i in args[k * n : (k + 1) * n]] for k, g in enumerate(_GROUPS[: op.arity])}
            if start:
                names["s"] = pool[self.args[-1]]
            return names
        named: dict[str, Any] = dict(zip(op.operands, (pool[i] for i in self.args)))
        if op.const:
            named["c"] = self.const
        return named

    def operand_values(self, data: Sequence[float]) -> dict[str, Any]:
        """The names ``Op.is_smooth`` reads (a, b, c; n-ary: lists a, b), from the pool's data."""
        names = self.names(data)
        op = OPS[self.op]
        if op.nary:
            return {n: names[g] for n, g in zip(op.operands, _GROUPS)}
        return names

    def apply(self, pool: Sequence[Value]) -> Value:
        return spellings(OPS[self.op])[self.spelling](**self.names(pool))

    def source(self, labels: Sequence[str]) -> str:
        """The step as Python source, operands written by their labels."""
        op = OPS[self.op]
        names = self.names([_Formula(label) for label in labels])
        if op.nary:
            parts = [f"[{', '.join(map(str, names[g]))}]" for g in _GROUPS[: op.arity]]
            parts += [str(names["s"])] if "s" in names else []
            return f"Value.{op.name}({', '.join(parts)})"
        return str(spellings(op)[self.spelling](**names))


@dataclass(frozen=True)
class Expression:
    """A random scalar function of ``len(inputs)`` Values, and a point to check it at.

    Calling it on Values builds its graph; its output is the sum of every node no
    other step uses, so every step matters.
    """

    inputs: tuple[float, ...]
    steps: tuple[Step, ...]
    outputs: tuple[int, ...]

    def __call__(self, *xs: Value) -> Value:
        if len(xs) != len(self.inputs):
            raise TypeError(f"this expression takes {counted(len(self.inputs), 'input')}, got {len(xs)}")
        pool = list(xs)
        for step in self.steps:
            pool.append(step.apply(pool))
        outs = [pool[i] for i in self.outputs]
        return outs[0] if len(outs) == 1 else Value.sum(outs)

    @property
    def ops(self) -> set[str]:
        return {s.op for s in self.steps}

    def __repr__(self) -> str:
        labels = [f"x{i}" for i in range(len(self.inputs))] + [f"v{i}" for i in range(len(self.steps))]
        lines = [f"{labels[i]} = {x!r}" for i, x in enumerate(self.inputs)]
        lines += [f"{labels[len(self.inputs) + k]} = {s.source(labels)}" for k, s in enumerate(self.steps)]
        outs = [labels[i] for i in self.outputs]
        lines.append(f"out = {outs[0] if len(outs) == 1 else 'Value.sum([' + ', '.join(outs) + '])'}")
        return "Expression:\n    " + "\n    ".join(lines)


def _robust(op: Op, step: Step, pool: list[Value], leaves: list[Value]) -> bool:
    """Smooth at the point and within _MARGIN of it (so finite differences are fair)."""
    if op.smooth is None:
        return True
    data = [v.data for v in pool]
    if not op.is_smooth(step.operand_values(data)):
        return False
    moved = list(data)
    for i in set(step.args):
        sensitivity = sum(abs(g) for g in grad(pool[i], leaves)) if pool[i] not in leaves else 1.0
        if sensitivity > _MAX_SENSITIVITY:
            return False
        for shift in (-1.0, 1.0):
            moved[i] = data[i] + shift * _MARGIN * sensitivity
            if not op.is_smooth(step.operand_values(moved)):
                return False
        moved[i] = data[i]
    return True


_CONSTANTS = st.one_of(
    st.sampled_from([0.0, 1.0, -1.0, 2.0, 3.0, 0.5, -2.0]),
    st.floats(-3.0, 3.0, allow_nan=False, allow_subnormal=False),
)


@st.composite
def expressions(
    draw: Callable[[st.SearchStrategy[Any]], Any],
    ops: Iterable[str] | None = None,
    max_inputs: int = 3,
    max_steps: int = 8,
    low: float = -2.0,
    high: float = 2.0,
) -> Expression:
    """Random expression graphs over ``ops`` (default: every op in the table).

    Steps reuse earlier nodes freely (shared sub-expressions; ``a * a``), take
    constants on either side where the op allows it, and are kept only where
    the op is smooth and the result is finite and moderate.
    """
    unknown = [name for name in ops or () if name not in OPS]
    if unknown:
        raise ValueError(f"expressions(): no op {', '.join(map(repr, unknown))} in the table (have {', '.join(OPS)})")
    table = [OPS[name] for name in (ops if ops is not None else OPS)]
    if not table:
        raise ValueError("expressions() needs at least one op")
    n_inputs = draw(st.integers(1, max_inputs))
    inputs = tuple(draw(st.floats(low, high, allow_nan=False, allow_subnormal=False)) for _ in range(n_inputs))
    leaves = [Value(x) for x in inputs]
    pool = list(leaves)
    steps: list[Step] = []
    for _ in range(draw(st.integers(1, max_steps))):
        op = draw(st.sampled_from(table))
        spelling = draw(st.integers(0, len(spellings(op)) - 1))
        position = st.integers(0, len(pool) - 1)
        count = op.arity * draw(st.integers(1, 4)) + _has_start(op, spelling) if op.nary else op.arity
        args = tuple(draw(position) for _ in range(count))
        step = Step(op.name, spelling, args, draw(_CONSTANTS) if op.const else None)
        if not _robust(op, step, pool, leaves):
            continue
        node = step.apply(pool)
        if not (math.isfinite(node.data) and abs(node.data) <= _BOUND):
            continue
        pool.append(node)
        steps.append(step)
    assume(steps)
    used = {i for s in steps for i in s.args}
    outputs = tuple(i for i in range(n_inputs, len(pool)) if i not in used)
    return Expression(inputs, tuple(steps), outputs)


def assert_gradients_match(
    f: Callable[..., Value] | Expression,
    inputs: Sequence[float | Value] | None = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> None:
    """Fail with an AssertionError when ``backward()`` disagrees with finite differences.

    ``f`` is an :class:`Expression` (checked at its own inputs) or any function of
    Values with ``inputs``; the message names the input and both numbers.
    """
    if inputs is None:
        if not isinstance(f, Expression):
            raise TypeError("assert_gradients_match needs inputs unless f is an Expression")
        inputs = f.inputs
    try:
        gradcheck(f, inputs, eps=eps, atol=atol, rtol=rtol)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{f!r}") from None

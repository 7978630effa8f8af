"""The op table: every operation's rule, written once, as plain Python.

A rule is an ordinary function of its operands' data. Its first line is the
forward pass, the line below it the local derivatives, one per operand::

    def sigmoid(a):
        out = 1.0 / (1.0 + math.exp(-a))      # σ(a)
        return out, (out * (1.0 - out),)      # ∂out/∂a = σ(a)(1 − σ(a))

Call one in a REPL (``ops.sigmoid(0.5)``) or break one in a test: each is real
code. Everything else is generated from these functions: ``make kernels`` writes
each rule out as the two functions the engine runs (``kernels.py``), and the
replay, the numpy program, the drawings and the test strategies read the same
text (``codegen.py``). Adding an op is its rule plus a row below (and a row of
``maths.py`` if the rule calls a new function); ``engine.register_op`` adds one
while a program runs.

The names a rule may use:

* ``a``, ``b``: the data of the operands that are ``Value`` s;
* ``c``: a plain number on one side (``2 * x``, ``x ** 3``); it is not a graph node;
* ``out``: the forward result, so that ``exp`` can reuse it;
* the functions of ``maths.py`` as ``math.<name>`` (``math.exp``, ``math.log``...),
  and ``/``.

Where Python would raise (``math.exp(1000)``, ``math.log(0)``, ``1 / 0``), the engine
runs the same rule in an IEEE-754 form (``ieee.py``) and gets ``inf`` or ``nan``,
as numpy and PyTorch do.

An ``nary`` rule describes one term of a sum: ``out = start + Σ term``, where the
optional start (a neuron's bias) has derivative 1. A row's ``usage`` is how a user
writes the op (the tests drive every op through it); ``smooth`` says where the op
is differentiable and well-conditioned enough for finite differences, and the
gradient tests and ``tinygrad_hw.testing`` draw their inputs from there.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import math
import textwrap
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from .maths import MATHS

__all__ = ["OPERANDS", "OPS", "Op", "RuleError", "add_op", "label", "read_rule", "remove_op"]

Result = tuple[float, tuple[float, ...]]  # what a rule returns: out, and ∂out/∂ each operand

# -- two Values -----------------------------------------------------------------------


def add(a: float, b: float) -> Result:
    out = a + b
    return out, (1.0, 1.0)


def sub(a: float, b: float) -> Result:
    out = a - b
    return out, (1.0, -1.0)


def mul(a: float, b: float) -> Result:
    out = a * b
    return out, (b, a)


def div(a: float, b: float) -> Result:
    out = a / b
    return out, (1.0 / b, -out / b)


# -- a Value and a plain number c (c is not a graph node) ------------------------------


def add_c(a: float, c: float) -> Result:
    out = a + c
    return out, (1.0,)


def sub_c(a: float, c: float) -> Result:
    out = a - c
    return out, (1.0,)


def rsub_c(a: float, c: float) -> Result:
    out = c - a
    return out, (-1.0,)


def mul_c(a: float, c: float) -> Result:
    out = a * c
    return out, (c,)


def div_c(a: float, c: float) -> Result:
    out = a / c
    return out, (1.0 / c,)


def rdiv_c(a: float, c: float) -> Result:
    out = c / a
    return out, (-out / a,)


def pow_c(a: float, c: float) -> Result:
    out = math.pow(a, c)
    return out, (0.0 if c == 0.0 else c * math.pow(a, c - 1.0),)


# -- one Value ------------------------------------------------------------------------------


def neg(a: float) -> Result:
    out = -a
    return out, (-1.0,)


def exp(a: float) -> Result:
    out = math.exp(a)
    return out, (out,)


def log(a: float) -> Result:
    out = math.log(a)
    return out, (1.0 / a,)


def sigmoid(a: float) -> Result:
    out = 1.0 / (1.0 + math.exp(-a))
    return out, (out * (1.0 - out),)


def tanh(a: float) -> Result:
    out = math.tanh(a)
    return out, (1.0 - out * out,)


def relu(a: float) -> Result:
    out = 0.0 if a < 0.0 else a
    return out, (0.0 if a <= 0.0 else 1.0,)  # at NaN: 1, passing the gradient on, as PyTorch does


def square(a: float) -> Result:
    out = a * a
    return out, (2.0 * a,)


def abs(a: float) -> Result:  # the op is called abs, as Python's abs(x) calls it
    out = math.fabs(a)
    return out, (1.0 if a > 0.0 else -1.0 if a < 0.0 else 0.0,)  # at 0 and at NaN: 0, as PyTorch


# -- many Values: out = start + Σ term; each rule is one term ------------------------------


def sum(a: float) -> Result:  # the op is called sum (the builtin is not used in this file)
    out = a
    return out, (1.0,)


def dot(a: float, b: float) -> Result:
    out = a * b
    return out, (b, a)


OPERANDS = ("a", "b")  # the data names of Value operands, in order


@dataclass(eq=False, repr=False)  # one object per row: compared and hashed by identity, cheaply
class Op:
    """One row of the table: a rule function, how the op is written and drawn, and the
    two kernels generated from the rule.

    ``formula`` and ``partials`` are the rule's text, read from its source: what the
    code generators write out. ``forward`` and ``backward`` are the rule's kernels
    in ``kernels.py`` (``sigmoid_forward``, ``sigmoid_backward``), attached when
    ``engine.py`` is imported: ``Value.backward`` calls ``node.op.backward(node)``.
    """

    rule: Callable[..., Any]
    symbol: str  # how the op reads in a graph drawing; ``{c}`` is replaced by the constant
    # how a user writes it, one function per spelling over the names a, b, c (``lambda a, c: c * a``);
    # an n-ary op is written Value.<name>(A[, B][, start]) and lists none
    usage: tuple[Callable[..., Any], ...] = ()
    nary: bool = False  # out = Σ over operand pairs (or operands) of the rule's ``out``
    smooth: Callable[..., bool] | None = None  # where finite differences can be trusted; None: everywhere
    start: bool = False  # n-ary: the node's last child is a start, added as it is (∂out/∂start = 1)
    name: str = field(init=False)
    const: bool = field(init=False)  # takes a plain number ``c`` besides its Value operand(s)
    formula: str = field(init=False)  # the rule's ``out = ...``, as text
    partials: tuple[str, ...] = field(init=False)  # its local derivatives ∂out/∂a (, ∂out/∂b), as text
    _started: Op | None = field(init=False, repr=False)  # n-ary: this op with a start; else None
    forward: Callable[..., Any] = field(init=False, repr=False)  # kernels.<name>_forward
    backward: Callable[[Any], None] = field(init=False, repr=False)  # kernels.<name>_backward

    def __post_init__(self) -> None:
        self.name, self.const, self.formula, self.partials = read_rule(self.rule)
        if self.nary and self.const:
            raise RuleError(f"rule {self.name}: an n-ary rule takes no constant c")
        if self.nary == bool(self.usage):
            raise RuleError(f"rule {self.name}: " + ("an n-ary op lists no usage" if self.nary else "no usage given"))
        if self.start and not self.nary:
            raise RuleError(f"rule {self.name}: only an n-ary op has a start")
        self._started = (self if self.start else replace(self, start=True)) if self.nary else None

    def __repr__(self) -> str:
        return f"Op({self.name!r}{', start' if self.start else ''})"

    @property
    def with_start(self) -> Op:
        """This n-ary op with a start (``Value.dot(A, B, start)``): the same rule and kernels,
        ``start`` true, so the node says its last child is its start."""
        if self._started is None:
            raise ValueError(f"op {self.name}: only an n-ary op has a start")
        return self._started

    @property
    def arity(self) -> int:
        """Value operands per application (per term for ``nary`` ops)."""
        return len(self.partials)

    @property
    def operands(self) -> tuple[str, ...]:
        """The names the rule reads its Value operands by: ``("a",)`` or ``("a", "b")``."""
        return OPERANDS[: self.arity]

    def attach(self, forward: Callable[..., Any], backward: Callable[[Any], None]) -> None:
        """Give this row (and its twin with a start) its two kernels."""
        for op in {self, self._started or self}:
            op.forward, op.backward = forward, backward

    def is_smooth(self, names: dict[str, Any]) -> bool:
        """``smooth`` for these operand values (for an n-ary op, lists ``a``, ``b``: every term)."""
        if self.smooth is None:
            return True
        if self.nary:
            return all(
                self.smooth(**dict(zip(self.operands, term))) for term in zip(*(names[n] for n in self.operands))
            )
        return bool(self.smooth(**names))


class RuleError(ValueError):
    """A rule function is not of the form the code generators read."""


def read_rule(rule: Callable[..., Any]) -> tuple[str, bool, str, tuple[str, ...]]:
    """(name, takes a constant, forward text, partial texts) of a rule function.

    A rule is ``def name(a[, b][, c]):`` followed by ``out = <expression>`` and
    ``return out, (<∂out/∂a>[, <∂out/∂b>])``; ``math.exp`` and friends are read as
    ``exp``, the name the generated code uses.
    """
    name = getattr(rule, "__name__", repr(rule))
    try:
        source = textwrap.dedent(inspect.getsource(rule))
    except (OSError, TypeError):
        raise RuleError(f"rule {name}: its source is not available (define it in a file)") from None
    function = ast.parse(source).body[0]
    if not isinstance(function, ast.FunctionDef):
        raise RuleError(f"rule {name}: not a def")
    params = [arg.arg for arg in function.args.args]
    operands = [p for p in params if p != "c"]
    if not operands or operands != list(OPERANDS[: len(operands)]) or ("c" in params and params[-1] != "c"):
        raise RuleError(f"rule {name}: takes ({', '.join(params)}); a rule takes a[, b][, c]")
    body = [s for s in function.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if not (len(body) == 2 and isinstance(body[0], ast.Assign) and isinstance(body[1], ast.Return)):
        raise RuleError(f"rule {name}: its body must be `out = ...` then `return out, (∂out/∂a, ...)`")
    assign, returned = body[0], body[1].value
    shape = (
        [ast.unparse(t) for t in assign.targets] == ["out"]
        and isinstance(returned, ast.Tuple)
        and len(returned.elts) == 2
        and ast.unparse(returned.elts[0]) == "out"
        and isinstance(returned.elts[1], ast.Tuple)
    )
    if not shape or not isinstance(returned, ast.Tuple) or not isinstance(returned.elts[1], ast.Tuple):
        raise RuleError(f"rule {name}: its body must be `out = ...` then `return out, (∂out/∂a, ...)`")
    partials = returned.elts[1].elts
    if len(partials) != len(operands):
        raise RuleError(f"rule {name}: {len(partials)} derivatives for {len(operands)} operands")
    return name, "c" in params, _text(assign.value, name), tuple(_text(p, name) for p in partials)


class _Plain(ast.NodeTransformer):
    """``math.exp(x)`` becomes ``exp(x)``; a number is written as a float (``1`` as ``1.0``,
    so that ±1 derivatives are recognised)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if isinstance(node.value, ast.Name) and node.value.id == "math" and node.attr in MATHS:
            return ast.copy_location(ast.Name(node.attr, ast.Load()), node)
        allowed = ", ".join(f"math.{name}" for name in MATHS)
        raise RuleError(f"rule {self.name}: uses {ast.unparse(node)}; a rule may call {allowed} (see maths.py)")

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id not in ("a", "b", "c", "out"):
            raise RuleError(f"rule {self.name}: reads {node.id}; a rule reads a, b, c, out and math.<function>")
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return ast.copy_location(ast.Constant(float(node.value)), node)
        return node


def _text(node: ast.expr, name: str) -> str:
    """An expression as generator text (see :class:`_Plain`)."""
    return ast.unparse(_Plain(name).visit(node))


def _table(*ops: Op) -> dict[str, Op]:
    return {op.name: op for op in ops}


_abs = builtins.abs  # this file's ``abs`` is the rule

# fmt: off
OPS: dict[str, Op] = _table(
    Op(add, "+",            usage=(lambda a, b: a + b,)),
    Op(sub, "-",            usage=(lambda a, b: a - b,)),
    Op(mul, "*",            usage=(lambda a, b: a * b,)),
    Op(div, "/",            usage=(lambda a, b: a / b,),            smooth=lambda a, b: _abs(b) > 0.1),
    Op(add_c, "+{c}",       usage=(lambda a, c: a + c, lambda a, c: c + a)),
    Op(sub_c, "-{c}",       usage=(lambda a, c: a - c,)),
    Op(rsub_c, "{c}-",      usage=(lambda a, c: c - a,)),
    Op(mul_c, "*{c}",       usage=(lambda a, c: a * c, lambda a, c: c * a)),
    Op(div_c, "/{c}",       usage=(lambda a, c: a / c,),            smooth=lambda a, c: _abs(c) > 0.1),
    Op(rdiv_c, "{c}/",      usage=(lambda a, c: c / a,),            smooth=lambda a, c: _abs(a) > 0.1),
    Op(pow_c, "**{c}",      usage=(lambda a, c: a**c,),             smooth=lambda a, c: a > 0.1),
    Op(neg, "neg",          usage=(lambda a: -a,)),
    Op(exp, "exp",          usage=(lambda a: a.exp(),),             smooth=lambda a: a < 20.0),
    Op(log, "log",          usage=(lambda a: a.log(),),             smooth=lambda a: a > 0.1),
    Op(sigmoid, "sigmoid",  usage=(lambda a: a.sigmoid(),)),
    Op(tanh, "tanh",        usage=(lambda a: a.tanh(),)),
    Op(relu, "ReLU",        usage=(lambda a: a.relu(),),            smooth=lambda a: _abs(a) > 1e-3),
    Op(square, "^2",        usage=(lambda a: a.square(),)),
    Op(abs, "abs",          usage=(lambda a: _abs(a),),             smooth=lambda a: _abs(a) > 1e-3),
    Op(sum, "sum",          nary=True),
    Op(dot, "dot",          nary=True),
)
# fmt: on


def add_op(op: Op) -> None:
    """Put a new row in the table (see ``engine.register_op``, which also gives it kernels)."""
    if op.name in OPS:
        raise ValueError(f"the op table already has a row {op.name!r}")
    OPS[op.name] = op


def remove_op(name: str) -> None:
    """Undo :func:`add_op`."""
    OPS.pop(name, None)


def label(op: Op, const: float | None = None) -> str:
    """The op as it reads on a graph node, with its constant filled in."""
    if not op.const:
        return op.symbol
    text = format(const, "g") if const is not None else "c"
    if text.startswith("-"):
        text = f"({text})"
    return op.symbol.format(c=text)

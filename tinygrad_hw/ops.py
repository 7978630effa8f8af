"""The op table: every operation's rule, written once, as plain Python.

A rule is an ordinary function of its operands' data. Its first line is the
forward pass, the line below it the local derivatives, one per operand::

    def sigmoid(a):
        out = 1.0 / (1.0 + math.exp(-a))      # σ(a)
        return out, (out * (1.0 - out),)      # ∂out/∂a = σ(a)(1 − σ(a))

Call one in a REPL (``ops.sigmoid(0.5)``), set a breakpoint in one and run
``tinygrad_hw.backprop.backward(loss)``, the plain backward pass that calls these
functions, or break one in a test: each is real code.

Everything else reads the table built below from these functions. The eager
engine's kernels, the IEEE fallbacks, the replay, the batched replay, the
drawings and the test domains all take their text from here
(``codegen.py``). Adding an op means writing its rule and adding its row.

The names a rule may use:

* ``a``, ``b``: the data of the operands that are ``Value`` s;
* ``c``: a plain number on one side (``2 * x``, ``x ** 3``); it is not a graph node;
* ``out``: the forward result, so that ``exp`` can reuse it;
* ``math.exp``, ``math.log``, ``math.tanh``, ``math.pow`` and ``math.fabs``, and ``/``.

Where Python would raise (``math.exp(1000)``, ``math.log(0)``, ``1 / 0``), the engine
runs the same rule in an IEEE-754 form (``ieee.py``) and gets ``inf`` or ``nan``,
as numpy and PyTorch do.

An ``nary`` rule describes one term of a sum: ``out = start + Σ term``, where the
optional start (a neuron's bias) has derivative 1. ``usage`` is how a user writes
the op (the tests drive every op through it). ``smooth`` says where the op is
differentiable and well-conditioned enough for finite differences; the gradient
tests and ``tinygrad_hw.testing`` draw their inputs from there.
"""

from __future__ import annotations

import ast
import inspect
import math
import textwrap
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

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
MATH = ("exp", "log", "tanh", "pow", "fabs")  # the functions a rule may call, as math.<name>


@dataclass(frozen=True, eq=False)  # one object per op: compared and hashed by identity, cheaply
class Op:
    """One row of the table: a rule function and how the op is written and drawn.

    ``forward`` and ``partials`` are the rule's text, read from its source: what
    the code generators inline.
    """

    rule: Callable[..., Any]
    symbol: str  # how the op reads in a graph drawing; ``{c}`` is replaced by the constant
    usage: tuple[str, ...]  # how a user writes it (n-ary: lists ``A``, ``B``, start ``s``)
    nary: bool = False  # out = Σ over operands (or operand pairs) of the rule's ``out``
    smooth: str = "True"  # where finite differences can be trusted
    name: str = field(init=False)
    const: bool = field(init=False)  # takes a plain number ``c`` besides its Value operand(s)
    forward: str = field(init=False)  # the rule's ``out = ...``, as text
    partials: tuple[str, ...] = field(init=False)  # its local derivatives ∂out/∂a (, ∂out/∂b), as text

    def __post_init__(self) -> None:
        name, const, forward, partials = read_rule(self.rule)
        for attribute, value in (("name", name), ("const", const), ("forward", forward), ("partials", partials)):
            object.__setattr__(self, attribute, value)

    @property
    def arity(self) -> int:
        """Value operands per application (per term for ``nary`` ops)."""
        return len(self.partials)

    @property
    def out(self) -> str:
        """Deprecated: ``forward``."""
        warnings.warn("Op.out is now Op.forward", DeprecationWarning, stacklevel=2)
        return self.forward

    @property
    def grads(self) -> tuple[str, ...]:
        """Deprecated: ``partials``."""
        warnings.warn("Op.grads is now Op.partials", DeprecationWarning, stacklevel=2)
        return self.partials


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
    shape = (
        len(body) == 2
        and isinstance(body[0], ast.Assign)
        and [ast.unparse(t) for t in body[0].targets] == ["out"]
        and isinstance(body[1], ast.Return)
        and isinstance(body[1].value, ast.Tuple)
        and len(body[1].value.elts) == 2
        and ast.unparse(body[1].value.elts[0]) == "out"
        and isinstance(body[1].value.elts[1], ast.Tuple)
    )
    if not shape:
        raise RuleError(f"rule {name}: its body must be `out = ...` then `return out, (∂out/∂a, ...)`")
    partials = body[1].value.elts[1].elts  # type: ignore[union-attr, attr-defined]
    if len(partials) != len(operands):
        raise RuleError(f"rule {name}: {len(partials)} derivatives for {len(operands)} operands")
    forward = _text(body[0].value, name)  # type: ignore[attr-defined]
    return name, "c" in params, forward, tuple(_text(p, name) for p in partials)


def _text(node: ast.expr, name: str) -> str:
    """An expression as generator text: ``math.exp(x)`` becomes ``exp(x)``; a number is
    written as a float (``1`` as ``1.0``), so that ±1 derivatives are recognised."""

    class Plain(ast.NodeTransformer):
        def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
            if isinstance(node.value, ast.Name) and node.value.id == "math" and node.attr in MATH:
                return ast.copy_location(ast.Name(node.attr, ast.Load()), node)
            raise RuleError(f"rule {name}: uses {ast.unparse(node)}; a rule may call math.{', math.'.join(MATH)}")

        def visit_Constant(self, node: ast.Constant) -> ast.AST:
            if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
                return ast.copy_location(ast.Constant(float(node.value)), node)
            return node

    return ast.unparse(Plain().visit(node))


def _table(*ops: Op) -> dict[str, Op]:
    return {op.name: op for op in ops}


# fmt: off
OPS: dict[str, Op] = _table(
    Op(add, "+",            usage=("a + b",)),
    Op(sub, "-",            usage=("a - b",)),
    Op(mul, "*",            usage=("a * b",)),
    Op(div, "/",            usage=("a / b",),               smooth="abs(b) > 0.1"),
    Op(add_c, "+{c}",       usage=("a + c", "c + a")),
    Op(sub_c, "-{c}",       usage=("a - c",)),
    Op(rsub_c, "{c}-",      usage=("c - a",)),
    Op(mul_c, "*{c}",       usage=("a * c", "c * a")),
    Op(div_c, "/{c}",       usage=("a / c",),               smooth="abs(c) > 0.1"),
    Op(rdiv_c, "{c}/",      usage=("c / a",),               smooth="abs(a) > 0.1"),
    Op(pow_c, "**{c}",      usage=("a ** c",),              smooth="a > 0.1"),
    Op(neg, "neg",          usage=("-a",)),
    Op(exp, "exp",          usage=("a.exp()",),             smooth="a < 20.0"),
    Op(log, "log",          usage=("a.log()",),             smooth="a > 0.1"),
    Op(sigmoid, "sigmoid",  usage=("a.sigmoid()",)),
    Op(tanh, "tanh",        usage=("a.tanh()",)),
    Op(relu, "ReLU",        usage=("a.relu()",),            smooth="abs(a) > 1e-3"),
    Op(square, "^2",        usage=("a.square()",)),
    Op(abs, "abs",          usage=("abs(a)",),              smooth="abs(a) > 1e-3"),
    Op(sum, "sum",          usage=("Value.sum(A)",),        nary=True),
    Op(dot, "dot",          usage=("Value.dot(A, B)", "Value.dot(A, B, s)"), nary=True),
)
# fmt: on


def label(op: Op, const: float | None = None) -> str:
    """The op as it reads on a graph node, with its constant filled in."""
    if not op.const:
        return op.symbol
    text = format(const, "g") if const is not None else "c"
    if text.startswith("-"):
        text = f"({text})"
    return op.symbol.format(c=text)

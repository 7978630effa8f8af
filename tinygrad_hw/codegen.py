"""From the op table's rules to Python source: the pieces every generator shares.

The eager kernels (``kernels.py``), the straight-line replay
(``straightline.py``), the looped replay (``looped.py``) and the batched replay
(``batched.py``) all write code from a rule's ``forward`` and ``partials`` text
through :func:`expression`, so each rule has one reading.

Two forms of every text: as the rule writes it, with ``math``'s functions and
``/`` (fast, but raising at ``exp(1000)`` or ``1 / 0``), and IEEE-safe, with
``safe_exp``, ``safe_div`` and friends (``ieee.py``). Generated code runs the fast
form and falls back to the safe one only when the fast one raises.

Generated source is compiled by :func:`load`, which registers it with
``linecache`` under a descriptive file name: tracebacks show its lines (with
carets), ``inspect.getsource`` works, pdb steps through it.
"""

from __future__ import annotations

import ast
import functools
import linecache
import math
import weakref
from typing import Any

from . import ieee
from .ops import OPERANDS, Op

__all__ = [
    "ARITH_ERRORS",
    "NAMESPACE",
    "accumulate",
    "can_raise",
    "constant",
    "contributions",
    "expression",
    "load",
    "names_in",
    "operand_order",
    "safe_form",
    "template",
]

# The names generated code may use, in both forms.
NAMESPACE: dict[str, Any] = {
    "exp": math.exp,
    "log": math.log,
    "tanh": math.tanh,
    "pow": math.pow,
    "fabs": math.fabs,
    "safe_exp": ieee.safe_exp,
    "safe_log": ieee.safe_log,
    "safe_tanh": math.tanh,
    "safe_pow": ieee.safe_pow,
    "safe_fabs": math.fabs,
    "safe_div": ieee.safe_div,
    "INF": math.inf,
    "NAN": math.nan,
}
ARITH_ERRORS = (ArithmeticError, ValueError)  # what Python raises where IEEE-754 answers inf or nan
NAMES = ("a", "b", "c", "out")  # the names a rule's text may read


class _Safe(ast.NodeTransformer):
    """Rewrite ``x / y`` to ``safe_div(x, y)`` and ``f(...)`` to ``safe_f(...)``."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Div):
            call = ast.Call(ast.Name("safe_div", ast.Load()), [node.left, node.right], [])
            return ast.copy_location(call, node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name):
            node.func = ast.Name("safe_" + node.func.id, ast.Load())
        return node


def safe_form(text: str) -> str:
    """The IEEE-safe version of a rule's expression text."""
    return ast.unparse(_Safe().visit(ast.parse(text, mode="eval")))


_NEVER_RAISE = {"tanh", "fabs"}  # math functions defined for every float


@functools.cache
def can_raise(text: str) -> bool:
    """Whether evaluating the text on floats can raise (a division, or exp/log/pow)."""
    return any(
        (isinstance(n, ast.Call) and getattr(n.func, "id", None) not in _NEVER_RAISE)
        or (isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div))
        for n in ast.walk(ast.parse(text, mode="eval"))
    )


@functools.cache
def names_in(text: str) -> frozenset[str]:
    return frozenset(n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name))


@functools.cache
def template(text: str, safe: bool = False) -> str:
    """A rule's text as a ``str.format`` template over ``{a}``, ``{b}``, ``{c}``, ``{out}``.

    Parsed once per text (and form): generating code for a graph is then string
    formatting, not a parse per term. What is filled in must be a name or a
    parenthesised expression (:func:`expression` sees to it)."""
    tree = ast.parse(safe_form(text) if safe else text, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in NAMES:
            node.id = f"__{node.id}__"
    code = ast.unparse(tree).replace("{", "{{").replace("}", "}}")
    for name in NAMES:
        code = code.replace(f"__{name}__", "{" + name + "}")
    return code


def _operand(text: str) -> str:
    """A name stays as it is; anything else is parenthesised before it is spliced in."""
    return text if text.isidentifier() else f"({text})"


def expression(text: str, names: dict[str, str], safe: bool = False) -> str:
    """A rule's text with its names (``a``, ``b``, ``c``, ``out``) replaced by expressions
    (a name not given stays as it is)."""
    filled = {name: name for name in NAMES}
    filled.update((k, _operand(v)) for k, v in names.items())
    return template(text, safe).format(**filled)


def constant(c: float) -> str:
    """A constant as Python source giving exactly that float: ``repr`` where it round-trips,
    names for the non-finite ones (``inf`` is not a Python literal)."""
    if c != c:
        return "NAN"
    if c in (math.inf, -math.inf):
        return "INF" if c > 0 else "(-INF)"
    text = repr(float(c))
    return f"({text})" if text.startswith("-") else text


def accumulate(target: str, partial: str, grad: str, first: bool = False) -> str:
    """The chain rule as one statement: ``target += partial * grad`` (``=`` for a first
    contribution), without the multiply when the partial is ±1. The kernels and the
    replay both write it so, and so round alike."""
    if partial == "1.0":
        return f"{target} = {grad}" if first else f"{target} += {grad}"
    if partial == "-1.0":
        return f"{target} = -{grad}" if first else f"{target} -= {grad}"
    factor = partial if partial.isidentifier() else f"({partial})"  # computed first, as the kernels do
    return f"{target} {'=' if first else '+='} {factor} * {grad}"


@functools.lru_cache(maxsize=4096)
def operand_order(op: Op, n_prev: int) -> tuple[int | None, tuple[dict[str, int], ...]]:
    """For a node with ``n_prev`` children: the position of an n-ary start (or None),
    and for each application of the rule (one, or one per term), which child each
    of its names ``a``, ``b`` reads. (Cached: read it, do not change it.)"""
    k = op.arity
    if not op.nary:
        return None, ({name: i for i, name in enumerate(OPERANDS[:k])},)
    start = n_prev - 1 if k > 1 and n_prev % k else None
    n = n_prev // k if k > 1 else n_prev
    return start, tuple({name: g * n + t for g, name in enumerate(OPERANDS[:k])} for t in range(n))


@functools.lru_cache(maxsize=4096)
def contributions(op: Op, n_prev: int) -> tuple[tuple[int, int | None, dict[str, int]], ...]:
    """(child position, which local derivative -- an index into ``op.partials``, or None
    for an n-ary start, whose derivative is 1 --, the children it reads), in the order
    the eager backward step adds them: replaying them in this order gives the same
    floating-point result. (Cached: read it, do not change it.)"""
    start, terms = operand_order(op, n_prev)
    out: list[tuple[int, int | None, dict[str, int]]] = [(start, None, {})] if start is not None else []
    for binds in terms:
        out += [(binds[name], k, binds) for k, name in enumerate(OPERANDS[: op.arity])]
    return tuple(out)


def load(source: str, filename: str, scope: dict[str, Any], keep: str | None = None) -> dict[str, Any]:
    """Compile and run generated ``source`` in ``scope``, and register its text with
    ``linecache`` under ``filename`` so that tools can show it. With ``keep``, the
    text is dropped again when the function of that name is (replays come and go);
    without, it stays (the kernels live as long as the program)."""
    exec(compile(source, filename, "exec"), scope)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    if keep is not None:
        weakref.finalize(scope[keep], linecache.cache.pop, filename, None)
    return scope


def __getattr__(name: str) -> Any:
    """``compile_kernel`` and ``Kernel`` moved to ``kernels.py`` in 0.2; forwarded until 0.3."""
    if name in ("compile_kernel", "Kernel"):
        from ._moved import forwarder

        return forwarder(__name__, "tinygrad_hw.kernels")(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""From the op table's rules to Python source: the pieces every generator shares.

The kernels (``generate.py`` writes ``kernels.py``), the straight-line replay
(``straightline.py``), the looped replay (``looped.py``), the numpy program
(``numpyprogram.py``) and the step-through page all write a rule's ``formula``
and ``partials`` through :func:`template`, so each rule has one reading.

Three forms of every text: as the rule writes it, with the maths functions and
``/`` (fast, but raising at ``exp(1000)`` or ``1 / 0``); IEEE-safe, with
``safe_exp``, ``safe_div`` and friends (``maths.py``, ``ieee.py``); and for numpy
arrays (``x if c else y`` as ``where(c, x, y)``). Generated code runs the fast
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
from typing import Any, Callable, Literal

from . import ieee
from .maths import MATHS
from .ops import Op

__all__ = [
    "ARITH_ERRORS",
    "accumulate",
    "atomic",
    "can_raise",
    "constant",
    "contributions",
    "expression",
    "library_names",
    "load",
    "names_in",
    "namespace",
    "operand_order",
    "safe_form",
    "template",
    "twin",
]

ARITH_ERRORS = (ArithmeticError, ValueError)  # what Python raises where IEEE-754 answers inf or nan
NAMES = ("a", "b", "c", "out")  # the names a rule's text may read
Form = Literal["python", "safe", "numpy"]


def namespace() -> dict[str, Any]:
    """The names generated Python code may use, in both forms: every maths function of
    ``maths.MATHS`` and its IEEE-safe twin, ``safe_div``, ``INF`` and ``NAN``."""
    names: dict[str, Any] = {"safe_div": ieee.safe_div, "INF": math.inf, "NAN": math.nan}
    for row in MATHS.values():
        names[row.name] = row.python
        if row.safe is not None:
            names[row.safe_name] = row.safe
    return names


def library_names(module: Any, column: Literal["numpy", "torch"]) -> dict[str, Any]:
    """Every maths function as another library has it, by the table's ``column``
    (``np.exp``, ``torch.exp``), and ``where``: the names a rule's numpy form reads in that
    library. A row without that column is left out (what needs it says so, see :func:`missing`)."""
    names = {row.name: getattr(module, getattr(row, column)) for row in MATHS.values() if getattr(row, column)}
    return {**names, "where": module.where}


def missing(op: Op, names: dict[str, Any]) -> list[str]:
    """The maths functions ``op``'s rule calls that ``names`` lacks."""
    called = set().union(*(names_in(t) for t in (op.formula, *op.partials))) & MATHS.keys()
    return sorted(called - names.keys())


def twin(op: Op, names: dict[str, Any]) -> Callable[..., Any]:
    """``op``'s forward in another library: ``f(a[, b][, c])`` computing the rule's ``out``
    with ``names`` (:func:`library_names`: numpy's ufuncs on arrays, PyTorch's functions on
    tensors). For an n-ary op, one term."""
    lacking = missing(op, names)
    if lacking:
        raise ValueError(f"op {op.name}: no form of {', '.join(lacking)} here (its row in maths.py names none)")
    params = ", ".join([*op.operands, *("c" * op.const)])
    body = template(op.formula, "numpy").format(**{name: name for name in NAMES})
    source = f"def {op.name}_twin({params}):\n    return {body}\n"
    scope = load(source, f"<tinygrad_hw twin: {op.name}>", {**names, "__name__": __name__})
    function: Callable[..., Any] = scope[f"{op.name}_twin"]
    return function


def _raising() -> frozenset[str]:
    return frozenset(name for name, row in MATHS.items() if row.raises)


class _Safe(ast.NodeTransformer):
    """Rewrite ``x / y`` to ``safe_div(x, y)`` and ``f(...)`` to ``safe_f(...)`` where ``f`` can raise."""

    def __init__(self, raising: frozenset[str]) -> None:
        self.raising = raising

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Div):
            return ast.copy_location(ast.Call(ast.Name("safe_div", ast.Load()), [node.left, node.right], []), node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in self.raising:
            node.func = ast.Name(MATHS[node.func.id].safe_name, ast.Load())
        return node


class _Arrays(ast.NodeTransformer):
    """``x if c else y`` -> ``where(c, x, y)``, so that a rule's text runs on numpy arrays."""

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        call = ast.Call(ast.Name("where", ast.Load()), [node.test, node.body, node.orelse], [])
        return ast.copy_location(call, node)


class _Placeholders(ast.NodeTransformer):
    """Each name a rule reads becomes a ``str.format`` field: ``a`` -> ``{a}``."""

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.Name("{" + node.id + "}", ast.Load()) if node.id in NAMES else node


def _parse(text: str) -> ast.Expression:
    tree = ast.parse(text, mode="eval")
    literal = (ast.Dict, ast.Set, ast.DictComp, ast.SetComp, ast.JoinedStr)
    if any(
        isinstance(n, literal) or (isinstance(n, ast.Constant) and isinstance(n.value, str)) for n in ast.walk(tree)
    ):
        raise ValueError(f"{text!r}: a rule's text is arithmetic, without braces or strings")
    return tree


def safe_form(text: str) -> str:
    """The IEEE-safe version of a rule's expression text."""
    return ast.unparse(_Safe(_raising()).visit(_parse(text)))


def can_raise(text: str) -> bool:
    """Whether evaluating the text on floats can raise (a division, or a maths function
    that can, such as exp, log or pow)."""
    return _can_raise(text, _raising())


@functools.lru_cache(maxsize=1024)
def _can_raise(text: str, raising: frozenset[str]) -> bool:
    return any(
        (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in raising)
        or (isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div))
        for n in ast.walk(_parse(text))
    )


@functools.lru_cache(maxsize=1024)
def names_in(text: str) -> frozenset[str]:
    return frozenset(n.id for n in ast.walk(_parse(text)) if isinstance(n, ast.Name))


def template(text: str, form: Form = "python") -> str:
    """A rule's text as a ``str.format`` template over ``{a}``, ``{b}``, ``{c}``, ``{out}``,
    in one of its forms.

    Parsed once per text and form: generating code for a graph is then string
    formatting, not a parse per term. What is filled in must be a name or a
    parenthesised expression (:func:`expression` sees to it)."""
    return _template(text, form, _raising())


@functools.lru_cache(maxsize=1024)
def _template(text: str, form: Form, raising: frozenset[str]) -> str:
    tree = _parse(text)  # no braces in the text: the only ones in the template are its fields
    if form == "safe":
        tree = _Safe(raising).visit(tree)
    elif form == "numpy":
        tree = ast.fix_missing_locations(_Arrays().visit(tree))
    return ast.unparse(_Placeholders().visit(tree))


def atomic(text: str) -> bool:
    """Whether ``text`` is a name or a dotted name (``va.data``): spliced in without brackets."""
    return all(part.isidentifier() for part in text.split("."))


def _operand(text: str) -> str:
    """A name stays as it is; anything else is parenthesised before it is spliced in."""
    return text if atomic(text) else f"({text})"


def expression(text: str, names: dict[str, str], safe: bool = False) -> str:
    """A rule's text with its names (``a``, ``b``, ``c``, ``out``) replaced by expressions
    (a name not given stays as it is)."""
    filled = {name: name for name in NAMES}
    filled.update((k, _operand(v)) for k, v in names.items())
    return template(text, "safe" if safe else "python").format(**filled)


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
    factor = partial if atomic(partial) else f"({partial})"  # computed first, as the kernels do
    return f"{target} {'=' if first else '+='} {factor} * {grad}"


@functools.lru_cache(maxsize=4096)
def operand_order(op: Op, n_prev: int) -> tuple[int | None, tuple[dict[str, int], ...]]:
    """For a node of ``op`` with ``n_prev`` children: the position of its n-ary start (or
    None), and for each application of the rule (one, or one per term), which child
    each of its names ``a``, ``b`` reads.

    An n-ary node's children are its a's, then its b's, then its start when
    ``op.start``. (Cached: read it, do not change it.)"""
    if not op.nary:
        return None, ({name: i for i, name in enumerate(op.operands)},)
    start = n_prev - 1 if op.start else None
    n = (n_prev - op.start) // op.arity
    return start, tuple({name: g * n + t for g, name in enumerate(op.operands)} for t in range(n))


@functools.lru_cache(maxsize=4096)
def contributions(op: Op, n_prev: int) -> tuple[tuple[int, int | None, dict[str, int]], ...]:
    """(child position, which local derivative -- an index into ``op.partials``, or None
    for an n-ary start, whose derivative is 1 --, the children it reads), in the order
    the kernels add them: replaying them in this order gives the same floating-point
    result. (Cached: read it, do not change it.)"""
    start, terms = operand_order(op, n_prev)
    out: list[tuple[int, int | None, dict[str, int]]] = [(start, None, {})] if start is not None else []
    for binds in terms:
        out += [(binds[name], k, binds) for k, name in enumerate(op.operands)]
    return tuple(out)


def load(source: str, filename: str, scope: dict[str, Any], keep: str | None = None) -> dict[str, Any]:
    """Compile and run generated ``source`` in ``scope``, and register its text with
    ``linecache`` under ``filename`` so that tools can show it. With ``keep``, the
    text is dropped again when the function of that name is (replays come and go);
    without, it stays until :func:`unload`."""
    exec(compile(source, filename, "exec"), scope)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    if keep is not None:
        weakref.finalize(scope[keep], linecache.cache.pop, filename, None)
    return scope


def unload(filename: str) -> None:
    """Forget generated source :func:`load` registered."""
    linecache.cache.pop(filename, None)

"""Turn the op table's expression text into Python functions.

The eager engine gets, for every op, a node constructor (``make``) and a backward
step; the replay compiler inlines the same text into straight-line code. Both go
through :func:`expression`, so there is one reading of each rule.

Each rule is compiled twice over: as written, with ``math``'s functions and ``/``
(fast, but raises at ``exp(1000)`` or ``1 / 0``), and in an IEEE-safe form with
``safe_exp``, ``safe_div`` and friends (see ``ieee.py``). Generated code runs the
fast form and falls back to the safe one only when it raises; ops whose text
cannot raise (``+``, ``*``, comparisons) get no ``try`` at all.
"""

from __future__ import annotations

import ast
import functools
import math
from dataclasses import dataclass
from typing import Any, Callable

from . import ieee
from .ops import Op

# The names op text may use, in both forms.
NAMESPACE: dict[str, Any] = {
    "exp": math.exp,
    "log": math.log,
    "tanh": math.tanh,
    "pow": math.pow,
    "safe_exp": ieee.safe_exp,
    "safe_log": ieee.safe_log,
    "safe_tanh": math.tanh,
    "safe_pow": ieee.safe_pow,
    "safe_div": ieee.safe_div,
    "INF": math.inf,
    "NAN": math.nan,
}
ARITH_ERRORS = (ArithmeticError, ValueError)


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
    """The IEEE-safe version of an op's expression text."""
    return ast.unparse(_Safe().visit(ast.parse(text, mode="eval")))


_NEVER_RAISE = {"tanh"}  # math functions defined for every float


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


OPERAND_NAMES = ("a", "b", "c", "out")  # the names op text may read


@functools.cache
def template(text: str, safe: bool = False) -> str:
    """An op's text as a ``str.format`` template over ``{a}``, ``{b}``, ``{c}``, ``{out}``.

    Parsed once per text (and form): generating code for a graph is then string
    formatting, not a parse per term. Operands filled in must be names or
    parenthesised expressions (see :func:`constant`)."""
    tree = ast.parse(safe_form(text) if safe else text, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in OPERAND_NAMES:
            node.id = f"__{node.id}__"
    code = ast.unparse(tree).replace("{", "{{").replace("}", "}}")
    for name in OPERAND_NAMES:
        code = code.replace(f"__{name}__", "{" + name + "}")
    return code


def _operand(text: str) -> str:
    """A name stays as it is; anything else is parenthesised before it is spliced in."""
    return text if text.isidentifier() else f"({text})"


def expression(text: str, names: dict[str, str], safe: bool = False) -> str:
    """An op's text with its names (``a``, ``b``, ``c``, ``out``) replaced by expressions
    (a name not given stays as it is)."""
    filled = {name: name for name in OPERAND_NAMES}
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


def assign(target: str, texts: list[str], names: dict[str, str], indent: str) -> list[str]:
    """Lines computing ``target = text`` for each text, with the IEEE fallback if needed.

    ``target`` is a format string taking the text's index (``"d{}"``). All values are
    computed before anything is stored elsewhere, so a fallback never runs twice.
    """
    fast = [f"{indent}{target.format(i)} = {expression(t, names)}" for i, t in enumerate(texts)]
    if not any(can_raise(t) for t in texts):
        return fast
    safe = [f"{indent}    {target.format(i)} = {expression(t, names, safe=True)}" for i, t in enumerate(texts)]
    return [f"{indent}try:", *("    " + line for line in fast), f"{indent}except ARITH_ERRORS:", *safe]


def accumulate(target: str, partial: str, grad: str, first: bool = False) -> str:
    """``target += partial * grad`` (``=`` for a first contribution), without the
    multiply when the partial is ±1. The engine and the replay compiler both use it,
    so both round alike."""
    if partial == "1.0":
        return f"{target} = {grad}" if first else f"{target} += {grad}"
    if partial == "-1.0":
        return f"{target} = -{grad}" if first else f"{target} -= {grad}"
    factor = partial if partial.isidentifier() else f"({partial})"  # computed first, as eager does
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
    """(child position, which local derivative -- an index into ``op.grads``, or None for
    an n-ary start, whose derivative is 1 --, the children it reads), in the order the
    eager backward step adds them: replaying them in this order gives the same
    floating-point result. (Cached: read it, do not change it.)"""
    start, terms = operand_order(op, n_prev)
    out: list[tuple[int, int | None, dict[str, int]]] = [(start, None, {})] if start is not None else []
    for binds in terms:
        out += [(binds[name], k, binds) for k, name in enumerate(OPERANDS[: op.arity])]
    return tuple(out)


def is_trivial(text: str) -> bool:
    """A partial that needs no temporary: ±1 or a bare name."""
    return text in ("1.0", "-1.0") or text.isidentifier()


@dataclass(frozen=True)
class Kernel:
    """One op compiled for the eager engine: build a node, push a gradient back."""

    op: Op
    make: Callable[..., Any]
    backward: Callable[[Any], None]
    source: str


OPERANDS = "ab"  # data names in op text, one per operand of a term


def _fixed_source(op: Op) -> str:
    k = op.arity
    nodes = [f"v{n}" for n in OPERANDS[:k]]
    params = ", ".join(nodes + (["c"] if op.const else []))
    const = "c" if op.const else "None"
    lines = [f"def make({params}):"]
    lines += [f"    {n} = v{n}.data" for n in OPERANDS[:k]]
    lines += assign("out", [op.out], {}, "    ")
    lines += [*_new_node("out", f"({', '.join(nodes)},)", const, "    "), ""]

    used = set().union(*(names_in(g) for g in op.grads))
    lines += ["def backward(node):", f"    {', '.join(nodes)}, = node._prev"]
    lines += [f"    {n} = v{n}.data" for n in OPERANDS[:k] if n in used]
    lines += ["    out = node.data"] * ("out" in used) + ["    c = node._const"] * ("c" in used)
    lines += ["    g = node.grad"]
    partials = _partials(op.grads, lines, "    ")
    lines += [f"    {accumulate(node + '.grad', p, 'g')}" for node, p in zip(nodes, partials)]
    return "\n".join(lines) + "\n"


def _partials(grads: tuple[str, ...], lines: list[str], indent: str) -> list[str]:
    """Emit temporaries for the non-trivial partials; return what to multiply by."""
    heavy = [i for i, g in enumerate(grads) if not is_trivial(g)]
    lines += assign("d{}", [grads[i] for i in heavy], {}, indent)  # d0, d1, ... in heavy's order
    temporary = {i: f"d{j}" for j, i in enumerate(heavy)}
    return [temporary.get(i, g) for i, g in enumerate(grads)]


def _nary_source(op: Op) -> str:
    """out = start + Σ term over operand tuples (``start`` optional, ∂out/∂start = 1).

    ``_prev`` holds the operands group by group (all a's, then all b's), then the
    start if there is one: for two-operand terms an odd length means a start.
    """
    k = op.arity
    nodes = [f"v{n}" for n in OPERANDS[:k]]
    groups = [f"{n}s" for n in nodes]
    unpack = [f"{n} = v{n}.data" for n in OPERANDS[:k]]
    operands = ", ".join(f"*{g}" for g in groups)
    lines = [f"def make({', '.join(groups)}, start=None):", f"    terms = zip({', '.join(groups)})"]
    lines += ["    if start is None:", f"        {', '.join(nodes)}, = next(terms)"]
    lines += ["        " + u for u in unpack]
    lines += assign("total", [op.out], {}, "        ")
    lines += [f"        prev = ({operands},)", "    else:", "        total = start.data"]
    lines += [f"        prev = ({operands}, start)"]
    lines += [f"    for {', '.join(nodes)}, in terms:", *("        " + u for u in unpack)]
    lines += [*assign("term", [op.out], {}, "        "), "        total += term"]
    lines += [*_new_node("total", "prev", "None", "    "), ""]

    used = set().union(*(names_in(g) for g in op.grads))
    lines += ["def backward(node):", "    prev = node._prev", "    g = node.grad"]
    if k == 1:
        lines += [f"    for {nodes[0]} in prev:"]
    else:
        lines += [f"    n = len(prev) // {k}", f"    if len(prev) % {k}:", "        prev[-1].grad += g"]
        slices = ", ".join(f"prev[{i}*n:{i + 1}*n]" if i else "prev[:n]" for i in range(k))
        lines += [f"    for {', '.join(nodes)} in zip({slices}):"]
    lines += [f"        {n} = v{n}.data" for n in OPERANDS[:k] if n in used]
    partials = _partials(op.grads, lines, "        ")
    lines += [f"        {accumulate(node + '.grad', p, 'g')}" for node, p in zip(nodes, partials)]
    return "\n".join(lines) + "\n"


def _new_node(data: str, prev: str, const: str, indent: str) -> list[str]:
    """Lines returning a new node; under ``no_grad`` (``recording`` false) a bare leaf."""
    return [
        f"{indent}v = new(Value)",
        f"{indent}v.data = {data}",
        f"{indent}v.grad = 0.0",
        f"{indent}v.label = ''",
        f"{indent}if recording():",
        f"{indent}    v._prev = {prev}",
        f"{indent}    v._kernel = KERNEL",
        f"{indent}    v._const = {const}",
        f"{indent}else:",
        f"{indent}    v._prev = ()",
        f"{indent}    v._kernel = None",
        f"{indent}    v._const = None",
        f"{indent}return v",
    ]


def compile_kernel(op: Op, value_class: type, recording: Callable[[], bool]) -> Kernel:
    """Compile one table row into functions that build ``value_class`` nodes.

    ``recording()`` is called at every op: false inside ``no_grad``.
    """
    source = _nary_source(op) if op.nary else _fixed_source(op)
    scope: dict[str, Any] = dict(
        NAMESPACE, Value=value_class, new=object.__new__, recording=recording, ARITH_ERRORS=ARITH_ERRORS
    )
    exec(compile(source, f"<op {op.name}>", "exec"), scope)
    kernel = Kernel(op, scope["make"], scope["backward"], source)
    scope["KERNEL"] = kernel
    return kernel

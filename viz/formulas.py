"""An op's rule as a reader writes it, read from its syntax tree: the nodes' own names
(or their numbers) where the rule says ``a``, ``b``, ``c``, ``out``; ``·`` and the
minus sign U+2212 in page text; ``\\frac``, ``e^{x}`` and ``cases`` in LaTeX.

The rule's text (``Op.formula``, ``Op.partials``) is parsed, never edited as a
string, so an op added with ``engine.register_op`` reads as well as the table's.
A rule's plain number ``c`` is known for a node, so the parts that depend only on
it are worked out first: ``pow``'s derivative at ``c = 2`` reads ``2·d``, not
``0 if 2 == 0 else 2·pow(d, 2 − 1)``. A rule with ``… if … else …`` reads as cases
(``0 if z ≤ 0, else 1``), and :func:`branch` says which case holds for given numbers.
"""

from __future__ import annotations

import ast
import functools
import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

from tinygrad_hw.codegen import namespace

from .graph import number
from .latexnames import latex_name

__all__ = ["MINUS", "Operand", "branch", "factor", "latex_name", "latex_number", "numeral", "prepare", "write"]

MINUS = "\u2212"  # the one minus sign on the page
# how tightly each form binds: an operand binding less than its place needs is bracketed
CASES, BOOL, COMPARE, ADD, MUL, UNARY, POW, ATOM = range(8)
_TEXT_COMPARE = {ast.Lt: "<", ast.LtE: "≤", ast.Gt: ">", ast.GtE: "≥", ast.Eq: "=", ast.NotEq: "≠"}
_LATEX_COMPARE = {ast.Lt: "<", ast.LtE: r"\le", ast.Gt: ">", ast.GtE: r"\ge", ast.Eq: "=", ast.NotEq: r"\ne"}
_NEGATED: dict[type, type] = {
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.LtE: ast.Gt,
    ast.Gt: ast.LtE,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
}
_LATEX_FUNCTIONS = {"log", "tanh", "sin", "cos", "tan", "sinh", "cosh", "arctan", "arcsin", "arccos"}
_WORD = re.compile(r"[\w\[\],.′'…]+")  # a name that needs no brackets as an operand


@dataclass(frozen=True)
class Operand:
    """What stands for a rule's name in a formula: a node's name or a number, as page text
    and as LaTeX. ``rank`` is how tightly it binds (a name with spaces binds loosely and is
    bracketed inside a product); ``signed`` when it starts with a minus sign."""

    text: str
    latex: str
    rank: int = ATOM
    signed: bool = False


def named(text: str) -> Operand:
    """A node's name as an operand: one word binds as a number does; a name that reads as
    a product (``x1·w1``) or a sum (``ŷ−y``) binds as one, and is bracketed where that
    is needed; any other name is bracketed wherever it is an operand."""
    return Operand(text, latex_name(text), _binding(text))


def _binding(text: str) -> int:
    if _WORD.fullmatch(text) or _bracketed(text):
        return ATOM
    if _PRODUCT.fullmatch(text):
        return MUL
    if _SUM.fullmatch(text):
        return ADD
    return CASES


_PRODUCT = re.compile(r"[\w\[\],.′']+(?:[·*/][\w\[\],.′']+)+")
_SUM = re.compile(rf"[\w\[\],.′'·*/]+(?: ?[+{MINUS}-] ?[\w\[\],.′'·*/]+)+")


def valued(x: float) -> Operand:
    """A number as an operand (``−0.4018``, bracketed by its place: ``2·(−0.4018)``)."""
    text = numeral(x)
    return Operand(text, latex_number(x), UNARY if text.startswith(MINUS) else ATOM, text.startswith(MINUS))


def numeral(x: float) -> str:
    """A number in a formula: four significant digits, trailing zeros dropped, U+2212."""
    shown = number(x)
    if math.isfinite(x) and "e" not in shown and "." in shown:
        shown = shown.rstrip("0").rstrip(".")
    return shown.replace("-", MINUS)


def latex_number(x: float) -> str:
    """A number in LaTeX math: ``-0.4018``, ``1.235\\times 10^{-5}``, ``\\infty``."""
    if math.isnan(x):
        return r"\mathrm{NaN}"
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    shown = numeral(x).replace(MINUS, "-")
    if "e" in shown:
        mantissa, exponent = shown.split("e")
        return rf"{mantissa}\times 10^{{{int(exponent)}}}"
    return shown


def _bracketed(text: str) -> bool:
    """Whether ``text`` is one bracket pair around the whole of it."""
    if not text.startswith("("):
        return False
    level = 0
    for i, ch in enumerate(text):
        level += {"(": 1, ")": -1}.get(ch, 0)
        if level == 0:
            return i == len(text) - 1
    return False


# -- the tree, with what the node's constant decides worked out --------------------------------


@functools.lru_cache(maxsize=4096)
def prepare(text: str, constant: float | None = None) -> ast.expr:
    """The rule's expression ``text`` as a tree, ``c`` worked out where it alone decides a
    part (``c - 1.0`` at ``c = 2`` is ``1``; ``0 if c == 0 else …`` keeps the case that
    holds) and ``pow(x, 1)`` as ``x``. (Cached: read it, do not change it.)"""
    tree = ast.parse(text, mode="eval").body
    known = {} if constant is None else {"c": float(constant)}
    folded = _Fold(known).visit(tree)
    assert isinstance(folded, ast.expr)
    return folded


class _Fold(ast.NodeTransformer):
    """Replace each part that reads only constants (and the known ``c``) by its value."""

    def __init__(self, known: dict[str, float]) -> None:
        self.known = known

    def _value(self, node: ast.expr) -> float | None:
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        called = {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        if isinstance(node, ast.Constant) or not names - called <= self.known.keys():
            return None
        try:
            value = _evaluate(node, self.known)
        except (ArithmeticError, ValueError):
            return None
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def visit(self, node: ast.AST) -> ast.AST:
        node = super().visit(node)
        if isinstance(node, ast.IfExp):
            test = self._decided(node.test)
            if test is not None:
                return node.body if test else node.orelse
        if isinstance(node, ast.expr) and not isinstance(node, (ast.Compare, ast.BoolOp)):
            value = self._value(node)
            if value is not None:
                return ast.copy_location(ast.Constant(value), node)
        if _is_call(node, "pow") and isinstance(node, ast.Call) and _is_number(node.args[1], 1.0):
            return node.args[0]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and _is_number(node.right, 1.0):
            return node.left
        return node

    def _decided(self, test: ast.expr) -> bool | None:
        names = {n.id for n in ast.walk(test) if isinstance(n, ast.Name)}
        if not names <= self.known.keys():
            return None
        try:
            return bool(_evaluate(test, self.known))
        except (ArithmeticError, ValueError):
            return None


def _evaluate(node: ast.expr, scope: Mapping[str, float]) -> Any:
    """A part of a rule, computed as the rule computes it (Python's maths on floats)."""
    return eval(compile(ast.Expression(node), "<formula>", "eval"), namespace(), dict(scope))


def _is_call(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


def _is_number(node: ast.AST, value: float) -> bool:
    return isinstance(node, ast.Constant) and node.value == value


# -- writing it ----------------------------------------------------------------------------------


def write(tree: ast.expr, names: Mapping[str, Operand], latex: bool = False) -> str:
    """The tree as page text (or LaTeX), each of the rule's names as ``names`` gives it;
    cases at the top read ``0 if z ≤ 0, else 1`` (LaTeX: ``\\begin{cases}``)."""
    return _Writer(names, latex).top(tree)


def factor(tree: ast.expr, names: Mapping[str, Operand], latex: bool = False) -> str:
    """``write``, bracketed where it would not bind as a factor of a product (``1 − z·z``)."""
    return _Writer(names, latex).operand(tree, MUL, unsigned=True)


def branch(tree: ast.expr, values: Mapping[str, float]) -> tuple[ast.expr, list[ast.expr]]:
    """For a rule with cases: the case that holds for ``values`` (the operands' numbers), and
    the conditions that say so (its own; for "otherwise", the negations of all the others).
    A rule without cases is its own branch, for no reason."""
    reasons: list[ast.expr] = []
    scope = dict(values)
    while isinstance(tree, ast.IfExp):
        holds = bool(_evaluate(tree.test, scope))
        if holds:
            return tree.body, [tree.test]
        reasons.append(_negated(tree.test))
        tree = tree.orelse
    return tree, reasons


def _negated(test: ast.expr) -> ast.expr:
    """``z ≤ 0`` for ``not z > 0``: a single comparison flips; anything else reads "not …"."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _NEGATED:
        return ast.Compare(test.left, [_NEGATED[type(test.ops[0])]()], test.comparators)
    return ast.UnaryOp(ast.Not(), test)


def cases(tree: ast.expr) -> list[tuple[ast.expr, ast.expr | None]]:
    """``a if t else (b if u else d)`` as [(a, t), (b, u), (d, None)]: None is "otherwise"."""
    found: list[tuple[ast.expr, ast.expr | None]] = []
    while isinstance(tree, ast.IfExp):
        found.append((tree.body, tree.test))
        tree = tree.orelse
    found.append((tree, None))
    return found


class _Writer:
    """One rendering: page text or LaTeX, with the rule's names bound."""

    def __init__(self, names: Mapping[str, Operand], latex: bool) -> None:
        self.names, self.latex = names, latex

    def top(self, tree: ast.expr) -> str:
        if not isinstance(tree, ast.IfExp):
            return self.form(tree)[0]
        return self.cases(tree)

    def cases(self, tree: ast.expr) -> str:
        found = cases(tree)
        if len(found) == 2:  # two cases: the second's condition is the first's negation
            first_test = found[0][1]
            assert first_test is not None
            found[1] = (found[1][0], _negated(first_test))
        if self.latex:
            rows = [
                self.form(value)[0] + " & " + (r"\text{if } " + self.form(test)[0] if test else r"\text{otherwise}")
                for value, test in found
            ]
            return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"
        parts = [self.form(value)[0] + ("" if test is None else f" if {self.form(test)[0]}") for value, test in found]
        if found[-1][1] is None:
            parts[-1] = "else " + parts[-1]
        return ", ".join(parts)

    def form(self, node: ast.expr) -> tuple[str, int, bool]:
        """(written, how tightly it binds, whether it starts with a minus sign)."""
        if isinstance(node, ast.Name):
            if node.id not in self.names:
                raise ValueError(f"the formula reads {node.id}, which is not given")
            o = self.names[node.id]
            return (o.latex if self.latex else o.text), o.rank, o.signed
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            o = valued(float(node.value))
            return (o.latex if self.latex else o.text), o.rank, o.signed
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self.call(node.func.id, node.args)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.BoolOp):
            word = " and " if isinstance(node.op, ast.And) else " or "
            joined = (rf"\text{{{word}}}" if self.latex else word).join(self.operand(v, COMPARE) for v in node.values)
            return joined, BOOL, False
        if isinstance(node, ast.IfExp):
            return (self.cases(node) if self.latex else f"({self.cases(node)})"), ATOM, False
        raise ValueError(f"a formula cannot read {ast.unparse(node)!r}")

    def operand(self, node: ast.expr, rank: int, unsigned: bool = False) -> str:
        """``node`` as an operand where at least ``rank`` is needed (and no leading minus
        sign, if ``unsigned``): bracketed otherwise."""
        text, bound, signed = self.form(node)
        if bound < rank or (unsigned and signed):
            return rf"\left({text}\right)" if self.latex else f"({text})"
        return text

    def unary(self, node: ast.UnaryOp) -> tuple[str, int, bool]:
        if isinstance(node.op, ast.USub):
            return ("-" if self.latex else MINUS) + self.operand(node.operand, UNARY, unsigned=True), UNARY, True
        if isinstance(node.op, ast.UAdd):
            return self.form(node.operand)
        if isinstance(node.op, ast.Not):
            return (r"\neg " if self.latex else "not ") + self.operand(node.operand, COMPARE), BOOL, False
        raise ValueError(f"a formula cannot read {ast.unparse(node)!r}")

    def binary(self, node: ast.BinOp) -> tuple[str, int, bool]:
        op = node.op
        if isinstance(op, (ast.Add, ast.Sub)):
            left, signed = self.operand(node.left, ADD), self.form(node.left)[2]
            right = self.operand(node.right, ADD + isinstance(op, ast.Sub), unsigned=True)
            sign = "+" if isinstance(op, ast.Add) else ("-" if self.latex else MINUS)
            return f"{left} {sign} {right}", ADD, signed
        if isinstance(op, ast.Mult):
            left, right = self.operand(node.left, MUL, unsigned=True), self.operand(node.right, MUL, unsigned=True)
            return f"{left}" + (r" \cdot " if self.latex else "·") + right, MUL, False
        if isinstance(op, ast.Div):
            if self.latex:
                return rf"\frac{{{self.form(node.left)[0]}}}{{{self.form(node.right)[0]}}}", ATOM, False
            left, signed = self.operand(node.left, MUL), self.form(node.left)[2]  # −y/x reads one way
            return f"{left}/{self.operand(node.right, POW, unsigned=True)}", MUL, signed
        if isinstance(op, ast.Pow):
            return self.power(node.left, node.right)
        raise ValueError(f"a formula cannot read {ast.unparse(node)!r}")

    def power(self, base: ast.expr, exponent: ast.expr) -> tuple[str, int, bool]:
        lower = self.operand(base, ATOM, unsigned=True)
        if self.latex:
            return f"{{{lower}}}^{{{self.form(exponent)[0]}}}", POW, False
        return f"{lower}^{self.operand(exponent, ATOM, unsigned=True)}", POW, False

    def call(self, name: str, args: list[ast.expr]) -> tuple[str, int, bool]:
        if name == "pow" and len(args) == 2:
            return self.power(args[0], args[1])
        if name == "fabs" and len(args) == 1:
            inner = self.form(args[0])[0]
            return (rf"\left|{inner}\right|" if self.latex else f"|{inner}|"), ATOM, False
        if name == "exp" and len(args) == 1 and self.latex:
            return f"e^{{{self.form(args[0])[0]}}}", POW, False
        inside = ", ".join(self.form(a)[0] for a in args)
        if not self.latex:
            return f"{name}({inside})", ATOM, False
        function = f"\\{name}" if name in _LATEX_FUNCTIONS else rf"\operatorname{{{name}}}"
        return rf"{function}\left({inside}\right)", ATOM, False

    def compare(self, node: ast.Compare) -> tuple[str, int, bool]:
        table = _LATEX_COMPARE if self.latex else _TEXT_COMPARE
        parts = [self.operand(node.left, ADD)]
        for op, right in zip(node.ops, node.comparators):
            if type(op) not in table:
                raise ValueError(f"a formula cannot read {ast.unparse(node)!r}")
            parts += [table[type(op)], self.operand(right, ADD)]
        return " ".join(parts), COMPARE, False

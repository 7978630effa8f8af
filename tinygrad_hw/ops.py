"""The op table: each operation's forward rule and local derivatives, written once.

Every consumer reads this table and nothing else: the eager engine
(``engine.py`` compiles each row into a node constructor and a backward step),
the trace/replay compiler (which inlines the same text into straight-line code),
the graph drawings (``symbol``) and the gradient tests (``smooth``).
Adding an op is adding one row.

Each rule is Python expression text over these names:

* ``a``, ``b`` -- the data of the operands that are ``Value`` s;
* ``c``        -- a plain number on one side (``2 * x``, ``x ** 3``); it is not a graph node;
* ``out``      -- the result of the forward rule (so ``exp`` can reuse it).

``grads`` holds the local derivatives ``∂out/∂a`` (and ``∂out/∂b``). The chain rule
is then one line for every op: ``a.grad += ∂out/∂a * out.grad``.

The text may call ``exp``, ``log``, ``tanh`` and ``pow`` from ``math`` and divide
with ``/``. Where Python would raise (``exp(1000)``, ``log(0)``, ``1 / 0``) the engine
re-evaluates the same text with IEEE-754 versions (see ``ieee.py``), so the maths
never raises: it gives ``inf`` or ``nan`` as numpy and PyTorch do.

``nary`` rows are sums over their operands: ``out = s + Σ term``, with ``out`` and
``grads`` describing one term (one operand for ``sum``, one pair for ``dot``) and
an optional start ``s`` whose derivative is 1 (a neuron's bias, as micrograd's
``sum(..., self.b)``).

``usage`` is how a user writes the op (the tests drive every op through it).
``smooth`` says where the op is differentiable and well-conditioned enough for
finite differences; the gradient tests and ``tinygrad_hw.testing`` draw their
inputs from there.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, eq=False)  # one object per op: compared and hashed by identity, cheaply
class Op:
    name: str
    symbol: str  # how the op reads in a graph drawing; ``{c}`` is replaced by the constant
    out: str  # the forward rule
    grads: tuple[str, ...]  # its local derivatives ∂out/∂a (, ∂out/∂b)
    usage: tuple[str, ...]  # how a user writes it (n-ary: lists ``A``, ``B``, start ``s``)
    const: bool = False  # takes a plain number ``c`` besides its Value operand(s)
    nary: bool = False  # out = Σ over operands (or operand pairs) of the ``out`` term
    smooth: str = "True"  # where finite differences can be trusted

    @property
    def arity(self) -> int:
        """Value operands per application (per term for ``nary`` ops)."""
        return len(self.grads)


def _table(*ops: Op) -> dict[str, Op]:
    return {op.name: op for op in ops}


# fmt: off
OPS: dict[str, Op] = _table(
    # -- two Values ------------------------------------------------------------
    Op("add", "+",                  usage=("a + b",),
       out="a + b",
       grads=("1.0", "1.0")),
    Op("sub", "-",                  usage=("a - b",),
       out="a - b",
       grads=("1.0", "-1.0")),
    Op("mul", "*",                  usage=("a * b",),
       out="a * b",
       grads=("b", "a")),
    Op("div", "/",                  usage=("a / b",),
       out="a / b",
       grads=("1.0 / b", "-out / b"),
       smooth="abs(b) > 0.1"),
    # -- a Value and a plain number c (c is not a graph node) -------------------
    Op("add_c", "+{c}",             usage=("a + c", "c + a"), const=True,
       out="a + c",
       grads=("1.0",)),
    Op("sub_c", "-{c}",             usage=("a - c",), const=True,
       out="a - c",
       grads=("1.0",)),
    Op("rsub_c", "{c}-",            usage=("c - a",), const=True,
       out="c - a",
       grads=("-1.0",)),
    Op("mul_c", "*{c}",             usage=("a * c", "c * a"), const=True,
       out="a * c",
       grads=("c",)),
    Op("div_c", "/{c}",             usage=("a / c",), const=True,
       out="a / c",
       grads=("1.0 / c",),
       smooth="abs(c) > 0.1"),
    Op("rdiv_c", "{c}/",            usage=("c / a",), const=True,
       out="c / a",
       grads=("-out / a",),
       smooth="abs(a) > 0.1"),
    Op("pow_c", "**{c}",            usage=("a ** c",), const=True,
       out="pow(a, c)",
       grads=("0.0 if c == 0.0 else c * pow(a, c - 1.0)",),
       smooth="a > 0.1"),
    # -- one Value ---------------------------------------------------------------
    Op("neg", "neg",                usage=("-a",),
       out="-a",
       grads=("-1.0",)),
    Op("exp", "exp",                usage=("a.exp()",),
       out="exp(a)",
       grads=("out",),
       smooth="a < 20.0"),
    Op("log", "log",                usage=("a.log()",),
       out="log(a)",
       grads=("1.0 / a",),
       smooth="a > 0.1"),
    Op("sigmoid", "sigmoid",        usage=("a.sigmoid()",),
       out="1.0 / (1.0 + exp(-a))",
       grads=("out * (1.0 - out)",)),
    Op("tanh", "tanh",              usage=("a.tanh()",),
       out="tanh(a)",
       grads=("1.0 - out * out",)),
    Op("relu", "ReLU",              usage=("a.relu()",),
       out="0.0 if a < 0.0 else a",
       grads=("0.0 if a <= 0.0 else 1.0",),  # at NaN: 1, passing the gradient on, as PyTorch does
       smooth="abs(a) > 1e-3"),
    Op("square", "^2",              usage=("a.square()",),
       out="a * a",
       grads=("2.0 * a",)),
    # -- many Values: out = Σ term ---------------------------------------------
    Op("sum", "sum",                usage=("Value.sum(A)",), nary=True,
       out="a",
       grads=("1.0",)),
    Op("dot", "dot",                usage=("Value.dot(A, B)", "Value.dot(A, B, s)"), nary=True,
       out="a * b",
       grads=("b", "a")),
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

"""The kernels: each rule of ops.py written out as the two functions the engine runs.

generated from ops.py by `make kernels`; do not edit (a test fails when this file is stale)

Read one op's pair from the top. The rule is quoted above them. ``<op>_forward``
computes the rule's ``out`` from its operands' data and returns a new ``Value``
that remembers its children (``_prev``), its row of the table (``op``) and its
constant (``_const``) -- or, inside ``no_grad()``, a bare leaf. Where Python's
maths raises (``exp(1000)``, ``1 / 0``), it computes the same text in its IEEE-754
form instead (``safe_exp``, ``safe_div``: ``inf`` and ``nan``, as numpy and PyTorch).

``<op>_backward`` is one step of backpropagation at one node. ``Value.backward``
(value.py) visits every computed node, the output first and each node before the
nodes it was computed from, and calls ``node.op.backward(node)`` -- one of these --
when ``node.grad``, ∂output/∂node, is complete. The step reads the rule's local
derivatives ∂out/∂a (``d0``), multiplies each by ``node.grad`` (``g``) and adds
the product into the child's ``grad``: the chain rule, ``va.grad += d0 * g``. A
child used twice (``a * a``) gets both contributions. A derivative of ±1 is added
without the multiply (``va.grad += g``): the same bits, one operation less.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import exp, fabs, log, pow, tanh

from .codegen import ARITH_ERRORS
from .grad_mode import recording
from .ieee import safe_div, safe_exp, safe_log, safe_pow
from .ops import OPS
from .value import Value, serial

new = object.__new__


# --------------------------------------------------------------------------------------------------
# def add(a: float, b: float) -> Result:
#     out = a + b
#     return out, (1.0, 1.0)
# --------------------------------------------------------------------------------------------------

ADD = OPS["add"]


def add_forward(va: Value, vb: Value) -> Value:
    out = va.data + vb.data
    v = new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = (va, vb)
        v.op = ADD
        v._const = None
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def add_backward(node: Value) -> None:
    va, vb = node._prev
    g = node.grad
    va.grad += g
    vb.grad += g


# --------------------------------------------------------------------------------------------------
# def sub(a: float, b: float) -> Result:
#     out = a - b
#     return out, (1.0, -1.0)
# --------------------------------------------------------------------------------------------------

SUB = OPS["sub"]


def sub_forward(va: Value, vb: Value) -> Value:
    out = va.data - vb.data
    v = new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = (va, vb)
        v.op = SUB
        v._const = None
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def sub_backward(node: Value) -> None:
    va, vb = node._prev
    g = node.grad
    va.grad += g
    vb.grad -= g


# --------------------------------------------------------------------------------------------------
# def mul(a: float, b: float) -> Result:
#     out = a * b
#     return out, (b, a)
# --------------------------------------------------------------------------------------------------

MUL = OPS["mul"]


def mul_forward(va: Value, vb: Value) -> Value:
    out = va.data * vb.data
    v = new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = (va, vb)
        v.op = MUL
        v._const = None
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def mul_backward(node: Value) -> None:
    va, vb = node._prev
    g = node.grad
    va.grad += vb.data * g
    vb.grad += va.data * g


# --------------------------------------------------------------------------------------------------
# def div(a: float, b: float) -> Result:
#     out = a / b
#     return out, (1.0 / b, -out / b)
# --------------------------------------------------------------------------------------------------

DIV = OPS["div"]


def div_forward(va: Value, vb: Value) -> Value:
    try:
        out = va.data / vb.data
    except ARITH_ERRORS:
        out = safe_div(va.data, vb.data)
    v = new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = (va, vb)
        v.op = DIV
        v._const = None
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def div_backward(node: Value) -> None:
    va, vb = node._prev
    b = vb.data
    g = node.grad
    try:
        d0 = 1.0 / b
        d1 = -node.data / b
    except ARITH_ERRORS:
        d0 = safe_div(1.0, b)
        d1 = safe_div(-node.data, b)
    va.grad += d0 * g
    vb.grad += d1 * g


# --------------------------------------------------------------------------------------------------
# def add_c(a: float, c: float) -> Result:
#     out = a + c
#     return out, (1.0,)
# --------------------------------------------------------------------------------------------------

ADD_C = OPS["add_c"]


def add_c_forward(va: Value, c: float) -> Value:
    out = va.data + c
    v = new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = (va,)
        v.op = ADD_C
        v._const = c
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def add_c_backward(node: Value) -> None:
    (va,) = node._prev
    g = node.grad
    va.grad += g


# --------------------------------------------------------------------------------------------------
# def sub_c(a: float, c: float) -> Result:
#     out = a - c
#     return out, (1.0,)
# --------------------------------------------------------------------------------------------------

SUB_C = OPS["sub_c"]


def sub_c_forward(va: Value, c: float) -> Value:
    out = va.data - c
    v = new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = (va,)
        v.op = SUB_C
        v._const = c
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def sub_c_backward(node: Value) -> None:
    (va,) = node._prev
    g = node.grad
    va.grad += g


# --------------------------------------------------------------------------------------------------
# def rsub_c(a: float, c: float) -> Result:
#     out = c - a
#     return out, (-1.0,)
# --------------------------------------------------------------------------------------------------

RSUB_C = OPS["rsub_c"]


def rsub_c_forward(va: Value, c: float) -> Value:
    out = c - va.data
    v = new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = (va,)
        v.op = RSUB_C
        v._const = c
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def rsub_c_backward(node: Value) -> None:
    (va,) = node._prev
    g = node.grad
    va.grad -= g


# --------------------------------------------------------------------------------------------------
# def mul_c(a: float, c: float) -> Result:
#     out = a * c
#     return out, (c,)
# --------------------------------------------------------------------------------------------------

MUL_C = OPS["mul_c"]


def mul_c_forward(va: Value, c: float) -> Value:
    out = va.data * c
    v = new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = (va,)
        v.op = MUL_C
        v._const = c
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def mul_c_backward(node: Value) -> None:
    (va,) = node._prev
    c: float = node._const  # type: ignore[assignment]  # a node of an op with a constant has one
    g = node.grad
    va.grad += c * g


# --------------------------------------------------------------------------------------------------
# def div_c(a: float, c: float) -> Result:
#     out = a / c
#     return out, (1.0 / c,)
# --------------------------------------------------------------------------------------------------

DIV_C = OPS["div_c"]


def div_c_forward(va: Value, c: float) -> Value:
    try:
        out = va.data / c
    except ARITH_ERRORS:
        out = safe_div(va.data, c)
    v = new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = (va,)
        v.op = DIV_C
        v._const = c
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def div_c_backward(node: Value) -> None:
    (va,) = node._prev
    c: float = node._const  # type: ignore[assignment]  # a node of an op with a constant has one
    g = node.grad
    try:
        d0 = 1.0 / c
    except ARITH_ERRORS:
        d0 = safe_div(1.0, c)
    va.grad += d0 * g


# --------------------------------------------------------------------------------------------------
# def rdiv_c(a: float, c: float) -> Result:
#     out = c / a
#     return out, (-out / a,)
# --------------------------------------------------------------------------------------------------

RDIV_C = OPS["rdiv_c"]


def rdiv_c_forward(va: Value, c: float) -> Value:
    try:
        out = c / va.data
    except ARITH_ERRORS:
        out = safe_div(c, va.data)
    v = new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = (va,)
        v.op = RDIV_C
        v._const = c
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def rdiv_c_backward(node: Value) -> None:
    (va,) = node._prev
    g = node.grad
    try:
        d0 = -node.data / va.data
    except ARITH_ERRORS:
        d0 = safe_div(-node.data, va.data)
    va.grad += d0 * g


# --------------------------------------------------------------------------------------------------
# def pow_c(a: float, c: float) -> Result:
#     out = math.pow(a, c)
#     return out, (0.0 if c == 0.0 else c * math.pow(a, c - 1.0),)
# --------------------------------------------------------------------------------------------------

POW_C = OPS["pow_c"]


def pow_c_forward(va: Value, c: float) -> Value:
    try:
        out = pow(va.data, c)
    except ARITH_ERRORS:
        out = safe_pow(va.data, c)
    v = new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = (va,)
        v.op = POW_C
        v._const = c
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def pow_c_backward(node: Value) -> None:
    (va,) = node._prev
    c: float = node._const  # type: ignore[assignment]  # a node of an op with a constant has one
    g = node.grad
    try:
        d0 = 0.0 if c == 0.0 else c * pow(va.data, c - 1.0)
    except ARITH_ERRORS:
        d0 = 0.0 if c == 0.0 else c * safe_pow(va.data, c - 1.0)
    va.grad += d0 * g


# --------------------------------------------------------------------------------------------------
# def neg(a: float) -> Result:
#     out = -a
#     return out, (-1.0,)
# --------------------------------------------------------------------------------------------------

NEG = OPS["neg"]


def neg_forward(va: Value) -> Value:
    out = -va.data
    v = new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = (va,)
        v.op = NEG
        v._const = None
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def neg_backward(node: Value) -> None:
    (va,) = node._prev
    g = node.grad
    va.grad -= g


# --------------------------------------------------------------------------------------------------
# def exp(a: float) -> Result:
#     out = math.exp(a)
#     return out, (out,)
# --------------------------------------------------------------------------------------------------

EXP = OPS["exp"]


def exp_forward(va: Value) -> Value:
    try:
        out = exp(va.data)
    except ARITH_ERRORS:
        out = safe_exp(va.data)
    v = new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = (va,)
        v.op = EXP
        v._const = None
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def exp_backward(node: Value) -> None:
    (va,) = node._prev
    g = node.grad
    va.grad += node.data * g


# --------------------------------------------------------------------------------------------------
# def log(a: float) -> Result:
#     out = math.log(a)
#     return out, (1.0 / a,)
# --------------------------------------------------------------------------------------------------

LOG = OPS["log"]


def log_forward(va: Value) -> Value:
    try:
        out = log(va.data)
    except ARITH_ERRORS:
        out = safe_log(va.data)
    v = new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = (va,)
        v.op = LOG
        v._const = None
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def log_backward(node: Value) -> None:
    (va,) = node._prev
    g = node.grad
    try:
        d0 = 1.0 / va.data
    except ARITH_ERRORS:
        d0 = safe_div(1.0, va.data)
    va.grad += d0 * g


# --------------------------------------------------------------------------------------------------
# def sigmoid(a: float) -> Result:
#     out = 1.0 / (1.0 + math.exp(-a))
#     return out, (out * (1.0 - out),)
# --------------------------------------------------------------------------------------------------

SIGMOID = OPS["sigmoid"]


def sigmoid_forward(va: Value) -> Value:
    try:
        out = 1.0 / (1.0 + exp(-va.data))
    except ARITH_ERRORS:
        out = safe_div(1.0, 1.0 + safe_exp(-va.data))
    v = new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = (va,)
        v.op = SIGMOID
        v._const = None
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def sigmoid_backward(node: Value) -> None:
    (va,) = node._prev
    out = node.data
    g = node.grad
    d0 = out * (1.0 - out)
    va.grad += d0 * g


# --------------------------------------------------------------------------------------------------
# def tanh(a: float) -> Result:
#     out = math.tanh(a)
#     return out, (1.0 - out * out,)
# --------------------------------------------------------------------------------------------------

TANH = OPS["tanh"]


def tanh_forward(va: Value) -> Value:
    out = tanh(va.data)
    v = new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = (va,)
        v.op = TANH
        v._const = None
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def tanh_backward(node: Value) -> None:
    (va,) = node._prev
    out = node.data
    g = node.grad
    d0 = 1.0 - out * out
    va.grad += d0 * g


# --------------------------------------------------------------------------------------------------
# def relu(a: float) -> Result:
#     out = 0.0 if a < 0.0 else a
#     return out, (0.0 if a <= 0.0 else 1.0,)  # at NaN: 1, passing the gradient on, as PyTorch does
# --------------------------------------------------------------------------------------------------

RELU = OPS["relu"]


def relu_forward(va: Value) -> Value:
    a = va.data
    out = 0.0 if a < 0.0 else a
    v = new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = (va,)
        v.op = RELU
        v._const = None
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def relu_backward(node: Value) -> None:
    (va,) = node._prev
    g = node.grad
    d0 = 0.0 if va.data <= 0.0 else 1.0
    va.grad += d0 * g


# --------------------------------------------------------------------------------------------------
# def square(a: float) -> Result:
#     out = a * a
#     return out, (2.0 * a,)
# --------------------------------------------------------------------------------------------------

SQUARE = OPS["square"]


def square_forward(va: Value) -> Value:
    a = va.data
    out = a * a
    v = new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = (va,)
        v.op = SQUARE
        v._const = None
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def square_backward(node: Value) -> None:
    (va,) = node._prev
    g = node.grad
    d0 = 2.0 * va.data
    va.grad += d0 * g


# --------------------------------------------------------------------------------------------------
# def abs(a: float) -> Result:  # the op is called abs, as Python's abs(x) calls it
#     out = math.fabs(a)
#     return out, (1.0 if a > 0.0 else -1.0 if a < 0.0 else 0.0,)  # at 0 and at NaN: 0, as PyTorch
# --------------------------------------------------------------------------------------------------

ABS = OPS["abs"]


def abs_forward(va: Value) -> Value:
    out = fabs(va.data)
    v = new(Value)
    v.data = out
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = (va,)
        v.op = ABS
        v._const = None
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def abs_backward(node: Value) -> None:
    (va,) = node._prev
    a = va.data
    g = node.grad
    d0 = 1.0 if a > 0.0 else -1.0 if a < 0.0 else 0.0
    va.grad += d0 * g


# --------------------------------------------------------------------------------------------------
# def sum(a: float) -> Result:  # the op is called sum (the builtin is not used in this file)
#     out = a
#     return out, (1.0,)
# --------------------------------------------------------------------------------------------------

SUM = OPS["sum"]
SUM_START = SUM.with_start


def sum_forward(vas: Sequence[Value], start: Value | None = None) -> Value:
    terms = iter(vas)
    if start is None:
        va = next(terms)
        total = va.data
        prev = tuple(vas)
        op = SUM
    else:
        total = start.data
        prev = (*vas, start)
        op = SUM_START
    for va in terms:
        total += va.data
    v = new(Value)
    v.data = total
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = prev
        v.op = op
        v._const = None
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def sum_backward(node: Value) -> None:
    prev = node._prev
    g = node.grad
    if node.op is SUM_START:
        prev[-1].grad += g  # the start: ∂out/∂start = 1
        n = len(prev) - 1
    else:
        n = len(prev)
    for va in prev[:n]:
        va.grad += g


# --------------------------------------------------------------------------------------------------
# def dot(a: float, b: float) -> Result:
#     out = a * b
#     return out, (b, a)
# --------------------------------------------------------------------------------------------------

DOT = OPS["dot"]
DOT_START = DOT.with_start


def dot_forward(vas: Sequence[Value], vbs: Sequence[Value], start: Value | None = None) -> Value:
    terms = zip(vas, vbs)
    if start is None:
        va, vb = next(terms)
        total = va.data * vb.data
        prev = (*vas, *vbs)
        op = DOT
    else:
        total = start.data
        prev = (*vas, *vbs, start)
        op = DOT_START
    for va, vb in terms:
        total += va.data * vb.data
    v = new(Value)
    v.data = total
    v.grad = 0.0
    v.label = ""
    if recording():
        v._prev = prev
        v.op = op
        v._const = None
    else:
        v._prev = ()
        v.op = None
        v._const = None
    v._n = serial()
    return v


def dot_backward(node: Value) -> None:
    prev = node._prev
    g = node.grad
    if node.op is DOT_START:
        prev[-1].grad += g  # the start: ∂out/∂start = 1
        n = (len(prev) - 1) // 2
    else:
        n = len(prev) // 2
    for va, vb in zip(prev[:n], prev[n : 2 * n]):
        va.grad += vb.data * g
        vb.grad += va.data * g


# each row of ops.OPS: its two kernels, attached to the row by engine.py
KERNELS: dict[str, tuple[Callable[..., Value], Callable[[Value], None]]] = {
    "add": (add_forward, add_backward),
    "sub": (sub_forward, sub_backward),
    "mul": (mul_forward, mul_backward),
    "div": (div_forward, div_backward),
    "add_c": (add_c_forward, add_c_backward),
    "sub_c": (sub_c_forward, sub_c_backward),
    "rsub_c": (rsub_c_forward, rsub_c_backward),
    "mul_c": (mul_c_forward, mul_c_backward),
    "div_c": (div_c_forward, div_c_backward),
    "rdiv_c": (rdiv_c_forward, rdiv_c_backward),
    "pow_c": (pow_c_forward, pow_c_backward),
    "neg": (neg_forward, neg_backward),
    "exp": (exp_forward, exp_backward),
    "log": (log_forward, log_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "relu": (relu_forward, relu_backward),
    "square": (square_forward, square_backward),
    "abs": (abs_forward, abs_backward),
    "sum": (sum_forward, sum_backward),
    "dot": (dot_forward, dot_backward),
}

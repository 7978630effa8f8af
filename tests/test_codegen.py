"""codegen: the table's text compiled once, with the IEEE fallback only where needed."""

from tinygrad_hw.codegen import can_raise, expression, safe_form
from tinygrad_hw.engine import KERNELS
from tinygrad_hw.ops import OPS


def test_safe_form_rewrites_division_and_calls():
    assert safe_form("1.0 / (1.0 + exp(-a))") == "safe_div(1.0, 1.0 + safe_exp(-a))"
    assert safe_form("c * pow(a, c - 1.0)") == "c * safe_pow(a, c - 1.0)"
    assert safe_form("a * b") == "a * b"


def test_only_ops_that_can_raise_pay_for_a_try():
    raising = {name for name, op in OPS.items() if any(can_raise(t) for t in (op.forward, *op.partials))}
    assert raising == {"div", "div_c", "rdiv_c", "pow_c", "exp", "log", "sigmoid"}
    for name, kernel in KERNELS.items():
        assert ("try:" in kernel.source) == (name in raising), name


def test_expression_substitutes_operands():
    assert expression("out * (1.0 - out)", {"out": "v7"}) == "v7 * (1.0 - v7)"
    assert expression("a / b", {"a": "x", "b": "y + 1"}, safe=True) == "safe_div(x, (y + 1))"
    assert expression("a * b", {"a": "x", "b": "y + 1"}) == "x * (y + 1)"  # spliced in, precedence kept

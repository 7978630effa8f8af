"""codegen: the table's text compiled once, with the IEEE fallback only where needed."""

from tinygrad_hw.codegen import can_raise, expression, safe_form, template
from tinygrad_hw.generate import kernel_source
from tinygrad_hw.ops import OPS


def test_safe_form_rewrites_division_and_the_calls_that_can_raise():
    assert safe_form("1.0 / (1.0 + exp(-a))") == "safe_div(1.0, 1.0 + safe_exp(-a))"
    assert safe_form("c * pow(a, c - 1.0)") == "c * safe_pow(a, c - 1.0)"
    assert safe_form("a * b") == "a * b"
    assert safe_form("1.0 - tanh(a) * fabs(b)") == "1.0 - tanh(a) * fabs(b)"  # these never raise


def test_what_can_raise_is_a_division_or_a_maths_function_that_can():
    assert can_raise("a / b") and can_raise("exp(a)") and can_raise("1.0 / (1.0 + exp(-a))")
    assert not can_raise("a * b - c") and not can_raise("1.0 - tanh(a) * fabs(a)")


def test_only_ops_that_can_raise_pay_for_a_try():
    for name, op in OPS.items():
        raising = any(can_raise(t) for t in (op.formula, *op.partials))
        assert ("try:" in kernel_source(op)) == raising, name


def test_expression_substitutes_operands():
    assert expression("out * (1.0 - out)", {"out": "v7"}) == "v7 * (1.0 - v7)"
    assert expression("a / b", {"a": "x", "b": "y + 1"}, safe=True) == "safe_div(x, (y + 1))"
    assert expression("a * b", {"a": "x", "b": "y + 1"}) == "x * (y + 1)"  # spliced in, precedence kept


def test_templates_have_fields_for_the_rules_names_only():
    assert template("0.0 if a < 0.0 else a") == "0.0 if {a} < 0.0 else {a}"
    assert template("0.0 if a < 0.0 else a", "numpy") == "where({a} < 0.0, 0.0, {a})"
    assert template("exp(c * out)", "safe") == "safe_exp({c} * {out})"

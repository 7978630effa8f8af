"""The op table: every row's gradient against finite differences, read from the table."""

import ast

import pytest
from hypothesis import given

from tinygrad_hw import Value
from tinygrad_hw.codegen import NAMESPACE
from tinygrad_hw.ops import OPS, label
from tinygrad_hw.testing import Step, assert_gradients_match, expressions


@pytest.mark.parametrize("name", OPS)
def test_each_op_gradient_matches_finite_differences(name):
    @given(expressions(ops=[name], max_steps=3))
    def check(expr):
        assert expr.ops == {name}
        assert_gradients_match(expr)

    check()


@pytest.mark.parametrize("name", OPS)
def test_each_spelling_builds_its_own_op_with_the_rule_as_forward(name):
    op = OPS[name]
    pool = [Value(0.7), Value(1.3), Value(-0.4), Value(2.1), Value(0.9)]
    for usage in op.usage:
        count = op.arity * (2 if op.nary else 1) + ("s)" in usage)
        step = Step(name, usage, tuple(range(count)), 2.0 if op.const else None)
        node = step.apply(pool)
        assert node.op == name, usage
        # the forward rule, evaluated from the table's text on the operands' data
        names = step.names([v.data for v in pool])
        if op.nary:
            terms = list(zip(*(names[g] for g in "AB"[: op.arity])))
        else:
            terms = [tuple(names[k] for k in "ab"[: op.arity])]
        expected = names.get("s", 0.0)
        expected += sum(eval(op.forward, dict(NAMESPACE, c=names.get("c"), **dict(zip("ab", t)))) for t in terms)
        assert node.data == pytest.approx(expected, rel=1e-15), usage


def test_the_table_is_well_formed():
    for name, op in OPS.items():
        assert op.name == name
        texts = [op.forward, *op.partials, op.smooth]
        names = {n.id for t in texts for n in ast.walk(ast.parse(t, mode="eval")) if isinstance(n, ast.Name)}
        allowed = {"a", "b", "out", "exp", "log", "tanh", "pow", "fabs", "abs", "True"} | ({"c"} if op.const else set())
        if op.nary:
            allowed -= {"out"}  # a term's derivative cannot depend on the whole sum
        assert names <= allowed, (name, names - allowed)
        assert 1 <= op.arity <= 2 and op.usage


def test_labels_show_constants():
    x = Value(2.0)
    assert [(x**3)._op, (x + 1)._op, (2 - x)._op, (x * -1.5)._op, (10 / x)._op] == ["**3", "+1", "2-", "*(-1.5)", "10/"]
    assert label(OPS["sigmoid"]) == "sigmoid" and label(OPS["pow_c"]) == "**c"

"""The op table: every row's gradient against finite differences, read from the table."""

import ast

import pytest
from hypothesis import given

from tinygrad_hw import Value
from tinygrad_hw.maths import MATHS
from tinygrad_hw.ops import OPS, label
from tinygrad_hw.testing import Step, assert_gradients_match, expressions, spellings


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
    for spelling in range(len(spellings(op))):
        count = op.arity * (2 if op.nary else 1) + (op.nary and spelling == 1)
        step = Step(name, spelling, tuple(range(count)), 2.0 if op.const else None)
        node = step.apply(pool)
        assert node.op.name == name and node.op.start == (op.nary and spelling == 1), step
        # the forward pass is the rule itself, on the operands' data
        names = step.operand_values([v.data for v in pool])
        terms = list(zip(*(names[n] for n in op.operands))) if op.nary else [tuple(names[n] for n in op.operands)]
        constant = (names["c"],) if op.const else ()
        expected = step.names([v.data for v in pool]).get("s", 0.0)
        expected += sum(op.rule(*term, *constant)[0] for term in terms)
        assert node.data == pytest.approx(expected, rel=1e-15), step


def test_the_table_is_well_formed():
    for name, op in OPS.items():
        assert op.name == name
        texts = [op.formula, *op.partials]
        names = {n.id for t in texts for n in ast.walk(ast.parse(t, mode="eval")) if isinstance(n, ast.Name)}
        allowed = {"a", "b", "out", *MATHS} | ({"c"} if op.const else set())
        if op.nary:
            allowed -= {"out"}  # a term's derivative cannot depend on the whole sum
        assert names <= allowed, (name, names - allowed)
        assert 1 <= op.arity <= 2 and spellings(op)
        assert op.smooth is None or callable(op.smooth)
        assert op.forward.__name__ == f"{name}_forward" and op.backward.__name__ == f"{name}_backward"


def test_labels_show_constants():
    x = Value(2.0)
    assert [(x**3)._op, (x + 1)._op, (2 - x)._op, (x * -1.5)._op, (10 / x)._op] == ["**3", "+1", "2-", "*(-1.5)", "10/"]
    assert label(OPS["sigmoid"]) == "sigmoid" and label(OPS["pow_c"]) == "**c"

"""tinygrad_hw.testing: the strategies reach every op and the helper can fail."""

import pytest
from hypothesis import find, given, settings

from tinygrad_hw import Value
from tinygrad_hw.ops import OPS
from tinygrad_hw.testing import Expression, Step, assert_gradients_match, expressions, spellings


@given(expressions())
def test_random_graphs_match_finite_differences(expr):
    assert_gradients_match(expr)


@given(expressions(max_inputs=2, max_steps=20))
def test_bigger_random_graphs_match_finite_differences(expr):
    assert_gradients_match(expr)


def test_every_spelling_of_every_op_is_generated():
    seen = set()

    @settings(max_examples=500, derandomize=True)
    @given(expressions())
    def collect(expr):
        seen.update((s.op, s.spelling) for s in expr.steps)

    collect()
    assert seen == {(name, k) for name, op in OPS.items() for k in range(len(spellings(op)))}


def test_shared_subexpressions_are_generated():
    expr = find(expressions(), lambda e: any(len(s.args) > len(set(s.args)) for s in e.steps))
    assert expr.steps


def test_a_wrong_gradient_fails_the_helper_with_the_program_in_the_message():
    def wrong(x):
        y = x * x
        z = Value(y.data)  # cut from the graph: backward misses y's dependence on x
        return x + z

    with pytest.raises(AssertionError, match="gradient mismatch for input 0"):
        assert_gradients_match(wrong, [0.5])
    expr = Expression((0.5,), (Step("mul", 0, (0, 0)),), (1,))
    assert_gradients_match(expr)
    assert repr(expr) == "Expression:\n    x0 = 0.5\n    v0 = x0 * x0\n    out = v0"


def test_expression_repr_is_runnable_source():
    expr = Expression(
        (0.5, 2.0),
        (
            Step("rsub_c", 0, (0,), 1.0),
            Step("dot", 0, (2, 1, 0, 0)),
            Step("exp", 0, (3,)),
        ),
        (4,),
    )
    lines = repr(expr).splitlines()[1:]
    scope = {"Value": Value}
    for line in lines:
        exec(line.strip(), scope)
    assert scope["out"].data == expr(Value(0.5), Value(2.0)).data
    assert "v1 = Value.dot([v0, x1], [x0, x0])" in repr(expr) and "v0 = 1.0 - x0" in repr(expr)
    assert "v2 = v1.exp()" in repr(expr)


def test_the_helper_needs_inputs_for_a_plain_function():
    with pytest.raises(TypeError, match="needs inputs"):
        assert_gradients_match(lambda x: x)

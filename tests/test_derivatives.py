"""The local derivatives the step-through page shows are the ones the kernels use: a
backward pass built from them gives the engine's bits."""

import math

from hypothesis import given

from tinygrad_hw import Value
from tinygrad_hw.derivatives import local_derivatives
from tinygrad_hw.engine import topological_order, walk
from tinygrad_hw.losses import mse
from tinygrad_hw.nn import MLP
from tinygrad_hw.testing import expressions


def _bits(x):
    return (math.isnan(x), 0.0 if math.isnan(x) else x, math.copysign(1.0, x) if x == 0 else 0)


def _by_the_numbers(root):
    """Backpropagation from ``local_derivatives``: child.grad += ∂node/∂child × node.grad."""
    order = topological_order(root)
    for node in order:
        node.grad = 0.0
    root.grad = 1.0
    for node in reversed(order):
        for child, local in local_derivatives(node):
            child.grad += local * node.grad


def _both_ways(build):
    fast_root, plain_root = build(), build()
    fast_root.backward()
    _by_the_numbers(plain_root)
    return [_bits(v.grad) for v in walk(fast_root)], [_bits(v.grad) for v in walk(plain_root)]


@given(expressions())
def test_the_numbers_give_the_engines_bits_on_random_graphs(expr):
    fast, plain = _both_ways(lambda: expr(*[Value(x) for x in expr.inputs]))
    assert fast == plain


def test_the_numbers_give_the_engines_bits_on_the_reports_network():
    def build():
        model = MLP(2, [8, 8, 1], seed=1)
        return mse(model([0.3, 0.9]), 1.0)

    fast, plain = _both_ways(build)
    assert fast == plain


def test_the_edges_of_the_maths_answer_as_the_engine_does():
    for x in (1000.0, -1000.0, 0.0, -1.0, math.inf, math.nan):

        def build(x=x):
            v = Value(x)
            return v.exp() + (v * 2.0).sigmoid() + v.log() + 1.0 / v + v**-0.5 + v.relu()

        fast, plain = _both_ways(build)
        assert fast == plain, x


def test_a_value_used_twice_is_listed_twice_and_a_start_first():
    a = Value(3.0)
    assert [(child is a, local) for child, local in local_derivatives(a * a)] == [(True, 3.0), (True, 3.0)]
    b = Value(0.5)
    z = Value.dot([a, b], [b, a], Value(1.0))
    assert [local for _, local in local_derivatives(z)] == [1.0, 0.5, 3.0, 3.0, 0.5]
    assert local_derivatives(a) == []

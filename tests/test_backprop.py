"""The reading path (backprop.py) calls the rules themselves and equals the fast engine, bit for bit."""

import bdb
import inspect
import math

from hypothesis import given

from tinygrad_hw import Value, ops
from tinygrad_hw.backprop import backward, local_derivatives
from tinygrad_hw.engine import walk
from tinygrad_hw.losses import mse
from tinygrad_hw.nn import MLP
from tinygrad_hw.testing import expressions


def _bits(x):
    return (math.isnan(x), 0.0 if math.isnan(x) else x, math.copysign(1.0, x) if x == 0 else 0)


def _both_ways(build):
    """Build the graph twice; backpropagate one with the engine, one by the reading path."""
    fast_root, plain_root = build(), build()
    fast_root.backward()
    backward(plain_root)
    return [_bits(v.grad) for v in walk(fast_root)], [_bits(v.grad) for v in walk(plain_root)]


@given(expressions())
def test_the_reading_path_equals_the_engine_on_random_graphs(expr):
    def build():
        return expr(*[Value(x) for x in expr.inputs])

    fast, plain = _both_ways(build)
    assert fast == plain


def test_the_reading_path_equals_the_engine_on_the_reports_network():
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


def test_a_value_used_twice_is_listed_twice():
    a = Value(3.0)
    assert [(child is a, local) for child, local in local_derivatives(a * a)] == [(True, 3.0), (True, 3.0)]
    b = Value(0.5)
    z = Value.dot([a, b], [b, a], Value(1.0))
    assert [local for _, local in local_derivatives(z)] == [1.0, 0.5, 3.0, 3.0, 0.5]


def test_a_breakpoint_in_a_rule_is_hit_by_the_reading_path():
    lines, first = inspect.getsourcelines(ops.sigmoid)
    target = first + next(i for i, line in enumerate(lines) if "out = " in line)
    hits = []

    class Debugger(bdb.Bdb):  # pdb's engine, without the prompt
        def user_line(self, frame):
            if frame.f_code.co_name == "sigmoid" and frame.f_lineno == target:
                hits.append(frame.f_locals["a"])
            self.set_continue()

    x = Value(0.25)
    loss = mse((x * 2.0).sigmoid(), 1.0)
    debugger = Debugger()
    debugger.set_break(inspect.getsourcefile(ops.sigmoid), target)
    debugger.runcall(backward, loss)
    assert hits == [0.5]  # stopped in ops.sigmoid, on its forward line, with the node's input

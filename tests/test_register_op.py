"""An op is its rule and its row: one defined here, sin, reaches everything that reads
the table -- or is refused with a clear error -- and leaves nothing behind (issue 19)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from optional import need

from tinygrad_hw import Value, gradcheck
from tinygrad_hw.codegen import library_names, twin
from tinygrad_hw.engine import register_op, walk
from tinygrad_hw.maths import MATHS, Maths
from tinygrad_hw.ops import OPS
from tinygrad_hw.replay import choose, record, record_numpy
from tinygrad_hw.testing import assert_gradients_match, expressions

try:
    import torch
except ImportError:  # the PyTorch parts say how to get it
    torch = None


def safe_sin(x: float) -> float:
    """sin as IEEE-754 answers it: nan at ±inf, where math.sin raises."""
    return math.sin(x) if math.isfinite(x) else math.nan


def safe_cos(x: float) -> float:
    return math.cos(x) if math.isfinite(x) else math.nan


@pytest.fixture
def sin():
    """The op ``sin``: its rule, its row and its two maths rows, for the length of one test."""

    def sin(a):
        out = math.sin(a)
        return out, (math.cos(a),)

    maths = [
        Maths("sin", math.sin, safe_sin, numpy="sin", torch="sin"),
        Maths("cos", math.cos, safe_cos, numpy="cos", torch="cos"),
    ]
    with register_op(sin, "sin", method="sin", smooth=lambda a: True, maths=maths) as op:
        yield op
    assert "sin" not in OPS and "sin" not in MATHS and "cos" not in MATHS and not hasattr(Value, "sin")


def test_eager_builds_and_backpropagates_it(sin):
    x = Value(0.7)
    y = (x * 2.0).sin() * x
    y.backward()
    assert y.data == math.sin(1.4) * 0.7 and y._prev[0].op is sin and y._prev[0]._op == "sin"
    assert x.grad == pytest.approx(2.0 * math.cos(1.4) * 0.7 + math.sin(1.4), rel=1e-15)
    assert math.isnan(Value(math.inf).sin().data)  # the IEEE-safe twin: nan, not ValueError
    assert gradcheck(lambda x: x.sin() * x.exp(), [0.3])


def test_every_replay_executor_gives_eagers_numbers(sin):
    w = Value(0.8, label="w")

    def step(x):
        return ((x * w).sin() * x).sin()

    eager = step(Value(0.6))
    eager.backward()
    for executor in ("straight-line", "looped", "numpy"):
        tape, _, _ = record(step, (0.6,), params=[w], executor=executor)
        loss, grads = tape.run([0.8], [0.6])
        if executor == "numpy":  # numpy's sin may round its own way
            assert loss == pytest.approx(eager.data, rel=1e-14) and grads[0] == pytest.approx(w.grad, rel=1e-14)
        else:
            assert (loss, grads[0]) == (eager.data, w.grad), executor
        assert "sin" in tape.source or executor == "looped"


def test_the_numpy_path_runs_it_over_a_batch(sin):
    w = Value(0.8)
    recorded = []

    def f(x):
        recorded.append((x * w).sin())
        return recorded[-1]

    program = record_numpy(f, (0.5,), [w])
    xs = np.array([[0.5], [1.0], [-2.0]])
    (out,) = program.values([0.8], xs, recorded)
    assert out == pytest.approx(np.sin(0.8 * xs[:, 0]), rel=1e-15)


def test_a_function_without_a_numpy_form_is_refused_by_name(sin):
    def sinh(a):
        out = math.sinh(a)
        return out, (math.cosh(a),)

    maths = [Maths("sinh", math.sinh, None), Maths("cosh", math.cosh, None)]  # no numpy="..." given
    with register_op(sinh, "sinh", method="sinh", maths=maths):
        with pytest.raises(ValueError, match="no numpy form of cosh, sinh"):
            record_numpy(lambda x: x.sinh(), (0.5,))
        _, out, _ = record(lambda x: x.sinh() * 2.0, (0.5,), executor="none")
        assert choose(walk(out)) != "numpy"


def test_the_drawing_and_the_step_through_page_show_it(sin, graphviz_dot):
    from viz import draw_graph, step_through

    x = Value(0.5, label="x")
    y = x.sin()
    y.label = "y"
    y.backward()
    assert "sin" in draw_graph(y).source
    steps = step_through(y).steps
    forward = next(s for s in steps if s["phase"] == "forward" and s["title"].startswith("y"))
    assert forward["title"] == "y = sin(x)"
    (contribution,) = next(s for s in steps if s["phase"] == "backward")["contributions"]
    assert contribution["rule"] == "∂y/∂x = cos(x) = cos(0.5) = 0.8776" and contribution["after"] == x.grad


def test_the_test_strategies_draw_it(sin):
    @settings(max_examples=20)
    @given(expressions(ops=["sin", "mul"], max_steps=4))
    def check(expr):
        assert_gradients_match(expr)

    check()

    @given(expressions(ops=["cosine"]))
    def unknown(expr):
        pass

    with pytest.raises(ValueError, match="no op 'cosine' in the table"):
        unknown()


def test_the_pytorch_twin_computes_it(sin):
    need(None if torch is not None else "PyTorch is missing: pip install -e '.[torch]' (make test does it)")
    from tinygrad_hw.interop import check_against_torch

    report = check_against_torch(lambda x, y: (x * y).sin() + x.sin(), [0.3, -1.2])
    assert report.max_error <= 1e-15
    torch_sin = twin(sin, library_names(torch, "torch"))
    assert float(torch_sin(torch.tensor(0.5, dtype=torch.float64))) == math.sin(0.5)


def test_a_rule_calling_an_unknown_function_is_refused_by_name():
    def cube_root(a):
        out = math.cbrt(a)
        return out, (1.0 / (3.0 * out * out),)

    with pytest.raises(ValueError, match=r"uses math\.cbrt; a rule may call math\.exp"):
        register_op(cube_root, "∛", method="cbrt")
    assert "cube_root" not in OPS and not hasattr(Value, "cbrt")


def test_a_method_value_already_has_is_refused():
    def exp2(a):
        out = math.pow(2.0, a)
        return out, (out * 0.6931471805599453,)

    with pytest.raises(ValueError, match="method 'exp': Value already has it"):
        register_op(exp2, "2^", method="exp")
    assert "exp2" not in OPS

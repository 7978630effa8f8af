"""micrograd's code runs unchanged: the lecture's way of writing an op by hand, its
manual backward pass, comparisons and conversions, and micrograd 0.1.0's nn usage --
against micrograd's own numbers where it has them.

The lecture snippets below are written afresh in the lecture's style, not copied."""

from __future__ import annotations

import copy
import math
import pickle
import random

import pytest

from tinygrad_hw import Value, no_grad
from tinygrad_hw.engine import HandWrittenOp
from tinygrad_hw.nn import MLP
from tinygrad_hw.replay import ReplayError, jit

# -- ops written by hand, the lecture's way ------------------------------------------------


def tanh_by_hand(self: Value) -> Value:
    x = self.data
    t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
    out = Value(t, (self,), "tanh")

    def _backward() -> None:
        self.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


def exp_by_hand(self: Value) -> Value:
    out = Value(math.exp(self.data), (self,), "exp")

    def _backward() -> None:
        self.grad += out.data * out.grad

    out._backward = _backward
    return out


def times_by_hand(self: Value, other: Value) -> Value:
    out = Value(self.data * other.data, (self, other), "*")

    def _backward() -> None:
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad

    out._backward = _backward
    return out


def lecture_neuron(tanh=tanh_by_hand):
    """The lecture's neuron: two inputs, two weights, a bias chosen so that o = 1/√2."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    n = x1w1 + x2w2 + b
    n.label = "n"
    o = tanh(n)
    o.label = "o"
    return o, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b}


def test_an_op_written_by_hand_backpropagates():
    o, leaves = lecture_neuron()
    o.backward()
    assert o.data == pytest.approx(1 / math.sqrt(2), abs=1e-12)
    expected = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5}
    for name, grad in expected.items():
        assert leaves[name].grad == pytest.approx(grad, abs=1e-12), name
    assert o._op == o.op.name == "tanh" and o.hand_written and not o.is_leaf and isinstance(o.op, HandWrittenOp)
    assert o.children == (o.children[0],) and o.children[0].label == "n"


def test_the_same_neuron_with_the_table_tanh_gives_the_same_gradients():
    by_hand, leaves = lecture_neuron()
    by_table, table_leaves = lecture_neuron(tanh=Value.tanh)
    by_hand.backward()
    by_table.backward()
    for name, leaf in leaves.items():
        assert leaf.grad == pytest.approx(table_leaves[name].grad, abs=1e-14)


def test_the_lectures_manual_backward_pass_node_by_node():
    o, leaves = lecture_neuron()
    n = o.children[0]
    o.grad = 1.0
    o._backward()  # o -> n
    n._backward()  # n = (x1w1 + x2w2) + b -> its children
    plus = n.children[0]
    plus._backward()
    for node in plus.children:
        node._backward()
    assert leaves["x1"].grad == pytest.approx(-1.5) and leaves["w2"].grad == 0.0
    for leaf in leaves.values():
        leaf._backward()  # a leaf's backward step does nothing, as in micrograd


def test_the_lectures_own_topological_sort_walks_our_nodes():
    o, _ = lecture_neuron()
    topo, visited = [], set()

    def build_topo(v: Value) -> None:  # the lecture's recursive sort: fine on a small graph
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build_topo(child)
            topo.append(v)

    build_topo(o)
    o.grad = 1.0
    for node in reversed(topo):
        node._backward()
    assert topo[-1] is o and len(topo) == 10
    assert {v.label: v.grad for v in topo}["x1"] == pytest.approx(-1.5)


def test_hand_ops_mix_with_table_ops_and_reuse():
    a = Value(1.5, "a")
    b = times_by_hand(a, a)  # the lecture's bug fixed by +=: a used twice
    c = exp_by_hand(b) + a * 2.0
    c.backward()
    assert a.grad == pytest.approx(math.exp(2.25) * 3.0 + 2.0, rel=1e-15)


def test_micrograds_children_are_a_set_each_child_once():
    a = Value(2.0)
    out = Value(a.data * 2, {a, a}, "double")
    assert out.children == (a,)
    out2 = Value(4.0, [a, a], "twice")
    assert out2.children == (a,)


def test_a_hand_node_without_backward_passes_nothing_back():
    a = Value(2.0)
    out = Value(5.0, (a,), "mystery")
    out.backward()
    assert a.grad == 0.0 and out.grad == 1.0


def test_no_grad_makes_a_hand_node_a_leaf():
    a = Value(2.0)
    with no_grad():
        out = Value(4.0, (a,), "square")
    assert out.is_leaf and out.children == ()


def test_bad_constructor_arguments_are_clear():
    with pytest.raises(TypeError, match="two labels"):
        Value(1.0, "x", label="y")
    with pytest.raises(TypeError, match="children must be Values, not float"):
        Value(1.0, (2.0,), "+")
    with pytest.raises(TypeError, match="tuple of Values, not int"):
        Value(1.0, 5, "+")
    with pytest.raises(TypeError, match="_op must be a str"):
        Value(1.0, (Value(1.0),), 3)
    assert Value(1.0, "x").label == "x" and Value(1.0, label="x").label == "x"  # our own spellings still


def test_backward_is_only_given_to_hand_nodes():
    a = Value(1.0)
    with pytest.raises(AttributeError, match="a leaf: only a node made by hand"):
        a._backward = lambda: None
    with pytest.raises(AttributeError, match=r"made by the op table \(tanh\)"):
        a.tanh()._backward = lambda: None
    with pytest.raises(TypeError, match="a function of no arguments"):
        Value(1.0, (a,), "f")._backward = 3


def test_hand_nodes_draw_with_their_op():
    from viz import draw_graph

    o, _ = lecture_neuron()
    o.backward()
    source = draw_graph(o).source
    assert 'label=tanh color="#6f8fb0"' in source and "<td>n</td>" in source


def test_hand_nodes_in_the_step_through_page(graphviz_dot):
    from viz import step_through

    o, leaves = lecture_neuron()
    o.backward()
    steps = step_through(o).steps
    tanh_step = next(s for s in steps if s["phase"] == "backward" and s["title"].startswith("o = "))
    (c,) = tanh_step["contributions"]
    assert c["label"] == "n" and "by hand" in c["rule"] and c["local"] == pytest.approx(0.5)
    sums = {c["label"]: c["after"] for s in steps for c in s.get("contributions", [])}
    assert sums["x1"] == leaves["x1"].grad and sums["w1"] == leaves["w1"].grad


def test_pickling_and_copying_a_hand_graph_is_refused_clearly():
    o, leaves = lecture_neuron()
    attempts = [
        (lambda: pickle.dumps(o), "pickled", "pickle"),
        (lambda: copy.deepcopy(o), "copied", "copy"),
        (lambda: copy.copy(o), "copied", "copy"),
    ]
    for attempt, done, verb in attempts:
        with pytest.raises(TypeError, match=r"node made by hand \(tanh, 'o'\).*closure") as refused:
            attempt()
        message = str(refused.value)  # issue 22, #17: said "or pickl its leaves", "or copi its leaves"
        assert message.startswith(f"this graph cannot be {done}:")
        assert message.endswith(f"or {verb} its leaves (the parameters) instead")
    assert pickle.loads(pickle.dumps(leaves["w1"])).data == -3.0  # its leaves travel as ever


def test_replay_refuses_a_hand_op_and_says_why():
    w = Value(0.5, "w")

    @jit
    def step(x):
        return tanh_by_hand(w * x)

    with pytest.raises(ReplayError, match=r"node made by hand \(tanh\).*closure, which a replay cannot trace"):
        step(1.0)


# -- comparisons and conversions ---------------------------------------------------------


def test_comparisons_are_on_data_and_build_nothing():
    a, b = Value(2.0), Value(3.0)
    assert (a < b, a <= b, a > b, a >= b) == (True, True, False, False)
    assert (a < 3, a <= 2.0, a > 1, a >= 2, 3 > a, 1.0 < a) == (True,) * 6
    assert sorted([b, a]) == [a, b] and max(a, b) is b
    assert a.children == () and (a < b) is True
    x = Value(-1.5)
    assert (x.relu() if x > 0 else -x).data == 1.5  # the replay README's `if x > 0:`
    with pytest.raises(TypeError):
        a < "3"  # noqa: B015
    assert a != Value(2.0) and a == a  # == stays identity: Values are dict keys


def test_float_int_bool_as_pytorch_does_for_one_number():
    assert float(Value(2.5)) == 2.5 and int(Value(-2.7)) == -2 and math.isclose(math.exp(Value(0.0)), 1.0)
    assert bool(Value(0.5)) and not bool(Value(0.0)) and not bool(Value(-0.0)) and bool(Value(float("nan")))
    assert f"{float(Value(1 / 3)):.3f}" == "0.333"
    with pytest.raises(ValueError):
        int(Value(float("nan")))


@pytest.mark.parametrize(
    ("x", "value", "grad"),
    [(-2.0, 2.0, -1.0), (3.0, 3.0, 1.0), (0.0, 0.0, 0.0), (-0.0, 0.0, 0.0), (float("inf"), float("inf"), 1.0)],
)
def test_abs_is_an_op_with_pytorchs_gradient(x, value, grad):
    v = Value(x)
    y = abs(v)
    y.backward()
    assert y.data == value and math.copysign(1.0, y.data) == 1.0 and v.grad == grad
    assert y.op.name == "abs" and y._op == "abs"


def test_abs_at_nan_passes_no_gradient_as_pytorch():
    v = Value(float("nan"))
    y = abs(v) * 2.0
    y.backward()
    assert math.isnan(y.data) and v.grad == 0.0


# -- micrograd 0.1.0's nn usage, against micrograd itself ----------------------------------

micrograd = pytest.importorskip("micrograd", reason="micrograd is in the dev extra: pip install -e '.[dev]'")


def _copy_weights(theirs, ours: MLP) -> None:
    for their_layer, our_layer in zip(theirs.layers, ours.layers):
        for their_neuron, our_neuron in zip(their_layer.neurons, our_layer.neurons):
            for w, v in zip(our_neuron.w, their_neuron.w):
                w.data = v.data
            our_neuron.b.data = their_neuron.b.data


def _demo_step(model, Value, X, y, alpha=1e-4, lr=0.1):
    """micrograd's demo: an SVM max-margin loss with L2 regularisation, then an SGD step --
    its code, with its library swapped in by argument."""
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
    model.zero_grad()
    total_loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
    return total_loss.data, sum(accuracy) / len(accuracy)


def test_micrograds_demo_trains_as_micrograd():
    from micrograd.engine import Value as MgValue
    from micrograd.nn import MLP as MgMLP

    random.seed(1337)
    theirs = MgMLP(2, [16, 16, 1])  # ReLU, ReLU, linear
    ours = MLP(2, [16, 16, 1], ["relu", "relu", "none"])
    _copy_weights(theirs, ours)
    rng = random.Random(0)
    X = [(rng.uniform(-1.5, 2.5), rng.uniform(-1, 1.5)) for _ in range(20)]
    y = [1 if a * a + b > 1 else -1 for a, b in X]
    first = True
    for _ in range(3):
        their_loss, their_accuracy = _demo_step(theirs, MgValue, X, y)
        our_loss, our_accuracy = _demo_step(ours, Value, X, y)
        if first:  # the same weights: the forward pass is the same operations, the same bits
            assert our_loss == their_loss
            first = False
        # gradients add up in each engine's own order (micrograd's children are a set): ulps apart
        assert our_loss == pytest.approx(their_loss, rel=1e-12) and our_accuracy == their_accuracy
    for ours_p, theirs_p in zip(ours.parameters(), theirs.parameters()):
        assert ours_p.data == pytest.approx(theirs_p.data, rel=1e-12, abs=1e-15)
    assert len(ours.parameters()) == len(theirs.parameters()) == 337


def test_the_readmes_differences_from_micrograd_hold():
    """The README lists where we differ from micrograd on purpose; each claim, checked on our
    Value and on tinygrad_hw.micrograd (and on micrograd itself, when it is installed)."""
    import importlib.util
    from pathlib import Path

    from tinygrad_hw.micrograd import nn as compat_nn
    from tinygrad_hw.micrograd.engine import Value as CompatValue

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for claim in (
        "**`x / 0` is `inf`**",
        "**A negative number to a fractional power is `nan`**",
        "raises `ValueError`**",
    ):
        assert claim in readme.split("## Coming from micrograd")[1].split("\n## ")[0], claim
    for V in (Value, CompatValue):
        assert (V(1.0) / V(0.0)).data == math.inf and (V(-1.0) / V(0.0)).data == -math.inf
        assert math.isnan((V(0.0) / V(0.0)).data) and math.isnan((V(-8.0) ** 0.5).data)
        x = V(1.0)
        (x / V(0.0)).backward()
        assert x.grad == math.inf
    for model in (MLP(2, [3, 1], seed=0), compat_nn.Neuron(2), compat_nn.Layer(2, 3), compat_nn.MLP(2, [3, 1])):
        for inputs in ([1.0], [1.0, 2.0, 3.0]):
            with pytest.raises(ValueError, match=f"takes 2 inputs, got {len(inputs)}"):
                model(inputs)
    if importlib.util.find_spec("micrograd") is not None:  # what micrograd does instead
        from micrograd import nn as micrograd_nn
        from micrograd.engine import Value as MicrogradValue

        with pytest.raises(ZeroDivisionError):
            MicrogradValue(1.0) / MicrogradValue(0.0)
        assert isinstance((MicrogradValue(-8.0) ** 0.5).data, complex)
        neuron = micrograd_nn.Neuron(2)
        assert neuron([1.0, 2.0, 3.0]).data == neuron([1.0, 2.0]).data  # the third input dropped


@pytest.mark.parametrize("zero", [0, 0.0, -0.0])
def test_dividing_by_a_plain_zero_is_infinite_as_by_a_value_zero(zero):
    """The README's "x / 0 is inf" held for `x / Value(0.0)` only: `x / 0` took 0**-1 in
    Python, a ZeroDivisionError, in the micrograd API."""
    from tinygrad_hw.micrograd.engine import Value as CompatValue

    for V in (Value, CompatValue):
        for x in (1.0, -1.0):
            assert (V(x) / zero).data == (V(x) / V(zero)).data == math.copysign(math.inf, x) * math.copysign(1, zero)
    assert (CompatValue(3.0) / 2).data == 1.5 and (CompatValue(1.0) / 3)._prev[1].data == 3**-1  # micrograd's leaf

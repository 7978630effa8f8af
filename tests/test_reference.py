"""The engine held against the report's hand-derived backpropagation (numpy)."""

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_hw.data import generate_xor_easy
from tinygrad_hw.losses import mse
from tinygrad_hw.nn import MLP
from tinygrad_hw.optim import SGD
from tinygrad_hw.reference import ReferenceNetwork, sigmoid, sigmoid_prime, sigmoid_prime_as_printed

ROOT = Path(__file__).resolve().parent.parent


def _networks(draw_or_args):
    nin, hidden, seed, bias = draw_or_args
    model = MLP(nin, [*hidden, 1], "sigmoid", seed=seed, bias=bias)
    return model, ReferenceNetwork.from_mlp(model)


architectures = st.tuples(
    st.integers(1, 4),  # inputs
    st.lists(st.integers(1, 8), min_size=1, max_size=3),  # hidden layers
    st.integers(0, 2**32 - 1),  # weights
    st.booleans(),  # biases
)
samples = st.lists(st.floats(-2, 2, allow_nan=False), min_size=4, max_size=4)


@given(architectures, samples, st.floats(0, 1))
def test_every_gradient_matches_the_reports_recurrence(arch, x, y):
    model, ref = _networks(arch)
    x = x[: arch[0]]
    loss = mse(model(x), y)
    loss.backward()
    ref.forward(x)
    ref.backward([y])
    assert loss.data == pytest.approx(ref.loss([y]), abs=1e-15)
    for l, layer in enumerate(model.layers):
        for i, neuron in enumerate(layer.neurons):
            assert [w.grad for w in neuron.w] == pytest.approx(ref.dC_dW[l][i].tolist(), abs=1e-10, rel=1e-10)
            if neuron.b is not None:
                assert neuron.b.grad == pytest.approx(ref.dC_db[l][i], abs=1e-10, rel=1e-10)


@given(architectures, samples, st.floats(0, 1), st.floats(0.01, 2.0))
def test_one_sgd_step_leaves_the_same_weights(arch, x, y, lr):
    model, ref = _networks(arch)
    x = x[: arch[0]]
    opt = SGD(model.parameters(), lr)
    mse(model(x), y).backward()
    opt.step()
    ref.forward(x)
    ref.backward([y])
    ref.update(lr)
    after = ReferenceNetwork.from_mlp(model)
    for l in range(len(ref.W)):
        np.testing.assert_allclose(after.W[l], ref.W[l], rtol=0, atol=1e-12)
        if ref.b is not None:
            np.testing.assert_allclose(after.b[l], ref.b[l], rtol=0, atol=1e-12)


def test_the_two_trainers_give_the_same_loss_history_on_xor():
    X, y = generate_xor_easy()
    model = MLP(2, [8, 8, 1], seed=1)
    ref = ReferenceNetwork.from_mlp(model)
    opt = SGD(model.parameters(), 0.1)
    ours, theirs = [], []
    for _ in range(30):
        total = 0.0
        for x, t in zip(X.tolist(), y.ravel().tolist()):
            loss = mse(model(x), t)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.data
        ours.append(total / len(X))
        theirs.append(ref.train_epoch(X, y, 0.1))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)
    assert ours[-1] < ours[0]


@pytest.mark.parametrize("x", [-3.0, -1.0, -0.25, 0.0, 0.5, 2.0])
def test_the_erratum_the_printed_derivative_disagrees_with_finite_differences(x):
    eps = 1e-6
    numerical = (sigmoid(np.float64(x + eps)) - sigmoid(np.float64(x - eps))) / (2 * eps)
    assert sigmoid_prime(np.float64(x)) == pytest.approx(numerical, rel=1e-8)
    printed = sigmoid_prime_as_printed(np.float64(x))
    assert abs(printed - numerical) > 0.05 * numerical  # wrong by far more than rounding


def test_figure_3s_network_by_hand():
    """The numbers worked out in docs/derivation.md, from the formula to the code."""
    W1, W2, W3 = [[0.5, -0.5], [0.25, 0.75]], [[1.0, -1.0], [0.5, 0.5]], [[1.0, -0.5]]
    x, y = [1.0, 0.5], 1.0
    ref = ReferenceNetwork([W1, W2, W3])
    ref.forward(x)
    ref.backward([y])
    by_hand = {  # docs/derivation.md, rounded to 6 decimals there
        "z1": [0.25, 0.625],
        "a1": [0.562177, 0.651355],
        "z2": [-0.089178, 0.606766],
        "a2": [0.477720, 0.647203],
        "z3": [0.154119],
        "y_hat": [0.538454],
        "C": 0.213025,
        "dC/dz3": [-0.229408],
        "dC/dz2": [-0.057238, 0.026191],
        "dC/dz1": [-0.010865, 0.015972],
    }
    assert ref.z[0].tolist() == by_hand["z1"] and ref.a[1] == pytest.approx(by_hand["a1"], abs=5e-7)
    assert ref.z[1] == pytest.approx(by_hand["z2"], abs=5e-7) and ref.a[2] == pytest.approx(by_hand["a2"], abs=5e-7)
    assert ref.z[2] == pytest.approx(by_hand["z3"], abs=5e-7) and ref.a[3] == pytest.approx(by_hand["y_hat"], abs=5e-7)
    assert ref.loss([y]) == pytest.approx(by_hand["C"], abs=5e-7)
    for l in range(3):
        assert ref.dC_dz[l] == pytest.approx(by_hand[f"dC/dz{l + 1}"], abs=5e-7)

    # the engine: the same network, and each neuron's z node carries ∂C/∂z as its grad
    model = MLP(2, [2, 2, 1], bias=False)
    for layer, W in zip(model.layers, (W1, W2, W3)):
        for neuron, row in zip(layer.neurons, W):
            for w, value in zip(neuron.w, row):
                w.data = value
    loss = mse(model(x), y)
    loss.backward()
    w11 = model.layers[0].neurons[0].w[0]
    assert w11.label == "W1[1,1]" and w11.grad == pytest.approx(-0.010865, abs=5e-7)  # = x₁ · ∂C/∂z¹₁
    assert w11.grad == pytest.approx(ref.dC_dW[0][0, 0], abs=1e-15)
    z_nodes = {}
    stack = [loss]
    while stack:
        node = stack.pop()
        if node.op is not None and node.op.name == "dot":
            z_nodes[node._prev[0].label] = node
        stack.extend(node._prev)
    assert z_nodes["W1[1,1]"].grad == pytest.approx(by_hand["dC/dz1"][0], abs=5e-7)
    assert z_nodes["W2[2,1]"].grad == pytest.approx(by_hand["dC/dz2"][1], abs=5e-7)
    SGD(model.parameters(), 0.1).step()
    assert w11.data == pytest.approx(0.5010865, abs=1e-7)  # w -= lr · x · ∂C/∂z


def test_the_reference_refuses_what_it_does_not_model():
    with pytest.raises(ValueError, match="sigmoid layers only"):
        ReferenceNetwork.from_mlp(MLP(2, [2, 1], "tanh"))
    with pytest.raises(ValueError, match="layer 2 takes 3 inputs but layer 1 has 2 units"):
        ReferenceNetwork([np.zeros((2, 2)), np.zeros((1, 3))])


def test_code_quoted_in_the_derivation_exists():
    """docs/derivation.md quotes lines of reference.py and rows of ops.py: they must be there."""
    doc = (ROOT / "docs" / "derivation.md").read_text()
    sources = {name: (ROOT / "tinygrad_hw" / name).read_text() for name in ("reference.py", "ops.py")}
    quoted = re.findall(r"`(reference\.py|ops\.py)`: `([^`]+)`", doc)
    assert len(quoted) >= 8
    for name, code in quoted:
        assert code in sources[name], (name, code)
    assert "erratum" in doc.lower()

"""tinygrad_hw.interop against PyTorch: the same weights bit for bit, the same outputs and
gradients to 1e-12, a model trained here keeping its accuracy there.

These tests need torch (the [torch] extra): skipped without it, failed under CI=true."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from optional import need

from tinygrad_hw import GradcheckError, Value
from tinygrad_hw.codegen import library_names, twin
from tinygrad_hw.data import generate_xor_easy
from tinygrad_hw.losses import mse
from tinygrad_hw.nn import MLP
from tinygrad_hw.ops import OPS
from tinygrad_hw.train import fit, predict

try:
    import torch
except ImportError:  # the check below says how to get it
    torch = None


@pytest.fixture(autouse=True)
def _torch_present():
    need(None if torch is not None else "PyTorch is missing: pip install -e '.[torch]' (make test does it)")


def _interop():
    from tinygrad_hw import interop

    return interop


def _weights(model: MLP) -> list[float]:
    return [p.data for p in model.parameters()]


@pytest.mark.parametrize(
    ("nin", "sizes", "activations", "bias"),
    [
        (2, [8, 8, 1], "sigmoid", True),
        (3, [5, 2], ["tanh", "none"], True),
        (4, [7, 7, 3], ["relu", "sigmoid", "tanh"], False),
        (1, [1], "none", True),
    ],
)
def test_a_round_trip_keeps_every_weight_bit_for_bit(nin, sizes, activations, bias):
    interop = _interop()
    model = MLP(nin, sizes, activations, seed=3, bias=bias)
    for p in model.parameters():
        p.data = p.data * math.pi / 7  # not round numbers
    module = interop.to_torch(model)
    back = interop.from_torch(module)
    assert _weights(back) == _weights(model) and back.activations == model.activations and back.bias == bias
    linears = [m for m in module if isinstance(m, torch.nn.Linear)]
    for layer, linear in zip(model.layers, linears):
        assert linear.weight.dtype == torch.float64
        assert linear.weight.tolist() == [[w.data for w in n.w] for n in layer.neurons]


def test_the_report_network_agrees_with_torch_on_outputs_and_gradients():
    interop = _interop()
    model = MLP(2, [8, 8, 1], seed=1)
    module = interop.to_torch(model)
    X, y = generate_xor_easy()
    for x, target in zip(X, y[:, 0]):
        model.zero_grad()
        loss = mse(model(x.tolist()), float(target))
        loss.backward()
        module.zero_grad()
        theirs = (module(torch.tensor(x, dtype=torch.float64)) - float(target)).square().sum()
        theirs.backward()
        assert loss.data == pytest.approx(theirs.item(), rel=1e-12, abs=1e-15)
        their_grads = []
        for m in module:
            if isinstance(m, torch.nn.Linear):
                for j in range(m.out_features):
                    their_grads += [*m.weight.grad[j].tolist(), m.bias.grad[j].item()]
        ours = [p.grad for p in model.parameters()]
        assert np.allclose(ours, their_grads, rtol=1e-12, atol=1e-15)


def test_a_model_trained_here_keeps_its_accuracy_in_torch():
    interop = _interop()
    X, y = generate_xor_easy()
    model = MLP(2, [8, 8, 1], seed=1)
    fit(model, X, y, epochs=3000, lr=0.1, engine="replay", verbose=False, progress=False)
    ours = predict(model, X)[:, 0]
    with torch.no_grad():
        theirs = interop.to_torch(model)(torch.tensor(X, dtype=torch.float64))[:, 0].numpy()
    assert np.allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert ((theirs > 0.5) == (y[:, 0] > 0.5)).mean() == 1.0 == ((ours > 0.5) == (y[:, 0] > 0.5)).mean()


def test_a_torch_model_comes_over_with_its_float32_weights_exactly():
    interop = _interop()
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1), torch.nn.Identity())
    model = interop.from_torch(module)
    assert model.sizes == [3, 4, 1] and model.activations == ["tanh", "none"]
    x = [0.25, -1.0, 2.0]
    with torch.no_grad():
        theirs = module.double()(torch.tensor(x, dtype=torch.float64)).item()
    assert model(x).data == pytest.approx(theirs, rel=1e-12)


@pytest.mark.parametrize(
    ("modules", "message"),
    [
        (lambda nn: [nn.Linear(2, 3), nn.Dropout(0.1), nn.Linear(3, 1)], r"module 1 is a Dropout"),
        (lambda nn: [nn.Sigmoid(), nn.Linear(2, 1)], r"module 0 \(Sigmoid\) comes first"),
        (lambda nn: [nn.Linear(2, 3), nn.ReLU(), nn.Tanh()], r"module 2 \(Tanh\) comes after another activation"),
        (lambda nn: [nn.Linear(2, 3), nn.Linear(4, 1)], r"layer 2 takes 4 inputs, but layer 1 gives 3"),
        (lambda nn: [nn.Linear(2, 3), nn.Linear(3, 1, bias=False)], r"some Linear layers have a bias"),
        (lambda nn: [nn.Linear(2, 3), nn.GELU()], r"module 1 is a GELU"),
        (lambda nn: [], r"no Linear layer"),
    ],
)
def test_what_an_mlp_cannot_express_is_refused_by_name(modules, message):
    with pytest.raises(ValueError, match=message):
        _interop().from_torch(torch.nn.Sequential(*modules(torch.nn)))


def test_to_torch_takes_an_mlp():
    with pytest.raises(TypeError, match="takes a tinygrad_hw MLP, not str"):
        _interop().to_torch("model")


# -- one function, both engines ------------------------------------------------------------


# each op of the table, written once for Values and torch tensors alike
def _away_from_kinks(x: float) -> bool:
    return abs(x) > 1e-3


@given(
    st.sampled_from(sorted(OPS)), st.floats(-3, 3).filter(_away_from_kinks), st.floats(-3, 3).filter(_away_from_kinks)
)
def test_each_op_matches_its_rule_under_torch_autograd(name, a, b):
    """Every row of the table, whatever it holds: our kernels against PyTorch differentiating
    the same rule, written with torch's functions (maths.py's torch column)."""
    op = OPS[name]
    c = 1.5
    terms = [(a, b), (b, a * 0.5)][: 2 if op.nary else 1]
    terms = [term[: op.arity] for term in terms]
    names = {n: [t[k] for t in terms] for k, n in enumerate(op.operands)} if op.nary else dict(zip("ab", terms[0]))
    assume(op.is_smooth({**names, **({"c": c} if op.const else {})}))
    ours = [[Value(x) for x in term] for term in terms]
    if op.nary:
        out = op.forward(*zip(*ours))
    else:
        out = op.forward(*ours[0], *([c] if op.const else []))
    out.backward()
    rule = twin(op, library_names(torch, "torch"))
    theirs = [[torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in term] for term in terms]
    result = sum(rule(*term, *([c] if op.const else [])) for term in theirs)
    result.backward()
    assert out.data == pytest.approx(float(result.detach()), rel=1e-12, abs=1e-300)
    for mine, their in zip([v for term in ours for v in term], [t for term in theirs for t in term]):
        assert mine.grad == pytest.approx(float(their.grad), rel=1e-12, abs=1e-12), name


def test_a_composite_function_and_its_report():
    def f(x, y, z):
        h = (x * y + z).tanh()
        return (h * h + abs(x - z)).sigmoid() / (1.0 + y.exp()) + sum([x, y]) ** 2

    report = _interop().check_against_torch(f, [0.3, -1.2, 0.7])
    assert report.max_error <= 1e-15 and len(report.grads) == len(report.torch_grads) == 3
    assert report.value == pytest.approx(report.torch_value, rel=1e-14)


def test_a_disagreement_is_reported_with_where():
    def differs(x):  # a function that is not the same function on both sides
        return x * (2.0 if isinstance(x, Value) else 3.0)

    with pytest.raises(GradcheckError, match=r"the value: tinygrad_hw 2\.0, torch 3\.0"):
        _interop().check_against_torch(differs, [1.0])
    assert _interop().check_against_torch(differs, [1.0], raise_exception=False) is False


def test_an_unused_input_has_gradient_zero_on_both_sides():
    report = _interop().check_against_torch(lambda x, y: x * 2.0, [1.0, 5.0])
    assert report.grads == report.torch_grads == [2.0, 0.0]

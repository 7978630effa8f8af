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


# -- from_torch reads only what it can show computes the same (issue 22, defect 4) -----------


def _module_kinds():
    """Modules that look like what from_torch reads, and are not."""
    nn = torch.nn

    class Sigmoid(nn.Module):  # a namesake of torch.nn.Sigmoid that computes tanh
        def forward(self, x):
            return torch.tanh(x)

    class ReLU(nn.Module):  # a namesake that passes its input through
        def forward(self, x):
            return x

    class ScaledLinear(nn.Linear):  # a subclass with its own forward
        def forward(self, x):
            return 2 * super().forward(x)

    class NamedLinear(nn.Linear):  # a subclass without one: still not provably the same
        pass

    class SigmoidTanh(nn.Tanh):  # a subclass of an activation with its own forward
        def forward(self, x):
            return torch.sigmoid(x)

    return Sigmoid, ReLU, ScaledLinear, NamedLinear, SigmoidTanh


def _hooked(module, kind):
    if kind == "forward":
        module.register_forward_hook(lambda m, args, out: out * 3)
    elif kind == "pre":
        module.register_forward_pre_hook(lambda m, args: (args[0] + 1,))
    else:
        module.register_full_backward_hook(lambda m, grad_in, grad_out: grad_in)
    return module


def _refused(module, *pattern):
    interop = _interop()
    with pytest.raises(interop.UnsupportedModuleError) as caught:
        interop.from_torch(module)
    for text in pattern:
        assert text in str(caught.value), (text, str(caught.value))
    return str(caught.value)


def test_a_namesake_of_a_torch_activation_is_refused_not_read_by_its_name():
    # Before: class Sigmoid(nn.Module) returning tanh was read as a sigmoid; outputs off by up to 4.85.
    Sigmoid, ReLU, *_ = _module_kinds()
    nn = torch.nn
    _refused(nn.Sequential(nn.Linear(2, 3), Sigmoid(), nn.Linear(3, 1)), "module 1 is a ", "not torch.nn.Sigmoid")
    _refused(nn.Sequential(nn.Linear(2, 3), ReLU()), "module 1 is a ", "not torch.nn.ReLU")


def test_subclasses_of_the_modules_it_reads_are_refused():
    _, _, ScaledLinear, NamedLinear, SigmoidTanh = _module_kinds()
    nn = torch.nn
    _refused(nn.Sequential(ScaledLinear(2, 1)), "module 0 is a subclass of torch.nn.Linear")
    _refused(NamedLinear(2, 1), "the module is a subclass of torch.nn.Linear")
    _refused(nn.Sequential(nn.Linear(2, 1), SigmoidTanh()), "module 1 is a subclass of torch.nn.Tanh")

    class Doubled(nn.Sequential):
        def forward(self, x):
            return 2 * super().forward(x)

    _refused(Doubled(nn.Linear(2, 1)), "subclass of torch.nn.Sequential")


@pytest.mark.parametrize("kind", ["forward", "pre", "backward"])
@pytest.mark.parametrize("where", [0, 1, "sequential"])
def test_a_module_with_a_hook_is_refused(kind, where):
    # Before: hooks were ignored.
    nn = torch.nn
    parts = [nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)]
    if where != "sequential":
        _hooked(parts[where], kind)
    module = nn.Sequential(*parts)
    if where == "sequential":
        _hooked(module, kind)
    name = "the Sequential" if where == "sequential" else f"module {where} ({type(parts[where]).__name__})"
    _refused(module, name, " hook")


@pytest.mark.parametrize("kind", ["forward", "forward_pre", "backward"])
def test_a_global_hook_refuses_every_module(kind):
    registry = torch.nn.modules.module
    if kind == "forward":
        handle = registry.register_module_forward_hook(lambda m, args, out: out)
    elif kind == "forward_pre":
        handle = registry.register_module_forward_pre_hook(lambda m, args: None)
    else:
        handle = registry.register_module_full_backward_hook(lambda m, gi, go: None)
    try:
        _refused(torch.nn.Linear(2, 1), f"a global {kind.replace('_', ' ')} hook")
    finally:
        handle.remove()
    _interop().from_torch(torch.nn.Linear(2, 1))  # and only while it is there


def test_a_forward_replaced_on_the_instance_or_the_class_is_refused(monkeypatch):
    nn = torch.nn
    linear = nn.Linear(2, 1)
    linear.forward = lambda x: x.sum(-1, keepdim=True)
    _refused(nn.Sequential(linear), "module 0 (Linear) has its forward replaced")
    monkeypatch.setattr(nn.Tanh, "forward", lambda self, x: torch.sigmoid(x))
    _refused(nn.Sequential(nn.Linear(2, 1), nn.Tanh()), "module 1 (Tanh) has its Tanh.forward replaced")
    compiled = nn.Sequential(nn.Linear(2, 1))
    compiled._compiled_call_impl = torch.sigmoid  # what Module.compile() sets (whose import takes seconds)
    _refused(compiled, "the Sequential is compiled (torch.compile)")


def test_parameters_without_floating_point_values_are_refused():
    # Before: a meta-device module gave a traceback from .tolist().
    nn = torch.nn
    _refused(nn.Sequential(nn.Linear(2, 3, device="meta")), "module 0 (Linear) has its weight on the meta device")
    _refused(nn.Linear(2, 1, dtype=torch.complex64), "has a weight of torch.complex64")
    linear = nn.Linear(2, 1)
    linear.weight = nn.Parameter(torch.zeros(1, 2, dtype=torch.int64), requires_grad=False)
    _refused(linear, "has a weight of torch.int64")
    linear = nn.Linear(2, 1)
    linear.weight = nn.Parameter(torch.zeros(3, 5))
    _refused(linear, "has a weight of shape (3, 5), not (1, 2)")
    linear = nn.Linear(2, 3)
    torch.nn.utils.parametrize.register_parametrization(linear, "weight", nn.Identity())
    _refused(nn.Sequential(linear), "module 0 is a subclass of torch.nn.Linear")


def test_every_refusal_is_one_error_type_naming_what(monkeypatch):
    interop = _interop()
    assert issubclass(interop.UnsupportedModuleError, ValueError)
    _refused("not a module", "takes a torch.nn.Module, not str")
    _refused(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Dropout()), "module 1 is a Dropout")


_LINEARS = ["plain", "plain", "plain", "scaled", "named", "hook forward", "hook pre", "hook backward", "replaced"]
_ACTIVATIONS = ["none", "Sigmoid", "Tanh", "ReLU", "Identity", "fake Sigmoid", "fake ReLU", "sub Tanh", "GELU"]
_ACTIVATIONS += ["hooked Sigmoid"]


def _build(kind, nin, nout, bias):
    """A Linear-like module of ``kind``, float64."""
    _, _, ScaledLinear, NamedLinear, _ = _module_kinds()
    cls = {"scaled": ScaledLinear, "named": NamedLinear}.get(kind, torch.nn.Linear)
    linear = cls(nin, nout, bias=bias, dtype=torch.float64)
    if kind.startswith("hook"):
        _hooked(linear, kind.split()[1])
    if kind == "replaced":
        linear.forward = lambda x, inner=linear: torch.nn.functional.linear(x, inner.weight) * 0.5
    return linear


def _activation(kind):
    Sigmoid, ReLU, _, _, SigmoidTanh = _module_kinds()
    made = {"fake Sigmoid": Sigmoid, "fake ReLU": ReLU, "sub Tanh": SigmoidTanh}.get(kind)
    if made is not None:
        return made()
    if kind == "hooked Sigmoid":
        return _hooked(torch.nn.Sigmoid(), "forward")
    return getattr(torch.nn, kind)()


@given(
    st.lists(
        st.tuples(st.sampled_from(_LINEARS), st.sampled_from(_ACTIVATIONS), st.integers(1, 4)), min_size=1, max_size=3
    ),
    st.integers(1, 3),
    st.booleans(),
    st.integers(0, 2**31),
)
def test_random_stacks_are_read_and_equal_or_refused_by_name(layers, nin, bias, seed):
    """The fuzzer of torch module shapes: a stack from_torch reads computes torch's outputs
    within 1e-12; anything it cannot show computes them is refused with its one error."""
    interop = _interop()
    torch.manual_seed(seed)
    parts, width, plain = [], nin, True
    for linear, activation, nout in layers:
        parts.append(_build(linear, width, nout, bias))
        if activation != "none":
            parts.append(_activation(activation))
        plain &= linear == "plain" and activation in ("none", "Sigmoid", "Tanh", "ReLU", "Identity")
        width = nout
    module = torch.nn.Sequential(*parts)
    try:
        model = interop.from_torch(module)
    except interop.UnsupportedModuleError as error:
        assert not plain, str(error)
        assert "module " in str(error)
        return
    assert plain, "read a stack it cannot show is the same"
    x = torch.randn(5, nin, dtype=torch.float64) * 3
    with torch.no_grad():
        theirs = module(x).numpy()
    ours = predict(model, x.numpy())
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)

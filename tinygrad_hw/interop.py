"""The road to PyTorch: the same network, and the same gradients, on both sides.

* :func:`to_torch` turns an :class:`~tinygrad_hw.nn.MLP` into a ``torch.nn.Sequential``
  of ``Linear`` layers and activations, in float64, with the same weights bit for bit;
* :func:`from_torch` turns such a stack back into an ``MLP`` (anything it cannot
  express is refused, naming what);
* :func:`check_against_torch` computes the gradients of one scalar function with
  both engines and compares them -- the function is written once, since Values and
  torch tensors share the operators and methods it uses.

PyTorch is an optional extra (``pip install -e '.[torch]'``); this module imports it
only when called.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .checks import counted
from .engine import Value
from .gradcheck import GradcheckError
from .nn import MLP

__all__ = ["TorchComparison", "UnsupportedModuleError", "check_against_torch", "from_torch", "to_torch"]

# our activation name -> the torch module class name, and back
_TO_TORCH = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "ReLU"}
_FROM_TORCH = {name: ours for ours, name in _TO_TORCH.items()}
_READ = ("Linear", "Sigmoid", "Tanh", "ReLU", "Identity")  # the torch.nn classes from_torch reads
_HOOKS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")
_CALLS = ("forward", "__call__", "_call_impl", "_wrapped_call_impl")  # what an instance may not replace


class UnsupportedModuleError(ValueError):
    """``from_torch`` cannot show that an MLP computes what this module computes."""


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError(
            "tinygrad_hw.interop needs PyTorch: pip install -e '.[torch]' (or pip install torch)"
        ) from None
    return torch


def to_torch(model: MLP) -> Any:
    """``model`` as a ``torch.nn.Sequential`` of ``Linear`` (float64) and activation
    modules, with the same weights: ``Linear.weight[j, i]`` is ``W[j+1, i+1]``, the weight
    from input i to neuron j, and ``Linear.bias[j]`` is ``b[j+1]``."""
    torch = _torch()
    if not isinstance(model, MLP):
        raise TypeError(f"to_torch() takes a tinygrad_hw MLP, not {type(model).__name__}")
    modules = []
    for layer in model.layers:
        linear = torch.nn.Linear(layer.nin, layer.nout, bias=model.bias, dtype=torch.float64)
        with torch.no_grad():
            weights = [[w.data for w in neuron.w] for neuron in layer.neurons]
            linear.weight.copy_(torch.tensor(weights, dtype=torch.float64))
            if model.bias:
                linear.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64))  # type: ignore[union-attr]  # model.bias: every neuron has a b
        modules.append(linear)
        if layer.activation in _TO_TORCH:
            modules.append(getattr(torch.nn, _TO_TORCH[layer.activation])())
    return torch.nn.Sequential(*modules)


def from_torch(module: Any) -> MLP:
    """A ``torch.nn.Sequential`` of ``Linear`` layers, each followed by at most one of
    ``Sigmoid``, ``Tanh``, ``ReLU`` or ``Identity``, as an ``MLP`` with the same weights
    (float32 weights become the same numbers in float64).

    Only what is sure to compute what the MLP computes is read: those torch.nn classes
    themselves (not a subclass, nor another class of the same name), with no hooks
    (the module's, or global ones), no forward replaced on the instance, and parameters
    that hold floating-point values (not on the ``meta`` device). Anything else -- and
    two activations in a row, an activation first, layers that do not chain, some layers
    with a bias and some without -- is an :class:`UnsupportedModuleError` (a ValueError)
    naming the module."""
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise UnsupportedModuleError(f"from_torch() takes a torch.nn.Module, not {type(module).__name__}")
    _check_no_global_hooks(torch)
    if type(module) is torch.nn.Sequential:
        _check_plain(module, "the Sequential", torch.nn.Sequential)
        parts = list(module.named_children())
    elif isinstance(module, torch.nn.Sequential):
        raise UnsupportedModuleError(
            f"the module is a {type(module).__name__}, a subclass of torch.nn.Sequential, which may compute "
            "something else: from_torch reads torch.nn.Sequential itself"
        )
    else:
        parts = [("", module)]
    layers: list[tuple[Any, str]] = []
    for name, part in parts:
        called = f"module {name}" if name else "the module"
        where = f"{called} ({type(part).__name__})"
        kind = _kind(torch, part, called)
        if kind == "Linear":
            _check_parameters(torch, part, where)
            layers.append((part, "none"))
        elif not layers or layers[-1][1] != "none":
            place = "first" if not layers else "after another activation"
            raise UnsupportedModuleError(f"{where} comes {place}: an MLP has one activation per Linear")
        elif kind in _FROM_TORCH:
            layers[-1] = (layers[-1][0], _FROM_TORCH[kind])
    if not layers:
        raise UnsupportedModuleError("the module has no Linear layer")
    linears = [linear for linear, _ in layers]
    _check_chain(linears)
    return _mlp(torch, layers)


def _kind(torch: Any, part: Any, called: str) -> str:
    """Which of the classes from_torch reads ``part`` (``called`` so) is, by identity; else refused."""
    kind = next((name for name in _READ if type(part) is getattr(torch.nn, name)), None)
    if kind is None:
        cls = type(part)
        known = next((name for name in _READ if isinstance(part, getattr(torch.nn, name))), None)
        if known is not None:
            why = f"a subclass of torch.nn.{known}, which may compute something else"
        elif cls.__name__ in _READ:
            why = f"a {cls.__module__}.{cls.__qualname__}, not torch.nn.{cls.__name__}"
        else:
            why = f"a {cls.__name__}"
        raise UnsupportedModuleError(
            f"{called} is {why}: from_torch reads torch.nn.{', '.join(_READ[:-1])} and {_READ[-1]} only"
        )
    _check_plain(part, f"{called} ({kind})", getattr(torch.nn, kind))
    return kind


def _check_plain(part: Any, where: str, cls: Any) -> None:
    """No hooks on ``part``, no forward replaced on it or on its class, not compiled."""
    hooks = [name.strip("_").replace("_", " ")[:-1] for name in _HOOKS if getattr(part, name, None)]
    if hooks:
        raise UnsupportedModuleError(f"{where} has a {hooks[0]}: it may change what the module computes")
    if vars(part).get("_compiled_call_impl") is not None:
        raise UnsupportedModuleError(f"{where} is compiled (torch.compile): it may compute something else")
    replaced = [name for name in _CALLS if name in vars(part)]
    forward = cls.forward
    if not replaced and (forward.__module__ != cls.__module__ or forward.__qualname__ != f"{cls.__name__}.forward"):
        replaced = [f"{cls.__name__}.forward"]
    if replaced:
        raise UnsupportedModuleError(f"{where} has its {replaced[0]} replaced: it may compute something else")


def _check_no_global_hooks(torch: Any) -> None:
    """No hook registered for every module (``register_module_forward_hook`` and kin)."""
    registry = torch.nn.modules.module
    for kind in ("forward", "forward_pre", "backward", "backward_pre"):
        if getattr(registry, f"_global_{kind}_hooks", None):
            raise UnsupportedModuleError(
                f"a global {kind.replace('_', ' ')} hook is registered for every module: "
                "it may change what any of them computes"
            )


def _check_parameters(torch: Any, linear: Any, where: str) -> None:
    """Weights that hold floating-point values, of the shapes the layer says."""
    for name, tensor in (("weight", linear.weight), ("bias", linear.bias)):
        if tensor is None:
            continue
        if not isinstance(tensor, torch.Tensor) or tensor.is_meta or tensor.layout != torch.strided:
            what = "on the meta device, with no values" if getattr(tensor, "is_meta", False) else "not a dense tensor"
            raise UnsupportedModuleError(f"{where} has its {name} {what}")
        if not tensor.dtype.is_floating_point:
            raise UnsupportedModuleError(f"{where} has a {name} of {tensor.dtype}, not floating-point numbers")
    expected = {"weight": (linear.out_features, linear.in_features), "bias": (linear.out_features,)}
    for name, shape in expected.items():
        tensor = getattr(linear, name)
        if tensor is not None and tuple(tensor.shape) != shape:
            raise UnsupportedModuleError(f"{where} has a {name} of shape {tuple(tensor.shape)}, not {shape}")


def _mlp(torch: Any, layers: list[tuple[Any, str]]) -> MLP:
    """The MLP with the Linear layers' weights and the activations after them."""
    linears = [linear for linear, _ in layers]
    bias = linears[0].bias is not None
    model = MLP(linears[0].in_features, [lin.out_features for lin in linears], [a for _, a in layers], bias=bias)
    for layer, linear in zip(model.layers, linears):
        weight = linear.weight.detach().to("cpu", torch.float64).tolist()
        biases = linear.bias.detach().to("cpu", torch.float64).tolist() if bias else None
        for j, neuron in enumerate(layer.neurons):
            for w, x in zip(neuron.w, weight[j]):
                w.data = x
            if biases is not None and neuron.b is not None:
                neuron.b.data = biases[j]
    return model


def _check_chain(linears: list[Any]) -> None:
    """Each layer reads what the one before writes; all with a bias or none."""
    for k in range(1, len(linears)):
        if linears[k].in_features != linears[k - 1].out_features:
            raise UnsupportedModuleError(
                f"Linear layer {k + 1} takes {counted(linears[k].in_features, 'input')}, "
                f"but layer {k} gives {linears[k - 1].out_features}"
            )
    with_bias = [linear.bias is not None for linear in linears]
    if any(with_bias) and not all(with_bias):
        raise UnsupportedModuleError(
            "some Linear layers have a bias and some do not: an MLP has biases everywhere or nowhere"
        )


@dataclass
class TorchComparison:
    """What :func:`check_against_torch` saw: both outputs, both gradients, the worst gap."""

    value: float
    torch_value: float
    grads: list[float]
    torch_grads: list[float]
    max_error: float


def check_against_torch(
    fn: Callable[..., Any],
    inputs: Sequence[float],
    *,
    atol: float = 1e-12,
    rtol: float = 1e-12,
    raise_exception: bool = True,
) -> TorchComparison | bool:
    """Compare ``fn``'s value and gradient at ``inputs`` with PyTorch's (float64).

    ``fn`` takes one scalar per input and returns a scalar. It is called once with
    Values and once with torch tensors, so write it with what both have: ``+ - * /``,
    ``**`` a number, ``abs()``, and the methods ``.exp() .log() .tanh() .sigmoid()
    .relu() .square()``; ``sum()`` of a list (not ``Value.sum``). Where they agree
    within ``atol + rtol·|torch|`` (NaN matching NaN), returns a :class:`TorchComparison`;
    otherwise raises :class:`~tinygrad_hw.GradcheckError` saying where (or returns
    False with ``raise_exception=False``).
    """
    torch = _torch()
    numbers = [float(x.data if isinstance(x, Value) else x) for x in inputs]
    ours = [Value(x, f"x{i + 1}") for i, x in enumerate(numbers)]
    out = fn(*ours)
    if not isinstance(out, Value):
        raise TypeError(f"fn must return a scalar Value when given Values, not {type(out).__name__}")
    out.backward()
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in numbers]
    result = fn(*theirs)
    if not (isinstance(result, torch.Tensor) and result.numel() == 1):
        raise TypeError(f"fn must return a scalar tensor when given tensors, not {type(result).__name__}")
    torch_grads = (
        torch.autograd.grad(result, theirs, allow_unused=True) if result.requires_grad else [None] * len(theirs)
    )
    comparison = TorchComparison(
        value=out.data,
        torch_value=float(result.detach()),
        grads=[v.grad for v in ours],
        torch_grads=[0.0 if g is None else float(g.detach()) for g in torch_grads],
        max_error=0.0,
    )
    pairs = [("the value", comparison.value, comparison.torch_value)]
    pairs += [(f"∂/∂x{i + 1}", a, b) for i, (a, b) in enumerate(zip(comparison.grads, comparison.torch_grads))]
    for what, a, b in pairs:
        if (math.isnan(a) and math.isnan(b)) or a == b:
            continue
        error = abs(a - b)
        comparison.max_error = max(comparison.max_error, error) if not math.isnan(error) else math.inf
        if not error <= atol + rtol * abs(b):
            if raise_exception:
                raise GradcheckError(f"{what}: tinygrad_hw {a!r}, torch {b!r} (|difference| {error:.3g})")
            return False
    return comparison

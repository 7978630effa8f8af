"""Neurons, layers and multi-layer perceptrons built from ``Value`` s.

The object layout is micrograd's (``model.layers[i].neurons[j].w`` is the list of
weight Values, ``.b`` the bias), so micrograd code and tutorials carry over.
Each neuron computes the report's ``z = Σ wᵢ·xᵢ + b`` as one ``dot`` node, then
its activation. Parameters are labelled in the report's notation: ``W2[3,1]`` is
layer 2, neuron 3, input 1 (all counted from 1), ``b2[3]`` its bias.
"""

from __future__ import annotations

import numbers
import random
from typing import Any, Callable, Iterable, Protocol, Sequence, Union

from .checks import counted, is_count
from .engine import Value
from .ops import OPS

__all__ = ["ACTIVATIONS", "MLP", "Layer", "Module", "Neuron"]

# activation name -> the Value method applying it (None: the identity)
ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
    "relu": Value.relu,
    "none": None,
    "linear": None,
}

Input = Sequence[Union[Value, float]]
_DOT = OPS["dot"]


class Module:
    """Anything with parameters: ``parameters()`` and ``zero_grad()`` as in PyTorch."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


def _activation(name: str) -> str:
    if not isinstance(name, str) or name.lower() not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}: choose one of {', '.join(map(repr, ACTIVATIONS))}")
    return name.lower()


def _not_one_sample(x: object, nin: int) -> TypeError | None:
    """Why ``x`` is not one sample, if it is a bare number or a batch (rows of numbers):
    the two things a PyTorch user passes to a module that this call does not take."""
    takes = f"an MLP call takes one sample, a sequence of {counted(nin, 'number')}"
    if not isinstance(x, Iterable):
        return TypeError(f"{takes}, not {type(x).__name__}")
    if any(hasattr(row, "__len__") and not isinstance(row, (str, bytes)) for row in x):
        return TypeError(f"{takes}, not rows of them: for a batch, use tinygrad_hw.train.predict(model, X)")
    return None


class _Draws(Protocol):
    def uniform(self, a: float, b: float) -> float: ...


def _rng(seed: int | random.Random | _Draws | None) -> _Draws:
    """Where the weights come from: a seed's own generator, the generator given, or with
    no seed the global ``random`` module -- so that ``random.seed(...)`` reproduces a
    model, as in micrograd and as ``torch.manual_seed`` does for PyTorch."""
    if isinstance(seed, random.Random):
        return seed
    if seed is None or seed is random:  # (a layer passes the module on to its neurons)
        return random
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):  # numpy's integers too
        return random.Random(int(seed))
    raise TypeError(f"seed must be an int or a random.Random, not {type(seed).__name__}")


class Neuron(Module):
    """``activation(Σ wᵢ·xᵢ + b)``; weights uniform in [-1, 1), bias 0, as micrograd."""

    def __init__(
        self,
        nin: int,
        activation: str = "sigmoid",
        *,
        seed: int | random.Random | _Draws | None = None,
        bias: bool = True,
    ) -> None:
        if not is_count(nin):
            raise ValueError(f"a neuron needs at least one input, got nin={nin!r}")
        rng = _rng(seed)
        self.activation = _activation(activation)
        # the kernels themselves (kernels.py), called directly: a neuron is two nodes, two calls
        self._act = None if ACTIVATIONS[self.activation] is None else OPS[self.activation].forward
        self.w = [Value(rng.uniform(-1.0, 1.0), label=f"W[{j + 1}]") for j in range(nin)]
        self.b = Value(0.0, label="b") if bias else None
        self.name("")

    def name(self, tag: str) -> None:
        """Label parameters and outputs in the report's notation: W2[3,1], b2[3], z2[3], a2[3]."""
        for j, w in enumerate(self.w):
            w.label = f"W{tag}[{j + 1}]" if not tag.endswith("]") else f"W{tag[:-1]},{j + 1}]"
        if self.b is not None:
            self.b.label = f"b{tag}"
        self._z_label, self._a_label = f"z{tag}", f"a{tag}"

    def __call__(self, x: Input) -> Value:
        w, b, act = self.w, self.b, self._act
        try:  # Values, as many as weights (as a layer passes them): the dot kernel at once
            z = _DOT.forward(w, x, b) if len(x) == len(w) else Value.dot(w, x, b)
        except (AttributeError, TypeError):  # numbers among the inputs, or no len: Value.dot sorts it out
            z = Value.dot(w, x, b)
        z.label = self._z_label
        if act is None:
            return z
        a = act(z)
        a.label = self._a_label
        return a

    def parameters(self) -> list[Value]:
        return self.w if self.b is None else [*self.w, self.b]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, {self.activation!r}{'' if self.b is not None else ', bias=False'})"


class Layer(Module):
    """``nout`` neurons reading the same inputs."""

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "sigmoid",
        *,
        seed: int | random.Random | _Draws | None = None,
        bias: bool = True,
        index: int | None = None,
    ) -> None:
        if not is_count(nout):
            raise ValueError(f"a layer needs at least one neuron, got nout={nout!r}")
        rng = _rng(seed)
        self.neurons = [Neuron(nin, activation, seed=rng, bias=bias) for _ in range(nout)]
        for i, n in enumerate(self.neurons):  # W2[3,1]: layer 2, neuron 3, input 1
            n.name(f"{'' if index is None else index}[{i + 1}]")

    def __call__(self, x: Input) -> Value | list[Value]:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    @property
    def activation(self) -> str:
        return self.neurons[0].activation

    @property
    def nin(self) -> int:
        return len(self.neurons[0].w)

    @property
    def nout(self) -> int:
        return len(self.neurons)

    def __repr__(self) -> str:
        return f"Layer({self.nin} -> {len(self.neurons)}, {self.activation!r})"


def _outputs(layer: Layer, x: list[Value]) -> list[Value]:
    """A layer's outputs as a list. A plain ``Layer`` of plain ``Neuron`` s is computed
    here, each neuron's ``__call__`` inlined (a Python call per neuron is a few per cent
    of the report's epoch); a subclass, which may compute otherwise, is called."""
    if type(layer) is not Layer:
        out = layer(x)
        return out if isinstance(out, list) else [out]
    outs = []
    for n in layer.neurons:
        w = n.w
        if type(n) is not Neuron or len(w) != len(x):
            outs.append(n(x))  # its own __call__: a subclass, or Value.dot's error for the lengths
            continue
        try:
            z = _DOT.forward(w, x, n.b)
        except (AttributeError, TypeError):  # numbers among the weights: Neuron.__call__ sorts it out
            outs.append(n(x))
            continue
        z.label = n._z_label
        act = n._act
        if act is None:
            outs.append(z)
        else:
            a = act(z)
            a.label = n._a_label
            outs.append(a)
    return outs


class MLP(Module):
    """A fully connected network: ``MLP(2, [8, 8, 1])`` is the report's 2-8-8-1.

    ``activation`` is one name for every layer or a list with one per layer
    (``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"none"``). The initial weights come from
    ``seed``: an int (its own generator, the same weights every time) or a
    ``random.Random``; without one, from the global ``random`` module, in micrograd's
    order, so ``random.seed(1337)`` before ``MLP(...)`` reproduces it too.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str | Sequence[str] = "sigmoid",
        *,
        seed: int | random.Random | _Draws | None = None,
        bias: bool = True,
    ) -> None:
        if not is_count(nin):
            raise ValueError(f"an MLP needs at least one input, got nin={nin!r}")
        sizes_out: list[Any] = [nouts] if isinstance(nouts, numbers.Integral) else list(nouts)  # Layer checks each
        nouts = sizes_out
        if not nouts:
            raise ValueError("an MLP needs at least one layer: nouts is empty")
        if isinstance(activation, str) or not isinstance(activation, Iterable) or isinstance(activation, bytes):
            activations = [_activation(activation)] * len(nouts)  # one for all (a non-name is refused here)
        else:
            activations = list(activation)
            if len(activations) != len(nouts):
                raise ValueError(f"{counted(len(activations), 'activation')} given for {counted(len(nouts), 'layer')}")
        rng = _rng(seed)
        sizes = [nin, *nouts]
        self.layers = [
            Layer(sizes[k], sizes[k + 1], activations[k], seed=rng, bias=bias, index=k + 1) for k in range(len(nouts))
        ]

    def __call__(self, x: Input | Iterable[float]) -> Value | list[Value]:
        """The network's output for one sample: a Value, or a list if several outputs."""
        # numbers become leaves once here, not once per neuron; x1, x2, ... as in the report
        try:
            inputs = [v if isinstance(v, Value) else Value(v, f"x{j + 1}") for j, v in enumerate(x)]
        except TypeError as error:
            raise _not_one_sample(x, self.nin) or error from None
        if len(inputs) != self.nin:
            raise ValueError(f"this MLP takes {counted(self.nin, 'input')}, got {len(inputs)}")
        out: list[Value] = inputs
        for layer in self.layers:
            out = _outputs(layer, out)
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    @property
    def nin(self) -> int:
        return self.layers[0].nin

    @property
    def nout(self) -> int:
        return self.layers[-1].nout

    @property
    def sizes(self) -> list[int]:
        return [self.nin, *(len(layer.neurons) for layer in self.layers)]

    @property
    def activations(self) -> list[str]:
        return [layer.activation for layer in self.layers]

    @property
    def bias(self) -> bool:
        return self.layers[0].neurons[0].b is not None

    def __repr__(self) -> str:
        shape = " -> ".join([str(self.nin)] + [f"{len(layer.neurons)} {layer.activation}" for layer in self.layers])
        return f"MLP({shape}; {len(self.parameters())} parameters)"

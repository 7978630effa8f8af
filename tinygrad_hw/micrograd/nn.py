"""micrograd's ``nn``: ``Neuron``, ``Layer`` and ``MLP`` with micrograd's signatures,
defaults and reprs, on tinygrad_hw's engine.

As micrograd's: the weights are drawn from the global ``random`` module
(``random.uniform(-1, 1)``, neuron by neuron, layer by layer), so ``random.seed(1337)``
gives micrograd's network; a bias starts at 0; every layer but the last is ReLU, the
last linear; and a neuron's weighted sum is built the lecture's way, a ``*`` node per
input and a ``+`` node per term, starting from the bias. (``tinygrad_hw.nn`` has the
report's network instead: sigmoid by default, one ``dot`` node per neuron.)
"""

from __future__ import annotations

import random
from typing import Any, Iterable, Sequence, Union

from ..checks import counted, is_count
from ..engine import Value as _EngineValue
from .engine import Value

__all__ = ["MLP", "Layer", "Module", "Neuron"]

Input = Sequence[Union[Value, float]]


class Module:
    """``parameters()`` and ``zero_grad()``, as micrograd's (and PyTorch's)."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """``relu(Σ wᵢ·xᵢ + b)``, or with ``nonlin=False`` the sum itself."""

    def __init__(self, nin: int, nonlin: bool = True) -> None:
        if not is_count(nin):
            raise ValueError(f"a neuron needs at least one input, got nin={nin!r}")
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x: Input) -> Value:
        x = list(x)
        if len(x) != len(self.w):  # micrograd's zip would quietly drop the extra inputs
            raise ValueError(f"this neuron takes {counted(len(self.w), 'input')}, got {len(x)}")
        total = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)  # b + w₁x₁ + w₂x₂ + …, one node per op
        return total.relu() if self.nonlin else total

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    @property
    def activation(self) -> str:
        """Its activation as tinygrad_hw names it (for drawings and tools): relu or none."""
        return "relu" if self.nonlin else "none"

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons on the same inputs; keyword arguments go to each ``Neuron``."""

    def __init__(self, nin: int, nout: int, **kwargs: Any) -> None:
        if not is_count(nout):
            raise ValueError(f"a layer needs at least one neuron, got nout={nout!r}")
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x: Input) -> Value | list[Value]:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    @property
    def activation(self) -> str:
        return self.neurons[0].activation

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(map(repr, self.neurons))}]"


class MLP(Module):
    """``MLP(2, [16, 16, 1])``: ReLU on every layer but the last, which is linear."""

    def __init__(self, nin: int, nouts: Sequence[int]) -> None:
        sizes = [nin, *nouts]
        last = len(nouts) - 1
        self.layers = [Layer(sizes[k], sizes[k + 1], nonlin=k != last) for k in range(len(nouts))]

    def __call__(self, x: Input) -> Value | list[Value]:
        # a numpy row, a tuple or a generator as micrograd's zip takes them; one number or Value as one input
        out: Any = list(x) if isinstance(x, Iterable) and not isinstance(x, _EngineValue) else [x]
        for layer in self.layers:
            out = layer(out if isinstance(out, list) else [out])
        return out

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(map(repr, self.layers))}]"

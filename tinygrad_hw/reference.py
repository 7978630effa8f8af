"""The report's own backpropagation, by hand, in numpy: no ``Value`` anywhere.

This is the method of the lab report, written to be read beside it and used as an
independent oracle for the engine (tests/test_reference.py). Symbols follow the
report: layer ``l`` computes ``z_l = W_l a_{l-1} + b_l`` and ``a_l = σ(z_l)``, with
``a_0 = x`` the input and ``ŷ = a_L`` the output; the loss is ``C = (ŷ - y)²``.

Backward, the report's recurrence (its Figure 5)::

    ∂C/∂z_L = σ'(z_L) · 2(ŷ - y)                         output layer
    ∂C/∂z_l = σ'(z_l) ⊙ (W_{l+1}ᵀ ∂C/∂z_{l+1})           every layer below it
    ∂C/∂W_l = ∂C/∂z_l · a_{l-1}ᵀ      ∂C/∂b_l = ∂C/∂z_l   "the input times ∂C/∂z"

and the update ``w -= lr · x · ∂C/∂z`` for every weight. ``σ'(z) = σ(z)(1 - σ(z))``:
the report prints ``σ(z)/(1 - σ(z))``, a misprint (see docs/derivation.md).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .checks import counted

__all__ = ["ReferenceNetwork", "sigmoid", "sigmoid_prime", "sigmoid_prime_as_printed"]


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(-z))."""
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    """σ'(z) = σ(z)(1 - σ(z)), the correct derivative."""
    s = sigmoid(z)
    return s * (1.0 - s)


def sigmoid_prime_as_printed(z: np.ndarray) -> np.ndarray:
    """σ'(z) as the report prints it, σ(z)/(1 - σ(z)): wrong (the erratum)."""
    s = sigmoid(z)
    return s / (1.0 - s)


class ReferenceNetwork:
    """A fully connected all-sigmoid network trained with the report's equations.

    ``W[l]`` has shape (units in layer l, units in layer l-1); ``b[l]`` is a vector,
    or None for the report's bias-free network. Index 0 of each list is layer 1.
    """

    def __init__(self, W: Sequence[Any], b: Sequence[Any] | None = None) -> None:
        self.W = [np.array(w, dtype=float) for w in W]
        self.b = None if b is None else [np.array(v, dtype=float) for v in b]
        for l in range(1, len(self.W)):
            if self.W[l].shape[1] != self.W[l - 1].shape[0]:
                raise ValueError(
                    f"layer {l + 1} takes {counted(self.W[l].shape[1], 'input')} but layer {l} has "
                    f"{counted(self.W[l - 1].shape[0], 'unit')}"
                )

    @classmethod
    def from_mlp(cls, model: Any) -> ReferenceNetwork:
        """The same weights as a ``tinygrad_hw.nn.MLP`` of sigmoid layers."""
        if any(layer.activation != "sigmoid" for layer in model.layers):
            raise ValueError("the report's method is for sigmoid layers only")
        W = [[[w.data for w in n.w] for n in layer.neurons] for layer in model.layers]
        b = [[n.b.data for n in layer.neurons] for layer in model.layers] if model.bias else None
        return cls(W, b)

    def forward(self, x: Any) -> np.ndarray:
        """ŷ for one sample, keeping every layer's z and a for the backward pass."""
        self.a = [np.asarray(x, dtype=float)]  # a_0 = x
        self.z: list[np.ndarray] = []
        for l, W in enumerate(self.W):
            z = W @ self.a[-1]  # z_l = W_l a_{l-1}          (the report: z_i = X W_i)
            if self.b is not None:
                z = z + self.b[l]  #   + b_l
            self.z.append(z)
            self.a.append(sigmoid(z))  # a_l = σ(z_l)
        return self.a[-1]

    def backward(self, y: Any) -> None:
        """∂C/∂z, ∂C/∂W and ∂C/∂b of every layer for the last forward pass."""
        y_hat = self.a[-1]
        L = len(self.W)
        self.dC_dz: list[np.ndarray] = [np.empty(0)] * L
        self.dC_dz[L - 1] = sigmoid_prime(self.z[L - 1]) * 2.0 * (y_hat - np.asarray(y, dtype=float))  # output
        for l in range(L - 2, -1, -1):
            self.dC_dz[l] = sigmoid_prime(self.z[l]) * (self.W[l + 1].T @ self.dC_dz[l + 1])  # the recurrence
        self.dC_dW = [np.outer(self.dC_dz[l], self.a[l]) for l in range(L)]  # input · ∂C/∂z
        self.dC_db = [d.copy() for d in self.dC_dz]  # ∂C/∂b_l = ∂C/∂z_l

    def update(self, lr: float) -> None:
        """w -= lr · x · ∂C/∂z for every weight (and b -= lr · ∂C/∂z)."""
        for l in range(len(self.W)):
            self.W[l] -= lr * self.dC_dW[l]
            if self.b is not None:
                self.b[l] -= lr * self.dC_db[l]

    def loss(self, y: Any) -> float:
        """C = (ŷ - y)² for the last forward pass (summed over outputs)."""
        return float(np.sum((self.a[-1] - np.asarray(y, dtype=float)) ** 2))

    def train_epoch(self, X: Any, y: Any, lr: float) -> float:
        """One epoch of per-sample SGD, in order; the mean loss over the samples."""
        X = np.asarray(X, dtype=float)
        Y = np.asarray(y, dtype=float).reshape(len(X), -1)
        total = 0.0
        for x, t in zip(X, Y):
            self.forward(x)
            total += self.loss(t)
            self.backward(t)
            self.update(lr)
        return total / len(X)

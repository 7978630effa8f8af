"""The report's network trained by hand: baselines for the replay benchmark.

``float_epoch`` is per-sample SGD written directly in Python floats (the report's
equations, no graph at all): about the fastest CPython does this work.
``numpy_epoch`` is full-batch gradient descent with numpy matrices: the usual way
to write it when speed matters.

Both use the network layout of ``bench_engine.initial_weights``: ``weights[l][i]``
is neuron i of layer l, its input weights followed by its bias.
"""

from __future__ import annotations

from math import exp
from typing import Sequence

import numpy as np

Weights = list[list[list[float]]]


def float_epoch(weights: Weights, xs: Sequence[Sequence[float]], ys: Sequence[float], lr: float) -> float:
    """One epoch of per-sample SGD on an all-sigmoid network, loss (ŷ - y)², in place.

    Returns the mean loss. ∂C/∂z of the output is σ'(z)·2(ŷ - y); each layer below
    gets σ'(z)·Σ w·∂C/∂z from the layer above; each weight moves by lr·input·∂C/∂z.
    """
    total = 0.0
    for x, y in zip(xs, ys):
        activations = [list(x)]
        for layer in weights:
            a = activations[-1]
            out = []
            for row in layer:
                z = row[-1]
                for w, v in zip(row, a):
                    z += w * v
                out.append(1.0 / (1.0 + exp(-z)))
            activations.append(out)
        y_hat = activations[-1][0]
        total += (y_hat - y) * (y_hat - y)
        delta = [2.0 * (y_hat - y) * y_hat * (1.0 - y_hat)]
        for k in range(len(weights) - 1, -1, -1):
            layer, a = weights[k], activations[k]
            if k:  # ∂C/∂z one layer down, from the weights before they move
                below = [0.0] * len(a)
                for row, d in zip(layer, delta):
                    for j, w in enumerate(row[:-1]):
                        below[j] += w * d
                below = [s * v * (1.0 - v) for s, v in zip(below, a)]
            for row, d in zip(layer, delta):
                step = lr * d
                for j, v in enumerate(a):
                    row[j] -= step * v
                row[-1] -= step
            if k:
                delta = below
    return total / len(xs)


def numpy_epoch(W: list[np.ndarray], b: list[np.ndarray], X: np.ndarray, Y: np.ndarray, lr: float) -> float:
    """One full-batch gradient-descent step: W[l] is (units, inputs), X is (n, inputs)."""
    n = len(X)
    activations = [X]
    for Wl, bl in zip(W, b):
        activations.append(1.0 / (1.0 + np.exp(-(activations[-1] @ Wl.T + bl))))
    y_hat = activations[-1]
    loss = float(np.mean((y_hat - Y) ** 2))
    delta = 2.0 * (y_hat - Y) / n * y_hat * (1.0 - y_hat)
    for k in range(len(W) - 1, -1, -1):
        a = activations[k]
        grad_W, grad_b = delta.T @ a, delta.sum(axis=0)
        if k:
            delta = (delta @ W[k]) * a * (1.0 - a)
        W[k] -= lr * grad_W
        b[k] -= lr * grad_b
    return loss


def numpy_sample_epoch(
    W: list[np.ndarray], b: list[np.ndarray], xs: Sequence[np.ndarray], ys: Sequence[np.ndarray], lr: float
) -> float:
    """One epoch of per-sample SGD with numpy vectors: the report's equations, one sample at a
    time, each layer a matrix-vector product. Returns the mean loss."""
    total = 0.0
    for x, y in zip(xs, ys):
        activations = [x]
        for Wl, bl in zip(W, b):
            activations.append(1.0 / (1.0 + np.exp(-(Wl @ activations[-1] + bl))))
        y_hat = activations[-1]
        error = y_hat - y
        total += float(error @ error)
        delta = 2.0 * error * y_hat * (1.0 - y_hat)
        for k in range(len(W) - 1, -1, -1):
            a = activations[k]
            below = (W[k].T @ delta) * a * (1.0 - a) if k else None  # from the weights before they move
            W[k] -= lr * np.outer(delta, a)
            b[k] -= lr * delta
            delta = below
    return total / len(xs)

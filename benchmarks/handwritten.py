"""The report's network trained by hand: baselines for the replay benchmark.

``float_epoch`` is per-sample SGD written directly in Python floats (the report's
equations, no graph at all) as loops over the layers and neurons.
``unrolled_epoch`` is the same epoch with the loops unrolled: one statement per
neuron, per gradient and per weight, the statements the straight-line replay writes,
the weights in local variables from the first sample to the last -- the limit for
per-sample training in CPython (its code is written here, not by tinygrad_hw).
``numpy_epoch`` is full-batch gradient descent with numpy matrices: the usual way
to write it when speed matters.

Both use the network layout of ``bench_engine.initial_weights``: ``weights[l][i]``
is neuron i of layer l, its input weights followed by its bias.
"""

from __future__ import annotations

from math import exp
from typing import Any, Callable, Sequence

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


def unrolled_source(sizes: Sequence[int]) -> str:
    """``epoch(W, XS, lr)`` for an all-sigmoid network of these layer sizes, loss (ŷ - y)²:
    ``W`` the flat weights (each neuron's inputs' weights then its bias, layer by layer),
    ``XS`` each sample's inputs then target; returns (the new W, the loss summed)."""
    names: list[list[list[str]]] = []  # names[l][j]: neuron j of layer l's weights, bias last
    for k in range(len(sizes) - 1):
        names.append([[f"w{k}_{j}_{i}" for i in range(sizes[k] + 1)] for j in range(sizes[k + 1])])
    flat = [w for layer in names for row in layer for w in row]
    a = [[f"x{i}" for i in range(sizes[0])]]
    body = []
    for k, layer in enumerate(names):  # forward: z = b + Σ w·a, a = σ(z)
        a.append([f"a{k + 1}_{j}" for j in range(len(layer))])
        for j, row in enumerate(layer):
            terms = " + ".join(f"({w} * {v})" for w, v in zip(row, a[k]))
            body += [f"z{k + 1}_{j} = {row[-1]} + {terms}", f"a{k + 1}_{j} = 1.0 / (1.0 + exp(-z{k + 1}_{j}))"]
    body += [f"e = {a[-1][0]} - y", "loss = e * e", f"g{a[-1][0]} = 2.0 * e"]
    for k in range(len(names) - 1, -1, -1):  # backward: ∂z = σ'·∂a, then each weight's and input's gradient
        for j in range(len(names[k]) - 1, -1, -1):  # the newest neuron first, as the engine goes
            row, out = names[k][j], a[k + 1][j]
            body.append(f"gz = ({out} * (1.0 - {out})) * g{out}")
            body.append(f"g{row[-1]} = gz")
            for w, v in zip(row, a[k]):
                body.append(f"g{w} = {v} * gz")
                if k:  # the inputs below: the first contribution sets, later ones add
                    op = "=" if j == len(names[k]) - 1 else "+="
                    body.append(f"g{v} {op} {w} * gz")
    body += [f"{w} = {w} - lr * g{w}" for w in flat]
    body.append("total = total + loss")
    inputs = ", ".join(a[0] + ["y"])
    lines = ["def epoch(W, XS, lr):", f"    {', '.join(flat)}, = W", "    total = 0.0", f"    for {inputs} in XS:"]
    lines += ["        " + line for line in body]
    lines.append(f"    return ({', '.join(flat)},), total")
    return "\n".join(lines) + "\n"


_unrolled: dict[tuple[int, ...], Callable[..., tuple[tuple[float, ...], float]]] = {}


def unrolled_function(sizes: Sequence[int]) -> Callable[..., tuple[tuple[float, ...], float]]:
    """The compiled ``unrolled_source`` for these sizes (compiled once: the benchmark times the epoch)."""
    key = tuple(sizes)
    if key not in _unrolled:
        scope: dict[str, Any] = {"exp": exp}
        exec(compile(unrolled_source(key), f"<unrolled {key}>", "exec"), scope)
        _unrolled[key] = scope["epoch"]
    return _unrolled[key]


def unrolled_epoch(weights: Weights, xs: Sequence[Sequence[float]], ys: Sequence[float], lr: float) -> float:
    """One epoch of ``float_epoch``'s training by the unrolled code, in place; returns the mean loss.
    Flattening the weights in and out is the caller's business, not timed by ``run``."""
    run = unrolled_function([len(weights[0][0]) - 1] + [len(layer) for layer in weights])
    flat, total = run([w for layer in weights for row in layer for w in row], [(*x, y) for x, y in zip(xs, ys)], lr)
    values = iter(flat)
    for layer in weights:
        for row in layer:
            row[:] = [next(values) for _ in row]
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

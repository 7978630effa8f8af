"""Every neuron's output over the input plane, at given weights, for the training page.

The grid is computed with numpy in the engine's own order: a neuron's ``z`` starts at
its bias and adds ``w·x`` term by term, as ``Value.dot`` does, and the activations are
the op table's rules (``1/(1 + exp(−z))`` with ``math.exp``, ``math.tanh``, ``0 if z <
0 else z``) -- so every cell is bit for bit the eager engine's ``model(x)`` at those
weights (``tests/test_watch.py`` holds them equal). The cells are then quantised to
bytes for a fixed palette: 1 (blue, low) to 255 (orange, high), 128 white in the
middle, 0 for a number that is not finite.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

from tinygrad_hw.checks import counted
from tinygrad_hw.nn import MLP

__all__ = ["NOT_FINITE", "PALETTE", "grid", "neuron_outputs", "palette_table", "quantise", "value_range"]

NOT_FINITE = 0  # the byte of a cell that is nan, shown dark grey
LOW, MIDDLE, HIGH = (49, 104, 176), (247, 247, 247), (230, 120, 22)  # blue, white, orange (low to high)
PALETTE = {"low": LOW, "middle": MIDDLE, "high": HIGH, "not finite": (64, 64, 64)}


EXP_SAFE = 709.0  # math.exp raises past about 709.78; every argument below this is computed in one sweep


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:  # the engine's IEEE answer where math raises
        return math.inf


def _elementwise(function: Callable[[float], float], x: np.ndarray) -> np.ndarray:
    """``function`` (a ``math`` function, as the engine calls it) on every element."""
    flat = x.ravel().tolist()
    return np.fromiter(map(function, flat), float, len(flat)).reshape(x.shape)


def _exp_all(x: np.ndarray) -> np.ndarray:
    large = x > EXP_SAFE
    out = _elementwise(math.exp, np.where(large, 0.0, x))
    if large.any():
        out[large] = [_exp(v) for v in x[large].tolist()]
    return out


def _activate(z: np.ndarray, activation: str) -> np.ndarray:
    """The op table's rule, element by element with the same operations."""
    if activation == "sigmoid":
        return 1.0 / (1.0 + _exp_all(-z))
    if activation == "tanh":
        return _elementwise(math.tanh, z)
    if activation == "relu":
        return np.where(z < 0.0, 0.0, z)
    return z


def layer_weights(model: MLP, weights: Sequence[float]) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """``weights`` (in ``model.parameters()`` order) as each layer's (W, b): W[i, j] is
    neuron i's weight on input j."""
    flat = np.asarray(weights, dtype=float)
    if flat.shape != (len(model.parameters()),):
        raise ValueError(f"{counted(flat.size, 'weight')} for a model of {len(model.parameters())} parameters")
    bias = model.bias
    layers = []
    start = 0
    for layer in model.layers:
        width = layer.nin + bias
        block = flat[start : start + layer.nout * width].reshape(layer.nout, width)
        start += layer.nout * width
        layers.append((block[:, : layer.nin], block[:, layer.nin] if bias else None))
    return layers


def neuron_outputs(model: MLP, weights: Sequence[float], points: np.ndarray) -> list[np.ndarray]:
    """Each layer's outputs at each point: a list of (n_points, n_neurons) arrays."""
    a = np.asarray(points, dtype=float)
    outputs = []
    with np.errstate(all="ignore"):  # overflow gives inf and nan, as in the engine
        for (W, b), activation in zip(layer_weights(model, weights), model.activations):
            z = np.broadcast_to(b, (len(a), len(W))).copy() if b is not None else a[:, :1] * W[:, 0]
            for j in range(0 if b is not None else 1, W.shape[1]):
                z = z + W[:, j] * a[:, j : j + 1]  # term by term from the bias, as Value.dot adds them
            a = _activate(z, activation)
            outputs.append(a)
    return outputs


def grid(bounds: tuple[float, float, float, float], size: int) -> np.ndarray:
    """The centres of ``size`` × ``size`` cells over (x1 from, x1 to, x2 from, x2 to),
    row by row from the top (largest x2) as an image is stored: shape (size², 2)."""
    x_lo, x_hi, y_lo, y_hi = bounds
    xs = x_lo + (np.arange(size) + 0.5) * (x_hi - x_lo) / size
    ys = y_hi - (np.arange(size) + 0.5) * (y_hi - y_lo) / size
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def value_range(activation: str, values: np.ndarray) -> tuple[float, float]:
    """What the palette spans for a layer: its activation's range; for ReLU 0 (off,
    blue) to the layer's largest finite output at this frame; without an activation
    ± the largest finite size."""
    if activation == "sigmoid":
        return 0.0, 1.0
    if activation == "tanh":
        return -1.0, 1.0
    finite = np.abs(values[np.isfinite(values)])
    top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    return (0.0, top) if activation == "relu" else (-top, top)


def quantise(values: np.ndarray, low: float, high: float, levels: int = 255) -> np.ndarray:
    """Bytes for the palette: ``low`` → 1, ``high`` → 255 (clipped) in ``levels`` even
    steps (fewer levels, smaller PNGs), nan → 0 (+inf is high, −inf low)."""
    with np.errstate(all="ignore"):
        scaled = np.nan_to_num(np.clip((values - low) / (high - low), 0.0, 1.0), nan=0.0)
        codes = 1 + np.rint(np.rint(scaled * (levels - 1)) * (254 / (levels - 1)))
    return np.where(np.isnan(values), NOT_FINITE, codes).astype(np.uint8)


def palette_table() -> list[tuple[float, float, float]]:
    """The colour of each byte 0..255 as RGB in [0, 1]: the page's SVG filter maps the
    grey heatmaps through it."""
    table = [tuple(c / 255 for c in PALETTE["not finite"])]
    for code in range(1, 256):
        t = (code - 1) / 254
        a, b, s = (LOW, MIDDLE, 2 * t) if t <= 0.5 else (MIDDLE, HIGH, 2 * t - 1)
        table.append(tuple(round((x + (y - x) * s) / 255, 4) for x, y in zip(a, b)))
    return table  # type: ignore[return-value]

"""Where the right answers come from: the engine (trusted), checked against central
differences and, when it is installed, PyTorch.

The engine's answer is the expected one: its rules are the op table's
(``tinygrad_hw.ops``), its backward pass the one the whole project is tested on. Each
answer is checked against central differences before a student is judged by it, and
against PyTorch before a student is marked down by it (``confirm_*``, on each case that
fails: importing PyTorch costs a second, and a right submission never needs it); if they
disagree, the grader has a bug and says so (:class:`OracleError`) rather than mark
anyone down.
"""

from __future__ import annotations

import importlib.util
import math
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np

from tinygrad_hw.engine import Value, grad

__all__ = [
    "LOCAL_FORWARD",
    "OracleError",
    "agree",
    "confirm_local",
    "confirm_network",
    "local_answer",
    "network_answer",
    "network_forward",
    "oracle_names",
    "torch_available",
]


class OracleError(AssertionError):
    """The oracles disagree: a bug in the grader, never the student's fault."""


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


# each local exercise's operation as plain math (for central differences), and as the
# engine builds it
LOCAL_FORWARD: dict[str, Callable[..., float]] = {
    "d_sigmoid": _sigmoid,
    "d_tanh": math.tanh,
    "d_exp": math.exp,
    "d_log": math.log,
    "d_relu": lambda x: max(0.0, x),
    "d_mul": lambda a, b: a * b,
    "d_div": lambda a, b: a / b,
    "d_sub": lambda a, b: a - b,
    "d_pow": lambda a, c: a**c,
}
_ENGINE: dict[str, Callable[..., Value]] = {
    "d_sigmoid": lambda x: x.sigmoid(),
    "d_tanh": lambda x: x.tanh(),
    "d_exp": lambda x: x.exp(),
    "d_log": lambda x: x.log(),
    "d_relu": lambda x: x.relu(),
    "d_mul": lambda a, b: a * b,
    "d_div": lambda a, b: a / b,
    "d_sub": lambda a, b: a - b,
}
_PAIRS = ("d_mul", "d_div", "d_sub")


@lru_cache(maxsize=1)
def _torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch


@lru_cache(maxsize=1)
def torch_available() -> bool:
    """Whether PyTorch is installed (without importing it)."""
    return importlib.util.find_spec("torch") is not None


def oracle_names() -> list[str]:
    """The oracles in use here."""
    return ["engine", "central differences"] + (["PyTorch (each failing case)"] if torch_available() else [])


def agree(name: str, expected: Any, other: Any, rtol: float, atol: float, case: Any) -> None:
    """Raise OracleError unless ``other`` equals ``expected`` within the tolerances."""
    a, b = np.asarray(expected, dtype=float), np.asarray(other, dtype=float)
    if a.shape != b.shape or not np.allclose(a, b, rtol=rtol, atol=atol):
        raise OracleError(f"the engine and {name} disagree on {case}: {a.tolist()} against {b.tolist()}")


# -- local ------------------------------------------------------------------------------------


def local_answer(function: str, args: Sequence[float]) -> tuple[float, ...]:
    """The right answer of a ``local`` function at ``args``: one derivative, or two for
    the binary ops (``d_pow`` differentiates by ``a`` only)."""
    expected = _local_engine(function, args)
    if not (function == "d_relu" and abs(args[0]) < 1e-3):  # differences straddle the kink
        agree("central differences", expected, _local_differences(function, args), 1e-5, 1e-7, (function, args))
    return expected


def confirm_local(function: str, args: Sequence[float]) -> None:
    """Raise OracleError unless PyTorch agrees with the engine at ``args`` (nothing to do
    without PyTorch)."""
    torch = _torch() if torch_available() else None
    if torch is not None:
        expected = _local_engine(function, args)
        agree("PyTorch", expected, _local_torch(torch, function, args), 1e-10, 1e-12, (function, args))


def _local_engine(function: str, args: Sequence[float]) -> tuple[float, ...]:
    if function == "d_pow":
        a = Value(args[0])
        return (grad(a ** args[1], [a])[0],)
    leaves = [Value(x) for x in args]
    return tuple(grad(_ENGINE[function](*leaves), leaves))


def _local_differences(function: str, args: Sequence[float]) -> tuple[float, ...]:
    f = LOCAL_FORWARD[function]
    wrt = 1 if function == "d_pow" else len(args)
    out = []
    for k in range(wrt):
        h = 1e-6 * max(1.0, abs(args[k]))
        up, down = list(args), list(args)
        up[k] += h
        down[k] -= h
        out.append((f(*up) - f(*down)) / (2 * h))
    return tuple(out)


def _local_torch(torch: Any, function: str, args: Sequence[float]) -> tuple[float, ...]:
    xs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in args]
    ops: dict[str, Callable[..., Any]] = {
        "d_sigmoid": lambda x: torch.sigmoid(x),
        "d_tanh": lambda x: torch.tanh(x),
        "d_exp": lambda x: torch.exp(x),
        "d_log": lambda x: torch.log(x),
        "d_relu": lambda x: torch.relu(x),
        "d_pow": lambda a, c: a ** c.detach(),
    }
    out = ops[function](*xs) if function in ops else LOCAL_FORWARD[function](*xs)
    wrt = xs[:1] if function == "d_pow" else xs
    return tuple(float(g) for g in torch.autograd.grad(out, wrt))


# -- network ----------------------------------------------------------------------------------


def network_forward(weights: Sequence[np.ndarray], x: np.ndarray) -> list[np.ndarray]:
    """[a_0, ..., a_L] in numpy (also the checker's own forward pass for the activations
    it gives ``backward``)."""
    a = [np.asarray(x, dtype=float)]
    for W in weights:
        a.append(1.0 / (1.0 + np.exp(-(W[:, :-1] @ a[-1] + W[:, -1]))))
    return a


def network_answer(weights: Sequence[np.ndarray], x: np.ndarray, y: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The right activations and ∂C/∂W of every layer, C = (a_L − y)², from the engine;
    checked against numpy's forward pass and central differences."""
    activations, grads = _network_engine(weights, x, y)
    case = {"sizes": [len(x), *(W.shape[0] for W in weights)]}
    for a, b in zip(activations, network_forward(weights, x)):
        agree("numpy's forward pass", a, b, 1e-12, 1e-14, case)
    for g, d in zip(grads, _network_differences(weights, x, y)):
        agree("central differences", g, d, 1e-4, 1e-8, case)
    return activations, grads


def confirm_network(
    weights: Sequence[np.ndarray], x: np.ndarray, y: float, answer: tuple[list[np.ndarray], list[np.ndarray]]
) -> None:
    """Raise OracleError unless PyTorch agrees with ``answer`` (the engine's activations
    and gradients; nothing to do without PyTorch)."""
    torch = _torch() if torch_available() else None
    if torch is not None:
        case = {"sizes": [len(x), *(W.shape[0] for W in weights)]}
        activations, grads = _network_torch(torch, weights, x, y)
        for a, t in zip(answer[0], activations):
            agree("PyTorch", a, t, 1e-12, 1e-14, case)
        for g, t in zip(answer[1], grads):
            agree("PyTorch", g, t, 1e-9, 1e-13, case)


def _network_engine(
    weights: Sequence[np.ndarray], x: np.ndarray, y: float
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    leaves = [[[Value(float(w)) for w in row] for row in W] for W in weights]
    a: list[Any] = [float(v) for v in x]
    activations = [np.asarray(x, dtype=float)]
    for W in leaves:
        a = [Value.dot(row[:-1], a, row[-1]).sigmoid() for row in W]
        activations.append(np.array([v.data for v in a]))
    loss = (a[0] - y) ** 2
    flat = [w for W in leaves for row in W for w in row]
    g = iter(grad(loss, flat))
    grads = [np.array([[next(g) for _ in row] for row in W]) for W in leaves]
    return activations, grads


def _loss(weights: Sequence[np.ndarray], x: np.ndarray, y: float) -> float:
    return float((network_forward(weights, x)[-1][0] - y) ** 2)


def _network_differences(weights: Sequence[np.ndarray], x: np.ndarray, y: float) -> list[np.ndarray]:
    out = []
    ws = [W.copy() for W in weights]
    for W in ws:
        G = np.zeros_like(W)
        for index in np.ndindex(W.shape):
            keep, h = W[index], 1e-6
            W[index] = keep + h
            up = _loss(ws, x, y)
            W[index] = keep - h
            down = _loss(ws, x, y)
            W[index] = keep
            G[index] = (up - down) / (2 * h)
        out.append(G)
    return out


def _network_torch(
    torch: Any, weights: Sequence[np.ndarray], x: np.ndarray, y: float
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    ws = [torch.tensor(W, dtype=torch.float64, requires_grad=True) for W in weights]
    a = [torch.tensor(x, dtype=torch.float64)]
    for W in ws:
        a.append(torch.sigmoid(W[:, :-1] @ a[-1] + W[:, -1]))
    loss = (a[-1][0] - y) ** 2
    return [v.detach().numpy() for v in a], [g.numpy() for g in torch.autograd.grad(loss, ws)]

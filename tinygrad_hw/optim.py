"""Optimisers with PyTorch's names and update rules: SGD (with momentum) and Adam.

SGD without momentum is the report's rule, ``w -= lr · ∂C/∂w``.
"""

from __future__ import annotations

import math
from typing import Iterable

from .engine import Value

__all__ = ["SGD", "Adam", "Optimizer"]


def _check(name: str, value: float, low: float, high: float, *, low_open: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (low < value if low_open else low <= value) and value < high
    if not ok:
        bound = f"{'(' if low_open else '['}{low:g}, {high:g})"
        raise ValueError(f"{name} must be a number in {bound}, got {value!r}")
    return float(value)


class Optimizer:
    """Holds the parameters; ``step()`` updates them from their ``.grad``."""

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("the optimizer got no parameters")
        bad = next((p for p in self.params if not isinstance(p, Value)), None)
        if bad is not None:
            raise TypeError(f"parameters must be Values, not {type(bad).__name__}")
        self.lr = _check("lr", lr, 0.0, math.inf, low_open=True)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """``v = momentum·v + g; w -= lr·v`` (PyTorch's form; momentum 0 is plain SGD)."""

    def __init__(self, params: Iterable[Value], lr: float = 0.1, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = _check("momentum", momentum, 0.0, 1.0)
        self.velocity = [0.0] * len(self.params)

    def step(self) -> None:
        lr, mu = self.lr, self.momentum
        if mu == 0.0:
            for p in self.params:
                p.data -= lr * p.grad
            return
        velocity = self.velocity
        for i, p in enumerate(self.params):
            velocity[i] = v = mu * velocity[i] + p.grad
            p.data -= lr * v

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr:g}, momentum={self.momentum:g})"


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias-corrected moment estimates."""

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair of numbers, got {betas!r}")
        self.betas = (_check("betas[0]", betas[0], 0.0, 1.0), _check("betas[1]", betas[1], 0.0, 1.0))
        self.eps = _check("eps", eps, 0.0, math.inf, low_open=True)
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)
        self.t = 0

    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        correction1, correction2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        lr, eps, m, v = self.lr, self.eps, self.m, self.v
        for i, p in enumerate(self.params):
            g = p.grad
            m[i] = b1 * m[i] + (1.0 - b1) * g
            v[i] = b2 * v[i] + (1.0 - b2) * g * g
            p.data -= lr * (m[i] / correction1) / (math.sqrt(v[i] / correction2) + eps)

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr:g}, betas={self.betas}, eps={self.eps:g})"

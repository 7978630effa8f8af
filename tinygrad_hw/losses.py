"""Loss functions on Values: the report's squared error, and binary cross-entropy.

Each takes predictions (one Value, or a list for a batch) and targets (numbers),
and returns one Value: the mean over the batch.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence, Union

import numpy as np

from .checks import counted
from .engine import Value

__all__ = ["LOSSES", "binary_cross_entropy", "check_targets", "mse"]

Prediction = Union[Value, Sequence[Value]]
Target = Union[float, Value, Sequence[Union[float, Value]]]


def _target(t: Any) -> float | Value:
    """A target as a float, or as a Value (a replay traces targets as inputs)."""
    if isinstance(t, Value):
        return t
    if isinstance(t, (str, bytes)):  # float("1") would read it: a label left as text, from a CSV
        raise TypeError(f"targets must be numbers, not {type(t).__name__} {t!r}")
    try:
        return float(t)
    except (TypeError, ValueError):
        raise TypeError(f"targets must be numbers, not {type(t).__name__}") from None


def _pairs(pred: Prediction, target: Target) -> list[tuple[Value, float | Value]]:
    preds = [pred] if isinstance(pred, Value) else list(pred)
    single = (
        isinstance(target, (Value, str, bytes))
        or not hasattr(target, "__len__")
        or getattr(target, "ndim", None) == 0  # a numpy 0-d array: one number, though it has a __len__
    )
    targets = [_target(target)] if single else [_target(t) for t in target]  # type: ignore[union-attr]  # has a len: a sequence
    if len(preds) != len(targets):
        raise ValueError(f"{counted(len(preds), 'prediction')} but {counted(len(targets), 'target')}")
    if not preds:
        raise ValueError("a loss needs at least one prediction")
    for p in preds:
        if not isinstance(p, Value):
            raise TypeError(f"predictions must be Values, not {type(p).__name__}")
    return list(zip(preds, targets))


def _mean(terms: list[Value]) -> Value:
    """The mean of the per-sample losses, labelled C as in the report."""
    loss = terms[0] if len(terms) == 1 else Value.sum(terms) / len(terms)
    loss.label = "C"
    return loss


def mse(pred: Prediction, target: Target) -> Value:
    """The report's ``C = (ŷ - y)²``, averaged over a batch."""
    if isinstance(pred, Value) and type(target) is float:  # one sample, as the report trains: no lists
        error = pred - target
        error.label = "ŷ−y"
        loss = error.square()
        loss.label = "C"
        return loss
    terms = []
    for p, y in _pairs(pred, target):
        error = p - y
        error.label = "ŷ−y"
        terms.append(error.square())
    return _mean(terms)


def _probability(y: float | Value) -> None:
    t = y.data if isinstance(y, Value) else y
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"binary cross-entropy needs targets in [0, 1] (probabilities or 0/1 labels), got {t!r}")


def binary_cross_entropy(pred: Prediction, target: Target, eps: float = 1e-7) -> Value:
    """``-(y·log(ŷ + ε) + (1 - y)·log(1 - ŷ + ε))``, averaged over a batch.

    ``pred`` are probabilities (a sigmoid output) and targets lie in [0, 1]; a
    target outside is a ValueError, not a meaningless (even negative) loss. ``ε``
    keeps a saturated sigmoid (exactly 0.0 or 1.0 in floating point) from giving
    an infinite loss; terms whose weight is zero are left out, so ``0 · log(0)``
    never makes a NaN.
    """
    pairs = _pairs(pred, target)
    for _, y in pairs:
        _probability(y)
    terms = []
    for p, y in pairs:
        parts = []
        if isinstance(y, Value) or y != 0.0:
            parts.append((p + eps).log() * y)
        if isinstance(y, Value) or y != 1.0:
            parts.append((1.0 + eps - p).log() * (1.0 - y))
        terms.append(-(parts[0] if len(parts) == 1 else parts[0] + parts[1]))
    return _mean(terms)


def check_targets(loss: Callable[..., Value], targets: Any) -> None:
    """Refuse, before any training, targets the loss is not defined for."""
    if loss is binary_cross_entropy:
        t = np.asarray(targets, dtype=float)
        outside = np.argwhere(~((t >= 0.0) & (t <= 1.0)))
        if len(outside):
            bad = float(t[tuple(outside[0])])
            raise ValueError(f"y holds {bad!r} at row {outside[0][0]}: binary cross-entropy needs targets in [0, 1]")


LOSSES: dict[str, Callable[[Prediction, Target], Value]] = {
    "mse": mse,
    "bce": binary_cross_entropy,
    "binary_cross_entropy": binary_cross_entropy,
}

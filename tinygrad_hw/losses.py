"""Loss functions on Values: the report's squared error, and binary cross-entropy.

Each takes predictions (one Value, or a list for a batch) and targets (numbers),
and returns one Value: the mean over the batch.
"""

from __future__ import annotations

from typing import Callable, Sequence, Union

from .engine import Value

__all__ = ["LOSSES", "binary_cross_entropy", "mse"]

Prediction = Union[Value, Sequence[Value]]
Target = Union[float, Sequence[float]]


def _pairs(pred: Prediction, target: Target) -> list[tuple[Value, float]]:
    preds = [pred] if isinstance(pred, Value) else list(pred)
    try:
        targets = [float(target)] if not hasattr(target, "__len__") else [float(t) for t in target]  # type: ignore[union-attr, arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"targets must be numbers, not {type(target).__name__}") from None
    if len(preds) != len(targets):
        raise ValueError(f"{len(preds)} predictions but {len(targets)} targets")
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
    terms = []
    for p, y in _pairs(pred, target):
        error = p - y
        error.label = "ŷ-y"
        terms.append(error.square())
    return _mean(terms)


def binary_cross_entropy(pred: Prediction, target: Target, eps: float = 1e-7) -> Value:
    """``-(y·log(ŷ + ε) + (1 - y)·log(1 - ŷ + ε))``, averaged over a batch.

    ``pred`` are probabilities (a sigmoid output). ``ε`` keeps a saturated sigmoid
    (exactly 0.0 or 1.0 in floating point) from giving an infinite loss; terms whose
    weight is zero are left out, so ``0 · log(0)`` never makes a NaN.
    """
    terms = []
    for p, y in _pairs(pred, target):
        parts = []
        if y != 0.0:
            parts.append((p + eps).log() * y)
        if y != 1.0:
            parts.append((1.0 + eps - p).log() * (1.0 - y))
        terms.append(-(parts[0] if len(parts) == 1 else parts[0] + parts[1]))
    return _mean(terms)


LOSSES: dict[str, Callable[[Prediction, Target], Value]] = {
    "mse": mse,
    "bce": binary_cross_entropy,
    "binary_cross_entropy": binary_cross_entropy,
}

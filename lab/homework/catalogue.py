"""The documented mistakes, each as a wrong variant the grader recomputes.

A mistake is named only when the student's numbers equal one of its variants on every
case tried (and the variant differs from the right answer on at least one): never by
guessing from a single number. A variant that cannot be computed for a case (numpy's
shape error, where a square matrix was assumed) must meet a student's code that failed
on that case too.

For ``network`` the variants are one function, :func:`backward_variant`, the report's
recurrence with one thing changed::

    δ_L = σ'(z_L) · 2(a_L − y)                  output layer
    δ_l = σ'(z_l) ⊙ (W_{l+1}[:, :-1]ᵀ δ_{l+1})   each layer below
    ∂C/∂W_l = [δ_l a_{l−1}ᵀ | δ_l]               weights | bias column

with σ'(z) = a(1 − a) taken from the activations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["MISTAKES", "Mistake", "backward_variant", "mistake"]


@dataclass(frozen=True)
class Mistake:
    id: str
    title: str  # what was done, in a few words
    fix: str  # what is right
    variants: dict[str, tuple[Callable[..., Any], ...]] = field(default_factory=dict)  # by function name


def _s(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# -- network ----------------------------------------------------------------------------------


def backward_variant(
    weights: Sequence[np.ndarray],
    activations: Sequence[np.ndarray],
    y: float,
    *,
    sigma_prime: str = "a(1-a)",
    at: str = "all",
    two: float = 2.0,
    upstream: bool = True,
    transposed: bool = True,
    bias: str = "delta",
    layer_input: int = -1,
) -> list[np.ndarray]:
    """The report's backward pass with one thing changed (the defaults are right).

    * ``sigma_prime``: "a(1-a)", "a/(1-a)" (the report's misprint) or "σ(a)(1-σ(a))" (σ'
      of a where z was meant); ``at``: in "all" layers, the "output" layer only or the
      "hidden" ones only (σ' is often written out twice);
    * ``two``: the factor of (a_L − y);
    * ``upstream``: whether a hidden layer's σ' is multiplied by Wᵀδ from above;
    * ``transposed``: Wᵀδ, or Wδ below the last hidden layer (the output layer's single
      row is commonly written as a vector, ``W_L[0, :-1] * δ_L``, with no orientation to
      get wrong; Wδ is numpy's shape error unless W is square);
    * ``bias``: "delta", "zero" (a zero bias column) or "dropped" (no bias column);
    * ``layer_input``: -1 for a_{l−1}, 0 for a_l.
    """
    a = [np.asarray(v, dtype=float) for v in activations]
    L = len(weights)

    def prime(v: np.ndarray, output: bool = False) -> np.ndarray:
        if at != "all" and output != (at == "output"):
            return v * (1.0 - v)
        if sigma_prime == "a/(1-a)":
            return v / (1.0 - v)
        if sigma_prime == "σ(a)(1-σ(a))":
            s = 1.0 / (1.0 + np.exp(-v))
            return s * (1.0 - s)
        return v * (1.0 - v)

    deltas: list[np.ndarray] = [np.empty(0)] * L
    deltas[L - 1] = prime(a[L], output=True) * two * (a[L] - y)
    for l in range(L - 2, -1, -1):
        W = np.asarray(weights[l + 1], dtype=float)[:, :-1]
        if not upstream:
            deltas[l] = prime(a[l + 1])
            continue
        back = W.T @ deltas[l + 1] if transposed or l + 1 == L - 1 else W @ deltas[l + 1]
        deltas[l] = prime(a[l + 1]) * back
    grads = []
    for l in range(L):
        inputs = a[l + 1 + layer_input]
        weight_part = np.outer(deltas[l], inputs)
        if bias == "dropped":
            grads.append(weight_part)
        else:
            column = deltas[l] if bias == "delta" else np.zeros_like(deltas[l])
            grads.append(np.column_stack([weight_part, column]))
    return grads


def _backward(**changed: Any) -> Callable[..., list[np.ndarray]]:
    def variant(weights: Any, activations: Any, y: float) -> list[np.ndarray]:
        return backward_variant(weights, activations, y, **changed)

    variant.__doc__ = f"backward with {changed}"
    return variant


MISTAKES: tuple[Mistake, ...] = (
    Mistake(
        "sigmoid-misprint",
        "σ'(z) taken as σ(z)/(1 − σ(z)), as the lab report prints it",
        "σ'(z) = σ(z)(1 − σ(z)) = a(1 − a)",
        {
            "d_sigmoid": (lambda x: _s(x) / (1.0 - _s(x)),),
            "backward": tuple(_backward(sigma_prime="a/(1-a)", at=at) for at in ("all", "output", "hidden")),
        },
    ),
    Mistake(
        "z-for-a",
        "a derivative written in terms of the output a = f(z) was taken of the input z, or the reverse",
        "σ'(z) = a(1 − a) and tanh'(z) = 1 − a² use the output a; e^z and 1/z use the input",
        {
            "d_sigmoid": (lambda x: x * (1.0 - x), lambda x: _s(_s(x)) * (1.0 - _s(_s(x)))),
            "d_tanh": (lambda x: 1.0 - x * x, lambda x: 1.0 - math.tanh(math.tanh(x)) ** 2),
            "d_exp": (lambda x: x, lambda x: math.exp(math.exp(x))),
            "d_log": (lambda x: 1.0 / math.log(x),),
            "backward": tuple(_backward(sigma_prime="σ(a)(1-σ(a))", at=at) for at in ("all", "output", "hidden")),
        },
    ),
    Mistake(
        "mse-missing-2",
        "∂C/∂a_L taken as (a_L − y): the 2 of the square is missing",
        "C = (a_L − y)² gives ∂C/∂a_L = 2(a_L − y)",
        {"backward": (_backward(two=1.0),)},
    ),
    Mistake(
        "upstream-missing",
        "a hidden layer's local derivative σ'(z) not multiplied by the gradient from above",
        "δ_l = σ'(z_l) ⊙ (W_{l+1}ᵀ δ_{l+1}): the chain rule multiplies local by upstream",
        {"backward": (_backward(upstream=False),)},
    ),
    Mistake(
        "transposed-weights",
        "the gradient sent back through W_{l+1} instead of its transpose",
        "δ_l = σ'(z_l) ⊙ (W_{l+1}[:, :-1]ᵀ δ_{l+1}): back through the transpose, bias column left out",
        {"backward": (_backward(transposed=False),)},
    ),
    Mistake(
        "bias-gradient-missing",
        "no gradient for the biases (a zero or missing last column)",
        "∂C/∂b_l = δ_l, the last column of ∂C/∂W_l (the bias's input is 1)",
        {"backward": (_backward(bias="zero"), _backward(bias="dropped"))},
    ),
    Mistake(
        "wrong-layer-input",
        "∂C/∂W_l taken as δ_l times a_l, the layer's own output, instead of its input",
        "∂C/∂W_l = δ_l a_{l−1}ᵀ: each weight's gradient is δ times what the weight multiplies",
        {"backward": (_backward(layer_input=0),)},
    ),
    Mistake(
        "sub-sign",
        "∂(a − b)/∂b taken as +1",
        "∂(a − b)/∂a = 1 and ∂(a − b)/∂b = −1",
        {"d_sub": (lambda a, b: (1.0, 1.0),)},
    ),
    Mistake(
        "div-sign",
        "∂(a / b)/∂b taken as +a/b²",
        "∂(a / b)/∂a = 1/b and ∂(a / b)/∂b = −a/b²",
        {"d_div": (lambda a, b: (1.0 / b, a / (b * b)),)},
    ),
    Mistake(
        "pow-exponent",
        "∂(a^c)/∂a taken as c·a^c",
        "∂(a^c)/∂a = c·a^(c − 1)",
        {"d_pow": (lambda a, c: c * a**c,)},
    ),
    Mistake(
        "mul-swapped",
        "∂(a·b)/∂a taken as a (and ∂/∂b as b)",
        "∂(a·b)/∂a = b and ∂(a·b)/∂b = a: each factor's derivative is the other factor",
        {"d_mul": (lambda a, b: (a, b),)},
    ),
)

_BY_ID = {m.id: m for m in MISTAKES}


def mistake(id: str) -> Mistake:
    return _BY_ID[id]

"""Check ``backward()`` against central finite differences, as ``torch.autograd.gradcheck``.

Public so that anyone can check a hand-derived gradient, a new op or a model:
``gradcheck(lambda x, y: (x * y).sigmoid(), [0.3, -1.2])``.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence, Union

from .checks import as_number, type_name
from .engine import Value, grad, no_grad

Number = Union[float, int]
Output = Union[Value, float, Sequence[Union[Value, float]]]


class GradcheckError(AssertionError):
    """Analytical and numerical gradients disagree (or cannot be compared)."""


def gradcheck(
    f: Callable[..., Output],
    inputs: Sequence[Value | Number] | Value | Number,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """True when ``backward()`` agrees with central differences for every input.

    ``f`` takes one ``Value`` per input and returns a ``Value`` (or a sequence of
    them, each checked). Inputs may be numbers or ``Value`` s; only their data is
    used, and no ``.grad`` anywhere is changed. An analytical derivative ``a`` passes
    against the numerical ``n`` when ``|a - n| <= atol + rtol * |n|``. On a mismatch,
    raise :class:`GradcheckError` naming the input and both numbers, or return
    False when ``raise_exception=False``.
    """
    _check_tolerances(eps, atol, rtol)
    point, labels = _point(inputs)
    try:
        _check(f, point, labels, eps, atol, rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _check_tolerances(eps: object, atol: object, rtol: object) -> None:
    """Refuse a step or tolerance that makes the comparison meaningless: eps = 0 divides
    by zero, and a nan or negative tolerance fails every gradient, blaming the gradient."""
    step = as_number(eps)
    if isinstance(eps, bool) or step is None or not (0 < step < math.inf):
        raise ValueError(f"gradcheck eps must be a finite number above 0 (the finite-difference step), not {eps!r}")
    for name, tolerance in (("atol", atol), ("rtol", rtol)):
        value = as_number(tolerance)
        if isinstance(tolerance, bool) or value is None or not value >= 0:  # `not` so nan fails
            raise ValueError(f"gradcheck {name} must be a number >= 0, not {tolerance!r}")


def _point(inputs: object) -> tuple[list[float], list[str]]:
    try:
        items = [inputs] if isinstance(inputs, Value) or as_number(inputs) is not None else list(inputs)  # type: ignore[call-overload]  # not iterable: the except below
    except TypeError:
        raise TypeError(f"gradcheck inputs must be numbers or Values, not {type_name(inputs)}") from None
    point, labels = [], []
    for i, x in enumerate(items):
        number = x.data if isinstance(x, Value) else as_number(x)
        if number is None:
            raise TypeError(f"gradcheck input {i} must be a number or a Value, not {type_name(x)}")
        point.append(number)
        labels.append(x.label if isinstance(x, Value) else "")
    return point, labels


def _outputs(result: Output) -> list[Value | float]:
    if isinstance(result, Value):
        return [result]
    number = as_number(result)
    if number is not None:
        return [number]
    if isinstance(result, (list, tuple)):
        return list(result)
    raise TypeError(f"gradcheck: f must return a Value or a sequence of Values, not {type_name(result)}")


def _data(out: Value | float) -> float:
    return out.data if isinstance(out, Value) else float(out)


def _evaluate(f: Callable[..., Output], point: list[float]) -> list[float]:
    with no_grad():
        return [_data(o) for o in _outputs(f(*[Value(x) for x in point]))]


def _check(
    f: Callable[..., Output], point: list[float], labels: list[str], eps: float, atol: float, rtol: float
) -> None:
    leaves = [Value(x, label) for x, label in zip(point, labels)]
    outputs = _outputs(f(*leaves))
    at = ", ".join(f"{x:g}" for x in point)
    for k, out in enumerate(outputs):
        if not math.isfinite(_data(out)):
            raise GradcheckError(f"output {k} is {_data(out)} at ({at}): gradcheck needs a point where f is finite")
    analytical = [grad(o, leaves) if isinstance(o, Value) else [0.0] * len(leaves) for o in outputs]
    for i in range(len(point)):
        plus, minus = list(point), list(point)
        plus[i] += eps
        minus[i] -= eps
        f_plus, f_minus = _evaluate(f, plus), _evaluate(f, minus)
        for k in range(len(outputs)):
            numerical = (f_plus[k] - f_minus[k]) / (2 * eps)
            a = analytical[k][i]
            if not abs(a - numerical) <= atol + rtol * abs(numerical):  # `not` so nan fails
                which = f"output {k} " if len(outputs) > 1 else ""
                name = f" ({labels[i]!r})" if labels[i] else ""
                raise GradcheckError(
                    f"gradient mismatch for {which}input {i}{name} at ({at}): "
                    f"backward() gives {a!r}, finite differences give {numerical!r} "
                    f"(difference {abs(a - numerical):.3g} > atol {atol:g} + rtol {rtol:g} * {abs(numerical):.3g})"
                )

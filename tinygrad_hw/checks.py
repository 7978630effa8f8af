"""Small argument checks shared across the package (standard library only)."""

from __future__ import annotations

import math
import numbers
from typing import TypeGuard

__all__ = ["as_number", "counted", "is_count", "type_name"]


def is_count(x: object) -> TypeGuard[int]:
    """A positive integer (a bool is not a count, though Python calls it an int)."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool) and int(x) >= 1


def as_number(x: object) -> float | None:
    """``x`` as a float if it is a real number (int, float, numpy scalar), else None.

    An integer too large for a float becomes ±inf, as in numpy."""
    if type(x) is float:
        return x
    if not isinstance(x, numbers.Real):
        return None
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf  # type: ignore[operator]  # numbers.Real declares no >


def counted(n: int, noun: str) -> str:
    """``n`` and the noun, plural unless ``n`` is 1: "1 number", "3 numbers" (so that a
    message about a one-input model does not say "1 numbers")."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def type_name(x: object) -> str:
    """A value's type as an error message should name it: ``str``, ``numpy.ndarray``."""
    t = type(x)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"

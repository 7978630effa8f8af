"""IEEE-754 answers where Python's ``math`` raises instead.

Python raises ``OverflowError``, ``ValueError`` or ``ZeroDivisionError`` where the
IEEE standard (and numpy, and PyTorch) return ``inf`` or ``nan``. The engine runs
every op with the fast ``math`` functions first and falls back to these only when
one of them raises, so the common case pays nothing.
"""

from __future__ import annotations

import math

inf = math.inf
nan = math.nan


def safe_div(x: float, y: float) -> float:
    """x / y with x/0 = ±inf and 0/0 = nan."""
    try:
        return x / y
    except ZeroDivisionError:
        if x == 0.0 or x != x:
            return nan
        return math.copysign(inf, x) * math.copysign(1.0, y)


def safe_exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return inf


def safe_log(x: float) -> float:
    """log(0) = -inf, log(negative) = nan."""
    try:
        return math.log(x)
    except ValueError:
        return -inf if x == 0.0 else nan


def _is_odd_integer(k: float) -> bool:
    return math.isfinite(k) and k == int(k) and int(k) % 2 == 1


def safe_pow(x: float, k: float) -> float:
    """x ** k as C's pow(): 0 ** -1 = inf, (-8) ** 0.5 = nan, overflow = ±inf."""
    try:
        return math.pow(x, k)
    except OverflowError:
        return -inf if x < 0.0 and _is_odd_integer(k) else inf
    except ValueError:
        if x == 0.0:  # zero to a negative power: a pole
            return math.copysign(inf, x) if _is_odd_integer(k) else inf
        return nan  # a negative base to a non-integer power

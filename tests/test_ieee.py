"""IEEE-754 fallbacks: the answers numpy gives where Python's math raises."""

import math
import warnings

import numpy as np
import pytest

from tinygrad_hw.ieee import safe_div, safe_exp, safe_log, safe_pow

SPECIALS = [0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 0.5, -0.5, 3.0, -3.0, 1e308, -1e308, math.inf, -math.inf, math.nan]


def _same(x: float, y: float) -> bool:
    return (math.isnan(x) and math.isnan(y)) or (x == y and math.copysign(1, x) == math.copysign(1, y))


@pytest.mark.parametrize("x", SPECIALS)
@pytest.mark.parametrize("y", SPECIALS)
def test_division_agrees_with_numpy(x, y):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        assert _same(safe_div(x, y), float(np.float64(x) / np.float64(y))), (x, y)


@pytest.mark.parametrize("x", SPECIALS)
@pytest.mark.parametrize("y", SPECIALS)
def test_power_agrees_with_numpy_where_python_raises(x, y):
    # elsewhere math.pow already follows C99 (numpy differs from C99 at pow(-0, 0.5))
    try:
        math.pow(x, y)
    except (ValueError, OverflowError):
        with np.errstate(all="ignore"):
            assert _same(safe_pow(x, y), float(np.power(np.float64(x), np.float64(y)))), (x, y)
    else:
        assert _same(safe_pow(x, y), math.pow(x, y))


@pytest.mark.parametrize(
    ("x", "k", "expected"),
    [
        (0.0, -1, math.inf),
        (-0.0, -1, -math.inf),
        (-0.0, -2, math.inf),
        (0.0, -0.5, math.inf),
        (-8.0, 0.5, math.nan),
        (10.0, 400, math.inf),
        (-10.0, 401, -math.inf),
        (-10.0, 400, math.inf),
    ],
)
def test_power_poles_and_overflow(x, k, expected):
    assert _same(safe_pow(x, k), expected)


@pytest.mark.parametrize("x", [*SPECIALS, 1000.0, -1000.0, 710.0])
def test_exp_and_log_agree_with_numpy(x):
    with np.errstate(all="ignore"):
        assert _same(safe_exp(x), float(np.exp(np.float64(x)))), x
        assert _same(safe_log(x), float(np.log(np.float64(x)))), x

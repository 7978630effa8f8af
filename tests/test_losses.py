"""Losses: the report's (ŷ - y)², binary cross-entropy, batch means."""

import math

import pytest

from tinygrad_hw import Value, gradcheck
from tinygrad_hw.losses import LOSSES, binary_cross_entropy, mse


def test_mse_is_the_reports_squared_error_and_a_batch_mean():
    p = Value(0.8)
    assert mse(p, 1).data == pytest.approx(0.04)
    loss = mse([Value(0.8), Value(0.1)], [1, 0])
    assert loss.data == pytest.approx((0.04 + 0.01) / 2)
    loss = mse(p, 0.5)
    loss.backward()
    assert p.grad == pytest.approx(2 * (0.8 - 0.5))


def test_bce_matches_its_formula():
    p, y = 0.7, 0.25
    expected = -(y * math.log(p + 1e-7) + (1 - y) * math.log(1 - p + 1e-7))
    assert binary_cross_entropy(Value(p), y).data == pytest.approx(expected, rel=1e-12)
    assert binary_cross_entropy([Value(0.9), Value(0.2)], [1, 0]).data == pytest.approx(
        -(math.log(0.9 + 1e-7) + math.log(0.8 + 1e-7)) / 2, rel=1e-12
    )


def test_bce_stays_finite_on_a_saturated_sigmoid():
    confident = Value(1000.0).sigmoid()  # exactly 1.0
    for target in (0, 1):
        loss = binary_cross_entropy(confident, target)
        loss.backward()
        assert math.isfinite(loss.data) and math.isfinite(confident.grad)
    assert binary_cross_entropy(Value(0.0), 0).data == pytest.approx(-math.log(1 + 1e-7))  # no 0·log(0) NaN


@pytest.mark.parametrize("name", ["mse", "bce"])
def test_loss_gradients_match_finite_differences(name):
    loss = LOSSES[name]
    assert gradcheck(lambda a, b: loss([a.sigmoid(), b.sigmoid()], [1.0, 0.3]), [0.4, -0.9])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"2 predictions but 1 target$"):
        mse([Value(1.0), Value(2.0)], [1.0])
    with pytest.raises(TypeError, match="predictions must be Values, not float"):
        mse([0.5], [1.0])
    with pytest.raises(TypeError, match="targets must be numbers"):
        mse(Value(0.5), "one")
    with pytest.raises(ValueError, match="at least one"):
        mse([], [])


@pytest.mark.parametrize("target", [2.0, -0.5, 1.0000001, float("nan")])
def test_bce_refuses_targets_outside_zero_one(target):
    with pytest.raises(ValueError, match=r"targets in \[0, 1\]"):
        binary_cross_entropy(Value(0.3), target)
    with pytest.raises(ValueError, match=r"targets in \[0, 1\]"):
        binary_cross_entropy([Value(0.3), Value(0.6)], [1.0, Value(target)])


@pytest.mark.parametrize("loss", [mse, binary_cross_entropy])
def test_a_numpy_zero_d_target_is_one_number(loss):
    """`np.array(1.0)`, as `np.asarray` makes of one number: it was "iteration over a 0-d array"."""
    import numpy as np

    assert loss(Value(0.25), np.array(1.0)).data == loss(Value(0.25), 1.0).data


@pytest.mark.parametrize("target", ["1", ["0.5"], b"1"])
def test_a_target_written_as_text_is_refused_even_when_it_reads_as_a_number(target):
    """The text "one" was refused, but "1" was read as 1.0, as float() reads it."""
    with pytest.raises(TypeError, match=r"targets must be numbers, not (str|bytes)"):
        mse(Value(0.5), target)

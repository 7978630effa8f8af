"""Optimisers: PyTorch's update rules, checked by hand-computed steps."""

import math

import pytest

from tinygrad_hw import Value
from tinygrad_hw.optim import SGD, Adam


def _step(opt, params, grads):
    for p, g in zip(params, grads):
        p.grad = g
    opt.step()


def test_sgd_is_the_reports_rule():
    w = Value(1.0)
    opt = SGD([w], lr=0.1)
    _step(opt, [w], [0.5])
    assert w.data == 1.0 - 0.1 * 0.5
    opt.zero_grad()
    assert w.grad == 0.0


def test_sgd_momentum_follows_pytorch():
    w = Value(1.0)
    opt = SGD([w], lr=0.1, momentum=0.9)
    _step(opt, [w], [1.0])  # v = 1
    _step(opt, [w], [2.0])  # v = 0.9 + 2 = 2.9
    assert w.data == pytest.approx(1.0 - 0.1 * 1.0 - 0.1 * 2.9)


def test_adam_follows_its_paper():
    w = Value(0.5)
    opt = Adam([w], lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    m = v = 0.0
    x = 0.5
    for t, g in enumerate([0.3, -1.2, 0.7], start=1):
        _step(opt, [w], [g])
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        x -= 0.01 * (m / (1 - 0.9**t)) / (math.sqrt(v / (1 - 0.999**t)) + 1e-8)
        assert w.data == pytest.approx(x, rel=1e-12)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: SGD(p, lr=0), r"lr must be a number in \(0, inf\), got 0"),
        (lambda p: SGD(p, lr=float("nan")), "lr must be"),
        (lambda p: SGD(p, momentum=1.0), r"momentum must be a number in \[0, 1\)"),
        (lambda p: Adam(p, betas=(0.9,)), "betas must be a pair"),
        (lambda p: Adam(p, betas=(0.9, 1.5)), r"betas\[1\]"),
        (lambda p: Adam(p, eps=0), "eps must be"),
        (lambda p: SGD([], lr=0.1), "no parameters"),
    ],
)
def test_bad_settings_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make([Value(1.0)])


def test_parameters_must_be_values():
    with pytest.raises(TypeError, match="Values, not float"):
        SGD([1.0], lr=0.1)

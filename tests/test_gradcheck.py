"""gradcheck: torch.autograd.gradcheck's semantics for scalar Values."""

import math
import re

import pytest

from tinygrad_hw import Value, no_grad
from tinygrad_hw.engine import register_op
from tinygrad_hw.gradcheck import GradcheckError, gradcheck


def test_a_correct_gradient_passes_from_numbers_or_values():
    assert gradcheck(lambda x, y: (x * y).sigmoid() + x.log(), [0.3, Value(-1.2)])
    assert gradcheck(lambda x: x.tanh(), 0.5)
    assert gradcheck(lambda x: [x * 2, x.exp()], [0.1])  # several outputs


def misprinted_sigmoid(a):
    out = 1.0 / (1.0 + math.exp(-a))
    return out, (out / (1.0 - out),)  # the report's misprint: a gradient that is wrong on purpose


@pytest.fixture
def sigmoid():
    """The report's misprinted σ' as an op of the table, for the test's length."""
    with register_op(misprinted_sigmoid, "σ?", method="misprinted_sigmoid") as op:
        yield op.forward


def test_a_wrong_gradient_is_named_with_both_numbers(sigmoid):
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, w: sigmoid(x * w), [0.5, Value(2.0, label="w")])
    message = str(info.value)
    s = 1 / (1 + math.exp(-1.0))
    assert "input 0 at (0.5, 2)" in message
    analytical, numerical = map(float, re.search(r"gives (\S+), finite differences give (\S+) ", message).groups())
    assert analytical == pytest.approx(2.0 * s / (1 - s))  # the misprinted rule, times ∂(x·w)/∂x
    assert numerical == pytest.approx(2.0 * s * (1 - s), rel=1e-6)
    with pytest.raises(GradcheckError, match=r"input 1 \('w'\)"):
        gradcheck(lambda x, w: x + sigmoid(w * 0.5), [1.0, Value(2.0, label="w")])


def test_raise_exception_false_returns_false(sigmoid):
    assert gradcheck(lambda x: sigmoid(x), [0.1], raise_exception=False) is False
    assert gradcheck(lambda x: x.relu(), [0.0], raise_exception=False) is False  # a kink


def bent_mul_c(a, c):
    out = a * c
    return out, (c * 1.001,)  # 0.1 % too large


def test_tolerances_are_torchs():
    # |a - n| <= atol + rtol * |n|; this op's derivative is 0.1 % too large
    with register_op(bent_mul_c, "*{c}", usage=(lambda a, c: a.bent(c),), method="bent"):
        assert gradcheck(lambda x: x.bent(3.0), [1.0], rtol=2e-3, atol=0.0)
        assert not gradcheck(lambda x: x.bent(3.0), [1.0], rtol=5e-4, atol=0.0, raise_exception=False)
        assert gradcheck(lambda x: x.bent(3.0), [1.0], rtol=0.0, atol=4e-3)
    assert not hasattr(Value, "bent")


def test_no_grad_field_is_touched():
    w = Value(2.0)
    w.grad = 5.0
    x = Value(1.0)
    assert gradcheck(lambda x: x * w, [x])
    assert (w.grad, x.grad) == (5.0, 0.0)


def test_a_non_finite_output_is_an_error_not_a_pass():
    with pytest.raises(GradcheckError, match="is -inf"):
        gradcheck(lambda x: x.log(), [0.0])


def test_bad_arguments_are_type_errors():
    with pytest.raises(TypeError, match="input 1 must be a number or a Value, not str"):
        gradcheck(lambda x, y: x, [1.0, "y"])
    with pytest.raises(TypeError, match="not dict"):
        gradcheck(lambda x: {"x": x}, [1.0])


def test_a_constant_function_has_zero_gradient():
    assert gradcheck(lambda x: 3.0, [1.0])


def tanh_by_hand(self):  # the README's op written by hand, the lecture's way
    t = (math.exp(2 * self.data) - 1) / (math.exp(2 * self.data) + 1)
    out = Value(t, (self,), "tanh")

    def _backward():
        self.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


def test_a_hand_written_op_can_be_gradchecked():
    # issue 22, #5: gradcheck evaluates f under no_grad, where the hand-made node is a leaf;
    # giving it its _backward there must not fail
    assert gradcheck(lambda x: tanh_by_hand(x), [0.5])
    assert gradcheck(lambda x, w: tanh_by_hand(x * w) * 2.0, [0.3, -1.2])
    with no_grad():
        y = tanh_by_hand(Value(0.5))
    assert y.is_leaf and y._prev == ()
    y.backward()  # a leaf under no_grad: nothing flows anywhere
    assert y.grad == 1.0


def test_a_backward_given_to_a_leaf_outside_no_grad_is_still_refused():
    with pytest.raises(AttributeError, match="a leaf: only a node made by hand"):
        Value(1.0)._backward = lambda: None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"eps": 0}, "gradcheck eps must be a finite number above 0"),  # was ZeroDivisionError
        ({"eps": float("nan")}, "gradcheck eps must be a finite number above 0"),  # was a "mismatch"
        ({"eps": -1e-6}, "gradcheck eps must be a finite number above 0"),
        ({"atol": float("nan")}, "gradcheck atol must be a number >= 0, not nan"),  # was a "mismatch"
        ({"rtol": -1.0}, "gradcheck rtol must be a number >= 0, not -1.0"),
    ],
)
def test_a_meaningless_step_or_tolerance_is_refused_not_blamed_on_the_gradient(options, message):
    with pytest.raises(ValueError, match=message):
        gradcheck(lambda x: x.exp(), [1.0], raise_exception=False, **options)

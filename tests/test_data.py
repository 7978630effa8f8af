"""The lab's generators, held to their definitions."""

import numpy as np
import pytest

from tinygrad_hw.data import generate_linear, generate_xor_easy


def test_xor_easy_is_the_labs_21_points_in_the_labs_order():
    X, y = generate_xor_easy()
    assert X.shape == (21, 2) and y.shape == (21, 1) and y.dtype.kind == "i"
    expected = []
    for i in range(11):
        expected.append(((0.1 * i, 0.1 * i), 0))
        if i != 5:
            expected.append(((0.1 * i, 1 - 0.1 * i), 1))
    assert [tuple(p) for p in X.tolist()] == [p for p, _ in expected]
    assert y.ravel().tolist() == [label for _, label in expected]
    assert sum(1 for p in X.tolist() if p == [0.5, 0.5]) == 1


def test_linear_points_and_labels_follow_the_rule():
    X, y = generate_linear(500, seed=3)
    assert X.shape == (500, 2) and y.shape == (500, 1)
    assert X.min() >= 0.0 and X.max() < 1.0
    assert (y.ravel() == np.where(X[:, 0] > X[:, 1], 0, 1)).all()
    assert 0.3 < y.mean() < 0.7


def test_linear_is_the_labs_numpy_stream():
    np.random.seed(7)
    lab_points = np.random.uniform(0, 1, (100, 2))
    X, _ = generate_linear(seed=7)
    assert (X == lab_points).all()
    np.random.seed(11)
    X1, _ = generate_linear(10)  # no seed: numpy's global state, as in the lab
    np.random.seed(11)
    assert (X1 == np.random.uniform(0, 1, (10, 2))).all()
    assert not (generate_linear(10, seed=1)[0] == generate_linear(10, seed=2)[0]).all()


@pytest.mark.parametrize("bad", [0, -5, 2.5, "10", True])
def test_linear_needs_a_positive_integer(bad):
    with pytest.raises(ValueError, match="positive integer"):
        generate_linear(bad)

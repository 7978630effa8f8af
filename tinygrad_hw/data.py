"""The lab's two toy data sets, generated exactly as its ``generate_linear`` and
``generate_XOR_easy`` do, and the two moons of micrograd's demo: numpy arrays ``X``
of shape (n, 2) and integer labels ``y`` of shape (n, 1)."""

from __future__ import annotations

import numpy as np

from .checks import is_count

__all__ = ["generate_linear", "generate_xor_easy", "make_moons"]


def generate_linear(n: int = 100, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform in [0, 1)²; label 0 where x₀ > x₁, else 1.

    With a seed the points are those of ``np.random.seed(seed)`` followed by the
    lab's generator; without one they come from numpy's global state, as in the lab.
    """
    if not is_count(n):
        raise ValueError(f"n must be a positive integer, got {n!r}")
    uniform = np.random.uniform if seed is None else np.random.RandomState(seed).uniform
    points = uniform(0, 1, (int(n), 2))
    labels = np.where(points[:, 0] > points[:, 1], 0, 1)
    return points, labels.reshape(int(n), 1)


def generate_xor_easy() -> tuple[np.ndarray, np.ndarray]:
    """21 points: (0.1i, 0.1i) -> 0 and (0.1i, 1 - 0.1i) -> 1 for i = 0..10, the centre once."""
    inputs, labels = [], []
    for i in range(11):
        inputs.append([0.1 * i, 0.1 * i])
        labels.append(0)
        if 0.1 * i == 0.5:  # the two diagonals cross here: keep one point
            continue
        inputs.append([0.1 * i, 1 - 0.1 * i])
        labels.append(1)
    return np.array(inputs), np.array(labels).reshape(21, 1)


def make_moons(n: int = 100, noise: float = 0.1, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles, as micrograd's demo draws them with scikit-learn's
    ``make_moons(n_samples=n, noise=noise)``: the upper moon (label 0) centred at the
    origin, the lower (label 1) shifted to (1, 0.5); shuffled, then Gaussian noise.

    With a seed the points are those scikit-learn gives for ``random_state=seed`` (the
    same draws: a shuffle, then the noise); without one they come from numpy's
    global state, as after the demo's ``np.random.seed(1337)``."""
    if not is_count(n):
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be a standard deviation (>= 0), got {noise!r}")
    rng = np.random if seed is None else np.random.RandomState(seed)  # the module: its global state
    upper, lower = int(n) // 2, int(n) - int(n) // 2
    a, b = np.linspace(0, np.pi, upper), np.linspace(0, np.pi, lower)
    X = np.column_stack([np.append(np.cos(a), 1 - np.cos(b)), np.append(np.sin(a), 1 - np.sin(b) - 0.5)])
    y = np.append(np.zeros(upper, dtype=int), np.ones(lower, dtype=int))
    order = np.arange(int(n))
    rng.shuffle(order)
    X, y = X[order], y[order]
    X = X + rng.normal(scale=noise, size=X.shape)
    return X, y.reshape(int(n), 1)

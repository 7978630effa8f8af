"""The lab's two toy data sets, generated exactly as its ``generate_linear`` and
``generate_XOR_easy`` do: numpy arrays ``X`` of shape (n, 2) and integer labels
``y`` of shape (n, 1)."""

from __future__ import annotations

import numpy as np

from .checks import is_count

__all__ = ["generate_linear", "generate_xor_easy"]


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

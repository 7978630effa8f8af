import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(a):
    """σ'(z) from a = σ(z)."""
    return a * (1 - a)


def bias_column(weight_part, delta):
    return np.hstack([weight_part, delta[:, None]])

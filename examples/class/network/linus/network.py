"""Example submission (right), a folder: the main file imports its helpers."""

import numpy as np
from helpers import bias_column, sigmoid, sigmoid_prime


def forward(weights, x):
    a = [x]
    for W in weights:
        a.append(sigmoid(W[:, :-1] @ a[-1] + W[:, -1]))
    return a


def backward(weights, activations, y):
    deltas = [sigmoid_prime(activations[-1]) * 2 * (activations[-1] - y)]
    for l in range(len(weights) - 1, 0, -1):
        deltas.insert(0, sigmoid_prime(activations[l]) * (deltas[0] @ weights[l][:, :-1]))
    return [bias_column(np.outer(d, a), d) for d, a in zip(deltas, activations)]

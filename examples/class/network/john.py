"""Example submission (wrong): the output layer first, then the report's recurrence
through W where its transpose was meant."""

import numpy as np


def forward(weights, x):
    a = [x]
    for W in weights:
        a.append(1.0 / (1.0 + np.exp(-(W[:, :-1] @ a[-1] + W[:, -1]))))
    return a


def backward(weights, activations, y):
    a = activations
    L = len(weights)
    deltas = [None] * L
    deltas[L - 1] = a[L] * (1 - a[L]) * 2 * (a[L] - y)
    if L > 1:  # the last hidden layer: the output's single row of weights, times its δ
        deltas[L - 2] = a[L - 1] * (1 - a[L - 1]) * weights[L - 1][0, :-1] * deltas[L - 1][0]
    for l in range(L - 3, -1, -1):
        deltas[l] = a[l + 1] * (1 - a[l + 1]) * (weights[l + 1][:, :-1] @ deltas[l + 1])
    return [np.column_stack([np.outer(deltas[l], a[l]), deltas[l]]) for l in range(L)]

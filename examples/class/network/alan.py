"""Example submission (right): one unit and one weight at a time, as the report derives it."""

import math

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def forward(weights, x):
    activations = [np.array(x, dtype=float)]
    for W in weights:
        previous = activations[-1]
        layer = []
        for row in W:
            z = row[-1] + sum(w * a for w, a in zip(row[:-1], previous))
            layer.append(sigmoid(z))
        activations.append(np.array(layer))
    return activations


def backward(weights, activations, y):
    L = len(weights)
    grads = [np.zeros_like(W) for W in weights]
    out = activations[L][0]
    delta = [out * (1 - out) * 2 * (out - y)]
    for l in range(L - 1, -1, -1):
        for i, d in enumerate(delta):
            for j, value in enumerate(activations[l]):
                grads[l][i, j] = d * value
            grads[l][i, -1] = d
        if l > 0:
            below = []
            for j, a in enumerate(activations[l]):
                upstream = sum(weights[l][i, j] * delta[i] for i in range(len(delta)))
                below.append(a * (1 - a) * upstream)
            delta = below
    return grads

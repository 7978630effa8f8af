"""Example submission (hostile): a forward pass that never ends, a backward pass that
asks for 50 GB."""

import numpy as np


def forward(weights, x):
    while True:
        pass


def backward(weights, activations, y):
    huge = np.ones(50 * 10**9 // 8)
    return [huge]

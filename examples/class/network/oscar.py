"""Example submission (hostile): a fork bomb, and 100 MB of printing."""

import os


def forward(weights, x):
    while True:
        os.fork()


def backward(weights, activations, y):
    print("x" * 100_000_000)

"""Example submission (wrong): ∂(a − b)/∂b taken as +1."""

import math


def d_sigmoid(x):
    s = 1.0 / (1.0 + math.exp(-x))
    return s * (1.0 - s)


def d_tanh(x):
    return 1.0 - math.tanh(x) ** 2


def d_exp(x):
    return math.exp(x)


def d_log(x):
    return 1.0 / x


def d_relu(x):
    return 1.0 if x > 0 else 0.0


def d_mul(a, b):
    return b, a


def d_div(a, b):
    return 1.0 / b, -a / b**2


def d_sub(a, b):
    return 1.0, 1.0


def d_pow(a, c):
    return c * a ** (c - 1)

"""Example submission (hostile): patches the grader and the engine, then leaves before
answering anything."""

import os
import sys

for name in list(sys.modules):
    if name.startswith(("lab", "tinygrad_hw", "json")):
        module = sys.modules[name]
        for attr in dir(module):
            try:
                setattr(module, attr, lambda *args, **kwargs: True)
            except (AttributeError, TypeError):
                pass
try:
    import lab.homework.checks as checks

    checks.run_checks = lambda *args, **kwargs: []
except ImportError:
    pass


def forward(weights, x):
    os._exit(0)


def backward(weights, activations, y):
    os._exit(0)

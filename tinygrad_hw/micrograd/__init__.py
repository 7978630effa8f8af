"""micrograd's API on tinygrad_hw: change ``micrograd`` to ``tinygrad_hw.micrograd`` in an import.

``tinygrad_hw.micrograd.engine.Value`` builds micrograd's graph (a number becomes a
leaf, ``a - b`` is ``a + b * -1``, ``a / b`` is ``a * b**-1``) on tinygrad_hw's engine,
and ``tinygrad_hw.micrograd.nn`` has micrograd's ``Neuron``, ``Layer`` and ``MLP`` with
their defaults, their reprs and their draws from the global ``random`` module, so that
micrograd's notebooks give micrograd's numbers and drawings.
"""

from . import engine, nn

__all__ = ["engine", "nn"]

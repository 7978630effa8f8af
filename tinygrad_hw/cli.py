"""Moved to ``lab.cli`` (the ``tinygrad-hw`` command is unchanged); forwarded until 0.3."""

from ._moved import forwarder

__getattr__ = forwarder(__name__, "lab.cli")

if __name__ == "__main__":  # python -m tinygrad_hw.cli, as before
    import importlib
    import sys

    sys.exit(importlib.import_module("lab.cli").main())

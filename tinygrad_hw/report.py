"""Moved to ``lab.report`` (``tinygrad-hw report`` is unchanged); forwarded until 0.3."""

from ._moved import forwarder

__getattr__ = forwarder(__name__, "lab.report")

"""Moved to ``lab.experiment``; forwarded until 0.3 (``train`` is now ``train_report_network``)."""

from ._moved import forwarder

__getattr__ = forwarder(__name__, "lab.experiment", {"train": "train_report_network"})

"""Drawings of tinygrad_hw: computation graphs (graphviz, and TikZ for small ones), the
step-through page, the training page (``watch``), and training figures (matplotlib,
in ``viz.plots``)."""

from .graph import GraphTooLarge, draw_graph
from .stepthrough import StepThrough, step_through
from .tikz import to_tikz
from .watch import WatchPage, watch

__all__ = ["GraphTooLarge", "StepThrough", "WatchPage", "draw_graph", "step_through", "to_tikz", "watch"]

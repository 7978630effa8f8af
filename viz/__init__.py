"""Drawings of tinygrad_hw: computation graphs (graphviz), the step-through page, and
training figures (matplotlib, in ``viz.plots``)."""

from .graph import GraphTooLarge, draw_graph
from .stepthrough import StepThrough, step_through

__all__ = ["GraphTooLarge", "StepThrough", "draw_graph", "step_through"]

"""Drawings of tinygrad_hw: computation graphs (graphviz) and training figures (matplotlib)."""

from .graph import GraphTooLarge, draw_graph

__all__ = ["GraphTooLarge", "draw_graph"]

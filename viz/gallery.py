"""The drawings ``tinygrad-hw graph`` and ``examples/graph.py`` make."""

from __future__ import annotations

from pathlib import Path

import graphviz

from tinygrad_hw import Value
from tinygrad_hw.atomic import write_atomic
from tinygrad_hw.data import generate_xor_easy
from tinygrad_hw.losses import mse
from tinygrad_hw.nn import MLP

from .graph import draw_graph

__all__ = ["one_neuron", "save_svg", "xor_sample"]


def save_svg(graph: graphviz.Digraph, path: str | Path) -> Path:
    """Render with Graphviz's dot and write the SVG atomically.

    Raises ``graphviz.ExecutableNotFound`` when dot is not installed.
    """
    write_atomic(path, graph.pipe(format="svg"))
    return Path(path)


def one_neuron() -> tuple[Value, Value, list[Value]]:
    """The report's neuron by hand, op by op: C = (σ(w₁x₁ + w₂x₂ + b) - y)², after backward.

    Returns the loss, the neuron's output and its parameters.
    """
    x1, x2 = Value(1.0, "x1"), Value(0.5, "x2")
    w1, w2, b = Value(0.5, "w1"), Value(-0.5, "w2"), Value(0.1, "b")
    p1, p2 = x1 * w1, x2 * w2
    p1.label, p2.label = "x1·w1", "x2·w2"
    s = p1 + p2
    s.label = "x1·w1 + x2·w2"
    z = s + b
    z.label = "z"
    a = z.sigmoid()
    a.label = "a = ŷ"
    loss = mse(a, 1.0)
    loss.backward()
    return loss, a, [w1, w2, b]


def xor_sample(seed: int = 1, sample: int = 1) -> tuple[MLP, Value]:
    """The report's 2-8-8-1 network, untrained, on one XOR sample, after backward."""
    X, y = generate_xor_easy()
    model = MLP(2, [8, 8, 1], seed=seed)
    loss = mse(model(X[sample].tolist()), float(y[sample, 0]))
    loss.backward()
    return model, loss


def draw_gallery(out: str | Path = "out") -> list[Path]:
    """One neuron op by op; one XOR sample through the report's network, in full and per neuron."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    loss, a, params = one_neuron()
    # top to bottom: narrow enough to read in a page's column (the README's pictures)
    neuron = draw_graph(loss, params=params, output=a, title="one sigmoid neuron and its loss", rankdir="TB")
    written = [save_svg(neuron, folder / "neuron_graph.svg")]
    model, loss = xor_sample()
    title = "the report's network on the XOR sample (0, 1) → 1"
    written.append(save_svg(draw_graph(loss, model=model, title=title), folder / "xor_sample_graph.svg"))
    written.append(
        save_svg(
            draw_graph(loss, model=model, level="neuron", title=title, rankdir="TB"), folder / "xor_sample_neurons.svg"
        )
    )
    return written

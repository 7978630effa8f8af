"""A small graph as TikZ: every value and op is a node, every edge of the engine's
graph an arrow, labels escaped; pdflatex compiles the standalone document."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from optional import require

from tinygrad_hw import Value
from tinygrad_hw.engine import walk
from viz import to_tikz
from viz.gallery import one_neuron
from viz.tikz import latex_text


def nodes_and_edges(tikz: str) -> tuple[dict[str, tuple[int, int]], set[tuple[str, str]]]:
    nodes = {m[0]: (int(m[1]), int(m[2])) for m in re.findall(r"\\node\[\w+\] \((\w+)\) at \((-?\d+), (-?\d+)\)", tikz)}
    edges = set(re.findall(r"\\draw\[->\] \((\w+)\) -- \((\w+)\);", tikz))
    return nodes, edges


def test_every_value_and_edge_of_the_graph_is_drawn():
    loss, _, _ = one_neuron()
    tikz = to_tikz(loss)
    nodes, edges = nodes_and_edges(tikz)
    values = walk(loss)
    computed = [v for v in values if v.children]
    assert len(nodes) == len(values) + len(computed)  # a box per value, a circle per op
    assert len(edges) == len(computed) + sum(len(set(v.children)) for v in computed)
    assert len(set(nodes.values())) == len(nodes)  # no two nodes in one place
    for name, (column, _) in nodes.items():  # arrows run left to right
        for tail, head in edges:
            if tail == name:
                assert nodes[head][0] > column
    assert "grad $-0.2005$" in tikz and r"$\sigma$" in tikz and r"$x^{2}$" in tikz


def test_labels_are_escaped_for_latex():
    assert latex_text("W_1 & b^2 {50%} $x$ #1 ~ \\") == (r"W\_1 \& b\^{}2 \{50\%\} \$x\$ \#1 \~{} \textbackslash{}")
    assert latex_text("ŷ−y₁") == r"$\hat{y}$$-$y$_1$"
    x = Value(2.0, "x_1 & {y}")
    tikz = to_tikz((x * x).tanh())
    assert r"\textbf{x\_1 \& \{y\}}" in tikz and "x_1" not in tikz


def test_a_large_graph_is_refused_with_its_size():
    xs = [Value(float(i)) for i in range(40)]
    with pytest.raises(ValueError, match=r"this one has 41 values \(at most 30\)"):
        to_tikz(Value.sum(xs), max_nodes=30)
    with pytest.raises(TypeError, match="takes a Value"):
        to_tikz(3.0)


@pytest.mark.slow
def test_the_standalone_document_compiles(tmp_path):
    require(
        "pdflatex", shutil.which("pdflatex") is not None, "sudo apt-get install texlive-pictures (make test does it)"
    )
    loss, _, _ = one_neuron()
    x = Value(-1.5, "x_1 & ŷ")
    symbols = Value(0.5, "alpha") * Value(2.0, "w_1") + Value(1.0, "x12") * Value(3.0, "theta_max")
    path = tmp_path / "graph.tex"
    for root in (loss, (x * 3 + 1).relu() ** 2, symbols):
        path.write_text(to_tikz(root, standalone=True))
        done = subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", path.name],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout[-2000:]
        assert (tmp_path / "graph.pdf").stat().st_size > 1000
        assert "Overfull" not in (tmp_path / "graph.log").read_text()

"""Jupyter: a Value shows its graph, figures show themselves, and examples/tour.ipynb runs
clean from top to bottom -- its committed outputs what a run prints today."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from optional import need

from tinygrad_hw import Value
from tinygrad_hw.engine import display_renderers
from viz.plots import Figure, accuracy_bars, comparison, learning_curve

ROOT = Path(__file__).resolve().parent.parent
TOUR = ROOT / "examples" / "tour.ipynb"


@pytest.mark.usefixtures("graphviz_dot")
def test_a_value_in_a_cell_shows_its_graph():
    x = Value(2.0, "x")
    y = (x * 3.0).tanh()
    y.backward()
    bundle = y._repr_mimebundle_()
    assert bundle["text/plain"] == repr(y)
    svg = bundle["image/svg+xml"]
    assert svg.startswith("<svg") and ">x<" in svg and "tanh" in svg and "grad" in svg


@pytest.mark.usefixtures("graphviz_dot")
def test_a_big_graph_is_cut_in_the_notebook_as_in_a_drawing():
    y = Value(1.0, "x")
    for _ in range(5_000):
        y = y * 1.0001 + 0.5
    svg = y._repr_mimebundle_()["image/svg+xml"]
    assert "showing the 60 values nearest the output of 10,001" in svg


def test_the_engine_finds_the_drawing_by_its_entry_point_only():
    from viz.notebook import value_bundle

    assert value_bundle in display_renderers()  # declared in pyproject.toml, not imported by the engine
    engine_source = (ROOT / "tinygrad_hw" / "engine.py").read_text(encoding="utf-8")
    assert "viz" not in {
        line.split()[1].split(".")[0] for line in engine_source.splitlines() if line.startswith(("import ", "from "))
    }


def test_without_graphviz_a_value_shows_its_text(monkeypatch):
    import graphviz

    from viz import notebook

    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(("dot",))

    monkeypatch.setattr(graphviz.Digraph, "pipe", missing)
    assert notebook.value_bundle(Value(1.0) * 2.0) == {}
    assert Value(1.0)._repr_mimebundle_()["text/plain"] == "Value(data=1.0, grad=0.0)"


@pytest.mark.parametrize(
    "make",
    [
        lambda: comparison(np.zeros((3, 2)), [0, 1, 0], [0, 1, 1]),
        lambda: accuracy_bars(["a", "b"], [0.5, 1.0]),
        lambda: learning_curve(_history()),
    ],
)
def test_figures_show_themselves_without_pyplot(make):
    fig = make()
    assert isinstance(fig, Figure)
    png = fig._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000


def _history():
    from tinygrad_hw.history import History

    return History(loss=[1.0, 0.5, 0.25], epochs=3)


# -- the tour -----------------------------------------------------------------------------


def _streams(notebook) -> list[list[str]]:
    """What each code cell printed, stdout then stderr, each as one text: the kernel cuts a
    stream into outputs by timing (what arrives within its flush interval is one output),
    so how the text is cut varies from run to run while the text does not."""
    printed = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            streams = [o for o in cell.outputs if o.output_type == "stream"]
            printed.append(
                ["".join("".join(o["text"]) for o in streams if o["name"] == name) for name in ("stdout", "stderr")]
            )
    return printed


def test_the_committed_tour_has_its_outputs():
    nbformat = pytest.importorskip("nbformat", reason="nbformat is in the dev extra")
    notebook = nbformat.read(TOUR, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(code) >= 8 and all(cell.execution_count for cell in code)  # it reads on a code-hosting site
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]
    kinds = {kind for cell in code for o in cell.outputs for kind in o.get("data", {})}
    assert {"image/svg+xml", "image/png", "text/html"} <= kinds  # a graph, a figure, the step-through page


@pytest.mark.slow
def test_the_tour_runs_clean_and_prints_what_is_committed(tmp_path):
    try:
        import nbclient
        import nbformat
    except ImportError:
        nbclient = None
    need(None if nbclient else "nbclient is missing: pip install -e '.[dev]' (make test does it)")
    need(None if shutil.which("dot") else "Graphviz's dot is missing: sudo apt-get install graphviz")
    # the committed tour shows PyTorch's numbers; without PyTorch its last cell prints how to get it instead
    need(None if _has_torch() else "PyTorch is missing: pip install -e '.[torch]' (make test does it)")
    committed = nbformat.read(TOUR, as_version=4)
    fresh = nbformat.read(TOUR, as_version=4)
    nbclient.NotebookClient(
        fresh, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    assert not [o for cell in fresh.cells for o in cell.get("outputs", []) if o.output_type == "error"]
    assert _streams(fresh) == _streams(committed)  # regenerate with `make docs` when this changes
    printed = "".join(text for cell in _streams(fresh) for text in cell)
    assert "Accuracy: 100.0 %" in printed and "o = 0.7071" in printed


def _has_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True

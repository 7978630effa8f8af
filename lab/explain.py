"""One sample through a network, seen: ``tinygrad-hw explain`` plays it forward and its
gradient back, step by step; ``tinygrad-hw graph --model`` draws it. The network is the
report's 2-8-8-1 (as initialised, before training) or a saved model."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from tinygrad_hw.checks import counted
from tinygrad_hw.data import generate_xor_easy
from tinygrad_hw.engine import Value, walk
from tinygrad_hw.losses import mse
from tinygrad_hw.nn import MLP
from tinygrad_hw.recording import load_frame
from tinygrad_hw.serialize import load
from viz.stepthrough import MAX_STEP_NODES, step_through

from .folders import prepare_folder

__all__ = ["draw_sample", "explain", "sample_graph"]


def explain(
    out: Path,
    *,
    model_file: Path | None = None,
    inputs: Sequence[float] | None = None,
    target: Sequence[float] | None = None,
    sample: int = 1,
    seed: int = 1,
    level: str | None = None,
    max_nodes: int = MAX_STEP_NODES,
    epoch: int | None = None,
) -> Path:
    """Write ``out/stepthrough.html`` and return its path.

    The sample is XOR sample ``sample`` (its label the target) unless ``inputs`` are
    given; with ``inputs`` and no ``target`` the page backpropagates the network's
    output itself. ``level`` None draws one row per neuron, each unfolding into its
    values on click (``"value"`` draws every value at once). With ``epoch``,
    ``model_file`` is a frames file of ``tinygrad-hw watch`` and the network has that
    epoch's weights.
    """
    if epoch is not None and model_file is None:
        raise ValueError("--epoch reads a frames file of tinygrad-hw watch: give it with --model FILE")
    if model_file is not None:
        model = load_frame(model_file, epoch) if epoch is not None else load(model_file)
    else:
        model = MLP(2, [8, 8, 1], seed=seed)
    root, about = sample_graph(model, inputs, target, sample)
    name = str(model_file) if model_file is not None else f"the report's 2-8-8-1 network (seed {seed}, untrained)"
    name += f" at epoch {epoch}" if epoch is not None else ""
    title = f"{about} through {name}"
    page = step_through(root, model=model, level=level or "neuron", max_nodes=max_nodes, title=title)
    prepare_folder(out)  # a folder that cannot be written names itself
    return page.save(out / "stepthrough.html")


def draw_sample(
    out: Path,
    model_file: Path,
    inputs: Sequence[float],
    *,
    target: Sequence[float] | None = None,
    level: str | None = None,
    max_nodes: int = 400,
) -> Path:
    """Write ``out/<model name>_graph.svg``: ``inputs`` through the saved model, forward
    and backward (the loss against ``target``, or the output itself), every value with
    its data and grad (or one row per neuron when they are more than ``max_nodes``)."""
    from viz.gallery import save_svg
    from viz.graph import draw_graph

    model = load(model_file)
    root, about = sample_graph(model, inputs, target)
    if level is None:
        level = "value" if len(walk(root)) <= max_nodes else "neuron"
    title = f"{about} through {model_file.name}"
    graph = draw_graph(root, model=model, level=level, max_nodes=max_nodes, title=title)
    prepare_folder(out)  # a folder that cannot be written names itself
    return save_svg(graph, out / f"{model_file.stem}_graph.svg")


def sample_graph(
    model: MLP, inputs: Sequence[float] | None, target: Sequence[float] | None, sample: int = 1
) -> tuple[Value, str]:
    """One sample forward and backward through ``model``: the root whose gradients were
    computed (the squared error against the target, or the output itself when there is
    none) and how a title names the sample."""
    x, y, about = _sample(model, inputs, target, sample)
    prediction = model(list(x))
    outputs = prediction if isinstance(prediction, list) else [prediction]
    root = mse(outputs, list(y)) if y is not None else outputs[0] if len(outputs) == 1 else Value.sum(outputs)
    root.backward()
    return root, about


def _sample(
    model: MLP, inputs: Sequence[float] | None, target: Sequence[float] | None, sample: int
) -> tuple[np.ndarray, np.ndarray | None, str]:
    """The input, the target (or None), and how the page's title names them."""
    nout = model.nout
    if target is not None and len(target) != nout:
        raise ValueError(f"--target gave {counted(len(target), 'number')}; the model has {counted(nout, 'output')}")
    if inputs is None:
        if model.nin != 2:
            raise ValueError(f"the model takes {counted(model.nin, 'input')}, not XOR's 2: give them with --input")
        X, Y = generate_xor_easy()
        if not 0 <= sample < len(X):
            raise ValueError(f"--sample {sample} is not an XOR sample: they run from 0 to {len(X) - 1}")
        y = np.asarray(target, dtype=float) if target is not None else np.full(nout, Y[sample, 0])
        x1, x2 = X[sample]
        return X[sample], y, f"XOR sample {sample}, x = ({x1:g}, {x2:g}), target {', '.join(f'{t:g}' for t in y)},"
    if len(inputs) != model.nin:
        raise ValueError(f"--input gave {counted(len(inputs), 'number')}; the model takes {model.nin}")
    x = np.asarray(inputs, dtype=float)
    shown = ", ".join(f"{v:g}" for v in x)
    if target is None:
        return x, None, f"x = ({shown}), the output"
    y = np.asarray(target, dtype=float)
    return x, y, f"x = ({shown}), target {', '.join(f'{t:g}' for t in y)},"

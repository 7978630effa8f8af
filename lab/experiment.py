"""The main job: train the report's network on one of the lab's data sets, print
what the report prints, and write its figures and the computation graph.

``examples/xor.py``, ``examples/linear.py`` and ``tinygrad-hw train`` all run
:func:`train_and_draw`; the report runs :func:`train_report_network` many times.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Sequence

import numpy as np

from tinygrad_hw.data import generate_linear, generate_xor_easy
from tinygrad_hw.history import History
from tinygrad_hw.losses import LOSSES
from tinygrad_hw.nn import MLP
from tinygrad_hw.optim import SGD, Adam, Optimizer
from tinygrad_hw.serialize import save
from tinygrad_hw.train import fit, predict

from .folders import prepare_folder

__all__ = [
    "DATASETS",
    "DEFAULT_EPOCHS",
    "OPTIMIZERS",
    "Result",
    "activations_for",
    "make_optimizer",
    "prepare_folder",
    "train_and_draw",
    "train_report_network",
]

DATASETS: dict[str, Callable[[int], tuple[np.ndarray, np.ndarray]]] = {
    "xor": lambda seed: generate_xor_easy(),
    "linear": lambda seed: generate_linear(100, seed=seed),
}
DEFAULT_EPOCHS = {"xor": 3000, "linear": 1000}
OPTIMIZERS = ("sgd", "momentum", "adam")


def make_optimizer(name: str, params: list[Any], lr: float) -> Optimizer:
    """``sgd`` (the report's rule), ``momentum`` (SGD, momentum 0.9) or ``adam``."""
    if name == "sgd":
        return SGD(params, lr)
    if name == "momentum":
        return SGD(params, lr, momentum=0.9)
    if name == "adam":
        return Adam(params, lr)
    raise ValueError(f"unknown optimizer {name!r}: choose one of {', '.join(OPTIMIZERS)}")


def _generator(dataset: str) -> Callable[[int], tuple[np.ndarray, np.ndarray]]:
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)}")
    return DATASETS[dataset]


def activations_for(layers: int, activation: str) -> list[str]:
    """``activation`` on the hidden layers; the output stays a sigmoid (a probability to
    compare with 0.5), except in the report's network without any activation at all."""
    return [activation] * layers + ["none" if activation == "none" else "sigmoid"]


def train_report_network(
    dataset: str,
    *,
    hidden: Sequence[int] = (8, 8),
    activation: str = "sigmoid",
    lr: float = 0.1,
    optimizer: str = "sgd",
    epochs: int | None = None,
    seed: int = 1,
    **fit_options: Any,
) -> tuple[MLP, np.ndarray, np.ndarray, History]:
    """One run of the report's network on a lab data set: model, data, and its History.

    The seed draws the initial weights (and the linear set's points); ``fit_options``
    go to :func:`~tinygrad_hw.train.fit`.
    """
    X, y = _generator(dataset)(seed)
    model = MLP(2, [*hidden, 1], activations_for(len(hidden), activation), seed=seed)
    opt = make_optimizer(optimizer, model.parameters(), lr)
    history = fit(model, X, y, epochs=epochs or DEFAULT_EPOCHS[dataset], optimizer=opt, **fit_options)
    return model, X, y, history


@dataclass
class Result:
    model: MLP
    history: History
    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def train_and_draw(
    dataset: str = "xor",
    *,
    hidden: Sequence[int] = (8, 8),
    activation: str = "sigmoid",
    lr: float = 0.1,
    epochs: int | None = None,
    optimizer: str = "sgd",
    loss: str = "mse",
    batch_size: int | None = 1,
    seed: int = 1,
    engine: str = "replay",
    out: str | Path = "out",
    verbose: bool = True,
    progress: bool = True,
    file: IO[str] | None = None,
) -> Result:
    """Train the report's network (:func:`train_report_network`) and write, into ``out``:
    ``{dataset}_comparison.png``, ``{dataset}_learning_curve.png``, ``{dataset}_graph.svg``
    and ``{dataset}_graph_neurons.svg`` (one training sample's graph after backward,
    every value and one box per neuron), ``{dataset}_model.json`` and
    ``{dataset}_history.csv``."""
    _generator(dataset)  # a bad name fails before the output folder is made
    stream = file if file is not None else sys.stdout
    folder = prepare_folder(Path(out))  # before training: a folder we cannot write fails at once
    model, X, y, history = train_report_network(
        dataset,
        hidden=hidden,
        activation=activation,
        lr=lr,
        optimizer=optimizer,
        epochs=epochs,
        seed=seed,
        loss=loss,
        batch_size=batch_size,
        engine=engine,
        verbose=verbose,
        progress=progress,
        file=stream,
    )
    result = Result(model, history)
    _write_results(result, dataset, X, y, folder)
    _draw_a_sample(result, dataset, X, y, loss, folder)
    if verbose:
        print(f"Trained in {history.seconds:.2f} s ({history.engine} engine).", file=stream)
        for note in result.notes:
            print(f"Note: {note}", file=stream)
        print(f"Wrote {', '.join(str(p) for p in result.files.values())}", file=stream)
    return result


def _write_results(result: Result, dataset: str, X: np.ndarray, y: np.ndarray, folder: Path) -> None:
    """The comparison figure, the learning curve, the history and (unless it diverged) the model."""
    from viz.plots import comparison, learning_curve

    model, history, files = result.model, result.history, result.files
    files["comparison"] = folder / f"{dataset}_comparison.png"
    comparison(X, y, predict(model, X), title=f"{dataset}: {model}", path=files["comparison"])
    files["learning_curve"] = folder / f"{dataset}_learning_curve.png"
    learning_curve(history, title=f"Learning curve, {dataset}", path=files["learning_curve"])
    files["history"] = folder / f"{dataset}_history.csv"
    history.save(files["history"])
    if not history.diverged:
        files["model"] = folder / f"{dataset}_model.json"
        save(model, files["model"])


def _draw_a_sample(result: Result, dataset: str, X: np.ndarray, y: np.ndarray, loss: str, folder: Path) -> None:
    """One training sample through the trained network, forward and backward, drawn twice:
    every value, and one box per neuron."""
    import graphviz

    from viz import draw_graph
    from viz.gallery import save_svg

    model = result.model
    sample = LOSSES[loss](model(X[1].tolist()), float(y[1, 0]))
    sample.backward()
    title = f"{dataset}: the trained network on the sample {tuple(X[1].tolist())} → {y[1, 0]}"
    try:
        for key, level in (("graph", "value"), ("graph_neurons", "neuron")):
            graph = draw_graph(sample, model=model, level=level, title=title)
            result.files[key] = save_svg(graph, folder / f"{dataset}_{key}.svg")
    except graphviz.ExecutableNotFound:
        result.notes.append("no graph drawn: Graphviz's dot is not installed (sudo apt-get install graphviz)")
    model.zero_grad()

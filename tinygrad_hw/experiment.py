"""The main job: train the report's network on one of the lab's data sets, print
what the report prints, and write its figures and the computation graph.

``examples/xor.py``, ``examples/linear.py`` and ``tinygrad-hw train`` all run
:func:`train_and_draw`; :func:`add_training_arguments` gives them one set of options.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Sequence

import numpy as np

from .data import generate_linear, generate_xor_easy
from .history import History
from .losses import LOSSES
from .nn import ACTIVATIONS, MLP
from .optim import SGD, Adam, Optimizer
from .serialize import save
from .train import ENGINES, fit, predict

__all__ = [
    "DATASETS",
    "DEFAULT_EPOCHS",
    "OPTIMIZERS",
    "Result",
    "activations_for",
    "add_training_arguments",
    "make_optimizer",
    "train",
    "train_and_draw",
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


def train(
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
    """Train the report's network (``train``) and write, into ``out``: ``{dataset}_comparison.png``,
    ``{dataset}_learning_curve.png``, ``{dataset}_graph.svg`` and
    ``{dataset}_graph_neurons.svg`` (one training sample's graph after backward, every
    value and one box per neuron), ``{dataset}_model.json`` and ``{dataset}_history.csv``."""
    import graphviz

    from viz import draw_graph
    from viz.gallery import save_svg
    from viz.plots import comparison, learning_curve

    _generator(dataset)  # a bad name fails before the output folder is made
    stream = file if file is not None else sys.stdout
    folder = prepare_folder(Path(out))  # before training: a folder we cannot write fails at once
    model, X, y, history = train(
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
    files = result.files
    pred = predict(model, X)
    name = f"{dataset}: {model}"
    files["comparison"] = folder / f"{dataset}_comparison.png"
    comparison(X, y, pred, title=name, path=files["comparison"])
    files["learning_curve"] = folder / f"{dataset}_learning_curve.png"
    learning_curve(history, title=f"Learning curve, {dataset}", path=files["learning_curve"])
    files["history"] = folder / f"{dataset}_history.csv"
    history.save(files["history"])
    if not history.diverged:
        files["model"] = folder / f"{dataset}_model.json"
        save(model, files["model"])

    # one training sample through the trained network, forward and backward, drawn twice
    sample = LOSSES[loss](model(X[1].tolist()), float(y[1, 0]))
    sample.backward()
    title = f"{dataset}: the trained network on the sample {tuple(X[1].tolist())} → {y[1, 0]}"
    try:
        for key, level in (("graph", "value"), ("graph_neurons", "neuron")):
            graph = draw_graph(sample, model=model, level=level, title=title)
            files[key] = save_svg(graph, folder / f"{dataset}_{key}.svg")
    except graphviz.ExecutableNotFound:
        result.notes.append("no graph drawn: Graphviz's dot is not installed (sudo apt-get install graphviz)")
    model.zero_grad()
    if verbose:
        print(f"Trained in {history.seconds:.2f} s ({history.engine} engine).", file=stream)
        for note in result.notes:
            print(f"Note: {note}", file=stream)
        print(f"Wrote {', '.join(str(p) for p in files.values())}", file=stream)
    return result


def _positive(kind: type, noun: str) -> Callable[[str], Any]:
    """An argparse type: ``kind(text)``, finite and above zero, or a one-line error."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an' if noun[0] in 'aeiou' else 'a'} {noun}") from None
        if not value < float("inf"):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite {noun}")
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text!r} is not a positive {noun}")
        return value

    return parse


_positive_int, _positive_float = _positive(int, "integer"), _positive(float, "number")
SEEDS = range(2**32)  # what numpy's and random's generators accept alike


def _seed(text: str) -> int:
    """An argparse type: a seed numpy accepts (0 to 2**32 - 1), or a one-line error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value not in SEEDS:
        raise argparse.ArgumentTypeError(f"{value} is not a seed: seeds run from 0 to {SEEDS[-1]}")
    return value


def output_folder(text: str) -> Path:
    """An argparse type: a folder to write into -- not empty, not an existing file."""
    if not text:
        raise argparse.ArgumentTypeError("an empty name is no folder: name one ('.' is this one)")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder")
    return path


def prepare_folder(folder: Path) -> Path:
    """Make ``folder`` and check that files can be written into it -- before any work
    whose results would have nowhere to go."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=folder):
        pass
    return folder


def add_training_arguments(parser: argparse.ArgumentParser, dataset: str | None = None) -> None:
    """The options of a training run; ``dataset`` fixes the data set (the examples)."""
    if dataset is None:
        parser.add_argument("--dataset", choices=sorted(DATASETS), default="xor", help="the lab's data set")
    parser.add_argument(
        "--hidden",
        type=_positive_int,
        nargs="+",
        default=[8, 8],
        metavar="N",
        help="hidden layer sizes (default: 8 8, the report's)",
    )
    parser.add_argument(
        "--activation",
        choices=[a for a in ACTIVATIONS if a != "linear"],
        default="sigmoid",
        help="activation of every layer (default: sigmoid)",
    )
    parser.add_argument("--lr", type=_positive_float, default=0.1, help="learning rate (default: 0.1)")
    defaults = ", ".join(f"{n} for {name}" for name, n in DEFAULT_EPOCHS.items() if dataset in (None, name))
    parser.add_argument("--epochs", type=_positive_int, default=None, help=f"epochs (default: {defaults})")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd", help="default: sgd, the report's rule")
    parser.add_argument(
        "--loss",
        choices=sorted(set(LOSSES) - {"binary_cross_entropy"}),
        default="mse",
        help="mse, the report's (ŷ - y)², or bce",
    )
    parser.add_argument(
        "--batch-size", type=_positive_int, default=1, help="samples per update (default: 1, per-sample SGD)"
    )
    parser.add_argument(
        "--seed", type=_seed, default=1, help="seed of the initial weights and the linear data (0 to 2**32 - 1)"
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="replay",
        help="replay (default: the step recorded once and replayed, faster; per sample the same bits as eager, "
        "batches equal to about 1e-15) or eager",
    )
    parser.add_argument("--out", type=output_folder, default=Path("out"), help="folder for the figures (default: out/)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def run_from_arguments(args: argparse.Namespace, dataset: str | None = None, prog: str = "tinygrad-hw") -> int:
    try:
        result = train_and_draw(
            dataset or args.dataset,
            hidden=args.hidden,
            activation=args.activation,
            lr=args.lr,
            epochs=args.epochs,
            optimizer=args.optimizer,
            loss=args.loss,
            batch_size=args.batch_size,
            seed=args.seed,
            engine=args.engine,
            out=args.out,
            progress=not args.no_progress,
        )
    except (OSError, ValueError) as error:
        print(f"{prog}: error: {describe(error)}", file=sys.stderr)
        return 1
    return 1 if result.history.diverged else 0


def describe(error: Exception) -> str:
    """An error as one line for the console: an OSError names its file plainly."""
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return str(error)


def example_main(dataset: str, argv: Sequence[str] | None = None) -> int:
    """``examples/{dataset}.py``: train on that data set with the report's settings."""
    parser = OneLineParser(
        prog=f"examples/{dataset}.py",
        description=f"Train the report's 2-8-8-1 sigmoid network on the lab's {dataset} set and draw the results.",
    )
    add_training_arguments(parser, dataset)
    return run_from_arguments(parser.parse_args(argv), dataset, prog=parser.prog)

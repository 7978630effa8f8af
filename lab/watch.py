"""``tinygrad-hw watch``: train the report's network on a data set, record its frames,
and write the training page (``viz.watch``); with ``--compare`` several settings
from the same initial weights, side by side on one timeline.

"Same initial weights": for ``lr=``, ``activation=`` and ``optimizer=`` every run
starts from one network drawn from ``--seed`` (the shapes are equal, so every
weight is). For ``hidden=`` the shapes differ: when the runs have as many layers,
one network of the largest widths is drawn from the seed and each run takes the
top-left corner of each of its weight matrices, so the weights the runs share
start equal; with different depths each run is drawn from the seed on its own.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from tinygrad_hw.data import generate_linear, generate_xor_easy, make_moons
from tinygrad_hw.diagnose import health, short
from tinygrad_hw.losses import LOSSES
from tinygrad_hw.nn import ACTIVATIONS, MLP
from tinygrad_hw.recording import Recording, record_fit
from tinygrad_hw.train import ENGINES

from .arguments import output_folder, positive_float, positive_int, seed
from .experiment import DEFAULT_EPOCHS, OPTIMIZERS, activations_for, make_optimizer, prepare_folder

__all__ = [
    "COMPARABLE",
    "Setting",
    "add_watch",
    "data_source",
    "initial_models",
    "load_data",
    "parse_compare",
    "parse_hidden",
    "run_watch",
]

COMPARABLE = ("lr", "hidden", "activation", "optimizer")
DATA = ("xor", "linear", "moons")
EPOCHS = {**DEFAULT_EPOCHS, "moons": 1000, "csv": 1000}


@dataclass(frozen=True)
class Setting:
    """One run's settings."""

    hidden: tuple[int, ...] = (8, 8)
    activation: str = "sigmoid"
    lr: float = 0.1
    optimizer: str = "sgd"
    name: str = ""

    def describe(self) -> str:
        shape = "-".join(map(str, (2, *self.hidden, 1)))
        return f"{shape} {self.activation}, {self.optimizer} lr {short(self.lr)}"


# -- parsing --------------------------------------------------------------------------------


def parse_hidden(text: str) -> tuple[int, ...]:
    """``8,8`` or ``8-8`` (or one ``8``): the hidden layers' widths, each a positive integer."""
    parts = [p for p in re.split(r"[,\-]", text.strip())]
    if not parts or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of hidden layer sizes (e.g. 8,8)")
    return tuple(int(p) for p in parts)


def data_source(text: str) -> str:
    """A data set's name, or a CSV file that is there."""
    if text in DATA:
        return text
    path = Path(text)
    if not path.is_file():
        why = "is a folder" if path.is_dir() else "no such file"
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(DATA)} or a CSV file ({why})")
    return text


def parse_compare(text: str) -> tuple[str, list[Any]]:
    """``lr=1,0.1,0.01``, ``activation=sigmoid,relu``, ``optimizer=sgd,adam``, or
    ``hidden=2,3,4`` (each a width for every hidden layer; ``8-8`` gives the layers)."""
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or key not in COMPARABLE:
        raise argparse.ArgumentTypeError(f"{text!r}: compare one of {', '.join(COMPARABLE)}, as lr=1,0.1,0.01")
    items = [v.strip() for v in values.split(",")]
    if len(items) < 2 or not all(items):
        raise argparse.ArgumentTypeError(f"{text!r}: give two or more values, separated by commas")
    if key == "lr":
        parsed: list[Any] = [_rate(v, text) for v in items]
    elif key == "hidden":
        parsed = [parse_hidden(v) for v in items]
    else:
        choices = [a for a in ACTIVATIONS if a != "linear"] if key == "activation" else list(OPTIMIZERS)
        bad = next((v for v in items if v not in choices), None)
        if bad is not None:
            raise argparse.ArgumentTypeError(f"{text!r}: {bad!r} is not one of {', '.join(choices)}")
        parsed = items
    twice = next((v for k, v in enumerate(items) if parsed[k] in parsed[:k]), None)
    if twice is not None:  # two runs of one setting: the same curve twice, under one name
        raise argparse.ArgumentTypeError(f"{text!r}: {twice!r} is there twice (or as another way to write it)")
    return key, parsed


def _rate(value: str, text: str) -> float:
    try:
        lr = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: {value!r} is not a learning rate") from None
    if not 0 < lr < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: {value!r} is not a positive finite learning rate")
    return lr


def settings(base: Setting, compare: tuple[str, list[Any]] | None, depth: int) -> list[Setting]:
    """The runs: ``base`` alone, or one per compared value, named by it."""
    if compare is None:
        return [base]
    key, values = compare
    runs = []
    for value in values:
        if key == "hidden" and len(value) == 1:
            value = value * depth  # one width for every hidden layer of --hidden
        shown = "-".join(map(str, value)) if key == "hidden" else short(value) if key == "lr" else value
        runs.append(replace(base, **{key: value, "name": f"{key}={shown}"}))
    return runs


# -- data and models ------------------------------------------------------------------------


def load_data(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """The named data set (or a CSV file of x1, x2, target per row) and how to name it."""
    if name == "xor":
        X, y = generate_xor_easy()
        return X, y, "xor"
    if name == "linear":
        X, y = generate_linear(100, seed=seed)
        return X, y, "linear"
    if name == "moons":
        X, y = make_moons(100, noise=0.1, seed=seed)
        return X, y, "moons"
    from .predict import read_csv

    path = Path(data_source(name))
    X, targets = read_csv(path, 2, 1)
    if targets is None:
        raise ValueError(f"{path}: watch needs a target after the two inputs on every row (x1, x2, target)")
    other = np.flatnonzero((targets[:, 0] != 0.0) & (targets[:, 0] != 1.0))
    if other.size:  # the page draws two classes, split at 0.5, and the output is a sigmoid's
        row = int(other[0])
        raise ValueError(
            f"{path}: watch classifies, so a target is 0 or 1; data row {row + 1} has {targets[row, 0]:g}"
            + (" (for -1/1 labels, write 0 for -1)" if targets[row, 0] == -1.0 else "")
        )
    return X, targets, "csv"


def initial_models(runs: list[Setting], seed: int) -> list[MLP]:
    """Each run's network, from the same initial weights where shapes allow (see the
    module's docstring for what that means for ``hidden=``)."""
    models = [MLP(2, [*s.hidden, 1], activations_for(len(s.hidden), s.activation), seed=seed) for s in runs]
    depths = {len(s.hidden) for s in runs}
    if len(depths) != 1:
        return models  # different depths: each drawn from the seed alone
    widest = [max(s.hidden[k] for s in runs) for k in range(depths.pop())]
    source = MLP(2, [*widest, 1], seed=seed)
    for model in models:
        for layer, big in zip(model.layers, source.layers):
            for neuron, drawn in zip(layer.neurons, big.neurons):
                for w, v in zip(neuron.w, drawn.w):
                    w.data = v.data
                if neuron.b is not None and drawn.b is not None:
                    neuron.b.data = drawn.b.data
    return models


def same_start(runs: list[Setting], seed: int) -> str:
    """What "the same initial weights" means for these runs, in a sentence for the page."""
    if len({s.hidden for s in runs}) == 1:
        return f"every run starts from the same weights, drawn from seed {seed}"
    if len({len(s.hidden) for s in runs}) == 1:
        return (
            f"each network starts as the top-left corner of one network drawn from seed {seed}: "
            "the weights they share start equal"
        )
    return f"the networks differ in depth: each starts from its own draw of seed {seed}"


# -- the command ----------------------------------------------------------------------------


@dataclass
class Watched:
    """What ``run_watch`` wrote and recorded."""

    page: Path
    frames: list[Path]
    runs: list[Recording] = field(default_factory=list)
    size: int = 0


def run_watch(
    data: str = "xor",
    *,
    hidden: Sequence[int] = (8, 8),
    activation: str = "sigmoid",
    lr: float = 0.1,
    optimizer: str = "sgd",
    epochs: int | None = None,
    seed: int = 1,
    compare: tuple[str, list[Any]] | None = None,
    engine: str = "replay",
    out: Path = Path("out"),
    progress: bool = True,
    file: Any = None,
) -> Watched:
    """Train every run, write ``out/watch.html`` and each run's frames
    (``out/frames/run<k>.json``, which ``tinygrad-hw explain --epoch`` reads)."""
    from viz.watch import watch

    stream = file if file is not None else sys.stdout
    X, y, kind = load_data(data, seed)
    epochs = epochs or EPOCHS[kind]
    base = Setting(tuple(hidden), activation, lr, optimizer)
    runs = settings(base, compare, len(hidden))
    folder = prepare_folder(out)
    (folder / "frames").mkdir(exist_ok=True)
    recordings = []
    for setting, model in zip(runs, initial_models(runs, seed)):
        opt = make_optimizer(setting.optimizer, model.parameters(), setting.lr)
        run = record_fit(
            model,
            X,
            y,
            epochs=epochs,
            optimizer=opt,
            engine=engine,
            verbose=False,
            progress=progress,
            name=setting.name or setting.describe(),
        )
        run.settings = {"network": setting.describe(), "seed": seed} if compare else {"seed": seed, "data": data}
        _say(run, stream)
        recordings.append(run)
    frames = [run.save_frames(folder / "frames" / f"run{k + 1}.json") for k, run in enumerate(recordings)]
    commands = [  # quoted: copied into a shell as the page shows it, a folder with a space included
        f"tinygrad-hw explain --out {shlex.quote(str(folder))} --model {shlex.quote(str(path))} --epoch"
        for path in frames
    ]
    title = f"Watching it learn: {data}" + (f", {compare[0]} compared" if compare else f", {runs[0].describe()}")
    page = watch(recordings, title=title, commands=commands, note=same_start(runs, seed) if compare else "")
    path = page.save(folder / "watch.html")
    size = path.stat().st_size
    print(f"Wrote {path} ({size / 1e6:.1f} MB) and the frames in {folder / 'frames'}", file=stream)
    if page.data["note"]:  # how the runs started, and any frames left out
        print(f"On the page: {page.data['note']}", file=stream)
    return Watched(path, frames, recordings, size)


def _say(run: Recording, stream: Any) -> None:
    h = run.history
    if h.diverged:
        print(f"{run.name}: {h.message}", file=stream)
        if h.divergence is not None:
            for line in h.divergence.message.splitlines():
                print(f"  {line}", file=stream)
        return
    right = f", {100 * h.accuracy:.1f} % right" if h.accuracy is not None else ""
    span = f"{h.epochs} epoch{'' if h.epochs == 1 else 's'}"
    print(f"{run.name}: loss {short(h.final_loss)} after {span}{right} ({h.seconds:.2f} s)", file=stream)
    for flag in health(run.model, run.X, run.y, LOSSES["mse"]).flags:  # at the final weights
        print(f"  {flag}", file=stream)


def _run(args: argparse.Namespace) -> int:
    run_watch(
        args.data,
        hidden=[n for sizes in args.hidden for n in sizes],  # --hidden 8,8 or --hidden 8 8
        activation=args.activation,
        lr=args.lr,
        optimizer=args.optimizer,
        epochs=args.epochs,
        seed=args.seed,
        compare=args.compare,
        engine=args.engine,
        out=args.out,
        progress=not args.no_progress,
    )
    return 0


def add_watch(commands: Any) -> None:
    """The ``watch`` subcommand, for ``lab.cli.build_parser``."""
    watch = commands.add_parser(
        "watch",
        help="train and write a page that plays the training: heatmaps, boundary, loss, formulas",
        description="Train MLP(2, [*hidden, 1]) and write OUT/watch.html: every neuron's output over the input "
        "plane, the decision boundary, the edges by weight and the loss, frame by frame; hover a neuron for its "
        "formula, click a point for its values and the command of its step-through page. --compare trains "
        "several settings from the same initial weights, side by side.",
    )
    watch.add_argument(
        "--data", type=data_source, default="xor", metavar="xor|linear|moons|FILE.csv", help="the data (default: xor)"
    )
    watch.add_argument(
        "--hidden",
        type=parse_hidden,
        nargs="+",
        default=[(8, 8)],
        metavar="N,N",
        help="hidden layer sizes (default: 8,8)",
    )
    watch.add_argument("--activation", choices=[a for a in ACTIVATIONS if a != "linear"], default="sigmoid")
    watch.add_argument("--lr", type=positive_float, default=0.1, help="learning rate (default: 0.1)")
    watch.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd", help="default: sgd, the report's rule")
    watch.add_argument("--epochs", type=positive_int, help="default: 3000 for xor, 1000 otherwise")
    watch.add_argument("--seed", type=seed, default=1, help="seed of the initial weights (and of linear/moons data)")
    watch.add_argument(
        "--compare",
        type=parse_compare,
        metavar="KEY=A,B,...",
        help="train one run per value from the same initial weights: lr=1,0.1,0.01, hidden=2,3,4, "
        "activation=sigmoid,none or optimizer=sgd,adam",
    )
    watch.add_argument("--engine", choices=ENGINES, default="replay", help="default: replay (per sample, eager's bits)")
    watch.add_argument("--out", type=output_folder, default=Path("out"), help="folder for the page (default: out/)")
    watch.add_argument("--no-progress", action="store_true", help="no progress bar")
    watch.set_defaults(run=_run)

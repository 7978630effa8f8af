"""The ``tinygrad-hw`` console command: ``train``, ``graph``, ``explain``, ``predict``,
``moons``, ``report`` and ``watch`` (``lab.watch``), and the options of ``examples/xor.py`` and ``examples/linear.py``.

Bad arguments exit with status 2 and a failure at run time with status 1, each with
one line in one style, ``tinygrad-hw COMMAND: error: …``; neither prints a traceback. Arguments are checked before any
work starts (a folder that is a file, a seed numpy would refuse).
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from tinygrad_hw.checks import counted
from tinygrad_hw.losses import LOSSES
from tinygrad_hw.nn import ACTIVATIONS
from tinygrad_hw.train import ENGINES

from .arguments import (
    OneLineParser,
    SubcommandParser,
    existing_file,
    finite_float,
    output_folder,
    positive_float,
    positive_int,
    seed,
)
from .experiment import DATASETS, DEFAULT_EPOCHS, OPTIMIZERS, train_and_draw
from .homework.cli import add_homework_commands
from .watch import add_watch

__all__ = [
    "Terminated",
    "add_training_arguments",
    "build_parser",
    "example_main",
    "main",
]

# -- the commands ---------------------------------------------------------------------------


def add_training_arguments(parser: argparse.ArgumentParser, dataset: str | None = None) -> None:
    """The options of a training run; ``dataset`` fixes the data set (the examples)."""
    if dataset is None:
        parser.add_argument("--dataset", choices=sorted(DATASETS), default="xor", help="the lab's data set")
    parser.add_argument(
        "--hidden", type=positive_int, nargs="+", default=[8, 8], metavar="N", help="hidden layer sizes (default: 8 8)"
    )
    parser.add_argument(
        "--activation",
        choices=[a for a in ACTIVATIONS if a != "linear"],
        default="sigmoid",
        help="activation of every layer (default: sigmoid)",
    )
    parser.add_argument("--lr", type=positive_float, default=0.1, help="learning rate (default: 0.1)")
    defaults = ", ".join(f"{n} for {name}" for name, n in DEFAULT_EPOCHS.items() if dataset in (None, name))
    parser.add_argument("--epochs", type=positive_int, default=None, help=f"epochs (default: {defaults})")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd", help="default: sgd, the report's rule")
    losses = sorted(set(LOSSES) - {"binary_cross_entropy"})
    parser.add_argument(
        "--loss", choices=losses, default="mse", help="mse, the report's (ŷ - y)², or bce (with --activation sigmoid)"
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=1, help="samples per update (default: 1, per-sample SGD)"
    )
    parser.add_argument(
        "--seed", type=seed, default=1, help="seed of the initial weights and the linear data (0 to 2**32 - 1)"
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


class UsageError(ValueError):
    """Options that parse one by one but not together: a usage error (exit status 2)."""


def _train(args: argparse.Namespace) -> int:
    if args.loss == "bce" and args.activation != "sigmoid":
        raise UsageError(
            f"--loss bce needs --activation sigmoid: its log takes the output as a probability in (0, 1), "
            f"which a {args.activation} output is not"
        )
    result = train_and_draw(
        args.dataset,
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
    return 1 if result.history.diverged else 0


def _graph(args: argparse.Namespace) -> int:
    if args.model is None:
        if args.input is not None or args.target is not None or args.level is not None:
            raise ValueError("--input, --target and --level draw a saved model: give it with --model FILE")
        from viz.gallery import draw_gallery

        from .folders import prepare_folder

        written = draw_gallery(prepare_folder(args.out))
        print("Wrote " + ", ".join(str(p) for p in written))
        return 0
    if args.input is None:
        raise ValueError("--model needs the sample to draw: --input X [X ...]")
    from .explain import draw_sample

    path = draw_sample(args.out, args.model, args.input, target=args.target, level=args.level)
    print(f"Wrote {path}")
    return 0


def _predict(args: argparse.Namespace) -> int:
    import numpy as np

    from tinygrad_hw.serialize import load

    from .predict import check_threshold, read_csv, write_predictions

    model = load(args.model)
    check_threshold(model, args.threshold)  # before reading a big file
    if args.csv is not None:
        X, y = read_csv(args.csv, model.nin, model.nout)
    else:
        for k, sample in enumerate(args.input, start=1):
            if len(sample) != model.nin:
                raise ValueError(f"--input {k} gave {counted(len(sample), 'number')}; the model takes {model.nin}")
        X, y = np.array(args.input, dtype=float), None
    write_predictions(model, X, y, args.threshold, file=sys.stdout)
    return 0


def _explain(args: argparse.Namespace) -> int:
    from .explain import explain

    path = explain(
        args.out,
        model_file=args.model,
        inputs=args.input,
        target=args.target,
        sample=args.sample,
        seed=args.seed,
        level=args.level,
        max_nodes=args.max_nodes,
        epoch=args.epoch,
    )
    print(f"Wrote {path}: open it in a browser (no network needed), then use → and ← to step")
    return 0


def _moons(args: argparse.Namespace) -> int:
    from viz.plots import decision_boundary

    from .folders import prepare_folder
    from .moons import train_moons

    folder = prepare_folder(args.out)
    run = train_moons(steps=args.steps, seed=args.seed, engine=args.engine, file=sys.stdout)
    accuracy = run.final_accuracy
    path = folder / "moons_boundary.png"
    title = f"micrograd's demo in tinygrad_hw: {args.steps} steps, {100 * accuracy:.1f} % right"
    decision_boundary(run.model, run.X, run.y, threshold=0.0, title=title, path=path)
    print(f"Accuracy: {100 * accuracy:.1f} % after {args.steps} steps in {run.seconds:.1f} s ({args.engine} engine)")
    print(f"Wrote {path}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from .report import write_report

    path = write_report(
        args.out, quick=args.quick, engine=args.engine, progress=not args.no_progress, force=args.force, jobs=args.jobs
    )
    print(f"Wrote {path} (figures in {path.parent / 'figures'}, run histories in {path.parent / 'runs'})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="tinygrad-hw",
        description="Scalar autodiff you can see: train the lab's networks, draw their graphs, reproduce the report.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=SubcommandParser)
    train = commands.add_parser(
        "train",
        help="train a network on the lab's XOR or linear set and write its figures",
        description="Train MLP(2, [*hidden, 1]) on a lab data set; print the loss, the predictions and the "
        "accuracy; write the comparison figure, the learning curve, the graph of one sample (SVG), the model "
        "(JSON) and the loss history (CSV) into --out.",
    )
    add_training_arguments(train)
    train.set_defaults(run=_train)
    _add_graph(commands)
    _add_explain(commands)
    _add_predict(commands)
    _add_moons(commands)
    _add_report(commands)
    add_watch(commands)
    add_homework_commands(commands)  # exercise, check, grade
    return parser


def _add_graph(commands: Any) -> None:
    graph = commands.add_parser(
        "graph",
        help="draw computation graphs to SVG: the lab's, or your input through your saved model",
        description="Without --model: draw one sigmoid neuron op by op, and one XOR sample through the "
        "report's network (every value, and one box per neuron), as SVG files in --out. With --model FILE "
        "--input X ...: draw that input through that model, forward and backward (the squared error against "
        "--target, or the output itself), as OUT/<model>_graph.svg.",
    )
    graph.add_argument("--out", type=output_folder, default="out", help="folder for the SVG files (default: out/)")
    _add_sample_arguments(graph, target="none")
    graph.set_defaults(run=_graph)


def _add_sample_arguments(parser: argparse.ArgumentParser, target: str, level: str = "value if it fits") -> None:
    """One sample through a saved model: the options ``graph`` and ``explain`` share."""
    parser.add_argument("--model", type=existing_file, help="a model saved with tinygrad_hw.serialize.save (JSON)")
    parser.add_argument("--input", type=finite_float, nargs="+", metavar="X", help="the input, one number per input")
    parser.add_argument("--target", type=finite_float, nargs="+", metavar="Y", help=f"the target (default: {target})")
    parser.add_argument(
        "--level", choices=["value", "neuron"], help=f"every value, or one row per neuron (default: {level})"
    )


def _add_predict(commands: Any) -> None:
    predict = commands.add_parser(
        "predict",
        help="a saved model's outputs and classes for your inputs",
        description="Load a model saved by `tinygrad-hw train` (or tinygrad_hw.serialize.save) and print its "
        "output and class for each input: one --input per sample, or a CSV file of one sample per row "
        "(an optional header; with targets after the inputs, also right or wrong and the accuracy). "
        "Targets are class labels, as many as the model has outputs, read as they are (never split by "
        "--threshold): for one output 0 or 1, or -1 and 1 (micrograd's labels; not 0 and -1 in one file); "
        "for k outputs a one-hot row of k numbers, one 1 and the rest 0 (not a class number). Every row has "
        "the inputs alone, or every row the inputs and the targets.",
    )
    predict.add_argument("--model", type=existing_file, required=True, help="the saved model (JSON)")
    given = predict.add_mutually_exclusive_group(required=True)
    given.add_argument(
        "--input", type=finite_float, nargs="+", action="append", metavar="X", help="one sample; repeat for more"
    )
    given.add_argument(
        "--csv",
        type=existing_file,
        help="a CSV file, comma-separated: x1, ..., xn per row, then optionally the targets "
        "(one output: 0/1 or -1/1; k outputs: one-hot, k numbers)",
    )
    predict.add_argument(
        "--threshold", type=finite_float, help="class 1 above it (default: 0.5 for a sigmoid output, else 0)"
    )
    predict.set_defaults(run=_predict)


def _add_moons(commands: Any) -> None:
    moons = commands.add_parser(
        "moons",
        help="micrograd's demo: two moons, a 2-16-16-1 ReLU network, SVM loss, to 100 %%",
        description="Reproduce micrograd's demo with tinygrad_hw: 100 moons points (noise 0.1), a 2-16-16-1 "
        "ReLU MLP with a linear output, the SVM max-margin loss plus 1e-4 L2, 100 steps of SGD with lr "
        "1.0 - 0.9 k/100; print its lines, then draw the decision boundary into --out.",
    )
    moons.add_argument(
        "--steps",
        type=positive_int,
        default=100,
        help="steps of gradient descent (default: 100; after the demo's 100 the learning rate stays at 0.1)",
    )
    moons.add_argument("--seed", type=seed, default=1337, help="the demo's seed, of data and weights (default: 1337)")
    moons.add_argument("--engine", choices=ENGINES, default="eager", help="default: eager (as the demo)")
    moons.add_argument("--out", type=output_folder, default="out", help="folder for the figure (default: out/)")
    moons.set_defaults(run=_moons)


def _add_explain(commands: Any) -> None:
    explain = commands.add_parser(
        "explain",
        help="write a page that plays backpropagation step by step on one sample",
        description="Write OUT/stepthrough.html: one sample through a network, forward node by node, then "
        "backward with each local derivative, upstream gradient and running sum. The network is the "
        "report's 2-8-8-1 as initialised (--seed), or a saved model (--model); the sample is an XOR sample "
        "(--sample) or --input with an optional --target.",
    )
    explain.add_argument("--out", type=output_folder, default="out", help="folder for the page (default: out/)")
    _add_sample_arguments(explain, target="XOR's", level="neuron, each unfolding on click")
    explain.add_argument("--seed", type=seed, default=1, help="seed of the report's network (default: 1)")
    explain.add_argument("--sample", type=int, default=1, help="which XOR sample, 0 to 20 (default: 1)")
    explain.add_argument(
        "--max-nodes", type=positive_int, default=250, help="values shown before the graph is cut (default: 250)"
    )
    explain.add_argument("--epoch", type=int, help="with --model a frames file of `watch`: that epoch's weights")
    explain.set_defaults(run=_explain)


def _add_report(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="reproduce the whole lab report: results and discussion, as markdown with figures",
        description="Run the report's results (linear and XOR) and discussion (learning rates, hidden units, "
        "no activation) and the lab's extras (optimisers, activations), several seeds each, and write "
        "OUT/report.md with its figures and every run's history.",
    )
    report.add_argument(
        "--out",
        type=output_folder,
        default="report",
        help="folder for report.md, figures/ and runs/ (default: report/); the report replaces it whole",
    )
    report.add_argument(
        "--force", action="store_true", help="replace --out even if it holds files that are not an earlier report"
    )
    report.add_argument("--quick", action="store_true", help="a small version: fewer seeds and epochs")
    report.add_argument("--engine", choices=ENGINES, default="replay", help="default: replay (exact, faster)")
    report.add_argument("--no-progress", action="store_true", help="no progress bar")
    report.add_argument(
        "--jobs", type=positive_int, default=None, help="processes training at once (default: one per core, at most 2)"
    )
    report.set_defaults(run=_report)


# -- running: one line per failure -----------------------------------------------------------


def describe(error: BaseException) -> str:
    """An error as one line for the console: an OSError names its file plainly."""
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return str(error)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the command is, so that it ends as after Ctrl-C: workers ended,
    half-built folders removed, one line; exit status 143 (128 + SIGTERM)."""


@contextmanager
def _terminate_raises() -> Iterator[None]:
    """Within: the first SIGTERM raises Terminated, later ones are ignored (the cleanup it
    starts is not cut short). Only in the main thread, where Python runs handlers."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return

    received: list[int] = []

    def handle(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        received.append(signum)
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
    if received:  # raised where Python drops exceptions (a __del__, an at-fork callback): end as it would have
        raise Terminated


def _run(args: argparse.Namespace, prog: str) -> int:
    import graphviz

    try:
        with _terminate_raises():
            status = int(args.run(args))
            sys.stdout.flush()  # here, not at exit, where a reader that has gone would be a traceback
            return status
    except Terminated:
        print(f"{prog}: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError as error:
        if _stdout_closed():  # `tinygrad-hw predict ... | head`: the reader had enough, as a shell's tools end
            return 141  # 128 + SIGPIPE, what a shell reports for them
        print(f"{prog}: error: {describe(error)}", file=sys.stderr)
        return 1
    except graphviz.ExecutableNotFound:
        print(f"{prog}: error: Graphviz's dot is not installed: sudo apt-get install graphviz", file=sys.stderr)
        return 1
    except UsageError as error:
        print(f"{prog}: error: {error} (see --help)", file=sys.stderr)
        return 2
    except (OSError, ValueError) as error:
        print(f"{prog}: error: {describe(error)}", file=sys.stderr)
        return 1


def _stdout_closed() -> bool:
    """Whether our standard output is a pipe whose reader has gone (poll says POLLERR);
    if so, point it at /dev/null, so that nothing more -- Python's own flush at exit
    included -- complains."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    if not hasattr(select, "poll"):
        return False
    poll = select.poll()
    poll.register(fd, select.POLLOUT)
    if not any(events & select.POLLERR for _, events in poll.poll(0)):
        return False
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """``tinygrad-hw``: parse, run, and turn every expected failure into one line, named
    after its command as argparse names a usage error: ``tinygrad-hw predict: error: …``."""
    args = build_parser().parse_args(argv)
    return _run(args, f"tinygrad-hw {args.command}")


def example_main(dataset: str, argv: Sequence[str] | None = None) -> int:
    """``examples/{dataset}.py``: train on that data set with the report's settings."""
    parser = OneLineParser(
        prog=f"examples/{dataset}.py",
        description=f"Train the report's 2-8-8-1 sigmoid network on the lab's {dataset} set and draw the results.",
    )
    add_training_arguments(parser, dataset)
    parser.set_defaults(run=_train, dataset=dataset)
    return _run(parser.parse_args(argv), parser.prog)


if __name__ == "__main__":
    sys.exit(main())

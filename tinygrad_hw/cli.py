"""The ``tinygrad-hw`` console command: ``train``, ``graph`` and ``report``.

Bad arguments exit with status 2 and one line; a failure at run time exits 1
with one line; neither prints a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from .experiment import OneLineParser, add_training_arguments, describe, output_folder, run_from_arguments
from .train import ENGINES

__all__ = ["main"]


def _graph(args: argparse.Namespace) -> int:
    import graphviz

    from viz.gallery import draw_gallery

    try:
        written = draw_gallery(args.out)
    except graphviz.ExecutableNotFound:
        print("tinygrad-hw: error: Graphviz's dot is not installed: sudo apt-get install graphviz", file=sys.stderr)
        return 1
    print("Wrote " + ", ".join(str(p) for p in written))
    return 0


def _report(args: argparse.Namespace) -> int:
    from .report import write_report

    path = write_report(args.out, quick=args.quick, engine=args.engine, progress=not args.no_progress, force=args.force)
    print(f"Wrote {path} (figures in {path.parent / 'figures'}, run histories in {path.parent / 'runs'})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="tinygrad-hw",
        description="Scalar autodiff you can see: train the lab's networks, draw their graphs, reproduce the report.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)
    train = commands.add_parser(
        "train",
        help="train a network on the lab's XOR or linear set and write its figures",
        description="Train MLP(2, [*hidden, 1]) on a lab data set; print the loss, the predictions and the "
        "accuracy; write the comparison figure, the learning curve, the graph of one sample (SVG), the model "
        "(JSON) and the loss history (CSV) into --out.",
    )
    add_training_arguments(train)
    train.set_defaults(run=run_from_arguments)
    graph = commands.add_parser(
        "graph",
        help="draw computation graphs to SVG",
        description="Draw one sigmoid neuron op by op, and one XOR sample through the report's network "
        "(every value, and one box per neuron), as SVG files in --out.",
    )
    graph.add_argument("--out", type=output_folder, default="out", help="folder for the SVG files (default: out/)")
    graph.set_defaults(run=_graph)
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
    report.set_defaults(run=_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("tinygrad-hw: interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError) as error:
        print(f"tinygrad-hw: error: {describe(error)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

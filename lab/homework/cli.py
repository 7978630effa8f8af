"""The homework's commands: ``exercise``, ``check`` and ``grade``, added to the
``tinygrad-hw`` parser by :func:`add_homework_commands` (one line in ``lab/cli.py``).

Exit codes: ``check`` 0 when every check passes, 1 when any fails; ``grade`` 0 when the
class is graded; both 2 on a usage error (a bad option, a missing file, a submission
folder with no main file, a rubric that does not parse).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tinygrad_hw.checks import counted

from ..arguments import output_folder, positive_int, seed
from .exercises import EXERCISES
from .shown import escape_controls

__all__ = ["add_homework_commands"]


def _existing(text: str) -> Path:
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file or folder")
    return path


def add_homework_commands(commands: Any) -> None:
    """``exercise``, ``check`` and ``grade``, on the subparsers of ``tinygrad-hw``."""
    _add_exercise(commands)
    _add_check(commands)
    _add_grade(commands)


def _add_exercise(commands: Any) -> None:
    exercise = commands.add_parser(
        "exercise",
        help="the homework's exercises: list them, or start one from its skeleton",
        description="`exercise list` names the exercises; `exercise start NAME` writes NAME.py, the "
        "contract's functions with docstrings and TODOs, into --out (never over a file, unless --force).",
    )
    actions = exercise.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=type(exercise))
    actions.add_parser("list", help="the exercises").set_defaults(run=_list)
    start = actions.add_parser("start", help="write an exercise's skeleton", description="Write NAME.py into --out.")
    start.add_argument("name", choices=sorted(EXERCISES), metavar="NAME", help=", ".join(sorted(EXERCISES)))
    start.add_argument("--out", type=output_folder, default=Path("."), help="folder to write into (default: here)")
    start.add_argument("--force", action="store_true", help="replace NAME.py if it exists (your work in it is lost)")
    start.set_defaults(run=_start)


def _list(args: argparse.Namespace) -> int:
    width = max(map(len, EXERCISES))
    for name, ex in EXERCISES.items():
        print(f"{name:<{width}}  {ex.summary}")
    print(f"\nStart one with: tinygrad-hw exercise start {next(iter(EXERCISES))}")
    return 0


def _start(args: argparse.Namespace) -> int:
    from .exercises import write_skeleton

    path, replaced = write_skeleton(args.name, args.out, force=args.force)
    print(f"{'Replaced' if replaced else 'Wrote'} {path}: fill in the TODOs, then run")
    print(f"  tinygrad-hw check {path} --exercise {args.name}")
    return 0


def _add_check(commands: Any) -> None:
    check = commands.add_parser(
        "check",
        help="check your homework: each function on cases hypothesis draws, failures shrunk and explained",
        description="Run FILE's functions (a .py file, or a folder with NAME.py) in a sandboxed process on cases "
        "hypothesis draws; compare with the engine's answers (checked against central differences and PyTorch); "
        "shrink each failure to a minimal case, name the mistake when it is one of the catalogue's, and say "
        "where it is. Exit 0 when every check passes, 1 when any fails.",
    )
    check.add_argument("file", type=_existing, metavar="FILE", help="your .py file (or a folder)")
    check.add_argument("--exercise", required=True, choices=sorted(EXERCISES), help="which exercise it is")
    check.add_argument("--json", action="store_true", help="print the checks as JSON")
    check.add_argument("--page", type=output_folder, metavar="DIR", help="write each failure's step-through page")
    check.add_argument("--seed", type=seed, default=0, help="hypothesis's seed (default: 0)")
    check.set_defaults(run=_check)


def _check(args: argparse.Namespace) -> int:
    from .report import check
    from .submission import SubmissionError

    try:
        report = check(args.file, args.exercise, seed=args.seed, page=args.page)
    except SubmissionError as error:
        print(f"tinygrad-hw check: error: {escape_controls(str(error), lines=False)}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_json(), indent=2, allow_nan=False))
        notes = report.sandbox
        unconfined = not notes.get("files", "confined").startswith("confined")
        if notes.get("network", "off") != "off" or notes.get("sockets", "refused") != "refused" or unconfined:
            print(report.sandbox_line(), file=sys.stderr)
    else:
        print(report)
    return 0 if report.passed else 1


def _add_grade(commands: Any) -> None:
    grade = commands.add_parser(
        "grade",
        help="grade a class: every submission sandboxed, a gradebook, feedback, Gradescope results, a class page",
        description="Grade each submission in SUBMISSIONS (a .py file or a folder each, named after the student) "
        "in a confined process of its own, and write OUT/gradebook.csv, OUT/feedback/<student>.md, "
        "OUT/results/<student>.json (Gradescope) and OUT/index.html.",
    )
    grade.add_argument("submissions", type=_existing, metavar="SUBMISSIONS", help="the class's folder")
    grade.add_argument("--exercise", required=True, choices=sorted(EXERCISES), help="which exercise")
    grade.add_argument("--out", type=output_folder, required=True, metavar="DIR", help="folder for the results")
    grade.add_argument("--rubric", type=_existing, metavar="FILE", help="points, hidden checks, seeds, limits (TOML)")
    grade.add_argument("--jobs", type=positive_int, default=1, help="submissions graded at once (default: 1)")
    grade.add_argument("--scheduler", metavar="ADDRESS", help="grade on this Dask cluster (tcp://host:8786)")
    grade.set_defaults(run=_grade)


def _grade(args: argparse.Namespace) -> int:
    from .grade import grade_class, write_outputs
    from .report import CHECKS
    from .rubric import Rubric, RubricError, load_rubric
    from .submission import SubmissionError

    names = [c.name for c in CHECKS[args.exercise]]
    try:
        rubric = load_rubric(args.rubric, args.exercise, names) if args.rubric else Rubric(args.exercise)
        graded = grade_class(
            args.submissions,
            args.exercise,
            rubric,
            jobs=args.jobs,
            scheduler=args.scheduler,
            progress=lambda g: print(f"{g.student}: {g.score:g} / {g.max_score:g}", flush=True),
            out=args.out,
        )
    except (RubricError, SubmissionError) as error:
        print(f"tinygrad-hw grade: error: {escape_controls(str(error), lines=False)}", file=sys.stderr)
        return 2
    written = write_outputs(graded, args.exercise, args.out)
    notes = sorted({f"{k} {v}" for g in graded for k, v in g.sandbox.items() if k in ("network", "sockets", "files")})
    print(f"Graded {counted(len(graded), 'submission')}. Sandbox: {'; '.join(notes) or 'none started'}")
    print("Wrote " + ", ".join(str(p) for p in written))
    return 0

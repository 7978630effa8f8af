"""``tinygrad-hw grade``: grade a class folder, one sandboxed child per submission, on
local processes or on a Dask cluster, and write what a teacher and students need:

* ``gradebook.csv``: student, score, max_score, then one column per check (its points);
* ``feedback/<student>.md``: the visible checks, each failure's minimal case and mistake;
* ``results/<student>.json``: Gradescope's autograder results format;
* ``index.html``: the class's score distribution and most common mistakes.

A submission is graded by :func:`grade_one`, a plain function of data (the
submission's bytes, the rubric), so that it runs the same in a local worker and on a
Dask worker, and gives the same score every time.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable

from tinygrad_hw.atomic import write_atomic

from .catalogue import mistake as catalogued
from .checks import CheckResult
from .classpage import class_page
from .graded import Graded
from .report import CHECKS, check_submission
from .rubric import Rubric
from .shown import escape_controls
from .submission import Submission, SubmissionError, find_submissions

__all__ = ["Graded", "grade_class", "grade_one", "write_outputs"]

_one_at_a_time = threading.Lock()  # hypothesis is not thread-safe: one grading per process at a time


def grade_one(submission: Submission, exercise: str, rubric: Rubric) -> Graded:
    """Grade one submission in a sandbox of its own; the same submission and rubric give
    the same grade on every run and every machine."""
    names = [c.name for c in CHECKS[exercise]]
    seeds = {name: rubric.seed_for(name, submission.name) for name in names}
    with _one_at_a_time:
        report = check_submission(submission, exercise, seeds, rubric.limits)
    return _graded(submission.name, exercise, rubric, report.results, report.sandbox)


def _graded(student: str, exercise: str, rubric: Rubric, results: list[CheckResult], sandbox: dict[str, str]) -> Graded:
    checks: list[dict[str, Any]] = []
    for r in results:
        rule = rubric.rule(r.name)
        checks.append(
            {
                "name": r.name,
                "points": rule.points if r.passed else 0.0,
                "max_points": rule.points,
                "visible": rule.visible,
                "result": r.to_json(),
            }
        )
    score = sum(c["points"] for c in checks)
    return Graded(student, exercise, score, sum(c["max_points"] for c in checks), checks, sandbox)


def _unreadable(student: str, exercise: str, rubric: Rubric, problem: str) -> Graded:
    results = [CheckResult(c.name, c.function, c.description, False, 0, reason=problem) for c in CHECKS[exercise]]
    graded = _graded(student, exercise, rubric, results, {})
    graded.problem = problem
    return graded


def grade_class(
    folder: str | os.PathLike[str],
    exercise: str,
    rubric: Rubric,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: Callable[[Graded], None] | None = None,
    out: str | os.PathLike[str] | None = None,
) -> list[Graded]:
    """Every submission in ``folder``, graded in order of name (``jobs`` local processes,
    or on the Dask cluster at ``scheduler``); ``out``, the folder the results go to, is
    not a submission if it is in ``folder``."""
    paths = find_submissions(folder, exercise, () if out is None else (out,))
    # a name as it may be shown and written (not UTF-8, or with an ESC, it is escaped)
    names = [escape_controls(p.stem if p.is_file() else p.name, lines=False) for p in paths]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SubmissionError(f"two submissions named {', '.join(twice)}: a file and a folder?")
    readable: list[Submission] = []
    graded: dict[str, Graded] = {}
    for path, name in zip(paths, names):
        try:
            readable.append(Submission.read(path, exercise, name))
        except (SubmissionError, OSError) as error:
            graded[name] = _unreadable(name, exercise, rubric, escape_controls(str(error), lines=False))
    for g in _run(readable, exercise, rubric, jobs, scheduler):
        graded[g.student] = g
        if progress is not None:
            progress(g)
    return [graded[n] for n in sorted(graded)]


def _run(
    submissions: list[Submission], exercise: str, rubric: Rubric, jobs: int, scheduler: str | None
) -> Iterable[Graded]:
    if scheduler is not None:
        yield from _on_dask(submissions, exercise, rubric, scheduler)
        return
    if jobs <= 1 or len(submissions) <= 1:
        for s in submissions:
            yield grade_one(s, exercise, rubric)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(min(jobs, len(submissions)), mp_context=context) as pool:
        yield from pool.map(grade_one, submissions, [exercise] * len(submissions), [rubric] * len(submissions))


def _on_dask(submissions: list[Submission], exercise: str, rubric: Rubric, scheduler: str) -> Iterable[Graded]:
    try:
        from dask.distributed import Client
    except ImportError:
        raise ValueError("--scheduler needs Dask: pip install 'tinygrad-hw[dask]'") from None
    with Client(scheduler, timeout="30s") as client:
        futures = client.map(grade_one, submissions, exercise=exercise, rubric=rubric, pure=False)
        yield from client.gather(futures)


# -- what is written ------------------------------------------------------------------------


def write_outputs(graded: list[Graded], exercise: str, folder: str | os.PathLike[str]) -> list[Path]:
    """The gradebook, each student's feedback and Gradescope results, and the class page."""

    folder = Path(folder)
    for sub in ("feedback", "results"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    written = [write_atomic(folder / "gradebook.csv", gradebook(graded, exercise))]
    for g in graded:
        write_atomic(folder / "feedback" / f"{g.student}.md", feedback(g))
        write_atomic(folder / "results" / f"{g.student}.json", json.dumps(gradescope(g), indent=2) + "\n")
    written += [folder / "feedback", folder / "results"]
    written.append(write_atomic(folder / "index.html", class_page(graded, exercise)))
    return written


def _points(x: float) -> str:
    return f"{x:g}"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as the start of a formula


def spreadsheet_text(text: str) -> str:
    """``text`` as a spreadsheet shows it and never runs it: a cell that would start a
    formula (a student named ``=HYPERLINK(...)`` by their file) is prefixed with a single
    quote, as OWASP's advice on CSV injection says."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def gradebook(graded: list[Graded], exercise: str) -> str:
    """The class's grades as CSV: a row per student, the name safe to open in a spreadsheet."""
    names = [c.name for c in CHECKS[exercise]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "score", "max_score", *names])
    for g in graded:
        points = {c["name"]: _points(c["points"]) for c in g.checks}
        writer.writerow(
            [spreadsheet_text(g.student), _points(g.score), _points(g.max_score), *(points.get(n, "") for n in names)]
        )
    return out.getvalue()


def _failure_text(result: dict[str, Any]) -> list[str]:
    from .report import _case_lines, _numbers

    lines = [f"- **Why:** {result['reason']}"]
    if result.get("case"):
        case = "; ".join(line.strip() for line in _case_lines(result["case"]))
        lines.append("- **Minimal case:** " + case.removeprefix("case: "))
    if result.get("expected") is not None:
        lines.append(f"- **Expected:** `{_numbers(result['expected'])[:800]}`")
    if result.get("got") is not None:
        error = f" (relative error {result['relative_error']:.3g})" if result.get("relative_error") is not None else ""
        lines.append(f"- **Got:** `{_numbers(result['got'])[:800]}`{error}")
    if result.get("where"):
        lines.append(f"- **Where:** {result['where']}")
    if result.get("mistake"):
        m = catalogued(result["mistake"])
        lines.append(f"- **Mistake:** `{m.id}`: {m.title}. Right: {m.fix}.")
    if result.get("trace"):
        lines += ["", "```", *result["trace"].splitlines(), "```"]
    return lines


def feedback(g: Graded) -> str:
    """The student's feedback: the visible checks only."""
    visible = [c for c in g.checks if c["visible"]]
    hidden = len(g.checks) - len(visible)
    lines = [f"# {g.exercise}: {g.student}", ""]
    if g.problem:
        lines += [f"Your submission could not be graded: {g.problem}", ""]
    lines += ["| check | points | result |", "|---|---|---|"]
    for c in visible:
        result = "passed" if c["result"]["passed"] else "failed"
        lines.append(f"| `{c['name']}` | {_points(c['points'])} / {_points(c['max_points'])} | {result} |")
    if hidden:
        lines += ["", f"{hidden} more check{'s are' if hidden > 1 else ' is'} graded but not shown here."]
    for c in visible:
        if not c["result"]["passed"]:
            lines += ["", f"## `{c['name']}` failed", "", *_failure_text(c["result"])]
    lines += ["", f"Check your work yourself: `tinygrad-hw check FILE --exercise {g.exercise}`.", ""]
    return "\n".join(lines)


def gradescope(g: Graded) -> dict[str, Any]:
    """Gradescope's autograder results: a score and one test per check."""
    tests = []
    for number, c in enumerate(g.checks, start=1):
        result = c["result"]
        output = "passed" if result["passed"] else "\n".join(_failure_text(result))
        tests.append(
            {
                "name": c["name"],
                "number": str(number),
                "score": c["points"],
                "max_score": c["max_points"],
                "status": "passed" if result["passed"] else "failed",
                "output": output,
                "output_format": "md",
                "visibility": "visible" if c["visible"] else "hidden",
            }
        )
    return {
        "score": g.score,
        "output": g.problem or f"{g.exercise}: {_points(g.score)} / {_points(g.max_score)}",
        "tests": tests,
    }

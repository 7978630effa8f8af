"""Reproduce the lab report with one command: ``tinygrad-hw report --out DIR``.

Runs the report's results (the 2-8-8-1 sigmoid network, lr 0.1, per-sample SGD, on
the linear and XOR sets) and its discussion (learning rates, hidden units, no
activation function) plus the lab's extras (optimisers, activation functions), each
setting from several seeds (``lab.runs``), and writes ``DIR/report.md`` -- the
original's numbers beside ours, every claim with a verdict the seeds support
(``lab.findings``) -- with its figures in ``DIR/figures`` and every run's history in
``DIR/runs``. Nothing about a result is canned.

The report owns its folder: it is built beside it and swapped in whole.
"""

from __future__ import annotations

import errno
import os
import re
import sys
import time
from pathlib import Path
from typing import IO

from tinygrad_hw.atomic import write_atomic

from .folders import deletion_problem, exchange, prepare_folder, remove_tree
from .lifeline import removed_if_killed, signals_held
from .runs import CONVERGED, Outcome, Setting, plans, run_all
from .sections import TITLE, Figures, discussion, front_matter, how_made, results

__all__ = ["CONVERGED", "REPORT_MARK", "TITLE", "Outcome", "Setting", "write_report"]

REPORT_MARK = ".tinygrad-hw-report"  # in a folder a report wrote: it may be replaced by the next one


def write_report(
    out: str | Path,
    *,
    quick: bool = False,
    engine: str = "replay",
    progress: bool = True,
    file: IO[str] | None = None,
    force: bool = False,
    jobs: int | None = None,
) -> Path:
    """Run every experiment and write ``out/report.md`` with ``figures/`` and ``runs/``;
    return the path of ``report.md``.

    The report owns its folder: it is built in a hidden sibling folder and swapped in
    whole when complete, so an interrupted or killed run leaves the previous report as
    it was and a new one never mixes with an old one's files. A folder holding anything
    but an earlier report is refused unless ``force``, and so is one this user could
    not delete, before any work. What cannot be cleaned up is said on ``file``
    (default: stderr), never passed over."""
    folder = Path(out)
    say = file if file is not None else sys.stderr
    _check_ownership(folder, force)
    prepare_folder(folder.parent)  # the report is built there: a folder we cannot write names itself
    _remove_leftovers(folder, say)
    problem = deletion_problem(folder) if os.path.lexists(folder) else None
    if problem is not None:
        raise PermissionError(
            errno.EACCES, f"cannot replace it: {problem}, so its old report could not be removed", str(folder)
        )
    staging = folder.parent / f".{folder.name}.tghw-{os.getpid()}-building"
    with removed_if_killed([staging]):  # even a SIGKILL leaves no half-built report behind
        try:
            _build_report(staging, quick=quick, engine=engine, progress=progress, jobs=jobs)
            _swap_in(staging, folder, say)
        finally:
            _tell(say, remove_tree(staging))
    return folder / "report.md"


def _is_report(folder: Path) -> bool:
    """A folder an earlier ``tinygrad-hw report`` wrote (marked, or, before the mark
    existed, a report.md under our title)."""
    if (folder / REPORT_MARK).is_file():
        return True
    try:
        with open(folder / "report.md", encoding="utf-8") as f:
            return f.readline().strip() == TITLE
    except (OSError, UnicodeDecodeError):
        return False


def _check_ownership(folder: Path, force: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "is a file, not a folder for the report", str(folder))
    if folder.is_dir() and any(folder.iterdir()) and not _is_report(folder) and not force:
        raise FileExistsError(
            errno.EEXIST,
            "holds files that are not a tinygrad-hw report, and the report replaces its folder whole; "
            "choose another --out, or pass --force to replace it",
            str(folder),
        )


def _swap_in(staging: Path, folder: Path, say: IO[str]) -> None:
    """Put the finished report where the old one was: the two folders exchange names in
    one step where the system can (``staging`` then holds the old report, removed with
    the staging folder); else in two renames, which no Ctrl-C or SIGTERM cuts apart."""
    if not os.path.lexists(folder):
        os.rename(staging, folder)
        return
    if exchange(staging, folder):
        return
    old = folder.parent / f".{folder.name}.tghw-{os.getpid()}-old"
    with signals_held():
        os.rename(folder, old)
        os.rename(staging, folder)
    _tell(say, remove_tree(old))


def _remove_leftovers(folder: Path, say: IO[str]) -> None:
    """What killed runs left beside ``folder``: half-built reports are removed; an old report
    moved aside (a run killed between its two renames) is put back if ``folder`` is gone."""
    pattern = re.compile(rf"^\.{re.escape(folder.name)}\.tghw-(\d+)-(building|old)$")
    for entry in folder.parent.iterdir():
        match = pattern.match(entry.name)
        if not match or (int(match.group(1)) != os.getpid() and _running(int(match.group(1)))):
            continue
        if match.group(2) == "old" and not os.path.lexists(folder):
            os.rename(entry, folder)
            print(f"warning: {folder} was missing: put back the earlier report from {entry}", file=say)
        else:
            _tell(say, remove_tree(entry))


def _tell(say: IO[str], problems: list[str]) -> None:
    """Each thing that could not be removed, one line, and what to do."""
    for problem in problems:
        print(f"warning: could not remove {problem} (left by tinygrad-hw report: remove it by hand)", file=say)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _build_report(folder: Path, *, quick: bool, engine: str, progress: bool, jobs: int | None) -> None:
    """Every experiment run, and report.md with its figures, written into ``folder``."""
    (folder / "figures").mkdir(parents=True)
    (folder / "runs").mkdir()
    (folder / REPORT_MARK).write_text("written by tinygrad-hw report; the next report replaces this folder\n")
    experiments = plans(quick)
    started = time.perf_counter()
    outcomes = run_all(experiments, engine, folder / "runs", progress, jobs=jobs)
    seconds = time.perf_counter() - started
    figures = Figures(folder / "figures")
    runs = len({(s.key, seed) for p in experiments for s in p.settings for seed in p.seeds})
    lines = front_matter(quick, engine, seconds, runs, len(experiments[0].seeds))
    lines += results(outcomes["results"], figures, judged=not quick)
    lines += discussion(experiments[1:], outcomes, figures, judged=not quick)
    lines += how_made(quick, engine, seconds)
    write_atomic(folder / "report.md", "\n".join(lines) + "\n")

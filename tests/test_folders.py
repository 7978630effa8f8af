"""lab.folders: --out made and checked before any work, every failure naming the user's
folder; a report replaces its folder only if this user can delete the old one, and says
what it could not remove (issue 22, defects 13 and 14).

The permission tests run as the unprivileged user 'nobody' in a forked child when the
suite runs as root (root may write anywhere), as tests/test_atomic.py does."""

from __future__ import annotations

import importlib.readers
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable

import pytest

import lab.explain
import lab.report
import viz.gallery
import viz.plots
from lab.cli import main
from lab.folders import deletion_problem, prepare_folder, remove_tree

NOBODY = 65534
# What a command imports late, imported now: the child running as 'nobody' cannot read
# Python's files (under root's home), only use what its parent loaded.
PRELOADED = (importlib.readers, lab.explain, viz.gallery, viz.plots)
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="switches to the user 'nobody', which takes root")


def _as_nobody(argv: list[str] | Callable[[], int], log: Path) -> tuple[int, str]:
    """``main(argv)`` (or ``argv()``) as 'nobody' in a forked child: its exit status and what
    it wrote to stderr."""
    pid = os.fork()
    if pid == 0:
        code = 99
        sys.stderr = open(log, "w")  # flushed below; _exit closes it
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            code = argv() if callable(argv) else main(argv)
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 98
        except BaseException as error:  # told to the parent through the log
            print(f"unexpected {type(error).__name__}: {error}", file=sys.stderr)
        finally:
            sys.stderr.flush()
            os._exit(code)
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    return status, log.read_text()


@pytest.fixture
def shared():
    """A folder anyone may write in (outside pytest's private ones, so 'nobody' can reach it),
    holding ``ro``: root's, read-only to others, with files in it."""
    base = Path(tempfile.mkdtemp())
    base.chmod(0o755)
    folder = base / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    ro = folder / "ro"
    (ro / "figures").mkdir(parents=True)
    (ro / "report.md").write_text("# an earlier report\n")
    (ro / "figures" / "a.png").write_bytes(b"png")
    ro.chmod(0o555)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(base)


# -- defect 13: a report folder this user cannot delete --------------------------------------


@needs_root
def test_report_force_on_a_folder_it_cannot_delete_fails_first_and_leaves_nothing(shared, tmp_path):
    # Before: the new report was swapped in, and the old one left forever as .ro.tghw-PID-old.
    ro = shared / "ro"
    before = sorted(str(p) for p in ro.rglob("*"))
    argv = ["report", "--out", str(ro), "--force", "--no-progress", "--jobs", "1"]
    status, err = _as_nobody(argv, tmp_path / "err.txt")
    assert status == 1 and len(err.strip().splitlines()) == 1, err
    assert f"{ro}: cannot replace it: {ro} is not writable by this user" in err
    assert sorted(p.name for p in shared.iterdir()) == ["ro"]  # no .ro.tghw-*-old, no building folder
    assert sorted(str(p) for p in ro.rglob("*")) == before


@needs_root
def test_a_leftover_it_cannot_remove_is_said_not_passed_over(shared, tmp_path):
    # Before: rmtree(ignore_errors=True) failed silently, on every later run.
    stuck = shared / ".mine.tghw-999999999-old"  # a killed run's, root's, read-only
    (stuck / "runs").mkdir(parents=True)
    (stuck / "runs" / "r.json").write_text("{}")
    (stuck / "runs").chmod(0o555)
    (shared / "mine").mkdir()

    def clean_up() -> int:
        lab.report._remove_leftovers(shared / "mine", sys.stderr)
        return 0

    status, err = _as_nobody(clean_up, tmp_path / "err.txt")
    assert status == 0
    assert f"warning: could not remove {stuck / 'runs' / 'r.json'}: Permission denied" in err
    assert "remove it by hand" in err


def test_deletion_problem_names_what_stands_in_the_way(tmp_path):
    folder = tmp_path / "report"
    (folder / "runs").mkdir(parents=True)
    assert deletion_problem(folder) is None
    assert remove_tree(folder) == [] and not folder.exists()
    assert remove_tree(folder) == []  # gone already: nothing to say


# -- defect 14: an unwritable --out, a symlink loop ------------------------------------------

COMMANDS = {
    "train": ["train", "--epochs", "1", "--no-progress"],
    "moons": ["moons", "--steps", "1"],
    "graph": ["graph"],
    "explain": ["explain"],
    "report": ["report", "--no-progress", "--jobs", "1"],
}


@needs_root
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_unwritable_out_names_the_users_folder(shared, tmp_path, command):
    # Before: train and moons named a random temporary file ("…/ro/tmpagm7ibd1: Permission denied").
    ro = shared / "ro"
    out = ro / "new" if command == "report" else ro  # a report is built beside --out: in ro
    status, err = _as_nobody([*COMMANDS[command], "--out", str(out)], tmp_path / "err.txt")
    assert status == 1, err
    assert err == f"tinygrad-hw {command}: error: {ro}: Permission denied\n"


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("where", ["loop", "loop/inside"])
def test_a_symlink_loop_says_so(tmp_path, capsys, command, where):
    # Before: explain --out LOOP said "File exists".
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(SystemExit) as done:
        main([*COMMANDS[command], "--out", str(tmp_path / where)])
    err = capsys.readouterr().err
    assert done.value.code == 2 and len(err.strip().splitlines()) == 1
    assert f"{tmp_path / where}: Too many levels of symbolic links" in err


def test_prepare_folder_says_what_a_name_that_is_no_folder_is(tmp_path):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(OSError, match="Too many levels of symbolic links") as caught:
        prepare_folder(tmp_path / "loop")
    assert caught.value.filename == str(tmp_path / "loop")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError) as caught:
        prepare_folder(tmp_path / "dangling")
    assert caught.value.filename == str(tmp_path / "dangling")
    assert prepare_folder(tmp_path / "a" / "b") == tmp_path / "a" / "b" and (tmp_path / "a" / "b").is_dir()

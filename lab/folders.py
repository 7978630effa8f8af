"""The folders the commands write into: made and checked before any work, replaced whole,
removed with every failure said -- each problem naming the user's folder, never a
temporary name.

* :func:`prepare_folder`: ``--out`` made, and writable, or one error naming it (a symlink
  loop says so, not "File exists");
* :func:`deletion_problem`: why this user could not delete a folder and all it holds,
  found before a report is built rather than after;
* :func:`exchange`: two folders swap names in one step (Linux), so that a report folder
  is never missing, even for a moment;
* :func:`remove_tree`: ``shutil.rmtree`` that returns what it could not remove.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["deletion_problem", "exchange", "prepare_folder", "remove_tree"]

AT_FDCWD = -100  # from <fcntl.h>
RENAME_EXCHANGE = 2  # from <linux/fs.h>


def prepare_folder(folder: Path) -> Path:
    """Make ``folder`` and check that files can be written into it -- before any work
    whose results would have nowhere to go. Every failure names ``folder``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # there, but not a folder: a symlink loop, a dangling symlink
        os.stat(folder)  # raises what is wrong (ELOOP: "Too many levels of symbolic links")
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(folder)) from None
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:  # the error names the temporary file; the user knows the folder
        raise type(error)(error.errno, error.strerror, str(folder)) from None
    return folder


def deletion_problem(folder: Path) -> str | None:
    """Why this user could not delete ``folder`` and everything in it; None if it could.

    Deleting an entry takes write and search permission on the folder holding it, and
    in a sticky folder (``/tmp``) owning the entry or the folder."""
    problem = _entry_problem(folder.parent, folder)
    if problem is not None:
        return problem
    failures: list[OSError] = []
    for place, folders, files in os.walk(folder, onerror=failures.append):
        here = Path(place)
        if not os.access(here, os.W_OK | os.X_OK):
            return f"{here} is not writable by this user"
        for name in folders + files:
            problem = _entry_problem(here, here / name)
            if problem is not None:
                return problem
    if failures:
        return f"{failures[0].filename}: {failures[0].strerror}"
    return None


def _entry_problem(holder: Path, entry: Path) -> str | None:
    """Why ``entry`` could not be removed from ``holder`` by this user; None if it could."""
    if not os.access(holder, os.W_OK | os.X_OK):
        return f"{holder} is not writable by this user"
    user = os.geteuid()
    if user == 0:
        return None
    try:
        sticky = os.stat(holder).st_mode & stat.S_ISVTX
        if sticky and user not in (os.stat(holder).st_uid, os.lstat(entry).st_uid):
            return f"{entry} belongs to another user, in a folder where only owners may delete"
    except OSError as error:
        return f"{error.filename}: {error.strerror}"
    return None


def exchange(a: Path, b: Path) -> bool:
    """Swap the names of ``a`` and ``b`` in one step (``renameat2(RENAME_EXCHANGE)``); False
    where the system or the file system cannot, and nothing was changed."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:  # a C library older than glibc 2.28
        return False
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def remove_tree(folder: Path) -> list[str]:
    """Remove ``folder`` and all it holds, as far as possible; return a line for each thing
    that could not be removed (none if ``folder`` is gone, or was never there)."""
    if not os.path.lexists(folder):
        return []
    problems: list[str] = []

    def note(function: Any, path: str, failure: Any) -> None:
        error = failure if isinstance(failure, BaseException) else failure[1]
        problems.append(f"{path}: {getattr(error, 'strerror', None) or error}")

    if sys.version_info >= (3, 12):
        shutil.rmtree(folder, onexc=note)
    else:
        shutil.rmtree(folder, onerror=note)
    return problems

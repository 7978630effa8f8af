"""A submission as the grader holds it: its name and its files, read once, as bytes.

A submission is a ``.py`` file, or a folder whose main file is named after the exercise
(``network.py``), or ``submission.py``, or is its only ``.py`` file. Holding the bytes
(not a path) lets a submission travel to another machine (Dask) and be copied into each
child's fresh folder; nothing of the teacher's folders is ever shown to the child.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 5 << 20  # a submission larger than this is refused
MAX_FILES = 200

__all__ = ["Submission", "SubmissionError", "find_submissions"]


class SubmissionError(ValueError):
    """A submission that cannot be read as one (too large, no main file, ...)."""


@dataclass(frozen=True)
class Submission:
    name: str
    entry: str  # the main file, relative to the submission's folder
    files: tuple[tuple[str, bytes], ...]  # (relative path, content)

    @classmethod
    def read(cls, path: str | os.PathLike[str], exercise: str, name: str | None = None) -> Submission:
        """The submission at ``path`` (a ``.py`` file or a folder), named by its stem."""
        path = Path(path)
        if path.is_file():
            if path.stat().st_size > MAX_BYTES:
                raise SubmissionError(f"{path}: larger than {MAX_BYTES >> 20} MB")
            return cls(name or path.stem, path.name, ((path.name, path.read_bytes()),))
        if not path.is_dir():
            raise SubmissionError(f"{path}: no such file or folder")
        files = _folder_files(path)
        return cls(name or path.name, _entry(path, [p for p, _ in files], exercise), tuple(files))

    def write_into(self, folder: Path) -> None:
        """Copy the files into ``folder`` (fresh, the child's own)."""
        for relative, content in self.files:
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)


def _folder_files(folder: Path) -> list[tuple[str, bytes]]:
    files: list[tuple[str, bytes]] = []
    total = 0
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__pycache__")))
        for name in sorted(names):
            if name.startswith(".") or name.endswith(".pyc"):
                continue
            path = Path(root) / name
            if path.is_symlink() or not path.is_file():
                continue  # a link could point at another student's work
            total += path.stat().st_size
            if total > MAX_BYTES or len(files) >= MAX_FILES:
                raise SubmissionError(f"{folder}: more than {MAX_BYTES >> 20} MB or {MAX_FILES} files")
            files.append((path.relative_to(folder).as_posix(), path.read_bytes()))
    return files


def _entry(folder: Path, files: list[str], exercise: str) -> str:
    top = [f for f in files if "/" not in f and f.endswith(".py")]
    for wanted in (f"{exercise}.py", "submission.py"):
        if wanted in top:
            return wanted
    if len(top) == 1:
        return top[0]
    if not top:
        raise SubmissionError(f"{folder}: no .py file in it")
    raise SubmissionError(f"{folder}: several .py files; name the main one {exercise}.py")


def find_submissions(
    folder: str | os.PathLike[str], exercise: str, leave_out: tuple[str | os.PathLike[str], ...] = ()
) -> list[Path]:
    """The submissions in a class folder: its ``.py`` files and its folders, by name, but
    for ``leave_out`` (the grader's own output folder, when it is in there)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SubmissionError(f"{folder}: not a folder of submissions")
    ours = {Path(p).resolve() for p in leave_out}
    found = [
        p
        for p in sorted(folder.iterdir())
        if not p.name.startswith((".", "_"))
        and ((p.is_file() and p.suffix == ".py") or p.is_dir())
        and p.resolve() not in ours
    ]
    if not found:
        raise SubmissionError(f"{folder}: no submissions in it (.py files or folders)")
    return found

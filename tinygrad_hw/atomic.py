"""Write a file all at once, or not at all.

Everything tinygrad_hw writes (models, histories, figures, reports) goes
through :func:`write_atomic`: the content goes into a temporary file beside the
target, which is then renamed over it, so a crash or a Ctrl-C midway leaves the
old file (or none), never half of one. Beyond the rename, it behaves as
``open(path, "w")`` would for the user:

* a symlink is written through: its target gets the new content, the link stays;
* an existing file keeps its permission bits (a private 0600 file stays private)
  and, where allowed, its owner;
* a file the user may not write is refused with ``PermissionError`` naming the
  user's path, and left as it was;
* every error names the user's path, never the temporary file.

Temporary files are named ``.tghw-<pid>-<random>.tmp`` (short, whatever the
target's name). One left behind by a killed process is recognisable by that
name and removed by the next write into the same folder.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
import threading
import time
from pathlib import Path
from typing import BinaryIO, Callable, Union

__all__ = ["LEFTOVER", "PathLike", "write_atomic"]

PathLike = Union[str, "os.PathLike[str]"]
LEFTOVER = re.compile(r"^\.tghw-(\d+)-[A-Za-z0-9_]+\.tmp$")  # our temporary files
STALE_AFTER = 24 * 3600.0  # seconds: a leftover this old is removed even if its pid is in use again

_in_progress: set[str] = set()  # this process's temporary files being written right now
_lock = threading.Lock()


def write_atomic(path: PathLike, data: str | bytes = b"", writer: Callable[[BinaryIO], None] | None = None) -> Path:
    """Replace ``path`` with ``data`` (text is written as UTF-8), or with what
    ``writer(file)`` writes into the open binary file; return the path written.
    """
    shown = os.fspath(path)
    if not shown:
        raise FileNotFoundError(errno.ENOENT, "an empty path names no file", shown)
    target = Path(os.path.realpath(shown))  # through symlinks, as open() goes
    existing = _check_target(target, shown)
    _remove_leftovers(target.parent)
    temporary: str | None = None
    try:
        handle, temporary = _create_temporary(target.parent, shown)
        with os.fdopen(handle, "wb") as f:
            if writer is None:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
            else:
                writer(f)
            f.flush()
            os.fsync(f.fileno())
        _copy_metadata(existing, temporary)
        os.replace(temporary, target)
        temporary = None
        _sync_folder(target.parent)
    except OSError as error:
        raise _naming(error, shown, temporary) from None
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
            with _lock:
                _in_progress.discard(temporary)
    return Path(shown)


def _check_target(target: Path, shown: str) -> os.stat_result | None:
    """The target's current status (None if new); refuse what ``open(path, "w")`` would."""
    try:
        status = target.stat()
    except FileNotFoundError:
        if not target.parent.is_dir():
            raise FileNotFoundError(errno.ENOENT, "no such folder", shown) from None
        return None
    if stat.S_ISDIR(status.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder", shown)
    if not stat.S_ISREG(status.st_mode):
        raise OSError(errno.EINVAL, "not a regular file; nothing was written", shown)
    try:  # may this user write it? Opening without truncating asks the system and changes nothing
        os.close(os.open(target, os.O_WRONLY | getattr(os, "O_NONBLOCK", 0)))
    except OSError as error:
        raise type(error)(error.errno, error.strerror, shown) from None
    return status


def _create_temporary(folder: Path, shown: str) -> tuple[int, str]:
    with _lock:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".tghw-{os.getpid()}-", suffix=".tmp")
        _in_progress.add(temporary)
    return handle, temporary


def _copy_metadata(existing: os.stat_result | None, temporary: str) -> None:
    """The replaced file's permission bits and owner, or what ``open()`` gives a new file."""
    if existing is None:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        return
    if hasattr(os, "chown"):
        try:
            os.chown(temporary, existing.st_uid, existing.st_gid)
        except OSError:  # only root may give a file away; the owner stays the writer
            pass
    os.chmod(temporary, stat.S_IMODE(existing.st_mode))


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (where the system allows opening a folder)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _naming(error: OSError, shown: str, temporary: str | None) -> OSError:
    """The same error, naming the user's path instead of the temporary file."""
    named = error.filename
    if named is not None and named != temporary and not LEFTOVER.match(Path(os.fsdecode(named)).name):
        return error  # it names something else (the folder, say): keep it
    if error.errno is None:
        return type(error)(f"{error} (writing {shown})")
    return type(error)(error.errno, error.strerror, shown)


def _remove_leftovers(folder: Path) -> None:
    """Delete temporary files that a killed or interrupted write left in ``folder``."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        match = LEFTOVER.match(entry.name)
        if match is None:
            continue
        with _lock:
            if entry.path in _in_progress:
                continue
        try:
            stale = now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER
            if stale or not _alive(int(match.group(1))):
                os.unlink(entry.path)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would terminate it there; age alone decides
        return True
    if pid == os.getpid():
        return False  # ours, and not in progress: an earlier write of this process was cut short
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True

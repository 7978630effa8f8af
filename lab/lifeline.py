"""Processes that end with the one that started them, and folders that go with it.

``tinygrad-hw report`` forks workers and builds its report in a hidden folder beside
``--out``. Killed from outside -- SIGTERM, or SIGKILL, which no handler sees -- it must
leave neither: workers left running are re-parented to init, blocked on a pipe, holding
the caller's stdout and stderr (a caller reading them never sees them close), and a
half-built folder lies there until the next report.

* :func:`die_with_parent`, called first in each worker, asks Linux to SIGKILL the worker
  when its parent dies (``prctl(PR_SET_PDEATHSIG)``);
* :func:`removed_if_killed` forks a small watcher that does nothing while its parent
  lives, and removes the given folders if the parent dies inside the block. It holds no
  file of the caller's open, so a caller reading the output is not kept waiting.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

__all__ = ["HELD", "die_with_parent", "let_signals_go", "removed_if_killed", "signals_held"]

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
WATCH_EVERY = 0.05  # seconds between the watcher's looks at its parent
HELD = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))


@contextmanager
def signals_held(signums: Sequence[int] = HELD) -> Iterator[None]:
    """``signums`` (Ctrl-C and SIGTERM) wait until the block ends, where the system can hold
    signals. Around a fork this matters: a signal arriving as it returns runs its Python
    handler inside an at-fork callback, where the KeyboardInterrupt it raises is printed
    and dropped ("Exception ignored in _releaseLock") and the program runs on. A child
    forked in the block starts with them held too, and lets them go itself."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, set(signums))
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def let_signals_go(signums: Sequence[int] = HELD) -> None:
    """In a child forked inside :func:`signals_held`: receive ``signums`` again."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, set(signums))


def die_with_parent(parent: int) -> None:
    """End this process (a fork of ``parent``) when ``parent`` dies, however it dies.

    On Linux the kernel sends SIGKILL; elsewhere this does nothing (the parent's own
    handlers then end the workers on SIGINT and SIGTERM, but not on SIGKILL). A parent
    that died before this call is noticed here, and this process ends at once."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


@contextmanager
def removed_if_killed(folders: Sequence[Path]) -> Iterator[None]:
    """Within the block, if this process dies (even by SIGKILL), ``folders`` are removed by
    a watcher process, which then ends. When the block ends the watcher is ended first,
    so what the block leaves on purpose stays."""
    if not hasattr(os, "fork"):  # Windows: no watcher; the next report removes what is left
        yield
        return
    parent = os.getpid()
    with signals_held():
        watcher = os.fork()
    if watcher == 0:
        _watch(parent, folders)  # never returns
    try:
        yield
    finally:
        os.kill(watcher, signal.SIGKILL)
        os.waitpid(watcher, 0)


def _watch(parent: int, folders: Sequence[Path]) -> None:
    """The watcher: deaf to the signals meant for its parent, holding none of its files,
    waiting for it to die, then removing ``folders`` (best effort: nobody is left to
    tell; the next report names what it cannot remove)."""
    try:
        for signum in HELD:  # Ctrl-C reaches the whole group, SIGTERM a kill of it: the parent handles them
            signal.signal(signum, signal.SIG_IGN)
        let_signals_go()
        nothing = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(nothing, fd)
        os.closerange(3, _highest_fd() + 1)
        while os.getppid() == parent:
            time.sleep(WATCH_EVERY)
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        os._exit(0)


def _highest_fd() -> int:
    try:
        return max(int(fd) for fd in os.listdir("/proc/self/fd"))
    except (OSError, ValueError):
        return 1023

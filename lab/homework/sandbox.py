"""The grader's side of the pipe: one child process per submission, confined, restarted
after a crash, and never trusted.

The child (``runner.py``) gets the inputs of each call and sends back plain JSON: a
number or nested lists of numbers, or what went wrong. This side reads at most
``MAX_LINE`` bytes per answer and ``MAX_TOTAL`` in all, gives each answer
``Limits.call_seconds``, and turns a hang, a crash or junk into a :class:`Failure` of
the call that caused it. A function that hung or crashed the child is not called
again; the child is restarted for the others.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .protocol import Call, Died, Failure, Limits, Outcome, clean, failure, outcome, parse
from .shown import escape_controls
from .submission import Submission

__all__ = ["Sandbox"]

RUNNER = Path(__file__).with_name("runner.py")
CONFINE = Path(__file__).with_name("confine.py")
MAX_LINE = 1 << 20  # bytes of one answer (a right one takes a few KB; see protocol.allowed)
MAX_TOTAL = 256 << 20  # bytes of all answers from one child
PRINTED = 4000  # characters of what the submission printed, kept for the feedback
_jobs = 0


@dataclass
class _Child:
    process: subprocess.Popen[bytes]
    requests: int
    answers: int
    workdir: Path
    output: Any
    pid: int = 0
    pidfd: int = -1
    buffer: bytearray = field(default_factory=bytearray)
    received: int = 0


class Sandbox:
    """Runs one submission's functions in a confined child; ``call_many`` then ``close``
    (or use it as a context manager)."""

    def __init__(self, submission: Submission, limits: Limits | None = None) -> None:
        self.submission = submission
        self.limits = limits or Limits()
        self.notes: dict[str, str] = {}
        self.load_failure: Failure | None = None
        self.dead: dict[str, Failure] = {}
        self.printed = ""
        self.starts = 0
        self.killed_cpu = 0.0  # CPU seconds of processes killed before anyone waited for them
        self._child: _Child | None = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call_many(self, calls: list[Call]) -> list[Outcome]:
        """Each call's outcome, in order. Calls go in one batch; after a hang or a crash
        the child restarts for the calls left."""
        results: list[Outcome | None] = [None] * len(calls)
        while True:
            for i, call in enumerate(calls):
                if results[i] is None:
                    failure = self.load_failure or self.dead.get(call.function)
                    if failure is not None:
                        results[i] = failure
            todo = [i for i, r in enumerate(results) if r is None]
            if not todo:
                return [r for r in results if r is not None]
            if self._child is None:
                self._start()
                continue  # a load failure fills the rest
            self._exchange([(i, calls[i]) for i in todo], results)

    def close(self) -> None:
        if self._child is not None:
            self._stop(graceful=True)

    # -- the child ----------------------------------------------------------------------

    def _start(self) -> None:
        if self.starts > 8:
            self.load_failure = Failure("the program was restarted 8 times: given up", "crash")
            return
        self.starts += 1
        workdir = Path(tempfile.mkdtemp(prefix="tghw-"))
        self.submission.write_into(workdir)
        uid = _job_uid() if os.geteuid() == 0 else None
        if uid is not None:
            _give(workdir, uid)
        output = tempfile.TemporaryFile()
        requests_r, requests_w = os.pipe()
        answers_r, answers_w = os.pipe()
        config = {
            "workdir": str(workdir),
            "entry": self.submission.entry,
            "requests": requests_r,
            "answers": answers_w,
            "uid": uid,
            "confine": str(CONFINE),
            "limits": {
                "cpu": self.limits.cpu_seconds,
                "memory": self.limits.memory_mb << 20,
                "file": self.limits.output_kb << 10,
                "processes": self.limits.processes,
                "disk": self.limits.disk_mb << 20,
            },
        }
        env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "HOME": str(workdir),
            "TMPDIR": str(workdir),
            **{f"{lib}_NUM_THREADS": "1" for lib in ("OPENBLAS", "OMP", "MKL")},
        }
        try:
            process = subprocess.Popen(
                [sys.executable, "-I", str(RUNNER), json.dumps(config)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                pass_fds=(requests_r, answers_w),
                cwd=workdir,
                env=env,
                start_new_session=True,
            )
        finally:
            os.close(requests_r)
            os.close(answers_w)
        os.set_blocking(requests_w, False)
        os.set_blocking(answers_r, False)
        self._child = _Child(process, requests_w, answers_r, workdir, output)
        self._wait_ready()

    def _wait_ready(self) -> None:
        child = self._child
        assert child is not None
        deadline = time.monotonic() + self.limits.load_seconds
        try:
            first = self._message(deadline)
            if "sandbox" not in first:
                raise Died(Failure("the program could not be started", "crash"))
            self.notes.update({clean(k, 40): clean(v, 200) for k, v in dict(first["sandbox"]).items()})
            child.pid = int(first["pid"])
            child.pidfd = _pidfd(child.pid)
            second = self._message(deadline)
        except Died as died:
            self.load_failure = _at_load(died.failure, self.limits)
            self._stop()
            return
        if "ready" in second:
            notes = second["ready"].get("sandbox", {}) if isinstance(second["ready"], dict) else {}
            self.notes.update({clean(k, 40): clean(v, 200) for k, v in dict(notes).items()})
            return
        loaded = failure(second.get("load_error"), "load", self.limits)
        at = f" ({loaded.where})" if loaded.where else ""
        self.load_failure = Failure(f"while loading the file: {loaded.reason}{at}", "load", loaded.where, loaded.trace)
        self._stop()

    def _stop(self, graceful: bool = False) -> None:
        child = self._child
        if child is None:
            return
        self._child = None
        for fd in (child.requests, child.answers):
            try:
                os.close(fd)
            except OSError:
                pass
        try:  # no more requests: a well-behaved child ends by itself (and its CPU time is counted)
            if graceful:
                child.process.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
        if child.process.poll() is None and child.pid:
            self.killed_cpu += _cpu_below(child.pid)
        _kill(child)
        try:
            child.output.seek(0)
            printed = escape_controls(child.output.read(PRINTED).decode("utf-8", "replace"))
            self.printed = self.printed or printed
        finally:
            child.output.close()
            if child.pidfd >= 0:
                os.close(child.pidfd)
            shutil.rmtree(child.workdir, ignore_errors=True)

    # -- talking ------------------------------------------------------------------------

    def _exchange(self, todo: list[tuple[int, Call]], results: list[Outcome | None]) -> None:
        child = self._child
        assert child is not None
        batch = [
            {"i": i, "fn": c.function, "args": list(c.args), "kinds": list(c.kinds), "numbers": c.numbers}
            for i, c in todo
        ]
        outgoing = bytearray((json.dumps({"calls": batch}, allow_nan=True) + "\n").encode())
        for i, call in todo:
            try:
                message = self._message(time.monotonic() + self.limits.call_seconds, outgoing)
                if message.get("i") != i:
                    raise Died(Failure("wrote something other than an answer on the grader's pipe", "junk"))
            except Died as died:
                failure = died.failure
                if failure.kind == "timeout":
                    failure = Failure(
                        f"did not return within {self.limits.call_seconds:g} s (an endless loop?)", "timeout"
                    )
                self.dead[call.function] = failure
                results[i] = failure
                self._stop()
                return
            results[i] = outcome(message, self.limits, call.numbers)

    def _message(self, deadline: float, outgoing: bytearray | None = None) -> dict[str, Any]:
        """The next JSON line from the child, writing ``outgoing`` meanwhile."""
        child = self._child
        assert child is not None
        with selectors.DefaultSelector() as selector:
            selector.register(child.answers, selectors.EVENT_READ)
            if outgoing:
                selector.register(child.requests, selectors.EVENT_WRITE)
            while True:
                end = child.buffer.find(b"\n")
                if end >= 0:
                    line = bytes(child.buffer[:end])
                    del child.buffer[: end + 1]
                    return parse(line, self.limits)
                if len(child.buffer) > MAX_LINE:
                    raise Died(Failure(f"sent an answer larger than {MAX_LINE >> 20} MB", "junk"))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Died(Failure("timed out", "timeout"))
                for key, _ in selector.select(left):
                    if key.fd == child.requests:
                        self._write(outgoing, selector)
                    else:
                        self._read()

    def _write(self, outgoing: bytearray | None, selector: selectors.BaseSelector) -> None:
        child = self._child
        assert child is not None and outgoing is not None
        try:
            del outgoing[: os.write(child.requests, outgoing[: 1 << 16])]
        except BlockingIOError:
            return
        except BrokenPipeError:
            outgoing.clear()
        if not outgoing:
            selector.unregister(child.requests)

    def _read(self) -> None:
        child = self._child
        assert child is not None
        try:
            chunk = os.read(child.answers, 1 << 16)
        except BlockingIOError:
            return
        if not chunk:
            raise Died(Failure("the sandbox ended without a word", "crash"))
        child.received += len(chunk)
        if child.received > MAX_TOTAL:
            raise Died(Failure(f"sent more than {MAX_TOTAL >> 20} MB of answers", "junk"))
        child.buffer += chunk


def _at_load(failure: Failure, limits: Limits) -> Failure:
    if failure.kind == "timeout":
        return Failure(f"the file did not finish loading within {limits.load_seconds:g} s (an endless loop?)", "load")
    return Failure(f"while loading the file: {failure.reason}", "load", failure.where, failure.trace)


def _job_uid() -> int:
    """A high uid of this job's own, so that its process limit counts only its processes:
    512 per grading process (22 bits of pid, 9 of a count; a process runs one sandbox at a
    time, so its 513th may take its 1st's), never one of another process's."""
    global _jobs
    _jobs += 1
    return 1_000_000_000 + (os.getpid() % (1 << 22)) * 512 + _jobs % 512


def _give(folder: Path, uid: int) -> None:
    for root, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            os.chown(os.path.join(root, name), uid, uid)
    os.chown(folder, uid, uid)
    folder.chmod(0o700)


def _cpu_below(pid: int) -> float:
    """CPU seconds used so far by ``pid`` and every process below it (from /proc), for
    processes about to be killed: no one will wait for them, so rusage never counts them."""
    ticks, todo, seen = 0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            with open(f"/proc/{current}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
            with open(f"/proc/{current}/task/{current}/children", encoding="ascii") as f:
                todo += [int(p) for p in f.read().split()]
        except (OSError, ValueError, IndexError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def _pidfd(pid: int) -> int:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return -1


def _kill(child: _Child) -> None:
    """End the sandbox's pid 1 (and so every process in its namespace), then the process
    that waited for it."""
    try:
        if child.pidfd >= 0:
            signal.pidfd_send_signal(child.pidfd, signal.SIGKILL)
        elif child.pid:
            os.kill(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass
    try:
        os.killpg(child.process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        child.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass

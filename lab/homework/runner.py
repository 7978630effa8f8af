"""The student's side of the pipe: run in a child process as ``python -I runner.py CONFIG``.

Standard library only (and numpy, preloaded for the student). It confines itself
(``confine.py``), loads the submission, then answers the grader's calls: each request
line is a batch of calls, each answer one JSON line on a pipe of its own (never stdout,
which goes to a capped file). It sends plain numbers and lists only; the grader parses
them as data and compares them itself, so nothing here is trusted.

Processes: this one waits outside; pid 1 of a new pid namespace waits for the student's
process (pid 2) and reports how it ended; when pid 1 ends, so does everything in it.
Messages sent: ``{"sandbox": {...}, "pid": N}`` (N: pid 1, as the grader sees it), then
``{"ready": {...}}`` or ``{"load_error": {...}}``, one ``{"i": k, "ok": value}`` or
``{"i": k, "error": ..., "where": ..., "trace": ...}`` per call, and finally
``{"exit": "..."}`` when the student's process has ended.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sys
import sysconfig
import tokenize
import traceback
import types
from typing import Any

MAX_NUMBERS = 1_000_000  # in one answer, whatever the call
MAX_SOURCE = 1 << 20  # bytes of the submission's main file
_numpy: Any = None


def main() -> None:
    config = json.loads(sys.argv[1])
    answers = config["answers"]
    confine = _load(config["confine"])
    _preload_numpy()  # before unshare: a process in a new pid namespace may not start threads
    readable = _readable()  # before unshare too: a new user namespace may not read what we could
    outside = {"uid": os.getuid(), "processes": confine.own_processes()}
    notes = confine.isolate()
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid:  # outside: tell the grader the sandbox's pid, then wait for it
        os.close(ready_r)
        _send(answers, {"sandbox": notes, "pid": pid})
        os.write(ready_w, b"go")
        os.close(ready_w)
        os.close(config["requests"])
        _, status = os.waitpid(pid, 0)
        if status != 0:
            _last_word(answers, {"exit": f"the sandbox ended: {_status(status)}"})
        os._exit(0)
    os.close(ready_w)
    os.read(ready_r, 2)
    os.close(ready_r)
    student = os.fork()
    if student:  # pid 1 of the namespace: when it ends, every process in it ends
        os.close(config["requests"])
        _, status = os.waitpid(student, 0)
        _last_word(answers, {"exit": _status(status)})
        os._exit(0)
    # the student's process: an ordinary one (pid 1 would ignore SIGXCPU and SIGXFSZ)
    notes.update(_confine(confine, config, readable, outside))
    _serve(config, notes)
    os._exit(0)


def _load(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("_tghw_confine", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _preload_numpy() -> None:
    global _numpy
    try:
        import numpy
    except ImportError:
        return
    _numpy = numpy


def _status(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"signal {name}"
    return f"exit {os.waitstatus_to_exitcode(status)}"


def _readable() -> list[str]:
    """What the student's process may read: the interpreter's library, numpy, system libraries."""
    paths = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib")}
    paths |= {os.path.dirname(os.__file__), os.path.join(sysconfig.get_paths()["platstdlib"], "lib-dynload")}
    paths |= {p for p in sys.path if p.endswith("lib-dynload")}
    if _numpy is not None:
        here = os.path.dirname(_numpy.__file__)
        paths |= {here, here + ".libs"}
    paths |= {"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/etc/ld.so.cache", "/dev/urandom"}
    return sorted(paths)


def _confine(confine: Any, config: dict[str, Any], readable: list[str], outside: dict[str, int]) -> dict[str, str]:
    limits = config["limits"]
    notes = {"disk": confine.own_disk(config["workdir"], limits["disk"], config["uid"])}
    os.chdir(config["workdir"])  # (after the mount: the folder is the tmpfs now)
    processes = limits["processes"] + outside["processes"]
    notes["limits"] = confine.limit(limits["cpu"], limits["memory"], limits["file"], processes)
    notes["user"] = confine.drop_root(config["uid"], outside["uid"])
    notes["files"] = confine.landlock(readable, [config["workdir"], "/dev/null"])
    notes["sockets"] = notes["forks"] = confine.refuse_sockets_and_processes()
    return notes


# -- serving --------------------------------------------------------------------------------


def _send(fd: int, message: dict[str, Any]) -> None:
    data = (json.dumps(message, allow_nan=True) + "\n").encode()
    while data:
        data = data[os.write(fd, data) :]


def _last_word(fd: int, message: dict[str, Any]) -> None:
    """How the student's process ended, if the grader is still listening."""
    try:
        _send(fd, message)
    except OSError:
        pass


def _serve(config: dict[str, Any], notes: dict[str, str]) -> None:
    answers, workdir = config["answers"], config["workdir"]
    me = os.getpid()
    # A process the student's code forks ends at once: a fork bomb stops at the first
    # fork, and the call that forked fails (its zombies are reaped after it).
    # (os.fork is refused where seccomp works: ``before`` still says it was tried)
    os.register_at_fork(before=lambda: _forked.append(1), after_in_child=lambda: os._exit(0))
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # past the output limit the process ends (Python ignores it)
    sys.path.insert(0, workdir)
    try:
        module = _load_submission(os.path.join(workdir, config["entry"]), workdir)
    except BaseException as error:  # the student's code: anything at all
        if os.getpid() != me:
            os._exit(0)
        _send(answers, {"load_error": _describe(error, workdir)})
        return
    if os.getpid() != me:
        os._exit(0)
    _flush()
    _send(answers, {"ready": {"sandbox": notes}})
    with os.fdopen(config["requests"], "rb") as requests:
        for line in requests:
            for call in json.loads(line)["calls"]:
                answer = _call(module, call, workdir)
                if os.getpid() != me:  # a copy the student forked: it never answers
                    os._exit(0)
                _flush()
                _send(answers, answer)


def _flush() -> None:
    """What the student printed so far, into the output file (``os._exit`` would drop it)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # the output limit, or a stream the student replaced
            pass


def _load_submission(path: str, workdir: str) -> types.ModuleType:
    with open(path, "rb") as f:
        source = f.read(MAX_SOURCE + 1)
    if len(source) > MAX_SOURCE:
        raise ValueError(f"the file is larger than {MAX_SOURCE >> 20} MB")
    encoding, _ = tokenize.detect_encoding(iter(source.splitlines(keepends=True)).__next__)
    try:
        text = source.decode(encoding)
    except UnicodeDecodeError as error:
        line = source[: error.start].count(b"\n") + 1
        bad = source[error.start]
        raise _NotText(f"the file is not {encoding} text: byte 0x{bad:02x} on line {line} (save it as UTF-8)") from None
    code = compile(text, path, "exec", dont_inherit=True)
    module = types.ModuleType("submission")
    module.__file__ = path
    sys.modules["submission"] = module
    exec(code, module.__dict__)
    return module


class _NotText(Exception):
    pass


def _call(module: types.ModuleType, call: dict[str, Any], workdir: str) -> dict[str, Any]:
    name = call["fn"]
    function = module.__dict__.get(name)
    if not callable(function):
        return {"i": call["i"], "error": f"the file defines no function {name}()", "kind": "missing"}
    _forked.clear()
    try:
        args = [_argument(kind, value) for kind, value in zip(call["kinds"], call["args"])]
        result = function(*args)
        answer = {"i": call["i"], "ok": _plain(result, int(call["numbers"]))}
    except BaseException as error:  # the student's code: anything at all
        answer = {"i": call["i"], **_describe(error, workdir)}
    if _forked:
        _reap()
        return {"i": call["i"], "error": "started a process (os.fork): the sandbox allows none", "kind": "exception"}
    return answer


_forked: list[int] = []


def _reap() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def _argument(kind: str, value: Any) -> Any:
    """A fresh argument for each call (a function that changes its input in place changes
    nothing for the next call)."""
    if kind == "array":
        return _numpy.array(value, dtype=float)
    if kind == "arrays":
        return [_numpy.array(v, dtype=float) for v in value]
    return float(value)


class _Refused(Exception):
    """What was returned is not numbers."""


def _allowed(numbers: int) -> int:
    """As ``protocol.allowed`` (which the grader enforces): the numbers an answer may hold."""
    return min(4 * numbers + 64, MAX_NUMBERS)


def _count(numbers: int) -> str:
    return f"{numbers} number{'s' if numbers != 1 else ''}"


def _plain(value: Any, numbers: int, depth: int = 0, count: list[int] | None = None) -> Any:
    """A number, or nested lists of numbers (an array as ``tolist`` gives it), of at most
    ``_allowed(numbers)`` numbers (``numbers``: how many the right answer holds)."""
    count = [0] if count is None else count
    most = _allowed(numbers)
    if depth > 4:
        raise _Refused("returned lists nested more than 4 deep")
    if _numpy is not None and isinstance(value, _numpy.ndarray):
        value = _numpy.asarray(value)  # the numbers, not a subclass's methods (its tolist may lie)
        if value.dtype.kind not in "biuf":
            raise _Refused(f"returned an array of {value.dtype}, not numbers")
        count[0] += value.size
        if count[0] > most:
            raise _Refused(f"returned an array of {_count(value.size)}; the answer has {_count(numbers)}")
        return value.astype(float).tolist()
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes, complex, dict)):
        raise _Refused(f"returned {_kind(value)}, not a number")
    if isinstance(value, (list, tuple)):
        if len(value) > most:
            raise _Refused(f"returned a list of {len(value)} items; the answer has {_count(numbers)}")
        return [_plain(v, numbers, depth + 1, count) for v in value]
    if isinstance(value, (int, float)) or (_numpy is not None and isinstance(value, _numpy.generic)):
        if _numpy is not None and isinstance(value, _numpy.generic) and value.dtype.kind not in "biuf":
            raise _Refused(f"returned a numpy {value.dtype}, not a real number")
        count[0] += 1
        if count[0] > most:
            raise _Refused(f"returned more than {most} numbers; the answer has {_count(numbers)}")
        return float(value)
    raise _Refused(f"returned {_kind(value)}, not a number")


def _kind(value: Any) -> str:
    if value is None:
        return "None"
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiouAEIOU' else 'a'} {name}"


def _describe(error: BaseException, workdir: str) -> dict[str, Any]:
    """One line saying what went wrong, where in the student's files, and the traceback
    trimmed to those files."""
    if isinstance(error, _Refused):
        return {"error": _text(error), "kind": "type"}
    if isinstance(error, _NotText):
        return {"error": _text(error), "kind": "encoding"}
    if isinstance(error, SystemExit):
        return {"error": f"called sys.exit({_text(error)})", "kind": "exit"}
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith(workdir + os.sep)]
    shown = [(os.path.relpath(f.filename, workdir), f.lineno, f.name, (f.line or "").strip()) for f in frames]
    if isinstance(error, SyntaxError) and error.filename and error.filename.startswith(workdir + os.sep):
        shown.append((os.path.relpath(error.filename, workdir), error.lineno, "<module>", (error.text or "").strip()))
        message = f"SyntaxError: {error.msg}"
    else:
        message = f"{type(error).__name__}: {_text(error)}" if _text(error) else type(error).__name__
    trace = [f"{file}, line {line}, in {name}" + (f"\n    {text}" if text else "") for file, line, name, text in shown]
    where = trace[-1].splitlines()[0] if trace else ""
    return {"error": message, "where": where, "trace": "\n".join([*trace[-12:], message]), "kind": "exception"}


def _text(error: BaseException) -> str:
    try:
        text = str(error)
    except BaseException:  # an exception whose str() fails
        return "(an exception that cannot be printed)"
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first[:300] + ("…" if len(first) > 300 else "")


if __name__ == "__main__":
    main()

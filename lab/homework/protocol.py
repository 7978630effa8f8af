"""What passes between the grader and a submission's child process, and how the grader
reads it: never trusted, parsed as data, every way of going wrong one :class:`Failure`.

The child sends one JSON line per message (see ``runner.py``); an answer is a number or
nested lists of numbers (NaN allowed, to be judged), anything else a failure of the call
it answers. :func:`parse` turns a line into a message or a ``Died`` (junk, or the child's
last word: how its process ended).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Union

from .shown import escape_controls

__all__ = [
    "MAX_NUMBERS",
    "Call",
    "Died",
    "Failure",
    "Limits",
    "Outcome",
    "Returned",
    "allowed",
    "clean",
    "ended",
    "failure",
    "outcome",
    "parse",
]

MAX_NUMBERS = 1_000_000  # in one answer, whatever the call


def allowed(numbers: int) -> int:
    """How many numbers an answer may hold when the right one holds ``numbers``: room for
    any wrong shape worth judging, and not for a million numbers the grader would keep
    (it keeps the answer of every case tried)."""
    return min(4 * numbers + 64, MAX_NUMBERS)


def _count(numbers: int) -> str:
    return f"{numbers} number{'s' if numbers != 1 else ''}"


@dataclass(frozen=True)
class Limits:
    """What a submission may use. Times are wall-clock seconds, except ``cpu_seconds``."""

    call_seconds: float = 2.0  # one call, from the previous answer
    load_seconds: float = 10.0  # starting the child and loading the file
    cpu_seconds: int = 10  # CPU time of the child, over all its calls
    memory_mb: int = 1024  # address space
    processes: int = 16
    output_kb: int = 1024  # any one file it writes, and what it prints
    disk_mb: int = 64  # all it writes in its folder (a tmpfs of its own, where the OS allows)

    def describe(self) -> str:
        return (
            f"{self.call_seconds:g} s per call, {self.cpu_seconds} s of CPU, {self.memory_mb} MB, "
            f"{self.processes} processes, {self.output_kb} KB of output, {self.disk_mb} MB of disk"
        )


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Any, ...]  # JSON data
    kinds: tuple[str, ...]  # how the child makes each argument: "float", "array", "arrays"
    numbers: int  # how many numbers the right answer holds (an answer may hold ``allowed(numbers)``)


@dataclass(frozen=True)
class Returned:
    value: Any  # a float or nested lists of floats, as sent (NaN allowed)


@dataclass(frozen=True)
class Failure:
    reason: str  # one line
    kind: str  # exception, timeout, crash, exit, type, missing, load, encoding, junk
    where: str = ""  # "alice.py, line 12, in backward"
    trace: str = ""  # trimmed to the student's files

    @property
    def fatal(self) -> bool:
        """It ended the child: the function is not called again."""
        return self.kind in ("timeout", "crash", "junk")


Outcome = Union[Returned, Failure]


class Died(Exception):
    """The child can say no more: its failure is the pending call's."""

    def __init__(self, failure: Failure) -> None:
        self.failure = failure


def parse(line: bytes, limits: Limits) -> dict[str, Any]:
    """One line from the child as a message; junk, or its last word, as :class:`Died`."""
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        message = None
    if not isinstance(message, dict):
        raise Died(Failure("wrote something other than an answer on the grader's pipe", "junk"))
    if "exit" in message:
        raise Died(ended(str(message["exit"]), limits))
    return message


def ended(status: str, limits: Limits) -> Failure:
    """Why the student's process ended, from its status (``signal SIGKILL``, ``exit 3``)."""
    if status == "exit 0":
        return Failure("the program ended before answering: os._exit()?", "crash")
    if status == "signal SIGXCPU":
        return Failure(f"used more than {limits.cpu_seconds} s of CPU", "crash")
    if status == "signal SIGXFSZ":
        return Failure(f"printed or wrote more than {limits.output_kb} KB", "crash")
    if status.startswith("signal"):
        return Failure(f"the program was killed ({status[7:]})", "crash")
    return Failure(f"the program exited ({status}) before answering: os._exit() or exit in C?", "crash")


def outcome(message: dict[str, Any], limits: Limits, numbers: int) -> Outcome:
    """The answer to a call whose right answer holds ``numbers`` numbers."""
    if "ok" in message:
        value = message["ok"]
        problem = _not_numbers(value, numbers)
        return Returned(value) if problem is None else Failure(problem, "type")
    return failure(message, "exception", limits)


def _limit_hit(error: str, trace: str, limits: Limits) -> str:
    """Which limit an error message is about, if it is one of the sandbox's."""
    if "[Errno 27]" in error:
        return f" (more than {limits.output_kb} KB printed or written)"
    if error.startswith("MemoryError"):
        return f" (the limit is {limits.memory_mb} MB)"
    if error.startswith("BlockingIOError") and "fork" in trace:
        return f" (the limit is {limits.processes} processes)"
    if error.startswith("PermissionError: [Errno 1]") and any(w in trace for w in ("subprocess", "Popen", "spawn")):
        return " (the sandbox starts no process)"
    return ""


_SURROGATES = re.compile("[\ud800-\udfff]")


def clean(value: Any, limit: int, lines: bool = True) -> str:
    """What the child sent as text, cut to ``limit`` characters, fit to write as UTF-8 and
    to show: JSON carries lone surrogates (an exception's message may hold one), UTF-8
    cannot, and one would stop the gradebook, the feedback and the class page from being
    written; a control character (ESC, a bidi override) is escaped, not sent on to the
    teacher's terminal (``shown.escape_controls``)."""
    return escape_controls(_SURROGATES.sub("\ufffd", str(value)[:limit]), lines)


def failure(message: Any, kind: str, limits: Limits) -> Failure:
    if not isinstance(message, dict):
        return Failure("wrote something other than an answer on the grader's pipe", "junk")
    fields = (("error", 400, False), ("where", 300, False), ("trace", 4000, True))
    text = {k: clean(message.get(k, ""), limit, lines) for k, limit, lines in fields}
    reported = str(message.get("kind", kind))
    if reported not in ("exception", "exit", "type", "missing", "encoding"):
        reported = kind
    reason = (text["error"] or "failed") + _limit_hit(text["error"], text["trace"], limits)
    return Failure(reason, reported, text["where"], text["trace"])


def _not_numbers(value: Any, numbers: int) -> str | None:
    """Why ``value`` is not a number or nested lists of at most ``allowed(numbers)`` numbers
    (as JSON gives them)."""
    stack, count, most = [(value, 0)], 0, allowed(numbers)
    while stack:
        item, depth = stack.pop()
        if isinstance(item, list):
            if depth >= 4:
                return "returned lists nested too deep"
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, float) or (isinstance(item, int) and not isinstance(item, bool)):
            count += 1
            if count > most:
                return f"returned more than {most} numbers; the answer has {_count(numbers)}"
        else:
            return f"returned {type(item).__name__}, not a number"
    return None

"""Hostile submissions: each ends as a failed check with a one-line reason; the grader,
the submission's other functions and the other submissions are not affected; the
grader's memory stays bounded. Each attack replaces ``d_sigmoid`` in a right solution
of exercise ``local`` (or runs when the file loads)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from homework_helpers import RIGHT, write
from optional import need

from lab.homework.confine import landlock_abi
from lab.homework.grade import grade_class
from lab.homework.protocol import Limits
from lab.homework.report import check
from lab.homework.rubric import Rubric

LIMITS = Limits(call_seconds=1.0, load_seconds=10.0)
SIGMOID = "def d_sigmoid(x):\n    s = 1.0 / (1.0 + math.exp(-x))\n    return s * (1.0 - s)\n"


def hostile(body: str, top: str = "") -> str:
    """The right solution with ``d_sigmoid`` replaced by ``body`` and ``top`` run at load."""
    assert SIGMOID in RIGHT["local"]
    return RIGHT["local"].replace(SIGMOID, f"def d_sigmoid(x):\n{body}\n") + "\n" + top


def attacks(outside: Path, classmate: Path) -> dict[str, tuple[str | bytes, str]]:
    """Each attack's source, and the words its failed check's reason must hold."""
    return {
        "loop": (hostile("    while True:\n        pass"), "did not return within 1 s"),
        "forkbomb": (hostile("    import os\n    while True:\n        os.fork()"), "started a process"),
        "cforkbomb": (  # past Python's fork hooks: the process limit, then the time limit
            hostile("    import ctypes\n    libc = ctypes.CDLL(None)\n    while True:\n        libc.fork()"),
            "did not return within 1 s",
        ),
        "memory": (hostile("    return len(bytearray(50 * 10**9))"), "MemoryError"),
        "writer": (hostile(f"    open({str(outside)!r}, 'w').write('x')\n    return 0.25"), "PermissionError"),
        "reader": (hostile(f"    exec(open({str(classmate)!r}).read())\n    return 0.25"), "PermissionError"),
        "patcher": (
            hostile(
                "    return 0.0",
                top="import sys\nfor name in list(sys.modules):\n    for attr in ('dumps', 'loads', 'grad'):\n"
                "        try:\n            setattr(sys.modules[name], attr, lambda *a, **k: True)\n"
                "        except Exception:\n            pass\n",
            ),
            "",  # whatever it broke in its own process, it earns nothing
        ),
        "exiter": (hostile("    import os\n    os._exit(0)"), "ended before answering"),
        "printer": (hostile("    print('x' * 100_000_000)"), "printed or wrote more than 1024 KB"),
        "flooder": (
            hostile(
                "    import os\n    for fd in range(3, 12):\n        try:\n"
                "            os.write(fd, b'x' * (20 << 20))\n        except OSError:\n            pass\n"
                "    return 0.25"
            ),
            "",
        ),
        "liar": (
            hostile(
                "    class Liar(float):\n        def __eq__(self, other):\n            return True\n"
                "    class Other:\n        def __eq__(self, other):\n            return True\n    return Other()"
            ),
            "returned an Other, not a number",
        ),
        "exit": (hostile("    import sys\n    sys.exit(3)"), "called sys.exit(3)"),
        "latin1": (b"import math\n# caf\xe9\n" + RIGHT["local"].encode(), "not utf-8 text: byte 0xe9 on line 2"),
        "syntax": (RIGHT["local"].replace("def d_tanh(x):", "def d_tanh(x)"), "SyntaxError"),
        "missing": ("import torchvision_is_not_here\n" + RIGHT["local"], "ModuleNotFoundError"),
    }


LOAD_TIME = {"latin1", "syntax", "missing"}
EVERY_CHECK = LOAD_TIME | {"patcher"}  # it broke its own process's json, so nothing it says is an answer


def _landlock() -> None:
    if landlock_abi() < 1:
        need("Landlock is missing (Linux 5.13+ with Landlock enabled): files are not confined")


def _failures(name: str, results: dict[str, dict], words: str) -> list[tuple[str, ...]]:
    """What is wrong with a hostile submission's checks (nothing, if all is as it should)."""
    wrong = []
    sigmoid = results["d_sigmoid"]
    if sigmoid["passed"] or "\n" in sigmoid["reason"] or words.lower() not in sigmoid["reason"].lower():
        wrong.append((name, sigmoid["reason"]))
    others = [r for n, r in results.items() if n != "d_sigmoid"]
    if name in EVERY_CHECK:  # nothing ran, or nothing it said could be read
        wrong += [(name, r["name"], "passed") for r in others if r["passed"]]
    else:  # the sandbox restarted for the other functions, which are right
        wrong += [(name, r["name"], r["reason"]) for r in others if not r["passed"]]
    return wrong


def test_the_whole_hostile_class(tmp_path):
    """Every attack in one class, graded on two processes beside a right submission: each
    attack fails with its one line, the right one scores full marks, nothing is written
    outside, and the grader's own modules are as they were."""
    _landlock()
    folder = tmp_path / "class"
    folder.mkdir()
    outside = tmp_path / "outside.txt"
    write(folder, "ada.py", RIGHT["local"])
    everything = attacks(outside, folder / "ada.py")
    for name, (source, _) in everything.items():
        write(folder, f"{name}.py", source)
    graded = {g.student: g for g in grade_class(folder, "local", Rubric("local", limits=LIMITS), jobs=2)}
    assert graded["ada"].score == graded["ada"].max_score == 9
    wrong = []
    for name, (_, words) in everything.items():
        wrong += _failures(name, {c["name"]: c["result"] for c in graded[name].checks}, words)
    assert not wrong
    assert not outside.exists()
    reasons = {n: graded[n].checks[0]["result"]["reason"] for n in LOAD_TIME}
    assert "syntax.py, line" in reasons["syntax"] and "missing.py, line 1" in reasons["missing"]

    from tinygrad_hw import Value

    x = Value(0.0)
    x.sigmoid().backward()
    assert x.grad == 0.25  # the patcher patched its own process only


def test_the_network_is_off_or_the_output_says_so(tmp_path):
    source = hostile("    import socket\n    socket.create_connection(('127.0.0.1', 9), timeout=0.5)\n    return 0.25")
    report = check(write(tmp_path, "net.py", source), "local", limits=LIMITS)
    sigmoid = report.results[0]
    if report.sandbox["network"] == "off":
        assert not sigmoid.passed and "Error" in sigmoid.reason
    else:
        assert "network not isolated" in report.sandbox_line()


MEMORY = """
import resource, sys
from lab.homework.grade import grade_class
from lab.homework.rubric import Rubric
from lab.homework.protocol import Limits
grade_class(sys.argv[1], "local", Rubric("local", limits=Limits(call_seconds=1.0)))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak_kb(folder: Path) -> int:
    done = subprocess.run([sys.executable, "-c", MEMORY, str(folder)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.split()[-1])


@pytest.mark.slow
def test_the_graders_memory_stays_bounded(tmp_path):
    """Printing 100 MB, flooding the grader's pipe, asking for 50 GB and answering with a
    million numbers cost the grader (its own peak memory) no more than grading one right
    submission, within 64 MB."""
    quiet, loud = tmp_path / "quiet", tmp_path / "loud"
    quiet.mkdir()
    loud.mkdir()
    write(quiet, "ada.py", RIGHT["local"])
    everything = attacks(tmp_path / "o", tmp_path / "c")
    for name in ("printer", "flooder", "memory"):
        write(loud, f"{name}.py", everything[name][0])
    hoarder = hostile("    return [0.0] * 1_000_000")  # and d_tanh too: more than one child's 256 MB
    write(loud, "hoarder.py", hoarder.replace("return 1.0 - math.tanh(x) ** 2", "return [0.0] * 1_000_000"))
    assert _peak_kb(loud) - _peak_kb(quiet) < 64 * 1024


def test_no_process_outlives_its_sandbox(tmp_path):
    """A process the student's code leaves behind (forked past Python's fork hooks, then
    asleep) ends with the sandbox: its pid namespace ends when the sandbox's pid 1 does."""
    if os.geteuid() != 0:
        pytest.skip("as root each sandbox has a uid of its own to look for; not root here")
    source = hostile(
        "    import ctypes, time\n    if ctypes.CDLL(None).fork() == 0:\n        time.sleep(60)\n"
        "    s = 1.0 / (1.0 + math.exp(-x))\n    return s * (1.0 - s)"
    )
    report = check(write(tmp_path, "stay.py", source), "local", limits=LIMITS)
    assert report.results[0].passed  # the call itself returned the right number
    uid = int(report.sandbox["user"].split()[1])
    deadline = time.monotonic() + 5
    while _processes_of(uid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _processes_of(uid)


def _processes_of(uid: int) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and proc.stat().st_uid == uid:
                found.append(proc.name)
        except OSError:
            continue
    return found


def test_text_that_is_not_unicode_costs_only_its_own_check(tmp_path):
    """A lone surrogate in an exception's message (Python allows it; UTF-8 does not) comes
    back through JSON as it was: the gradebook, feedback, results and class page were
    written as UTF-8 and the whole class's grading stopped at it."""
    folder = tmp_path / "class"
    folder.mkdir()
    write(folder, "ada.py", RIGHT["local"])
    write(folder, "zed.py", hostile("    raise ValueError('\\ud800 half a character')"))
    out = tmp_path / "out"
    graded = grade_class(folder, "local", Rubric("local", limits=LIMITS))
    from lab.homework.grade import write_outputs

    write_outputs(graded, "local", out)
    zed = next(g for g in graded if g.student == "zed")
    assert zed.score == 8 and "ValueError: \ufffd half a character" in zed.checks[0]["result"]["reason"]
    assert "ValueError: \ufffd half a character" in (out / "feedback" / "zed.md").read_text(encoding="utf-8")


def test_an_answer_far_larger_than_the_contracts_is_refused_not_kept(tmp_path):
    """A million numbers where one was asked: refused in one line, and never held by the
    grader (it kept every answer of every case tried: 2.4 GB for a submission whose
    functions each returned np.zeros((1000, 1000)))."""
    report = check(write(tmp_path, "big.py", hostile("    return [0.0] * 1_000_000")), "local", limits=LIMITS)
    sigmoid = report.results[0]
    assert not sigmoid.passed and sigmoid.reason == "returned a list of 1000000 items; the answer has 1 number"
    assert all(r.passed for r in report.results[1:])


def test_the_grader_refuses_an_answer_far_larger_than_the_contracts_itself():
    """What the child says is not trusted: the grader counts the numbers of an answer too."""
    from lab.homework.protocol import Failure, Returned, outcome

    assert outcome({"i": 0, "ok": [0.5, 0.25]}, LIMITS, 2) == Returned([0.5, 0.25])
    refused = outcome({"i": 0, "ok": [[0.0] * 100] * 100}, LIMITS, 2)
    assert isinstance(refused, Failure) and refused.reason == "returned more than 72 numbers; the answer has 2 numbers"


def test_no_socket_reaches_outside_not_even_a_unix_one(tmp_path):
    """A network namespace hides the network, not the Unix sockets in the file system
    (Landlock does not guard connect()); not root, the child has the teacher's uid, and a
    session bus or an agent's socket would take its orders. Sockets are refused."""
    import socket
    import threading

    path = tmp_path / "teacher.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    path.chmod(0o777)
    server.listen(1)
    server.settimeout(10)

    def serve() -> None:
        try:
            connection, _ = server.accept()
            connection.sendall(b"the teacher's secret")
            connection.close()
        except OSError:
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    source = hostile(
        "    import socket\n    s = socket.socket(socket.AF_UNIX)\n"
        f"    s.connect({str(path)!r})\n    raise ValueError(s.recv(99))"
    )
    try:
        report = check(write(tmp_path, "ipc.py", source), "local", limits=LIMITS)
    finally:
        server.close()
    sigmoid = report.results[0]
    if report.sandbox.get("sockets", "").startswith("allowed"):  # the OS cannot refuse them, and says so
        need(f"sockets cannot be refused here: {report.sandbox['sockets']}")
    assert "secret" not in sigmoid.reason and sigmoid.reason.startswith("PermissionError"), sigmoid.reason
    assert "sockets refused" in report.sandbox_line()


FILLER = """
written = 0
try:
    for k in range(200):
        with open(f"scratch{k}.bin", "wb") as f:
            f.write(b"x" * (1 << 20))
        written += 1
except OSError:
    pass
"""


def test_a_submission_cannot_fill_the_disk(tmp_path):
    """RLIMIT_FSIZE caps each file, not how many: a loop of 1 MB files wrote 4.6 GB into
    the grader's /tmp within the 10 s a file has to load. Its folder is a tmpfs of
    ``Limits.disk_mb`` now; it may still write there (a scratch file is no crime)."""
    source = hostile("    raise ValueError(f'wrote {written} MB')", top=FILLER)
    report = check(write(tmp_path, "filler.py", source), "local", limits=LIMITS)
    if report.sandbox.get("disk", "").startswith("not limited"):  # the OS cannot, and says so
        need(f"the disk is not limited here: {report.sandbox['disk']}")
    written = int(report.results[0].reason.split()[2])
    assert 0 < written <= LIMITS.disk_mb and report.sandbox["disk"] == f"{LIMITS.disk_mb} MB of its own"
    assert all(r.passed for r in report.results[1:])


def test_an_array_subclass_is_read_for_its_numbers_not_its_methods(tmp_path):
    """The runner read an array through its own ``tolist``: a subclass whose tolist lies
    (here a list holding itself) made the answer unwritable, and the report said 'the
    program exited (exit 1) before answering: os._exit()?'. Its data is what is judged."""
    source = hostile(
        "    import numpy as np\n    class Odd(np.ndarray):\n        def tolist(self):\n"
        "            loop = []\n            loop.append(loop)\n            return loop\n"
        "    s = 1.0 / (1.0 + math.exp(-x))\n    return np.array(s * (1.0 - s)).view(Odd)"
    )
    report = check(write(tmp_path, "odd.py", source), "local", limits=LIMITS)
    assert report.passed, report.results[0].reason


def test_two_grading_processes_never_share_a_sandbox_uid(monkeypatch):
    """As root each sandbox gets a uid of its own (its process limit counts only its own
    processes). A worker past its 1024th sandbox took the uids of the worker with the next
    pid (pool workers' pids are often consecutive), and pids 1953125 apart collided."""
    from lab.homework import sandbox

    def uids(pid: int, count: int) -> set[int]:
        monkeypatch.setattr(sandbox.os, "getpid", lambda: pid)
        monkeypatch.setattr(sandbox, "_jobs", 0)
        return {sandbox._job_uid() for _ in range(count)}

    first = uids(4000, 1500)
    assert len(first) == 512 and not first & uids(4001, 1500) and not first & uids(4000 + 1953125, 10)
    assert all(1_000_000_000 <= uid < 2**32 - 1 for uid in uids(2**22, 600))


def test_no_process_can_be_started_past_pythons_fork_hooks(tmp_path):
    """A fork through ctypes skips the at-fork hook that ends a forked copy at once; the
    process limit let 16 such copies live until the call timed out, each with its own
    1024 MB of address space: 16 GB from one submission. Process creation is refused."""
    source = hostile(
        "    import ctypes, os, time\n    pid = ctypes.CDLL(None).fork()\n    if pid == 0:\n"
        "        time.sleep(5)\n        os._exit(0)\n    raise ValueError(f'fork gave {pid}')"
    )
    report = check(write(tmp_path, "forker.py", source), "local", limits=LIMITS)
    if report.sandbox.get("forks", "").startswith("allowed"):  # the OS cannot refuse them, and says so
        need(f"new processes cannot be refused here: {report.sandbox['forks']}")
    assert report.results[0].reason == "ValueError: fork gave -1" and "new processes refused" in report.sandbox_line()
    source = hostile("    import subprocess\n    subprocess.run(['true'])")
    reason = check(write(tmp_path, "runner.py", source), "local", limits=LIMITS).results[0].reason
    assert reason == "PermissionError: [Errno 1] Operation not permitted (the sandbox starts no process)"

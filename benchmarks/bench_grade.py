"""The homework's cost: CPU seconds per submission for ``check``, and the wall time of
``tinygrad-hw grade --jobs 2`` on a synthetic class of 100 (issue 18's targets: at most 3 s
of CPU per submission, and the class within 3 minutes on 2 cores).

    python benchmarks/bench_grade.py [--students 100] [--jobs 2] [--repeats 3]

The class is made from examples/class/network: right solutions (vectorised, loop by
loop, a folder), one for each catalogued mistake, and hostile ones (an endless loop, a
fork bomb, 100 MB of printing, 50 GB, a syntax error), in a fixed mix. ``check`` is timed
in this process (parent and child CPU, warm imports; a process the sandbox kills is
counted from /proc before it dies), each kind interleaved with the
others ``--repeats`` times: best and median per kind; then as a student runs it, the
command in a fresh process (imports included). ``grade`` runs as the command does,
in a subprocess; its CPU is its own and its children's as rusage counts them (without
the processes the sandbox killed: the hostile ones' endless loops). The load average before and
after says whether others were using the machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "class" / "network"
# (kind, share of the class): mostly right or with one mistake, a few hostile
MIX = [
    ("ada.py", 20), ("alan.py", 10), ("linus", 10),
    ("grace.py", 7), ("barbara.py", 7), ("edsger.py", 7), ("donald.py", 7),
    ("john.py", 7), ("frances.py", 7), ("claude.py", 7),
    ("mallory.py", 3), ("oscar.py", 3), ("victor.py", 2), ("eve.py", 1), ("trudy.py", 1),
]  # fmt: skip


COLD = ("ada.py", "grace.py", "john.py")  # right; a mistake; a mistake shrunk past a shape error


def make_class(folder: Path, students: int) -> None:
    total = sum(share for _, share in MIX)
    k = 0
    for kind, share in MIX:
        for _ in range(round(students * share / total)):
            if k >= students:
                return
            source = EXAMPLES / kind
            target = folder / f"student{k:03d}{source.suffix}"
            shutil.copytree(source, target) if source.is_dir() else shutil.copy(source, target)
            k += 1
    while k < students:  # rounding: the rest are right
        shutil.copy(EXAMPLES / "ada.py", folder / f"student{k:03d}.py")
        k += 1


def cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def time_checks(repeats: int) -> dict[str, list[tuple[float, float]]]:
    from lab.homework import check

    check(EXAMPLES / "ada.py", "network")  # imports, PyTorch included, paid once
    times: dict[str, list[tuple[float, float]]] = {kind: [] for kind, _ in MIX}
    for _ in range(repeats):
        for kind, _ in MIX:
            wall, used = time.perf_counter(), cpu()
            report = check(EXAMPLES / kind, "network")
            times[kind].append((cpu() - used + report.killed_cpu, time.perf_counter() - wall))
    return times


def time_cold_checks(repeats: int) -> dict[str, list[tuple[float, float]]]:
    """``tinygrad-hw check`` as a student runs it: a fresh process each time, its imports
    (PyTorch's included, about 1 s) and the sandbox's CPU counted."""
    times: dict[str, list[tuple[float, float]]] = {kind: [] for kind in COLD}
    for _ in range(repeats):
        for kind in COLD:
            command = [sys.executable, "-m", "lab.cli", "check", str(EXAMPLES / kind), "--exercise", "network"]
            before, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
            subprocess.run(command, capture_output=True, text=True)
            wall, after = time.perf_counter() - wall, resource.getrusage(resource.RUSAGE_CHILDREN)
            used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            times[kind].append((used, wall))
    return times


def time_grade(folder: Path, out: Path, jobs: int) -> tuple[float, float, int]:
    command = [sys.executable, "-m", "lab.cli", "grade", str(folder), "--exercise", "network"]
    command += ["--out", str(out), "--jobs", str(jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"grade failed: {done.stderr[-2000:]}")
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, used, len(list((out / "results").glob("*.json")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="timings of check per kind (default: 3)")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")

    times = time_checks(args.repeats)
    print(f"\ncheck, one submission (CPU s of grader and sandbox; best / median of {args.repeats}; wall median)")
    weighted, shares = 0.0, 0
    for kind, share in MIX:
        used = [c for c, _ in times[kind]]
        walls = [w for _, w in times[kind]]
        best, median = min(used), statistics.median(used)
        weighted += median * share
        shares += share
        flag = "" if median <= 3.0 else "   over 3 s"
        print(f"  {kind:12} {best:5.2f} / {median:5.2f} s CPU   {statistics.median(walls):5.2f} s wall{flag}")
    worst = max(statistics.median(c for c, _ in times[k]) for k, _ in MIX)
    print(f"  class mix: {weighted / shares:.2f} s CPU per submission (median); worst kind {worst:.2f} s; target ≤ 3 s")

    cold = time_cold_checks(args.repeats)
    print(f"\ntinygrad-hw check, a fresh process each (CPU s, imports included; best / median of {args.repeats})")
    for kind in COLD:
        used, walls = [c for c, _ in cold[kind]], [w for _, w in cold[kind]]
        flag = "" if statistics.median(used) <= 3.0 else "   over 3 s"
        print(
            f"  {kind:12} {min(used):5.2f} / {statistics.median(used):5.2f} s CPU   "
            f"{statistics.median(walls):5.2f} s wall{flag}"
        )

    with tempfile.TemporaryDirectory() as scratch:
        folder, out = Path(scratch) / "class", Path(scratch) / "out"
        folder.mkdir()
        make_class(folder, args.students)
        wall, used, graded = time_grade(folder, out, args.jobs)
    print(
        f"\ngrade --jobs {args.jobs}, {graded} submissions: {wall:.1f} s wall (target ≤ 180 s: {wall / 180:.2f} of it),"
    )
    print(f"  {used:.1f} s CPU in all (killed processes not counted), {used / graded:.2f} s CPU per submission")
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

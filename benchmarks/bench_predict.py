"""``tinygrad-hw predict --csv`` on a million rows: time and peak memory, beside the same
job written by hand with numpy.

    python benchmarks/bench_predict.py [--rows 1000000] [--repeats 3] [--before DIR]

A CSV of ``--rows`` rows (x1, x2 with six decimals, and a 0/1 target: about 20 MB for a
million) and the report's 2-8-8-1 sigmoid network saved as JSON. Each contender runs
in a child process of its own, its output (the whole table) sent to /dev/null; its
wall time and its peak resident memory (``ru_maxrss`` from ``os.wait4``) are measured
from outside. Repetitions are interleaved; reported: best and median time, peak
memory, and the ratio of each to the hand-written job's. Issue 22 asks for at most
3 s and 200 MB. ``--before DIR`` adds the ``predict`` of another checkout (an older
commit's source tree), run the same way.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tinygrad_hw.nn import MLP
from tinygrad_hw.serialize import save

ROOT = Path(__file__).resolve().parent.parent

# The same job by hand: numpy reads the file, multiplies the matrices, writes a table.
BY_HAND = """
import sys, json, numpy as np
model = json.load(open(sys.argv[1]))
data = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1, ndmin=2)
a = data[:, :2]
for layer in model["layers"]:
    a = a @ np.array(layer["weights"]).T + np.array(layer["bias"])
    a = 1 / (1 + np.exp(-a)) if layer["activation"] == "sigmoid" else a
predicted = (a[:, 0] > 0.5).astype(int)
table = np.column_stack([data[:, :2], a, predicted, data[:, 2]])
np.savetxt(sys.stdout, table, fmt=["%g", "%g", "%.6g", "%d", "%d"], delimiter="  ")
print(f"Accuracy: {100 * (predicted == data[:, 2]).mean():.1f} %")
"""


def write_inputs(folder: Path, rows: int) -> tuple[Path, Path]:
    """The model file and the CSV file."""
    model = MLP(2, [8, 8, 1], seed=1)
    save(model, folder / "model.json")
    rng = np.random.default_rng(0)
    X = rng.random((rows, 2))
    y = (X.sum(axis=1) > 1).astype(int)
    table = np.column_stack([X, y])
    with open(folder / "points.csv", "w") as f:
        f.write("x1,x2,target\n")
        np.savetxt(f, table, fmt=["%.6f", "%.6f", "%d"], delimiter=",")
    return folder / "model.json", folder / "points.csv"


def measure(command: list[str], cwd: Path) -> tuple[float, float]:
    """(seconds, peak resident MB) of one child process run to its end."""
    start = time.perf_counter()
    with open(os.devnull, "w") as sink:
        child = subprocess.Popen(command, stdout=sink, stderr=subprocess.PIPE, cwd=cwd)
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed: {child.stderr.read().decode() if child.stderr else ''}")
    return seconds, usage.ru_maxrss / 1024  # Linux reports kilobytes


def contenders(model: Path, points: Path, before: Path | None) -> dict[str, tuple[list[str], Path]]:
    """name -> (command, the folder it runs in: ``python -m lab`` imports from there first)."""
    cli = [sys.executable, "-m", "lab", "predict", "--model", str(model), "--csv", str(points)]
    runs = {
        "numpy by hand (loadtxt, matmul, savetxt)": ([sys.executable, "-c", BY_HAND, str(model), str(points)], ROOT),
        "tinygrad-hw predict --csv": (cli, ROOT),
    }
    if before is not None:
        runs[f"tinygrad-hw predict --csv ({before.name})"] = (cli, before.resolve())
    return runs


def report(rows: int, repeats: int, before: Path | None) -> str:
    with tempfile.TemporaryDirectory() as folder:
        model, points = write_inputs(Path(folder), rows)
        size = points.stat().st_size / 1e6
        runs = contenders(model, points, before)
        times: dict[str, list[float]] = {name: [] for name in runs}
        memory: dict[str, float] = {name: 0.0 for name in runs}
        for _ in range(repeats):
            for name, (command, cwd) in runs.items():  # interleaved: all see the same machine
                seconds, peak = measure(command, cwd)
                times[name].append(seconds)
                memory[name] = max(memory[name], peak)
    base = "numpy by hand (loadtxt, matmul, savetxt)"
    lines = [
        f"| {rows:,} rows, {size:.0f} MB of CSV (best / median of {repeats}) | time | ÷ by hand | peak memory "
        "| ÷ by hand |",
        "|---|---|---|---|---|",
    ]
    for name, t in times.items():
        best, median = min(t), statistics.median(t)
        lines.append(
            f"| {name} | {best:.2f} s / {median:.2f} s | {best / min(times[base]):.2f}× / "
            f"{median / statistics.median(times[base]):.2f}× | {memory[name]:.0f} MB | "
            f"{memory[name] / memory[base]:.2f}× |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the CSV file (default: 1,000,000)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repetitions (default: 3)")
    parser.add_argument("--before", type=Path, help="the source tree of an older commit, run the same way")
    args = parser.parse_args()
    print(report(args.rows, args.repeats, args.before))


if __name__ == "__main__":
    main()

"""micrograd's demo, run by micrograd and by tinygrad_hw, side by side in one process.

    python benchmarks/bench_moons.py [--repeats 1] [--update-docs]

The same run both ways: 100 moons points (noise 0.1) from ``np.random.seed(1337)``, a
2-16-16-1 ReLU MLP with a linear output from ``random.seed(1337)``, the SVM loss plus
1e-4 L2, 100 steps of SGD with lr 1.0 - 0.9 k/100 -- micrograd's demo.ipynb loop
with micrograd's own ``nn.MLP``, and tinygrad_hw's ``lab.moons`` (eager, then replay).
Repetitions are interleaved; reported: the best and median time of each, their ratio
to micrograd's, and the final loss and accuracy of each (the same run, so the same
numbers to about 1e-12).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from micrograd.engine import Value as MgValue
from micrograd.nn import MLP as MgMLP

from lab.moons import SEED, STEPS, train_moons
from tinygrad_hw.data import make_moons

ROOT = Path(__file__).resolve().parent.parent


def micrograd_demo(steps: int = STEPS) -> tuple[float, float]:
    """The demo's own loop, on micrograd: (final loss, final accuracy)."""
    np.random.seed(SEED)
    random.seed(SEED)
    X, labels = make_moons(100, 0.1)  # the demo's data: sklearn's make_moons after np.random.seed(1337)
    y = labels[:, 0] * 2 - 1
    model = MgMLP(2, [16, 16, 1])
    total_loss, accuracy = None, 0.0
    for k in range(steps):
        inputs = [list(map(MgValue, row)) for row in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = sum((yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)) / len(y)
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
    return total_loss.data, accuracy


def ours(engine: str) -> tuple[float, float]:
    run = train_moons(engine=engine)
    return run.losses[-1], run.accuracies[-1]


def report(repeats: int) -> str:
    contenders: dict[str, Any] = {
        "micrograd 0.1.0": micrograd_demo,
        "tinygrad_hw, eager": lambda: ours("eager"),
        "tinygrad_hw, replay": lambda: ours("replay"),
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    final: dict[str, tuple[float, float]] = {}
    for _ in range(repeats):
        for name, run in contenders.items():  # interleaved: all see the same machine
            start = time.perf_counter()
            final[name] = run()
            times[name].append(time.perf_counter() - start)
    base_best, base_median = min(times["micrograd 0.1.0"]), statistics.median(times["micrograd 0.1.0"])
    lines = [
        f"| micrograd's demo, 100 steps (best / median of {repeats}) | time | ÷ micrograd | last loss "
        "| last accuracy |",
        "|---|---|---|---|---|",
    ]
    for name, t in times.items():
        best, median = min(t), statistics.median(t)
        loss, accuracy = final[name]
        lines.append(
            f"| {name} | {best:.2f} s / {median:.2f} s | {best / base_best:.3f}× / {median / base_median:.3f}× "
            f"| {loss:.12f} | {100 * accuracy:.1f} % |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeats", type=int, default=1, help="interleaved repetitions (default: 1; micrograd takes minutes)"
    )
    parser.add_argument("--update-docs", action="store_true", help="write the table into docs/benchmarks.md")
    args = parser.parse_args()
    table = report(args.repeats)
    print(table)
    if args.update_docs:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from bench_engine import update_docs

        update_docs(table, name="bench_moons")


if __name__ == "__main__":
    main()

"""What recording frames costs a fit, side by side in one process.

    python benchmarks/bench_watch.py [--repeats 7] [--epochs 3000]

The report's run (XOR, 2-8-8-1 sigmoid, per-sample SGD, lr 0.1) three ways, rounds
interleaved (each round starting with the next one) so that all see the same machine:

* ``fit``: as every fit runs now (it keeps each epoch's start for explaining a
  divergence);
* ``fit + Recorder``: with ``on_epoch`` recording the frames of ``tinygrad-hw watch``;
* ``fit, no epoch starts``: with the epoch-start snapshot switched off, i.e. what
  fit cost before divergences were explained.

Reported: best and median seconds, and each as a ratio to ``fit``; then, once, how
long the training page takes to build from the recorded run (not part of fit).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any, Callable
from unittest import mock

from tinygrad_hw.data import generate_xor_easy
from tinygrad_hw.nn import MLP
from tinygrad_hw.recording import Recorder, record_fit
from tinygrad_hw.train import fit


def contenders(epochs: int, engine: str) -> dict[str, Callable[[], Any]]:
    X, y = generate_xor_easy()

    def plain() -> Any:
        return fit(MLP(2, [8, 8, 1], seed=1), X, y, epochs=epochs, lr=0.1, engine=engine, verbose=False, progress=False)

    def recorded() -> Any:
        model = MLP(2, [8, 8, 1], seed=1)
        recorder = Recorder(model, epochs)
        fit(model, X, y, epochs=epochs, lr=0.1, engine=engine, verbose=False, progress=False, on_epoch=recorder)
        return recorder.frames

    def without_starts() -> Any:
        with mock.patch("tinygrad_hw.train.EpochStart.take", return_value=None):
            return plain()

    return {"fit": plain, "fit + Recorder": recorded, "fit, no epoch starts": without_starts}


def measure(epochs: int, engine: str, repeats: int) -> tuple[list[str], float]:
    runs = contenders(epochs, engine)
    times: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for k in range(repeats):
        for name in names[k % len(names) :] + names[: k % len(names)]:  # interleaved, each round starting elsewhere
            start = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - start)
    best, median = min(times["fit"]), statistics.median(times["fit"])
    lines = [
        f"| XOR 2-8-8-1, {epochs} epochs, {engine} (best / median of {repeats}) | best s | median s | "
        "÷ fit (best) | ÷ fit (median) |",
        "|---|---|---|---|---|",
    ]
    for name, ts in times.items():
        b, m = min(ts), statistics.median(ts)
        lines.append(f"| {name} | {b:.3f} | {m:.3f} | {b / best:.3f} | {m / median:.3f} |")
    return lines, best / epochs


def hook_costs(epoch_seconds: float) -> str:
    """The per-epoch work the hooks add, timed alone (steadier than the difference of
    two noisy fits): the epoch-start snapshot, writing the replay's weights back into
    the model before ``on_epoch``, and the Recorder at an epoch it keeps."""
    import timeit

    from tinygrad_hw.diagnose import EpochStart
    from tinygrad_hw.optim import SGD

    model = MLP(2, [8, 8, 1], seed=1)
    params, opt = model.parameters(), SGD(model.parameters(), 0.1)
    weights = [p.data for p in params]
    recorder = Recorder(model, 3000)

    def sync() -> None:
        for p, w in zip(params, weights):
            p.data = w

    costs = {
        "snapshot": lambda: EpochStart.take(1, list(weights), opt),
        "sync": sync,
        "recorder (a kept epoch)": lambda: recorder(1, 0.5),
    }
    shown = []
    for name, call in costs.items():
        seconds = min(timeit.repeat(call, number=2000, repeat=5)) / 2000
        shown.append(f"{name} {seconds * 1e6:.1f} µs ({100 * seconds / epoch_seconds:.1f} %)")
    return f"Per epoch of {epoch_seconds * 1e6:.0f} µs (replay's best): " + ", ".join(shown)


def page_time(epochs: int) -> str:
    from viz.watch import watch

    X, y = generate_xor_easy()
    run = record_fit(MLP(2, [8, 8, 1], seed=1), X, y, epochs=epochs, lr=0.1, verbose=False, progress=False)
    start = time.perf_counter()
    page = watch(run)
    seconds = time.perf_counter() - start
    return f"Building the page of that run ({len(run.frames)} frames): {seconds:.2f} s, {len(page.html) / 1e6:.2f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=3000)
    args = parser.parse_args(argv)
    lines, epoch_seconds = measure(args.epochs, "replay", args.repeats)
    print("\n".join(lines))
    print()
    print("\n".join(measure(max(1, args.epochs // 10), "eager", args.repeats)[0]))
    print()
    print(hook_costs(epoch_seconds))
    print(page_time(args.epochs))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Trace-once-replay against the eager engine, micrograd and hand-written code, in one process.

    make bench                               # runs bench_engine.py, then this
    python benchmarks/bench_replay.py [--quick] [--update-docs]

(d) One epoch of per-sample SGD on the lab's XOR set with the report's 2-8-8-1
    sigmoid network, lr 0.1, loss (ŷ - y)², all from the same weights: micrograd
    0.1.0, our eager engine, the replay through its public ``jit()`` (gradients
    into ``.grad``, then ``SGD.step()``), the replay as ``fit(engine="replay")`` runs
    it (each epoch one call of generated code, the SGD update in it), and per-sample SGD written by
    hand in Python floats (``handwritten.float_epoch``).
(e) One epoch of full-batch gradient descent on the lab's 100-point linear set:
    the eager engine, the straight-line replay of the whole batch, the
    numpy replay (``fit``'s choice for batches), and the same network written with
    numpy matrices (``handwritten.numpy_epoch``).

Each row also says how far its weights end from the eager engine's after the
epoch. Timings are wall-clock on a shared machine; read the ratios.
"""

from __future__ import annotations

import argparse
import copy
import platform
import statistics
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
from bench_engine import (
    LR,
    initial_weights,
    micrograd_epoch,
    micrograd_model,
    our_epoch,
    our_model,
    update_docs,
    xor_easy,
)
from handwritten import float_epoch, numpy_epoch

from tinygrad_hw.data import generate_linear
from tinygrad_hw.losses import mse
from tinygrad_hw.optim import SGD
from tinygrad_hw.replay import jit, record, record_numpy

ROOT = Path(__file__).resolve().parent.parent


def flat_weights(weights: list[list[list[float]]]) -> list[float]:
    """The weights in MLP.parameters() order: each neuron's inputs, then its bias."""
    return [x for layer in weights for row in layer for x in row]


def timed(runs: dict[str, Callable[[], list[float]]], repeats: int, epochs: int) -> dict[str, dict[str, Any]]:
    """Best and median seconds per epoch of each run (``epochs`` epochs a run, runs
    interleaved), and the weights it ends with."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    final: dict[str, list[float]] = {}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            final[name] = run()
            times[name].append((time.perf_counter() - start) / epochs)
    return {name: {"best": min(t), "median": statistics.median(t), "weights": final[name]} for name, t in times.items()}


class _NoCtrlC:
    """The Ctrl-C flag fit passes to a generated epoch: never pending here."""

    pending = False


def per_sample_runs(epochs: int) -> tuple[dict[str, Callable[[], list[float]]], float]:
    xs, ys = xor_easy()
    weights = initial_weights()

    def micrograd() -> list[float]:
        model = micrograd_model(weights)
        for _ in range(epochs):
            micrograd_epoch(model, xs, ys)
        return [p.data for p in model.parameters()]

    def eager() -> list[float]:
        model = our_model(weights)
        for _ in range(epochs):
            our_epoch(model, xs, ys)
        return [p.data for p in model.parameters()]

    compiled_model = our_model(weights)
    step = jit(lambda x, y: mse(compiled_model(x), y))
    started = time.perf_counter()
    step(list(xs[0]), ys[0])  # the first call records and compiles
    compile_seconds = time.perf_counter() - started

    def replay_compile() -> list[float]:
        for p, w in zip(compiled_model.parameters(), flat_weights(weights)):
            p.data, p.grad = w, 0.0
        opt = SGD(compiled_model.parameters(), LR)
        for _ in range(epochs):
            for x, y in zip(xs, ys):
                step(x, y)
                opt.step()
                opt.zero_grad()
        return [p.data for p in compiled_model.parameters()]

    fused_model = our_model(weights)
    tape = record(
        lambda x, y: mse(fused_model(x), y),
        (list(xs[0]), ys[0]),
        params=fused_model.parameters(),
        executor="straight-line",
    )[0]

    rows = [(x0, x1, y) for (x0, x1), y in zip(xs, ys)]

    def replay_fused() -> list[float]:
        """An epoch in one call of generated code (``StraightLine.epoch_function``), as fit runs per-sample SGD."""
        state: tuple[float, ...] = tuple(flat_weights(weights))
        run, out = tape.step.epoch_function(), [None, None]  # type: ignore[attr-defined]
        for _ in range(epochs):
            run((*state, 0.0, 0), rows, LR, _NoCtrlC, out)
            state = out[0][:-2]
        return list(state)

    def by_hand() -> list[float]:
        w = copy.deepcopy(weights)
        for _ in range(epochs):
            float_epoch(w, xs, ys, LR)
        return flat_weights(w)

    runs = {
        "micrograd 0.1.0": micrograd,
        "tinygrad_hw eager": eager,
        "tinygrad_hw replay, jit() + SGD.step()": replay_compile,
        "tinygrad_hw replay, as fit() runs it": replay_fused,
        "hand-written Python floats": by_hand,
    }
    return runs, compile_seconds


def full_batch_runs(epochs: int) -> dict[str, Callable[[], list[float]]]:
    X, y = generate_linear(100, seed=1)
    Y = y.astype(float)
    rows, targets = X.tolist(), Y.ravel().tolist()
    weights = initial_weights()

    def eager() -> list[float]:
        model = our_model(weights)
        opt = SGD(model.parameters(), LR)
        for _ in range(epochs):
            loss = mse([model(x) for x in rows], targets)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return [p.data for p in model.parameters()]

    line_model = our_model(weights)
    batch_loss = lambda xb, tb: mse([line_model(x) for x in xb], tb)  # noqa: E731
    line = record(batch_loss, (rows, targets), params=line_model.parameters(), executor="straight-line")[0]
    flat_inputs = [v for x in rows for v in x] + targets

    def straight_line() -> list[float]:
        W = tuple(flat_weights(weights))
        for _ in range(epochs):
            W = line.sgd(W, flat_inputs, LR)[1]
        return list(W)

    batch_model = our_model(weights)
    batched = record_numpy(lambda x, t: mse(batch_model(x), t), (rows[0], targets[0]), batch_model.parameters())
    XY = np.hstack([X, Y])

    def numpy_replay() -> list[float]:
        W = np.array(flat_weights(weights))
        for _ in range(epochs):
            W = batched.sgd(W, XY, LR)[1]
        return W.tolist()

    def matrices() -> list[float]:
        W = [np.array([row[:-1] for row in layer]) for layer in weights]
        b = [np.array([row[-1] for row in layer]) for layer in weights]
        for _ in range(epochs):
            numpy_epoch(W, b, X, Y, LR)
        return [x for Wl, bl in zip(W, b) for row, bias in zip(Wl.tolist(), bl.tolist()) for x in [*row, bias]]

    return {
        "tinygrad_hw eager": eager,
        "tinygrad_hw replay, straight-line": straight_line,
        "tinygrad_hw replay, numpy over the batch (fit's choice)": numpy_replay,
        "numpy matrices by hand": matrices,
    }


def table(results: dict[str, dict[str, Any]], against: list[str], reference: str) -> list[str]:
    head = "| | best | median | " + " | ".join(f"vs {a}" for a in against) + f" | weights vs {reference} |"
    lines = [head, "|---" * (4 + len(against)) + "|"]
    base = results[reference]["weights"]
    for name, r in results.items():
        ratios = " | ".join(f"{r['best'] / results[a]['best']:.3f}×" for a in against)
        diff = max(abs(a - b) for a, b in zip(r["weights"], base))
        lines.append(f"| {name} | {r['best'] * 1e3:.3f} ms | {r['median'] * 1e3:.3f} ms | {ratios} | {diff:.1e} |")
    return lines


def report(quick: bool) -> str:
    repeats = 5 if quick else 15
    runs, compile_seconds = per_sample_runs(epochs=3)
    per_sample = timed(runs, repeats, epochs=3)
    full = timed(full_batch_runs(epochs=20), repeats, epochs=20)
    lines = [
        f"Python {platform.python_version()}, numpy {np.__version__}; per epoch, best and median of {repeats} "
        "interleaved repetitions of 3 epochs ((d)) or 20 epochs ((e)); weights compared after those epochs.",
        "",
        "(d) one XOR epoch, per-sample SGD, 2-8-8-1 sigmoid, lr 0.1",
        "",
        *table(per_sample, ["micrograd 0.1.0", "hand-written Python floats"], "tinygrad_hw eager"),
        "",
        f"Recording and compiling the replay (its first call): {compile_seconds * 1e3:.1f} ms, once.",
        "",
        "(e) one full-batch epoch on the 100-point linear set, 2-8-8-1 sigmoid, lr 0.1",
        "",
        *table(full, ["numpy matrices by hand"], "tinygrad_hw eager"),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--update-docs", action="store_true", help="write the tables into docs/benchmarks.md")
    args = parser.parse_args()
    text = report(args.quick)
    print(text)
    if args.update_docs:
        update_docs(text, "bench_replay")


if __name__ == "__main__":
    main()

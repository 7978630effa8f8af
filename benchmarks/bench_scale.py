"""Fast at every size: tinygrad_hw beside its peers on wider networks, bigger batches
and deeper graphs, side by side in one process, interleaved, best and median.

    make bench                                 # runs every benchmark
    python benchmarks/bench_scale.py [--quick] [--update-docs]

(f) One epoch of per-sample SGD on the lab's 21-point XOR set, 2-H-H-1 sigmoid,
    loss (ŷ - y)², lr 0.1, for H = 4 ... 64, from the same weights: our eager engine
    in its usual loop, our replay as ``fit(engine="replay")`` runs it, micrograd
    0.1.0, the report's backpropagation by hand in Python floats written two ways --
    as loops over layers and neurons, and unrolled (one statement per neuron, gradient
    and weight, the weights in locals for the whole epoch: the statements the
    straight-line replay writes, so the limit a replay can reach) -- the same by hand
    with numpy vectors, and PyTorch when it is installed. ``fit``'s epoch is timed
    as (``fit`` for 1 + E epochs − ``fit`` for 1 epoch) / E: recording and the
    final predictions are left out; the unrolled code's compiling is left out too.
(g) One epoch of full-batch gradient descent on the lab's linear set of N points,
    2-H-H-1 sigmoid, for H in {8, 64} and N in {100, 1,000, 10,000}: ``fit`` with
    ``batch_size=None`` against numpy matrices by hand (and PyTorch), with the
    peak memory tracemalloc sees during the epochs.
(h) Recording and compiling one step (``replay.record``: the eager trace, the
    executor ``replay.choose`` picks, its code, then one run, which compiles the
    straight-line code), in microseconds per graph edge: the first time a shape is
    met (the code cache emptied before each try) and again (generated and compiled
    code taken from the cache).
(i) A chain of 1,000,000 ops, ``x = x + c``, built and backpropagated: ours against
    micrograd with its recursion limit raised (it recurses once per node).

Timings are wall-clock on a shared 2-core machine: read the ratios, not the
milliseconds.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import gc
import platform
import statistics
import sys
import threading
import time
import tracemalloc
from importlib.metadata import version
from typing import Any, Callable

import numpy as np
from bench_engine import initial_weights, micrograd_epoch, micrograd_model, our_epoch, our_model, update_docs
from handwritten import float_epoch, numpy_epoch, numpy_sample_epoch, unrolled_function
from micrograd.engine import Value as MgValue

from tinygrad_hw import Value
from tinygrad_hw.data import generate_linear, generate_xor_easy
from tinygrad_hw.engine import paused_gc, walk
from tinygrad_hw.losses import mse
from tinygrad_hw.nn import MLP
from tinygrad_hw.replay import choose, record
from tinygrad_hw.straightline import clear_cache
from tinygrad_hw.train import fit

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # PyTorch is optional: its rows say so
    torch = None

LR = 0.1


def interleaved(runs: dict[str, Callable[[], float]], repeats: int) -> dict[str, tuple[float, float]]:
    """(best, median) of each run's returned seconds, the runs taking turns."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            times[name].append(run())
    return {name: (min(t), statistics.median(t)) for name, t in times.items()}


def clock(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def fit_epoch(
    make: Callable[[], MLP], X: np.ndarray, y: np.ndarray, seconds: float, **options: Any
) -> Callable[[], float]:
    """A run timing one epoch of ``fit``: (``fit`` for 1 + E epochs − ``fit`` for 1) / E,
    with E chosen so that the E epochs take about ``seconds`` and the one-epoch ``fit``
    (recording, the final predictions) the fastest of three."""

    def fit_for(epochs: int) -> float:
        return clock(lambda: fit(make(), X, y, epochs=epochs, verbose=False, progress=False, **options))

    one = min(fit_for(1) for _ in range(3))
    extra = max(3, min(5000, round(seconds / max((fit_for(11) - one) / 10, 1e-6))))
    return lambda: max(fit_for(1 + extra) - one, 1e-9) / extra


# -- torch by hand, when installed -------------------------------------------------------------


def torch_layers(weights: list[list[list[float]]]) -> list[tuple[Any, Any]]:
    return [
        (
            torch.tensor([row[:-1] for row in layer], dtype=torch.float64, requires_grad=True),
            torch.tensor([row[-1] for row in layer], dtype=torch.float64, requires_grad=True),
        )
        for layer in weights
    ]


def torch_step(layers: list[tuple[Any, Any]], x: Any, y: Any) -> None:
    a = x
    for W, b in layers:
        a = torch.sigmoid(a @ W.T + b)
    loss = ((a - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        for W, b in layers:
            W -= LR * W.grad
            b -= LR * b.grad
            W.grad = None
            b.grad = None


# -- (f) per-sample epochs -----------------------------------------------------------------------


def per_sample(hidden: int, repeats: int) -> dict[str, tuple[float, float]]:
    X, Y = generate_xor_easy()
    xs, ys = [tuple(r) for r in X.tolist()], Y.ravel().astype(float).tolist()
    weights = initial_weights(0, [2, hidden, hidden, 1])
    runs: dict[str, Callable[[], float]] = {
        "tinygrad_hw eager": lambda: clock(lambda: our_epoch(our_model(weights), xs, ys)),
        "tinygrad_hw replay, fit": fit_epoch(lambda: our_model(weights), X, Y, 0.2, engine="replay"),
        "micrograd 0.1.0": lambda: clock(lambda: micrograd_epoch(micrograd_model(weights), xs, ys)),
        "floats by hand, loops": lambda: clock(lambda: float_epoch(copy.deepcopy(weights), xs, ys, LR)),
        "floats by hand, unrolled": unrolled_run(weights, xs, ys),
        "numpy vectors by hand": lambda: numpy_run(weights, xs, ys),
    }
    if torch is not None:
        runs["PyTorch, per sample"] = lambda: torch_run(weights, xs, ys)
    if hidden >= 32:  # micrograd needs a second or more an epoch here: fewer turns for it
        slow = runs.pop("micrograd 0.1.0")
        result = interleaved(runs, repeats)
        result["micrograd 0.1.0"] = interleaved({"m": slow}, max(2, repeats // 4))["m"]
        return {name: result[name] for name in [*list(runs)[:2], "micrograd 0.1.0", *list(runs)[2:]]}
    return interleaved(runs, repeats)


def unrolled_run(weights: list[list[list[float]]], xs: list[Any], ys: list[float]) -> Callable[[], float]:
    """A run timing one call of the unrolled epoch (compiled before, weights and samples
    flattened outside the clock)."""
    epoch = unrolled_function([len(weights[0][0]) - 1] + [len(layer) for layer in weights])
    flat = [w for layer in weights for row in layer for w in row]
    rows = [(*x, y) for x, y in zip(xs, ys)]
    return lambda: clock(lambda: epoch(flat, rows, LR))


def numpy_run(weights: list[list[list[float]]], xs: list[Any], ys: list[float]) -> float:
    W = [np.array([row[:-1] for row in layer]) for layer in weights]
    b = [np.array([row[-1] for row in layer]) for layer in weights]
    X, Y = [np.array(x) for x in xs], [np.array([y]) for y in ys]
    return clock(lambda: numpy_sample_epoch(W, b, X, Y, LR))


def torch_run(weights: list[list[list[float]]], xs: list[Any], ys: list[float]) -> float:
    layers = torch_layers(weights)
    X = [torch.tensor(x, dtype=torch.float64) for x in xs]
    Y = [torch.tensor([y], dtype=torch.float64) for y in ys]

    def epoch() -> None:
        for x, y in zip(X, Y):
            torch_step(layers, x, y)

    return clock(epoch)


# -- (g) full batch ---------------------------------------------------------------------------------


def full_batch(hidden: int, n: int, repeats: int) -> tuple[dict[str, tuple[float, float]], dict[str, float]]:
    X, y = generate_linear(n, seed=1)
    Y = y.astype(float)
    weights = initial_weights(0, [2, hidden, hidden, 1])
    extra = 5 if n >= 10_000 else 20

    def by_hand() -> float:
        W = [np.array([row[:-1] for row in layer]) for layer in weights]
        b = [np.array([row[-1] for row in layer]) for layer in weights]
        return clock(lambda: [numpy_epoch(W, b, X, Y, LR) for _ in range(extra)]) / extra

    ours = fit_epoch(lambda: our_model(weights), X, Y, 0.2, batch_size=None, engine="replay")
    runs = {"tinygrad_hw replay, fit": ours, "numpy matrices by hand": by_hand}
    if torch is not None:
        layers = torch_layers(weights)
        tx, ty = torch.tensor(X), torch.tensor(Y)
        runs["PyTorch"] = lambda: clock(lambda: [torch_step(layers, tx, ty) for _ in range(extra)]) / extra
    times = interleaved(runs, repeats)
    memory = {
        "tinygrad_hw replay, fit": peak(
            lambda: fit(
                our_model(weights), X, Y, epochs=2, batch_size=None, engine="replay", verbose=False, progress=False
            )
        ),
        "numpy matrices by hand": peak(by_hand),
    }
    return times, memory


def peak(fn: Callable[[], Any]) -> float:
    """Peak bytes allocated while ``fn`` runs (numpy's arrays included)."""
    gc.collect()
    tracemalloc.start()
    fn()
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top


# -- (h) recording and compiling -----------------------------------------------------------------


def record_costs(repeats: int) -> list[tuple[str, int, str, float, float]]:
    """(graph, edges, executor chosen, µs per edge the first time, µs per edge again) for several graphs."""
    rows = []
    for hidden in (4, 8, 16, 32, 64, 128):
        model = MLP(2, [hidden, hidden, 1], seed=0)
        rows.append(record_cost(f"2-{hidden}-{hidden}-1, one sample", lambda m=model: mse(m([0.1, 0.2]), 1.0), repeats))
    for n in (1_000, 10_000, 100_000):
        rows.append(record_cost(f"chain of {n:,} ops", lambda n=n: chain(Value, n)[0], 1 if n >= 100_000 else repeats))
    return rows


def record_cost(name: str, build: Callable[[], Value], repeats: int) -> tuple[str, int, str, float, float]:
    def fn() -> Value:
        return build()

    def record_and_run() -> None:
        tape = record(fn, ())[0]
        tape.run([p.data for p in tape.params], [])  # the first run compiles straight-line code

    def first() -> float:
        clear_cache()
        return clock(record_and_run)

    best = min(first() for _ in range(repeats))
    again = min(clock(record_and_run) for _ in range(repeats))  # the shape is in the cache now
    clear_cache()
    tape, out, _ = record(fn, ())
    edges = sum(len(v.children) for v in walk(out))
    return name, edges, type(tape.step).__name__, best / edges * 1e6, again / edges * 1e6


# -- (i) a million-op chain ---------------------------------------------------------------------


def chain(value: type, n: int) -> tuple[Any, Any]:
    x, c = value(0.5), value(1e-6)
    for _ in range(n):
        x = x + c
    return x, c


def chain_seconds(value: type, n: int, pause_gc: bool = False) -> float:
    """Build and backpropagate the chain, in a thread with room for micrograd's recursion;
    with ``pause_gc``, the build inside ``tinygrad_hw.engine.paused_gc``."""
    result: dict[str, float] = {}

    def work() -> None:
        start = time.perf_counter()
        with paused_gc if pause_gc else contextlib.nullcontext():
            x, c = chain(value, n)
        x.backward()
        result["seconds"] = time.perf_counter() - start
        assert abs(c.grad - n) < 1e-6 * n, "wrong gradient"

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 3 * n + 1000))
    threading.stack_size(1 << 29)  # 512 MiB: micrograd's topological sort recurses once per node
    try:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    finally:
        threading.stack_size(0)
        sys.setrecursionlimit(limit)
        gc.collect()
    return result["seconds"]


# -- (j) the cost rule -----------------------------------------------------------------------


def cost_rule(repeats: int) -> dict[int, dict[str, Any]]:
    """Seconds per fused SGD step of each executor, and the executor ``choose`` picks."""
    rows: dict[int, dict[str, Any]] = {}
    X, Y = generate_xor_easy()
    xs, ys = X.tolist(), Y.ravel().astype(float).tolist()
    for hidden in (4, 8, 16, 24, 32, 64):
        model = MLP(2, [hidden, hidden, 1], seed=0)
        row: dict[str, Any] = {}
        for executor in ("straight-line", "numpy", "looped"):
            loss = lambda x, y, model=model: mse(model(x), y)  # noqa: E731
            step = record(loss, (xs[0], ys[0]), model.parameters(), executor=executor)[0].step
            state = step.pack([p.data for p in model.parameters()])

            def epoch(step: Any = step, state: Any = state) -> float:
                with np.errstate(all="ignore"):
                    start = time.perf_counter()
                    for x, y in zip(xs, ys):
                        state = step.fused_sgd(state, [*x, y], LR)[1]
                    return (time.perf_counter() - start) / len(xs)

            row[executor] = min(epoch() for _ in range(repeats))
        out = mse(model(xs[0]), ys[0])
        row["chosen"] = choose(walk(out), runs=21 * 3000)  # the report's training: 3000 epochs of 21 steps
        rows[hidden] = row
    return rows


# -- the table ------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms" if seconds < 0.1 else f"{seconds * 1e3:.0f} ms"


def per_sample_table(results: dict[int, dict[str, tuple[float, float]]], repeats: int) -> list[str]:
    names = list(next(iter(results.values())))
    lines = [
        f"(f) one XOR epoch, per-sample SGD, 2-H-H-1 sigmoid, best (median) of {repeats} interleaved runs",
        "",
        "| H | "
        + " | ".join(names)
        + " | replay ÷ unrolled floats | replay ÷ floats, loops | replay ÷ numpy by hand | eager ÷ micrograd |",
        "|---" * (len(names) + 5) + "|",
    ]
    for hidden, row in results.items():
        cells = [f"{ms(best)} ({ms(median)})" for best, median in row.values()]
        replay, floats = row["tinygrad_hw replay, fit"], row["floats by hand, loops"][0]
        unrolled = row["floats by hand, unrolled"]
        vectors, eager, micrograd = (
            row["numpy vectors by hand"][0],
            row["tinygrad_hw eager"][0],
            row["micrograd 0.1.0"][0],
        )
        lines.append(
            f"| {hidden} | "
            + " | ".join(cells)
            + f" | **{replay[0] / unrolled[0]:.2f}× ({replay[1] / unrolled[1]:.2f}×)** | {replay[0] / floats:.2f}× "
            f"| {replay[0] / vectors:.2f}× "
            f"| {eager / micrograd:.3f}× |"
        )
    return lines


def full_batch_table(
    results: dict[tuple[int, int], tuple[dict[str, tuple[float, float]], dict[str, float]]],
) -> list[str]:
    names = list(next(iter(results.values()))[0])
    lines = [
        "(g) one full-batch epoch on the linear set, 2-H-H-1 sigmoid, best (median); peak memory by tracemalloc",
        "",
        "| H | N | " + " | ".join(names) + " | time ÷ numpy | peak memory: ours | numpy | ours ÷ numpy |",
        "|---" * (len(names) + 6) + "|",
    ]
    for (hidden, n), (times, memory) in results.items():
        cells = [f"{ms(best)} ({ms(median)})" for best, median in times.values()]
        ratio = times["tinygrad_hw replay, fit"][0] / times["numpy matrices by hand"][0]
        ours, numpy = memory["tinygrad_hw replay, fit"], memory["numpy matrices by hand"]
        lines.append(
            f"| {hidden} | {n:,} | " + " | ".join(cells) + f" | **{ratio:.2f}×** | {ours / 1e6:.2f} MB "
            f"| {numpy / 1e6:.2f} MB | {ours / numpy:.2f}× |"
        )
    return lines


def report(quick: bool) -> str:
    repeats = 3 if quick else 9
    hiddens = (4, 8, 16, 32, 64)
    samples = {h: per_sample(h, repeats) for h in hiddens}
    batches = {
        (h, n): full_batch(h, n, repeats) for h in (8, 64) for n in ((100, 1_000) if quick else (100, 1_000, 10_000))
    }
    costs = record_costs(2 if quick else 5)
    chain_n = 100_000 if quick else 1_000_000
    ours_chain = min(chain_seconds(Value, chain_n) for _ in range(2))
    ours_paused = min(chain_seconds(Value, chain_n, pause_gc=True) for _ in range(2))
    theirs_chain = chain_seconds(MgValue, chain_n)
    rule = cost_rule(repeats)
    torch_note = f"PyTorch {torch.__version__} (one thread)" if torch is not None else "PyTorch not installed"
    lines = [
        f"Python {platform.python_version()} on {platform.machine()}, numpy {np.__version__}, "
        f"micrograd {version('micrograd')}, {torch_note}.",
        "",
        *per_sample_table(samples, repeats),
        "",
        *full_batch_table(batches),
        "",
        "(h) recording and compiling one step (`replay.record`), per graph edge",
        "",
        "| graph | edges | executor chosen | µs per edge, first time | µs per edge, the shape seen before |",
        "|---|---|---|---|---|",
        *[
            f"| {name} | {edges:,} | {executor} | **{first:.1f}** | {again:.1f} |"
            for name, edges, executor, first, again in costs
        ],
        "",
        f"(i) a chain of {chain_n:,} ops `x = x + c`, built and backpropagated",
        "",
        "| | seconds | ÷ micrograd |",
        "|---|---|---|",
        f"| micrograd 0.1.0, recursion limit raised | {theirs_chain:.2f} s | 1.000× |",
        f"| tinygrad_hw, built in a plain loop | {ours_chain:.2f} s | **{ours_chain / theirs_chain:.3f}×** |",
        f"| tinygrad_hw, the loop in `with paused_gc:` | {ours_paused:.2f} s | **{ours_paused / theirs_chain:.3f}×** |",
        "",
        "(j) the cost rule: one per-sample step of 2-H-H-1 with each executor forced, best of "
        f"{repeats}, and the one `replay.choose` picks",
        "",
        "| H | straight-line | numpy program | loop over the graph | chosen |",
        "|---|---|---|---|---|",
        *[
            f"| {h} | "
            + " | ".join(f"{row[e] * 1e6:.1f} µs" for e in ("straight-line", "numpy", "looped"))
            + f" | {row['chosen']} |"
            for h, row in rule.items()
        ],
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, smaller sizes")
    parser.add_argument("--update-docs", action="store_true", help="write the tables into docs/benchmarks.md")
    args = parser.parse_args()
    table = report(args.quick)
    print(table)
    if args.update_docs:
        update_docs(table, "bench_scale")


if __name__ == "__main__":
    main()

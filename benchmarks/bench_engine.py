"""tinygrad_hw's eager engine against micrograd 0.1.0, side by side in one process.

    make bench                       # installs micrograd==0.1.0, runs this
    python benchmarks/bench_engine.py [--quick] [--update-docs]

(a) One epoch of per-sample SGD on the lab's 21-point XOR set with the report's
    2-8-8-1 all-sigmoid network, lr 0.1, loss (ŷ - y)², both engines starting from
    the same weights, each through its own nn module and training loop. micrograd
    0.1.0 has no sigmoid, so it gets a one-node sigmoid written in its own style (a
    closure computing s·(1 - s)) and a Neuron subclass that calls it. Reported: the best and
    the median of several interleaved repetitions, their ratio, and the largest
    difference between the two engines' gradients and trained weights.
(b) A chain x = x + c of N nodes, built and backpropagated (micrograd's recursive
    topological sort dies near N = 1,000).
(c) Bytes per graph node of that chain, by tracemalloc.
(d) Where the eager epoch of (a) spends its time: the forward pass (model and loss),
    zero_grad, backward's order (the nodes under the loss, sorted by creation number),
    backward's kernels, and SGD's step, each clocked around its own part of every
    sample (the best of the repetitions), with the graph's edges per sample; and the
    bare arithmetic of those parts on Values' attributes in plain loops (a product
    per dot term forward, two gradient updates per term backward, a step and a
    reset per parameter, no nodes made and no calls): what any engine holding its
    numbers in Python objects pays at least; beside each part, the same part of (e)'s
    minimal engine (both profiles interleaved, each its best repetition).
(e) The floor of one node per op: (a)'s epoch -- same data, weights, graph (a dot,
    a sigmoid per neuron, ŷ - y, its square) and order of floating-point operations --
    on a minimal engine written here: a __slots__ node per op, its value computed
    as it is made, backward a loop over the nodes sorted by creation number (found
    by a stack walk over every edge, as ours) with each local derivative inline; no
    grad mode, labels, checks or hooks. A second variant gets the order for free (a
    tape of the nodes as made, walked reversed). Interleaved with (a); trained
    weights compared with ours.

Timings are wall-clock on a shared machine: read the ratios, not the milliseconds.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import math
import operator
import platform
import random
import re
import statistics
import sys
import time
import tracemalloc
from importlib.metadata import version
from itertools import pairwise
from pathlib import Path
from typing import Any

from micrograd import nn as micrograd_nn
from micrograd.engine import Value as MgValue

from tinygrad_hw import Value
from tinygrad_hw.data import generate_xor_easy
from tinygrad_hw.losses import mse
from tinygrad_hw.nn import MLP
from tinygrad_hw.optim import SGD
from tinygrad_hw.value import _interior, walk

ROOT = Path(__file__).resolve().parent.parent
SIZES = [2, 8, 8, 1]
LR = 0.1


def _micrograd_sigmoid(self: MgValue) -> MgValue:
    """A sigmoid for micrograd 0.1.0, in the style of its own ops."""
    s = 1 / (1 + math.exp(-self.data))
    out = MgValue(s, (self,), "sigmoid")

    def _backward() -> None:
        self.grad += s * (1 - s) * out.grad

    out._backward = _backward
    return out


MgValue.sigmoid = _micrograd_sigmoid


def xor_easy() -> tuple[list[tuple[float, float]], list[float]]:
    """The lab's 21 XOR points as plain floats."""
    X, y = generate_xor_easy()
    return [tuple(row) for row in X.tolist()], [float(t) for t in y.ravel()]


def initial_weights(seed: int = 0, sizes: list[int] = SIZES) -> list[list[list[float]]]:
    """weights[layer][neuron] = [w_1 .. w_nin, b], uniform in [-1, 1], bias 0."""
    rng = random.Random(seed)
    return [
        [[rng.uniform(-1, 1) for _ in range(sizes[k])] + [0.0] for _ in range(sizes[k + 1])]
        for k in range(len(sizes) - 1)
    ]


def sizes_of(weights: list[list[list[float]]]) -> list[int]:
    """The layer sizes [nin, n1, n2, ...] of weights laid out as ``initial_weights`` makes them."""
    return [len(weights[0][0]) - 1] + [len(layer) for layer in weights]


class MicrogradSigmoidNeuron(micrograd_nn.Neuron):
    """micrograd's Neuron with a sigmoid in place of its ReLU."""

    def __call__(self, x: list[Any]) -> MgValue:
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.sigmoid()


def micrograd_model(weights: list[list[list[float]]]) -> micrograd_nn.MLP:
    sizes = sizes_of(weights)
    model = micrograd_nn.MLP(sizes[0], sizes[1:])
    for layer, rows in zip(model.layers, weights):
        layer.neurons = [MicrogradSigmoidNeuron(len(row) - 1) for row in rows]
        for neuron, row in zip(layer.neurons, rows):
            for w, x in zip(neuron.w, row[:-1]):
                w.data = x
            neuron.b.data = row[-1]
    return model


def our_model(weights: list[list[list[float]]]) -> MLP:
    sizes = sizes_of(weights)
    model = MLP(sizes[0], sizes[1:], "sigmoid")
    for layer, rows in zip(model.layers, weights):
        for neuron, row in zip(layer.neurons, rows):
            for w, x in zip(neuron.w, row[:-1]):
                w.data = x
            neuron.b.data = row[-1]
    return model


def micrograd_epoch(model: micrograd_nn.MLP, xs: list[tuple[float, float]], ys: list[float]) -> None:
    """micrograd's own training loop, per sample."""
    for x, y in zip(xs, ys):
        loss = (model(x) - y) ** 2
        loss.backward()
        for p in model.parameters():
            p.data -= LR * p.grad
        model.zero_grad()


def our_epoch(model: MLP, xs: list[tuple[float, float]], ys: list[float]) -> None:
    """The same loop with tinygrad_hw's nn, losses and optim."""
    opt = SGD(model.parameters(), LR)
    for x, y in zip(xs, ys):
        loss = mse(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def first_gradients(model: Any, x: tuple[float, float], y: float) -> list[float]:
    loss = (model(x) - y) ** 2
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    model.zero_grad()
    return grads


def bench_epoch(repeats: int) -> dict[str, float]:
    xs, ys = xor_easy()
    weights = initial_weights()
    engines: dict[str, tuple[Any, Any]] = {
        "micrograd": (micrograd_model, micrograd_epoch),
        "tinygrad_hw": (our_model, our_epoch),
        "floor": (FloorModel, floor_epoch),
        "floor_tape": (FloorModel, floor_tape_epoch),
    }
    grads = {name: first_gradients(engines[name][0](weights), xs[3], ys[3]) for name in ("micrograd", "tinygrad_hw")}
    trained = {}
    times: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(repeats):
        for name, (make, epoch) in engines.items():  # interleaved: both see the same machine
            model = make(weights)
            start = time.perf_counter()
            epoch(model, xs, ys)
            times[name].append(time.perf_counter() - start)
            trained[name] = [p.data for p in model.parameters()]
    best = {name: min(t) for name, t in times.items()}
    median = {name: statistics.median(t) for name, t in times.items()}
    floors = {
        f"{name}_{stat}": value
        for name in ("floor", "floor_tape")
        for stat, value in (
            ("best_ms", best[name] * 1e3),
            ("median_ms", median[name] * 1e3),
            ("ratio_best", best[name] / best["micrograd"]),
            ("ratio_median", median[name] / median["micrograd"]),
            ("weight_diff", max(abs(a - b) for a, b in zip(trained[name], trained["tinygrad_hw"]))),
        )
    }
    return floors | {
        "micrograd_best_ms": best["micrograd"] * 1e3,
        "ours_best_ms": best["tinygrad_hw"] * 1e3,
        "ratio_best": best["tinygrad_hw"] / best["micrograd"],
        "micrograd_median_ms": median["micrograd"] * 1e3,
        "ours_median_ms": median["tinygrad_hw"] * 1e3,
        "ratio_median": median["tinygrad_hw"] / median["micrograd"],
        "grad_diff": max(abs(a - b) for a, b in zip(grads["micrograd"], grads["tinygrad_hw"])),
        "weight_diff": max(abs(a - b) for a, b in zip(trained["micrograd"], trained["tinygrad_hw"])),
    }


PARTS = ("forward", "zero_grad", "backward: order", "backward: kernels", "SGD step")


def epoch_profile(repeats: int) -> tuple[dict[str, float], int]:
    """Seconds of each of ``PARTS`` in our eager epoch (the best repetition), and graph edges per sample."""
    xs, ys = xor_easy()
    best: dict[str, float] | None = None
    for _ in range(repeats):
        model = our_model(initial_weights())
        opt = SGD(model.parameters(), LR)
        spent = dict.fromkeys(PARTS, 0.0)
        for x, y in zip(xs, ys):
            t0 = time.perf_counter()
            loss = mse(model(x), y)
            t1 = time.perf_counter()
            opt.zero_grad()
            t2 = time.perf_counter()
            order = _interior(loss, newest_first=True)  # what loss.backward() runs, in two parts
            t3 = time.perf_counter()
            loss.grad = 1.0
            for node in order:
                node.op.backward(node)  # type: ignore[union-attr]
            t4 = time.perf_counter()
            opt.step()
            t5 = time.perf_counter()
            for part, seconds in zip(PARTS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                spent[part] += seconds
        if best is None or sum(spent.values()) < sum(best.values()):
            best = spent
    assert best is not None
    return best, sum(len(v.children) for v in walk(mse(our_model(initial_weights())(xs[0]), ys[0])))


def bare_arithmetic(repeats: int) -> float:
    """Seconds of the epoch's arithmetic on Value attributes alone (see (d)), the best of ``repeats``."""
    xs, _ = xor_easy()
    params = our_model(initial_weights()).parameters()
    pairs = [(Value(0.5), Value(0.25)) for _ in range(sum(a * b for a, b in pairwise(SIZES)))]

    def sample(g: float = 0.5) -> None:
        total = 0.0
        for a, b in pairs:
            total += a.data * b.data
        for a, b in pairs:
            a.grad += b.data * g
            b.grad += a.data * g
        for p in params:
            p.data -= LR * p.grad
        for p in params:
            p.grad = 0.0

    def epoch() -> float:
        start = time.perf_counter()
        for _ in xs:
            sample()
        return time.perf_counter() - start

    return min(epoch() for _ in range(repeats))


def chain(value: type, n: int) -> tuple[Any, Any]:
    x, c = value(0.5), value(1e-6)
    for _ in range(n):
        x = x + c
    return x, c


def bench_chain(n: int) -> dict[str, str]:
    row = {}
    for name, value in (("micrograd", MgValue), ("tinygrad_hw", Value)):
        start = time.perf_counter()
        try:
            x, c = chain(value, n)
            x.backward()
            ok = c.grad == n
            row[name] = f"{(time.perf_counter() - start) * 1e3:.1f} ms" + ("" if ok else " (wrong gradient)")
        except RecursionError:
            row[name] = "RecursionError"
        finally:
            x = c = None
            gc.collect()
    return row


def bytes_per_node(value: type, n: int) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    x, c = chain(value, n)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del x, c
    return used / n


# -- (e) the floor: the least a one-node-per-op reverse-mode engine costs in CPython ---------

_DOT_NODE, _SIGMOID_NODE, _SUB_NODE, _SQUARE_NODE = 1, 2, 3, 4
_floor_serial = itertools.count()


class FloorNode:
    """A node and nothing else: its number, its value, its grad, its kind (0 for a leaf)
    and its operands -- a dot keeps its weights, inputs and bias apart, so nothing is packed."""

    __slots__ = ("a", "b", "c", "data", "grad", "kind", "n")

    def __init__(self, data: float, kind: int = 0, a: Any = None, b: Any = None, c: Any = None) -> None:
        self.data = data
        self.grad = 0.0
        self.kind = kind
        self.a = a
        self.b = b
        self.c = c
        self.n = next(_floor_serial)


class FloorModel:
    """The 2-8-8-1 sigmoid network on FloorNodes: per layer, per neuron, (weights, bias)."""

    def __init__(self, weights: list[list[list[float]]]) -> None:
        self.layers = [[([FloorNode(w) for w in row[:-1]], FloorNode(row[-1])) for row in rows] for rows in weights]
        self.params = [p for layer in self.layers for ws, b in layer for p in (*ws, b)]
        self.tape: list[FloorNode] | None = None  # the tape variant appends every node made here

    def parameters(self) -> list[FloorNode]:
        return self.params

    def loss(self, x: tuple[float, float], y: float) -> FloorNode:
        """The forward pass: a dot node and a sigmoid node per neuron, then ŷ - y and its square,
        each node's value computed as it is made, in our kernels' order of operations."""
        tape = self.tape
        acts = [FloorNode(v) for v in x]
        for layer in self.layers:
            out = []
            for ws, b in layer:
                total = b.data
                for w, a in zip(ws, acts):
                    total += w.data * a.data
                z = FloorNode(total, _DOT_NODE, ws, acts, b)
                s = FloorNode(1.0 / (1.0 + math.exp(-total)), _SIGMOID_NODE, z)
                if tape is not None:
                    tape += (z, s)
                out.append(s)
            acts = out
        err = FloorNode(acts[0].data - y, _SUB_NODE, acts[0])
        loss = FloorNode(err.data * err.data, _SQUARE_NODE, err)
        if tape is not None:
            tape += (err, loss)
        return loss


def _floor_order(loss: FloorNode) -> list[FloorNode]:
    """The computed nodes under ``loss``, newest first: a list read as it grows (as ours),
    then a sort by number. Every edge is looked at, as in our graph (212 a sample): an
    engine does not know which operands are parameters; leaves (kind 0) are passed over."""
    found = [loss]
    seen = {loss}
    add, append = seen.add, found.append
    for node in found:
        if node.kind == _DOT_NODE:
            for child in node.a:
                if child.kind and child not in seen:
                    add(child)
                    append(child)
            for child in node.b:
                if child.kind and child not in seen:
                    add(child)
                    append(child)
            child = node.c
        else:
            child = node.a
        if child.kind and child not in seen:
            add(child)
            append(child)
    found.sort(key=_NUMBER, reverse=True)
    return found


_NUMBER = operator.attrgetter("n")


def _floor_backward(loss: FloorNode, order: Any) -> None:
    """Each node's local derivative, inline, newest node first."""
    loss.grad = 1.0
    for node in order:
        kind, g = node.kind, node.grad
        if kind == _DOT_NODE:
            node.c.grad += g
            for w, a in zip(node.a, node.b):
                w.grad += a.data * g
                a.grad += w.data * g
        elif kind == _SIGMOID_NODE:
            out = node.data
            node.a.grad += out * (1.0 - out) * g
        elif kind == _SUB_NODE:
            node.a.grad += g
        else:
            node.a.grad += 2.0 * node.a.data * g


def floor_epoch(model: FloorModel, xs: list[tuple[float, float]], ys: list[float]) -> None:
    """Our loop on the floor engine: forward, zero_grad, backward (walk and sort), step."""
    params = model.params
    for x, y in zip(xs, ys):
        loss = model.loss(x, y)
        for p in params:
            p.grad = 0.0
        _floor_backward(loss, _floor_order(loss))
        for p in params:
            p.data -= LR * p.grad


def floor_profile(repeats: int) -> dict[str, float]:
    """Seconds of each of ``PARTS`` in the floor engine's epoch (the best repetition), clocked as (d)."""
    xs, ys = xor_easy()
    best: dict[str, float] | None = None
    for _ in range(repeats):
        model = FloorModel(initial_weights())
        params = model.params
        spent = dict.fromkeys(PARTS, 0.0)
        for x, y in zip(xs, ys):
            t0 = time.perf_counter()
            loss = model.loss(x, y)
            t1 = time.perf_counter()
            for p in params:
                p.grad = 0.0
            t2 = time.perf_counter()
            order = _floor_order(loss)
            t3 = time.perf_counter()
            _floor_backward(loss, order)
            t4 = time.perf_counter()
            for p in params:
                p.data -= LR * p.grad
            t5 = time.perf_counter()
            for part, seconds in zip(PARTS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                spent[part] += seconds
        if best is None or sum(spent.values()) < sum(best.values()):
            best = spent
    assert best is not None
    return best


def floor_tape_epoch(model: FloorModel, xs: list[tuple[float, float]], ys: list[float]) -> None:
    """The same with the order for free: the nodes as made, walked in reverse."""
    params = model.params
    for x, y in zip(xs, ys):
        model.tape = tape = []
        loss = model.loss(x, y)
        for p in params:
            p.grad = 0.0
        _floor_backward(loss, reversed(tape))
        for p in params:
            p.data -= LR * p.grad


def _difference(diff: float) -> str:
    return "bit for bit" if diff == 0.0 else f"{diff:.1e}"


def report(quick: bool) -> str:
    repeats = 5 if quick else 21
    epoch = bench_epoch(repeats)
    chains = [100, 1_000, 10_000, 100_000] + ([] if quick else [1_000_000])
    chain_rows = {n: bench_chain(n) for n in chains}
    memory = {name: bytes_per_node(v, 100_000) for name, v in (("micrograd", MgValue), ("tinygrad_hw", Value))}
    parts, edges = epoch_profile(1)
    floor = floor_profile(1)
    for _ in range(repeats - 1):  # interleaved, each keeping its best repetition
        parts = min(parts, epoch_profile(1)[0], key=lambda spent: sum(spent.values()))
        floor = min(floor, floor_profile(1), key=lambda spent: sum(spent.values()))
    total = sum(parts.values())
    bare = bare_arithmetic(repeats)
    floor_total = sum(floor.values())

    lines = [
        f"Python {platform.python_version()} on {platform.machine()}, micrograd {version('micrograd')}; "
        f"{repeats} interleaved repetitions.",
        "",
        "| (a) one XOR epoch, per-sample SGD, 2-8-8-1 sigmoid | micrograd | tinygrad_hw | ratio |",
        "|---|---|---|---|",
        f"| best of {repeats} | {epoch['micrograd_best_ms']:.2f} ms | {epoch['ours_best_ms']:.2f} ms "
        f"| **{epoch['ratio_best']:.3f}×** |",
        f"| median of {repeats} | {epoch['micrograd_median_ms']:.2f} ms | {epoch['ours_median_ms']:.2f} ms "
        f"| {epoch['ratio_median']:.3f}× |",
        f"| largest gradient difference (one sample) | | | {epoch['grad_diff']:.1e} |",
        f"| largest weight difference after the epoch | | | {epoch['weight_diff']:.1e} |",
        "",
        "| (b) chain x = x + c, build + backward | micrograd | tinygrad_hw |",
        "|---|---|---|",
        *[f"| N = {n:,} | {row['micrograd']} | {row['tinygrad_hw']} |" for n, row in chain_rows.items()],
        "",
        "| (c) memory per graph node (chain, tracemalloc) | micrograd | tinygrad_hw | ratio |",
        "|---|---|---|---|",
        f"| bytes per node | {memory['micrograd']:.0f} | {memory['tinygrad_hw']:.0f} "
        f"| {memory['tinygrad_hw'] / memory['micrograd']:.3f}× |",
        "",
        f"| (d) where our epoch of (a) goes ({edges} graph edges a sample, 21 samples) | time | share "
        "| minimal engine of (e), walk + sort | ours beyond it |",
        "|---|---|---|---|---|",
        *[
            f"| {part} | {seconds * 1e3:.3f} ms | {seconds / total:.0%} | {floor[part] * 1e3:.3f} ms "
            f"| {(seconds - floor[part]) * 1e3:+.3f} ms |"
            for part, seconds in parts.items()
        ],
        f"| all, clocked in parts | {total * 1e3:.3f} ms | 100% | {floor_total * 1e3:.3f} ms "
        f"| {(total - floor_total) * 1e3:+.3f} ms |",
        f"| the bare arithmetic of all parts, in plain loops | {bare * 1e3:.3f} ms | {bare / total:.0%} | | |",
        "",
        "| (e) the epoch of (a) on a minimal one-node-per-op engine, interleaved with (a) "
        "| best | ÷ micrograd | median | ÷ micrograd | weights vs ours |",
        "|---|---|---|---|---|---|",
        *[
            f"| {title} | {epoch[name + '_best_ms']:.2f} ms | **{epoch[name + '_ratio_best']:.3f}×** "
            f"| {epoch[name + '_median_ms']:.2f} ms | {epoch[name + '_ratio_median']:.3f}× "
            f"| {_difference(epoch[name + '_weight_diff'])} |"
            for name, title in (
                ("floor", "walk + sort by number (as ours)"),
                ("floor_tape", "order for free (a tape, reversed)"),
            )
        ],
        f"| tinygrad_hw, for comparison | {epoch['ours_best_ms']:.2f} ms | {epoch['ratio_best']:.3f}× "
        f"| {epoch['ours_median_ms']:.2f} ms | {epoch['ratio_median']:.3f}× | |",
    ]
    return "\n".join(lines)


def update_docs(table: str, name: str = "bench_engine") -> None:
    """Put ``table`` between the ``<!-- {name}:start/end -->`` markers of docs/benchmarks.md."""
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text()
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        sys.exit(f"{path}: no <!-- {name}:start/end --> markers to replace")
    path.write_text(pattern.sub(lambda m: m.group(1) + table + "\n" + m.group(2), text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, no million-node chain")
    parser.add_argument("--update-docs", action="store_true", help="write the table into docs/benchmarks.md")
    args = parser.parse_args()
    sys.setrecursionlimit(1000)  # micrograd's limit as users meet it
    table = report(args.quick)
    print(table)
    if args.update_docs:
        update_docs(table)


if __name__ == "__main__":
    main()

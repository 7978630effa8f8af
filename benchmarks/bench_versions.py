"""This checkout's eager engine against another revision's, each beside micrograd.

    python benchmarks/bench_versions.py --against REV [--rounds 5]

Did a change slow the engine down? Two versions of a package cannot share one
process, so each round starts one process per version, alternately (A, B, A, B...);
inside each, our engine and micrograd run interleaved, and what is compared is each
version's time *as a ratio to micrograd's in the same process* -- the machine's
noise cancels there. Measured: one XOR epoch of the report's 2-8-8-1 network
(bench_engine.py's), eager and replayed (``replay.jit``: straight-line code), one XOR
epoch of a 2-64-64-1 network replayed (the numpy program), a 100,000-node chain
built and backpropagated (per node, against micrograd's 900-node chain: its
recursion stops near 1,000), and 100,000 leaves made with ``Value(x)``. The replayed
epochs are divided by micrograd's 2-8-8-1 epoch too.

The other revision's ``tinygrad_hw`` is taken with ``git archive`` into a temporary
folder; this file's own helpers come from this checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def measure(repeats: int) -> dict[str, float]:
    """In this process: each case for tinygrad_hw (whichever is on the path) and for
    micrograd, interleaved; the ratio of their best times."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_engine as bench
    from micrograd.engine import Value as MgValue

    from tinygrad_hw import Value

    xs, ys = bench.xor_easy()
    weights = bench.initial_weights()
    micrograd_epoch = lambda: bench.micrograd_epoch(bench.micrograd_model(weights), xs, ys)  # noqa: E731
    cases = {  # name: (ours, micrograd's, how many units each does: times compare per unit)
        "XOR epoch (2-8-8-1)": (lambda: bench.our_epoch(bench.our_model(weights), xs, ys), micrograd_epoch, 1, 1),
        "XOR epoch (2-8-8-1), replayed": (_replayed_epoch(bench, weights, xs, ys), micrograd_epoch, 1, 1),
        "XOR epoch (2-64-64-1), replayed": (
            _replayed_epoch(bench, bench.initial_weights(sizes=[2, 64, 64, 1]), xs, ys),
            micrograd_epoch,
            1,
            1,
        ),
        # micrograd's recursive sort stops near 1,000 nodes: per node, against its 900
        "chain, build + backward, per node": (lambda: _chain(Value, 100_000), lambda: _chain(MgValue, 900), 1e5, 900),
        "Value(x), per leaf": (
            lambda: [Value(0.5) for _ in range(100_000)],
            lambda: [MgValue(0.5) for _ in range(100_000)],
            1,
            1,
        ),
    }
    result = {}
    for name, (ours, theirs, n_ours, n_theirs) in cases.items():
        times: dict[str, list[float]] = {"ours": [], "micrograd": []}
        for _ in range(repeats):
            for who, run in (("ours", ours), ("micrograd", theirs)):
                start = time.perf_counter()
                run()
                times[who].append(time.perf_counter() - start)
        result[name] = (min(times["ours"]) / n_ours) / (min(times["micrograd"]) / n_theirs)
    return result


def _replayed_epoch(bench: Any, weights: list[list[list[float]]], xs: list[Any], ys: list[float]) -> Any:
    """One epoch of per-sample SGD through ``replay.jit`` (recorded before it is timed),
    with the public API both versions have: jit, mse, SGD."""
    from tinygrad_hw.losses import mse
    from tinygrad_hw.optim import SGD
    from tinygrad_hw.replay import jit

    model = bench.our_model(weights)
    step = jit(lambda x, y: mse(model(x), y))
    opt = SGD(model.parameters(), bench.LR)
    step(list(xs[0]), ys[0])  # recorded: the epochs below replay
    opt.zero_grad()

    def epoch() -> None:
        for x, y in zip(xs, ys):
            step(list(x), y)
            opt.step()
            opt.zero_grad()

    return epoch


def _chain(value: type, n: int) -> None:
    x, c = value(0.5), value(1e-6)
    for _ in range(n):
        x = x + c
    x.backward()


def _checkout(rev: str, folder: Path) -> Path:
    """``tinygrad_hw`` as it is at ``rev``, unpacked into ``folder``."""
    archive = subprocess.run(["git", "archive", rev, "tinygrad_hw"], cwd=ROOT, capture_output=True, check=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def _run(path: Path, repeats: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(path)}
    check = f"import tinygrad_hw, sys; sys.exit(not tinygrad_hw.__file__.startswith({str(path)!r}))"
    subprocess.run([sys.executable, "-c", check], env=env, cwd=tempfile.gettempdir(), check=True)
    done = subprocess.run(
        [sys.executable, __file__, "--worker", "--repeats", str(repeats)],
        env=env,
        cwd=tempfile.gettempdir(),  # not this checkout: its tinygrad_hw must not shadow the one on PYTHONPATH
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", default="HEAD", help="the revision to compare with (default: HEAD)")
    parser.add_argument("--rounds", type=int, default=5, help="processes per version (default: 5)")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each case per process (default: 5)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.repeats)))
        return
    with tempfile.TemporaryDirectory() as folder:
        versions = {args.against: _checkout(args.against, Path(folder)), "this checkout": ROOT}
        ratios: dict[str, list[dict[str, float]]] = {name: [] for name in versions}
        for _ in range(args.rounds):
            for name, path in versions.items():
                ratios[name].append(_run(path, args.repeats))
    print(f"| ÷ micrograd's time, over {args.rounds} processes each | {args.against} | this checkout | change |")
    print("|---|---|---|---|")
    for case in ratios["this checkout"][0]:
        for how, pick in (("median", statistics.median), ("best", min)):
            old = pick(r[case] for r in ratios[args.against])
            new = pick(r[case] for r in ratios["this checkout"])
            print(f"| {case}, {how} | {old:.3f}× | {new:.3f}× | {new / old - 1:+.1%} |")


if __name__ == "__main__":
    main()

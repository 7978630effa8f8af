"""micrograd's demo, reproduced: its two moons, its network, its loss and its schedule.

micrograd's ``demo.ipynb`` trains a 2-16-16-1 MLP (ReLU, ReLU, linear output) on 100
"moons" points with noise 0.1, labels ±1, with an SVM max-margin loss plus 1e-4 times
the sum of squared parameters, for 100 steps of full-batch gradient descent with the
learning rate falling from 1.0 to 0.109 (``1.0 - 0.9·k/100``), and reaches 100 %
training accuracy. Here the same, with tinygrad_hw: the points are those of the
demo's ``np.random.seed(1337)`` and the initial weights those of its
``random.seed(1337)``, so the run is the demo's own, step for step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import IO, Callable, Sequence, cast

import numpy as np

from tinygrad_hw.data import make_moons
from tinygrad_hw.engine import Value
from tinygrad_hw.nn import MLP
from tinygrad_hw.replay import jit
from tinygrad_hw.train import ENGINES, accuracy, predict

__all__ = ["ALPHA", "STEPS", "MoonsRun", "demo_learning_rate", "svm_loss", "train_moons"]

ALPHA = 1e-4  # the L2 penalty's weight
STEPS = 100
SEED = 1337  # the demo's random.seed and np.random.seed


def svm_loss(model: MLP, X: Sequence[Sequence[float]], y: Sequence[float], alpha: float = ALPHA) -> Value:
    """The demo's loss: the mean hinge ``max(0, 1 − yᵢ·scoreᵢ)`` over the batch, plus
    ``alpha · Σ p²`` over the parameters (labels ±1)."""
    return _scored_loss(model, X, y, alpha)[1]


def _scored_loss(
    model: MLP, X: Sequence[Sequence[float]], y: Sequence[float], alpha: float = ALPHA
) -> tuple[list[Value], Value]:
    """The network's score for each sample, and the loss built on them."""
    scores = [_one(model(list(row))) for row in X]
    losses = [(1 + -yi * score).relu() for yi, score in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum(p * p for p in model.parameters())
    return scores, cast(Value, data_loss + reg_loss)  # sum() of Values: 0 + a Value is a Value


def _one(output: Value | list[Value]) -> Value:
    """micrograd's demo network has one output."""
    if not isinstance(output, Value):
        raise ValueError(f"the demo's network has one output, not {len(output)}")
    return output


@dataclass
class MoonsRun:
    """What a run of the demo did."""

    model: MLP
    X: np.ndarray
    y: np.ndarray  # ±1
    losses: list[float] = field(default_factory=list)  # per step, before its update
    accuracies: list[float] = field(default_factory=list)  # per step, before its update
    seconds: float = 0.0

    @property
    def final_accuracy(self) -> float:
        """Training accuracy after the last update."""
        return accuracy(predict(self.model, self.X), self.y, threshold=0.0)


def demo_learning_rate(k: int) -> float:
    """The demo's ``1.0 - 0.9·k/100`` for its 100 steps, then 0.1, where it ends: past
    step 111 the formula goes to 0 and below, and more steps would climb the loss."""
    return 1.0 - 0.9 * min(k, 100) / 100


def train_moons(
    *,
    steps: int = STEPS,
    seed: int = SEED,
    engine: str = "eager",
    n: int = 100,
    noise: float = 0.1,
    log_every: int = 10,
    file: IO[str] | None = None,
) -> MoonsRun:
    """Train the demo's network on the demo's data; print the demo's lines (``step k loss
    …, accuracy …%``) every ``log_every`` steps to ``file``. ``engine="replay"`` records
    the step once and replays it (here with numpy, equal to the eager numbers to about
    1e-15); for a graph this size (8,000 nodes, 100 steps) compiling costs about what
    it saves (benchmarks/bench_moons.py)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: choose one of {', '.join(map(repr, ENGINES))}")
    X, labels = make_moons(n, noise, seed)
    y = labels[:, 0] * 2.0 - 1.0
    model = MLP(2, [16, 16, 1], ["relu", "relu", "none"], seed=seed)
    run = MoonsRun(model, X, y)
    step = _stepper(model, engine)
    rows, targets = X.tolist(), y.tolist()
    started = time.perf_counter()
    for k in range(steps):
        model.zero_grad()
        loss, scores = step(rows, targets)
        run.losses.append(loss)
        run.accuracies.append(accuracy(scores, y, threshold=0.0))
        learning_rate = demo_learning_rate(k)
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        if file is not None and (k % log_every == 0 or k == steps - 1):
            print(f"step {k} loss {run.losses[-1]}, accuracy {run.accuracies[-1] * 100}%", file=file)
    run.seconds = time.perf_counter() - started
    return run


def _stepper(model: MLP, engine: str) -> Callable[[list[list[float]], list[float]], tuple[float, np.ndarray]]:
    """A function of (X, y) that fills the parameters' .grad and returns the loss and the
    scores it was computed from (the demo's accuracy comes from the same forward pass)."""
    if engine == "replay":
        replayed = jit(lambda X, y: svm_loss(model, X, y))

        def replay(X: list[list[float]], y: list[float]) -> tuple[float, np.ndarray]:
            scores = predict(model, X)[:, 0]  # the replay returns the loss alone: the scores again
            return replayed(X, y), scores

        return replay

    def eager(X: list[list[float]], y: list[float]) -> tuple[float, np.ndarray]:
        scores, loss = _scored_loss(model, X, y)
        loss.backward()
        return loss.data, np.array([s.data for s in scores])

    return eager

"""Training: per-sample SGD as in the report, or mini/full batches, with the
report's console output (``Epoch 500 loss: 0.012345``, then the predictions and
``Accuracy: 100.0 %``).

A run whose loss stops being finite (the report's "without activation" run)
ends at that epoch with a one-line message; its history is returned, not lost.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import IO, Any, Callable, Sequence

import numpy as np
from tqdm import tqdm

from .batched import BatchTape
from .checks import is_count
from .engine import Value, no_grad
from .losses import LOSSES, binary_cross_entropy, mse
from .nn import MLP
from .optim import SGD, Optimizer
from .replay import record
from .serialize import PathLike, write_atomic

__all__ = ["ENGINES", "History", "accuracy", "fit", "predict", "print_predictions"]

ENGINES = ("eager", "replay")


@dataclass
class History:
    """What a training run did, epoch by epoch."""

    loss: list[float] = field(default_factory=list)  # mean training loss of each epoch run
    accuracy: float | None = None  # fraction of training samples right after training
    diverged_at: int | None = None  # the epoch whose loss was not finite
    epochs: int = 0  # epochs asked for
    seconds: float = 0.0
    engine: str = "eager"
    message: str = ""

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def final_loss(self) -> float:
        return self.loss[-1] if self.loss else math.nan

    def epochs_to(self, threshold: float) -> int | None:
        """The first epoch whose loss is below ``threshold`` (None if never)."""
        return next((i + 1 for i, x in enumerate(self.loss) if x < threshold), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, path: PathLike) -> None:
        """JSON (``.json``) or CSV of epoch and loss (any other suffix), written atomically."""
        if str(path).endswith(".json"):
            text = json.dumps(self.to_dict(), indent=1, default=float)
        else:
            text = "epoch,loss\n" + "".join(f"{i + 1},{x!r}\n" for i, x in enumerate(self.loss))
        write_atomic(path, text)


def _dataset(model: MLP, X: Any, y: Any) -> tuple[list[list[float]], list[list[float]]]:
    """X and y as lists of float rows, checked against the model's shape."""
    try:
        xs = np.asarray(X, dtype=float)
        ys = np.asarray(y, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(f"X and y must be numeric arrays: {error}") from None
    if xs.ndim == 1:
        xs = xs.reshape(1, -1) if len(xs) == model.nin else xs.reshape(-1, 1)
    if xs.ndim != 2 or xs.shape[1] != model.nin or len(xs) == 0:
        raise ValueError(f"X has shape {xs.shape}; this model needs (n, {model.nin}) with n >= 1")
    nout = model.sizes[-1]
    if ys.size != len(xs) * nout:
        raise ValueError(f"y has shape {ys.shape}; with {len(xs)} samples it needs ({len(xs)}, {nout})")
    ys = ys.reshape(len(xs), nout)
    for name, a in (("X", xs), ("y", ys)):
        bad = np.argwhere(~np.isfinite(a))
        if len(bad):
            raise ValueError(f"{name} holds {a[tuple(bad[0])]} at row {bad[0][0]}: training needs finite numbers")
    return xs.tolist(), ys.tolist()


def _outputs(out: Value | list[Value]) -> list[Value]:
    return [out] if isinstance(out, Value) else out


def _nice_interval(epochs: int) -> int:
    """A round logging interval giving about ten lines."""
    target = max(1, epochs // 10)
    scale = 10 ** (len(str(target)) - 1)
    return next(m * scale for m in (1, 2, 5, 10) if m * scale >= target)


def fit(
    model: MLP,
    X: Any,
    y: Any,
    *,
    epochs: int,
    lr: float = 0.1,
    batch_size: int | None = 1,
    optimizer: Optimizer | None = None,
    loss: str | Callable[..., Value] = "mse",
    log_every: int | None = None,
    progress: bool = True,
    shuffle: bool = False,
    seed: int | None = None,
    engine: str = "eager",
    verbose: bool = True,
    file: IO[str] | None = None,
) -> History:
    """Train ``model`` on ``X`` (n, nin) and ``y`` (n, nout); return its History.

    ``batch_size=1`` is the report's per-sample SGD, ``None`` the full batch. The
    optimizer defaults to ``SGD(model.parameters(), lr)``. With ``verbose`` the loss
    is printed every ``log_every`` epochs (about ten lines by default) and the
    predictions and accuracy at the end; the progress bar appears on a terminal
    when a run takes more than a second. ``shuffle`` reorders the samples every
    epoch with a ``random.Random(seed)``; without it they go in the data's order.
    ``engine="replay"`` records the step once and replays it as generated code
    (``tinygrad_hw.replay``) or, for batches, with numpy over the batch
    (``tinygrad_hw.batched``): the same numbers, several times faster.
    """
    if not is_count(epochs):
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: choose one of {', '.join(map(repr, ENGINES))}")
    loss_fn = LOSSES.get(loss) if isinstance(loss, str) else loss
    if loss_fn is None or not callable(loss_fn):
        raise ValueError(f"unknown loss {loss!r}: choose one of {', '.join(map(repr, LOSSES))} or pass a function")
    xs, ys = _dataset(model, X, y)
    n = len(xs)
    if batch_size is None:
        batch_size = n
    if not is_count(batch_size):
        raise ValueError(f"batch_size must be a positive integer or None (full batch), got {batch_size!r}")
    if log_every is None:
        log_every = _nice_interval(epochs)
    if not is_count(log_every):
        raise ValueError(f"log_every must be a positive integer, got {log_every!r}")
    opt = optimizer if optimizer is not None else SGD(model.parameters(), lr)
    out = file if file is not None else sys.stdout
    say = (lambda line: tqdm.write(line, file=out)) if verbose else (lambda line: None)
    order = list(range(n))
    rng = random.Random(seed)
    history = History(epochs=epochs, engine=engine)
    start = time.perf_counter()

    if engine == "replay":
        steps: _EagerSteps = _ReplaySteps(model, loss_fn, opt, xs, ys, batch_size)
    else:
        steps = _EagerSteps(model, loss_fn, opt, xs, ys)
    bar = tqdm(range(1, epochs + 1), disable=None if progress else True, delay=1.0, unit="epoch", leave=False)
    for epoch in bar:
        if shuffle:
            rng.shuffle(order)
        total = 0.0
        for b in range(0, n, batch_size):
            batch = order[b : b + batch_size]
            value = steps(batch)
            if not math.isfinite(value):
                history.loss.append(value)
                history.diverged_at = epoch
                history.message = (
                    f"Stopped at epoch {epoch}: the loss is {value} (training diverged; "
                    "a smaller learning rate or an activation function keeps it finite)"
                )
                break
            total += value * len(batch)
        if history.diverged:
            break
        history.loss.append(total / n)
        if epoch == 1 or epoch % log_every == 0 or epoch == epochs:
            say(f"Epoch {epoch} loss: {history.loss[-1]:.6f}")
    steps.finish()
    bar.close()
    history.seconds = time.perf_counter() - start
    if history.diverged:
        say(f"Epoch {history.diverged_at} loss: {history.loss[-1]}")
        say(history.message)
    pred = predict(model, xs)
    history.accuracy = accuracy(pred, ys)
    if verbose:
        print_predictions(pred, history.accuracy, file=out)
    return history


def _batch_loss(model: MLP, loss_fn: Callable[..., Value]) -> Callable[[Any, Any], Value]:
    """The loss of a batch: samples' inputs ``xb`` and targets ``tb`` (lists of rows)."""

    def batch_loss(xb: Sequence[Any], tb: Sequence[Any]) -> Value:
        preds = [p for x in xb for p in _outputs(model(x))]
        targets = [t for row in tb for t in row]
        value = loss_fn(preds[0] if len(preds) == 1 else preds, targets[0] if len(targets) == 1 else targets)
        if not isinstance(value, Value):
            raise TypeError(f"the loss function must return a Value, not {type(value).__name__}")
        return value

    return batch_loss


class _EagerSteps:
    """One optimisation step per call, through the Value engine; returns the loss.

    When the loss is not finite nothing is updated (the caller stops)."""

    def __init__(self, model: MLP, loss_fn: Callable[..., Value], opt: Optimizer, xs: list, ys: list) -> None:
        self.batch_loss, self.opt, self.xs, self.ys = _batch_loss(model, loss_fn), opt, xs, ys

    def __call__(self, batch: list[int]) -> float:
        value = self.batch_loss([self.xs[i] for i in batch], [self.ys[i] for i in batch])
        if math.isfinite(value.data):
            self.opt.zero_grad()
            value.backward()
            self.opt.step()
        return value.data

    def finish(self) -> None:
        pass


class _ReplaySteps(_EagerSteps):
    """The same steps, recorded once and replayed.

    Per-sample steps run the straight-line replay (``replay.py``: the same bits as
    eager); batches of a loss that is a mean over samples (``mse``, ``bce``) run one
    sample's graph over the batch with numpy (``batched.py``: the same numbers to
    about 1e-15); other losses record one straight-line step per batch size. With
    plain SGD the update is fused into the replay and the weights stay flat until
    ``finish`` writes them back; other optimisers step on the parameters' ``.grad``.
    """

    def __init__(
        self, model: MLP, loss_fn: Callable[..., Value], opt: Optimizer, xs: list, ys: list, batch_size: int
    ) -> None:
        super().__init__(model, loss_fn, opt, xs, ys)
        self.params = model.parameters()
        self.fused = type(opt) is SGD and opt.momentum == 0.0 and set(opt.params) == set(self.params)
        self.tapes: dict[int, Any] = {}
        self.vectorized = batch_size > 1 and loss_fn in (mse, binary_cross_entropy)
        if self.vectorized:
            self.rows = np.hstack([np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)])
            self.sample_loss = _batch_loss(model, loss_fn)
        self.W: Any = np.array([p.data for p in self.params]) if self.vectorized else tuple(p.data for p in self.params)

    def _tape(self, batch: list[int]) -> Any:
        key = 0 if self.vectorized else len(batch)  # one batched tape serves every batch size
        if key not in self.tapes:
            if self.vectorized:
                first = ([self.xs[batch[0]]], [self.ys[batch[0]]])
                self.tapes[key] = BatchTape.record(self.sample_loss, first, self.params)
            else:
                args = ([self.xs[i] for i in batch], [self.ys[i] for i in batch])
                self.tapes[key] = record(self.batch_loss, args, params=self.params)[0]
        return self.tapes[key]

    def __call__(self, batch: list[int]) -> float:
        tape = self._tape(batch)
        if self.vectorized:
            X: Any = self.rows[batch]
        else:
            X = [v for i in batch for v in self.xs[i]] + [t for i in batch for t in self.ys[i]]
        if self.fused:
            loss, W = tape.sgd(self.W, X, self.opt.lr)
            if math.isfinite(loss):
                self.W = W
            return loss
        loss, grads = tape.run([p.data for p in self.params], X)
        if math.isfinite(loss):
            self.opt.zero_grad()
            for p, g in zip(self.params, grads):
                p.grad += float(g)
            self.opt.step()
        return loss

    def finish(self) -> None:
        if self.fused:
            for p, w in zip(self.params, self.W):
                p.data = float(w)


def predict(model: MLP, X: Any) -> np.ndarray:
    """The model's outputs for each row of X, shape (n, nout); builds no graph."""
    rows = np.asarray(X, dtype=float).reshape(-1, model.nin).tolist()
    with no_grad():
        return np.array([[v.data for v in _outputs(model(row))] for row in rows])


def accuracy(pred: Any, y: Any, threshold: float = 0.5) -> float:
    """Fraction of outputs on the right side of ``threshold`` (NaN counts as wrong)."""
    p = np.asarray(pred, dtype=float)
    t = np.asarray(y, dtype=float).reshape(p.shape)
    right = np.where(np.isfinite(p), (p > threshold) == (t > threshold), False)
    return float(right.mean())


def print_predictions(pred: Sequence[Any] | np.ndarray, acc: float, file: IO[str] | None = None) -> None:
    """The report's listing: each prediction on its own line, then the accuracy."""
    out = file if file is not None else sys.stdout
    for row in np.asarray(pred, dtype=float).tolist():
        print(*row, file=out)
    print(f"Accuracy: {acc * 100:.1f} %", file=out)

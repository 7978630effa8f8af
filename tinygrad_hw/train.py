"""Training: per-sample SGD as in the report, or mini/full batches, with the
report's console output (``Epoch 500 loss: 0.012345``, then the predictions, as the
table ``tinygrad-hw predict`` prints, and ``Accuracy: 100.0 %``).

A run whose loss stops being finite (the report's "without activation" run)
ends at that epoch with a one-line message; its history is returned, not lost.
"""

from __future__ import annotations

import math
import random
import signal
import sys
import threading
import time
from collections import OrderedDict
from typing import IO, Any, Callable, Iterator, Sequence

import numpy as np
from tqdm import tqdm

from .checks import counted, is_count, type_name
from .codegen import ARITH_ERRORS
from .diagnose import EpochStart, find_divergence
from .engine import Value, no_grad
from .executor import Executor
from .history import Divergence, History
from .losses import LOSSES, binary_cross_entropy, check_targets, mse
from .nn import MLP
from .optim import SGD, Optimizer
from .predictions import prediction_table
from .replay import record, record_numpy
from .straightline import StraightLine

__all__ = ["ENGINES", "History", "accuracy", "as_inputs", "as_targets", "fit", "predict", "print_predictions"]

ENGINES = ("eager", "replay")


def _array(data: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(data, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a numeric array: {error}") from None


def as_inputs(model: MLP, X: Any) -> np.ndarray:
    """X as an (n, nin) float array: exactly that shape, or one sample as a 1-D array of
    length nin. Anything else is refused, never reshaped: a transposed X would
    otherwise be read as other samples."""
    if not isinstance(model, MLP):  # a micrograd-style MLP has no sizes or activations to check X against
        raise TypeError(
            f"the model must be a tinygrad_hw.nn.MLP, not {type_name(model)}"
            + (
                ": train micrograd's MLP with its own loop, as its demo does, or build the same network as "
                "tinygrad_hw.nn.MLP(nin, nouts, activation=['relu', ..., 'none'])"
                if type(model).__module__.startswith("tinygrad_hw.micrograd")
                else ""
            )
        )
    xs = _array(X, "X")
    if xs.ndim == 1 and len(xs) == model.nin:
        xs = xs.reshape(1, -1)
    if xs.ndim != 2 or xs.shape[1] != model.nin or len(xs) == 0:
        raise ValueError(
            f"X has shape {xs.shape}; this model needs (n, {model.nin}) with n >= 1 "
            f"(or ({model.nin},) for one sample)"
            + (f": is X transposed? X.T has shape {xs.T.shape}" if xs.ndim == 2 and xs.shape[0] == model.nin else "")
        )
    return xs


def as_targets(y: Any, n: int, nout: int) -> np.ndarray:
    """y as an (n, nout) float array: given as (n, nout), or (n,) when nout is 1 (also
    () or (nout,) for one sample). Anything else is refused, never reshaped."""
    ys = _array(y, "y")
    accepted = {(n, nout)} | ({(n,)} if nout == 1 else set()) | ({(), (nout,)} if n == 1 else set())
    if ys.shape not in accepted:
        shapes = " or ".join(str(s) for s in sorted(accepted, key=len, reverse=True))
        raise ValueError(
            f"y has shape {ys.shape}; for {counted(n, 'sample')} of a {nout}-output model it needs {shapes}"
        )
    return ys.reshape(n, nout)


def _finite(name: str, a: np.ndarray) -> None:
    bad = np.argwhere(~np.isfinite(a))
    if len(bad):
        raise ValueError(f"{name} holds {a[tuple(bad[0])]} at row {bad[0][0]}: training needs finite numbers")


def _dataset(model: MLP, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """X and y as (n, nin) and (n, nout) float arrays, checked against the model's shape."""
    xs = as_inputs(model, X)
    ys = as_targets(y, len(xs), model.sizes[-1])
    _finite("X", xs)
    _finite("y", ys)
    return xs, ys


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
    on_epoch: Callable[[int, float], None] | None = None,
) -> History:
    """Train ``model`` on ``X`` (n, nin) and ``y`` (n, nout); return its History.

    ``batch_size=1`` is the report's per-sample SGD, ``None`` the full batch. The
    optimizer defaults to ``SGD(model.parameters(), lr)``. With ``verbose`` the loss
    is printed every ``log_every`` epochs (about ten lines by default) and the
    predictions and accuracy at the end; the progress bar appears on a terminal
    when a run takes more than a second. ``shuffle`` reorders the samples every
    epoch with a ``random.Random(seed)``; without it they go in the data's order.
    ``engine="replay"`` records the step once and replays it as generated code
    (``tinygrad_hw.replay``; per sample, the same bits as eager) or, for batches,
    with the numpy program over the batch (``tinygrad_hw.numpyprogram``; equal to
    about 1e-15).

    Interrupted (Ctrl-C, or any exception from a step), ``fit`` leaves the
    parameters as the last completed step left them, on every engine, and
    re-raises the exception with the run so far attached as ``error.history``
    (its ``loss`` holds the completed epochs, ``steps`` the completed steps). A
    first Ctrl-C takes effect when the current step ends; a second one at once.

    ``on_epoch(epoch, loss)`` is called after each completed epoch, the model's
    parameters as that epoch left them (it reads them; it must not change them):
    ``tinygrad_hw.recording.Recorder`` keeps a run's frames this way. A run that
    diverges is re-run eagerly from the start of that epoch to find the first node
    that was not finite (``tinygrad_hw.diagnose``): ``history.divergence`` says where
    and why, and the console prints it under the stop message.
    """
    loss_fn = _check_options(epochs, engine, loss, batch_size, log_every)
    xs, ys = _dataset(model, X, y)
    check_targets(loss_fn, ys)
    batch_size = len(xs) if batch_size is None else batch_size
    opt = optimizer if optimizer is not None else SGD(model.parameters(), lr)
    out = file if file is not None else sys.stdout
    say = (lambda line: tqdm.write(line, file=out)) if verbose else (lambda line: None)
    _check_optimizer(model, opt, say)
    history = History(epochs=epochs, engine=engine)
    if engine == "replay":
        steps: _EagerSteps = _ReplaySteps(model, loss_fn, opt, xs, ys, batch_size, epochs)
    else:
        steps = _EagerSteps(model, loss_fn, opt, xs, ys)
    start = time.perf_counter()
    bar = tqdm(total=epochs, disable=None if progress else True, delay=1.0, unit="epoch", leave=False)
    try:
        with _InterruptAfterStep() as interrupt, np.errstate(all="ignore"):  # numpy's inf and nan pass quietly
            schedule = _Schedule(len(xs), batch_size, shuffle, seed)
            _train(steps, schedule, history, bar, interrupt, say, log_every or _nice_interval(epochs), on_epoch)
    except BaseException as error:
        history.seconds = time.perf_counter() - start
        _attach(error, history)
        raise
    finally:
        steps.finish()  # the replay's flat weights back into the model, whatever happened
        bar.close()
    history.seconds = time.perf_counter() - start
    if history.diverged_at is not None:
        say(f"Epoch {history.diverged_at} loss: {history.loss[-1]}")
        say(history.message)
        history.divergence = _find_divergence(model, loss_fn, opt, xs, ys, schedule, steps.start, history.diverged_at)
        for line in (history.divergence.message if history.divergence else _NOT_FOUND).splitlines():
            say(f"  {line}")
    pred = predict(model, xs, engine)
    history.accuracy = accuracy(pred, ys)
    if verbose:
        print_predictions(xs, pred, ys, history.accuracy, file=out)
    return history


def _check_options(epochs: Any, engine: Any, loss: Any, batch_size: Any, log_every: Any) -> Callable[..., Value]:
    """Refuse bad options before any work; return the loss function."""
    if not is_count(epochs):
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: choose one of {', '.join(map(repr, ENGINES))}")
    loss_fn = LOSSES.get(loss) if isinstance(loss, str) else loss
    if loss_fn is None or not callable(loss_fn):
        raise ValueError(f"unknown loss {loss!r}: choose one of {', '.join(map(repr, LOSSES))} or pass a function")
    if batch_size is not None and not is_count(batch_size):
        raise ValueError(f"batch_size must be a positive integer or None (full batch), got {batch_size!r}")
    if log_every is not None and not is_count(log_every):
        raise ValueError(f"log_every must be a positive integer, got {log_every!r}")
    return loss_fn


def _check_optimizer(model: MLP, opt: Optimizer, say: Callable[[str], None]) -> None:
    """Refuse an optimizer that would train none of the model; say so if it trains part."""
    if not hasattr(opt, "params"):  # an optimizer of the user's own making: nothing to check against
        return
    params = model.parameters()
    held = set(opt.params)
    lacks = sum(p not in held for p in params)
    if lacks == len(params):
        raise ValueError(
            f"the optimizer holds none of the model's {len(params)} parameters, so fit would train nothing "
            "(was it made for another model? pass optimizer=SGD(model.parameters(), lr))"
        )
    if lacks:
        say(f"The optimizer lacks {lacks} of the model's {len(params)} parameters: they stay as they are.")


class _Schedule:
    """Which samples each step of an epoch takes: in order, or shuffled by ``seed``."""

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int | None) -> None:
        self.n, self.batch_size, self.shuffle = n, batch_size, shuffle
        self.order = list(range(n))
        self.rng = random.Random(seed)

    def state(self) -> Any:
        """What the next epoch's order depends on: None in order, else the order and the generator."""
        return (list(self.order), self.rng.getstate()) if self.shuffle else None

    def epochs_from(self, state: Any, first: int, last: int) -> Iterator[tuple[int, list[Sequence[int]]]]:
        """Epochs ``first`` to ``last`` again, in the order they had, from ``state``."""
        again = _Schedule(self.n, self.batch_size, self.shuffle, None)
        if state is not None:
            again.order = list(state[0])
            again.rng.setstate(state[1])
        for epoch in range(first, last + 1):
            yield epoch, list(again.batches())

    def samples(self) -> list[int] | None:
        """One epoch of one sample per step: its order, taken as ``batches`` would take it
        (the same shuffle), or None for the data's order."""
        if self.shuffle:
            self.rng.shuffle(self.order)
            return self.order
        return None

    def batches(self) -> Iterator[Sequence[int]]:
        """Each step's sample indices: a list when shuffled, else a range (no list to build)."""
        if self.shuffle:
            self.rng.shuffle(self.order)
            for b in range(0, self.n, self.batch_size):
                yield self.order[b : b + self.batch_size]
        else:
            for b in range(0, self.n, self.batch_size):
                yield range(b, min(b + self.batch_size, self.n))


def _train(
    steps: _EagerSteps,
    schedule: _Schedule,
    history: History,
    bar: Any,
    interrupt: _InterruptAfterStep,
    say: Callable[[str], None],
    log_every: int,
    on_epoch: Callable[[int, float], None] | None = None,
) -> None:
    """The epochs of ``fit``: a step per batch, the mean loss per epoch, stopping at the
    first non-finite loss (nothing is updated by that step)."""
    epoch = 0
    while epoch < history.epochs:  # a loop, not range(): any number of epochs, however large
        epoch += 1
        steps.start = EpochStart.take(epoch, steps.weights(), steps.opt, schedule.state()) or steps.start
        total = steps.epoch(schedule, history, interrupt)
        if total is None:
            history.diverged_at = epoch
            history.message = (
                f"Stopped at epoch {epoch}: the loss is {history.loss[-1]} (training diverged; "
                "a smaller learning rate or an activation function keeps it finite)"
            )
            return
        history.loss.append(total / schedule.n)
        if on_epoch is not None:
            steps.sync()
            on_epoch(epoch, history.loss[-1])
        bar.update()
        if epoch == 1 or epoch % log_every == 0 or epoch == history.epochs:
            say(f"Epoch {epoch} loss: {history.loss[-1]:.6f}")


_NOT_FOUND = (
    "re-running the epoch eagerly kept every value and gradient finite "
    "(the replay's batches round differently from the engine, by about 1e-15)"
)


def _find_divergence(
    model: MLP,
    loss_fn: Callable[..., Value],
    opt: Optimizer,
    xs: np.ndarray,
    ys: np.ndarray,
    schedule: _Schedule,
    start: EpochStart | None,
    last: int,
) -> Divergence | None:
    """The first non-finite node of a diverged run (``tinygrad_hw.diagnose``), or None."""
    if start is None:
        return None
    epochs = schedule.epochs_from(start.schedule, start.epoch, last)
    return find_divergence(model, opt, loss_fn, xs.tolist(), ys.tolist(), start, epochs)


def _attach(error: BaseException, history: History) -> None:
    """Give an exception that ended a run the run so far (``error.history``)."""
    completed = len(history.loss)
    history.message = (
        f"Interrupted by {type(error).__name__} in epoch {completed + 1}: the parameters are those after "
        f"step {history.steps} (epoch {completed} completed); the history so far is error.history"
    )
    try:
        error.history = history  # type: ignore[attr-defined]  # an attribute of our own on any exception
    except AttributeError:  # an exception type with __slots__: nothing to attach it to
        return
    if hasattr(error, "add_note"):
        error.add_note(f"tinygrad_hw.fit: {history.message}")


class _InterruptAfterStep:
    """Ctrl-C while training: finish the current step, then raise KeyboardInterrupt.

    An update cut in half would leave some parameters stepped and others not;
    deferring the first Ctrl-C to the end of the step keeps the model at a step
    boundary. A second Ctrl-C raises at once. Only in the main thread, and only
    when Python's own handler is in place (a program's own handler is left alone).
    """

    def __init__(self) -> None:
        self.pending = False
        self.installed = False

    def __enter__(self) -> _InterruptAfterStep:
        if threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                    signal.signal(signal.SIGINT, self._handle)
                    self.installed = True
            except (ValueError, OSError):  # no signals here (an embedded interpreter)
                pass
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.pending:
            signal.default_int_handler(signum, frame)
        self.pending = True

    def check(self) -> None:
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if self.installed:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        if kind is None:
            self.check()  # a Ctrl-C during the last step is not lost


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

    def __init__(
        self, model: MLP, loss_fn: Callable[..., Value], opt: Optimizer, xs: np.ndarray, ys: np.ndarray
    ) -> None:
        self.batch_loss, self.opt = _batch_loss(model, loss_fn), opt
        self.xs, self.ys = xs.tolist(), ys.tolist()  # rows of Python floats, as the Value engine takes them
        self.params = model.parameters()
        self.start: EpochStart | None = None  # the latest epoch that began with finite parameters

    def __call__(self, batch: Sequence[int]) -> float:
        value = self.batch_loss([self.xs[i] for i in batch], [self.ys[i] for i in batch])
        if math.isfinite(value.data):
            self.opt.zero_grad()
            value.backward()
            self.opt.step()
        return value.data

    def epoch(self, schedule: _Schedule, history: History, interrupt: _InterruptAfterStep) -> float | None:
        """One epoch's steps, counted in ``history.steps``: the sum of their losses (each
        times its batch's size), or None when a loss was not finite (then appended to
        ``history.loss``; that step updated nothing)."""
        total = 0.0
        for batch in schedule.batches():
            interrupt.check()  # a Ctrl-C during the previous step (or its epoch's bookkeeping) stops here
            value = self(batch)
            if not math.isfinite(value):
                history.loss.append(value)
                return None
            history.steps += 1
            total += value * len(batch)
        return total

    def weights(self) -> list[float]:
        """The parameters' current values, in ``model.parameters()`` order."""
        return [p.data for p in self.params]

    def sync(self) -> None:
        """Put the current weights into the model's parameters (the replay may hold them)."""

    def finish(self) -> None:
        pass


class _ReplaySteps(_EagerSteps):
    """The same steps, recorded once and replayed.

    Per-sample steps run the executor ``replay.choose`` picks for the sample's graph:
    straight-line code (the same bits as eager) for small networks, a numpy
    program with matrix products for wide ones (equal to about 1e-15). Batches of
    a loss that is a mean over samples (``mse``, ``bce``) run one sample's graph
    over the whole batch with the numpy program (``numpyprogram.py``); other
    losses record one step per batch size. With plain SGD the update is fused into the step and the
    weights stay inside the executor until ``finish`` writes them back; other
    optimisers step on the parameters' ``.grad``.
    """

    TAPES_KEPT = 8  # recorded steps kept (one per batch size), least recently used dropped first

    def __init__(
        self,
        model: MLP,
        loss_fn: Callable[..., Value],
        opt: Optimizer,
        xs: np.ndarray,
        ys: np.ndarray,
        batch_size: int,
        epochs: int,
    ) -> None:
        self.batch_loss, self.opt = _batch_loss(model, loss_fn), opt
        self.params = model.parameters()
        self.runs = epochs * -(-len(xs) // batch_size)  # the steps each recording may serve
        self.fused = type(opt) is SGD and opt.momentum == 0.0 and set(opt.params) == set(self.params)
        self.tapes: OrderedDict[int, Executor] = OrderedDict()
        self.uses_numpy = batch_size > 1 and loss_fn in (mse, binary_cross_entropy)
        if self.uses_numpy:  # the data as one array, its rows the batches' samples (no Python floats)
            self.rows = np.hstack([xs, ys])
            self.xs, self.ys = xs[:1].tolist(), ys[:1].tolist()  # one sample to record
            self.sample_loss = _batch_loss(model, loss_fn)
        else:
            self.xs, self.ys = xs.tolist(), ys.tolist()
        self.sample_rows: list[tuple[float, ...]] | None = None  # per-sample epochs' rows, made when first needed
        self.holder: Executor | None = None  # the executor holding the weights (fused SGD), and its state
        self.state: Any = None
        self.start = None

    def _executor(self, batch: Sequence[int]) -> Executor:
        key = 0 if self.uses_numpy else len(batch)  # one numpy program serves every batch size
        if key in self.tapes:
            self.tapes.move_to_end(key)
            return self.tapes[key]
        if self.uses_numpy:
            first = (self.xs, self.ys)
            self.tapes[key] = record_numpy(self.sample_loss, first, self.params)
        else:
            args = ([self.xs[i] for i in batch], [self.ys[i] for i in batch])
            self.tapes[key] = record(self.batch_loss, args, params=self.params, runs=self.runs)[0].step
        while len(self.tapes) > self.TAPES_KEPT:
            self.tapes.popitem(last=False)
        return self.tapes[key]

    def __call__(self, batch: Sequence[int]) -> float:
        executor = self._executor(batch)
        if self.uses_numpy:
            X: Any = self.rows[batch.start : batch.stop] if isinstance(batch, range) else self.rows[batch]  # a view
        else:
            X = [v for i in batch for v in self.xs[i]] + [t for i in batch for t in self.ys[i]]
        if self.fused:
            self._hold(executor)
            loss, self.state = executor.fused_sgd(self.state, X, self.opt.lr)
            return loss
        loss, grads = executor.run([p.data for p in self.params], X)
        if math.isfinite(loss):
            self.opt.zero_grad()
            for p, g in zip(self.params, grads):
                p.grad += float(g)
            self.opt.step()
        return loss

    def _hold(self, executor: Executor) -> None:
        """Make ``executor`` the one holding the weights (handed over from a batch of another size)."""
        if executor is not self.holder:
            weights = self.holder.unpack(self.state) if self.holder is not None else [p.data for p in self.params]
            self.state, self.holder = executor.pack(weights), executor

    def epoch(self, schedule: _Schedule, history: History, interrupt: _InterruptAfterStep) -> float | None:
        """Per-sample plain SGD through straight-line code runs a whole epoch in one call of
        generated code (``StraightLine.epoch_function``): the same steps, the same bits, no
        Python between samples. Everything else steps as the eager engine does."""
        executor = self._executor(range(1)) if self.fused and schedule.batch_size == 1 else None
        if not isinstance(executor, StraightLine):
            return super().epoch(schedule, history, interrupt)
        self._hold(executor)
        if self.sample_rows is None:  # each sample's inputs then targets, as the step reads them
            self.sample_rows = [tuple(x + y) for x, y in zip(self.xs, self.ys)]
        order, every = schedule.samples(), self.sample_rows
        rows = every if order is None else [every[i] for i in order]
        total, bad, done = self._fused_epoch(executor, rows, history, interrupt)
        if bad is not None:
            history.loss.append(bad)
            return None
        if done < len(rows):  # stopped for a Ctrl-C before a step: raise it here, as the steps' loop does
            interrupt.check()
        return total

    def _fused_epoch(
        self, executor: StraightLine, rows: list[tuple[float, ...]], history: History, flag: _InterruptAfterStep
    ) -> tuple[float, float | None, int]:
        """(loss sum, the non-finite loss that stopped it or None, steps done); the weights
        of the last completed step kept in ``self.state`` however it ends."""
        run, lr = executor.epoch_function(), self.opt.lr
        out: list[Any] = [(*self.state, 0.0, 0), None]
        try:
            while out[1] is None and out[0][-1] < len(rows):
                done = out[0][-1]
                try:
                    run(out[0], rows if done == 0 else rows[done:], lr, flag, out)
                    break
                except ARITH_ERRORS:  # Python raised where IEEE-754 answers inf or nan: this sample the safe way
                    *weights, total, done = out[0]
                    loss, stepped = executor(weights, rows[done], lr)
                    if math.isfinite(loss):
                        out[0] = (*stepped, total + loss, done + 1)
                    else:
                        out[1] = loss
        finally:
            *weights, total, done = out[0]
            self.state = tuple(weights)
            history.steps += done
        return total, out[1], done

    def weights(self) -> list[float]:
        if self.fused and self.holder is not None:
            return self.holder.unpack(self.state)  # a new list of floats
        return [p.data for p in self.params]

    def sync(self) -> None:
        if self.fused and self.holder is not None:
            for p, w in zip(self.params, self.holder.unpack(self.state)):
                p.data = float(w)

    def finish(self) -> None:
        self.sync()
        self.tapes.clear()  # their arrays are the size of the batch: free them before predicting
        self.holder = self.state = None


REPLAY_PREDICTIONS_FROM = 100_000  # samples × parameters from which replayed predictions pay for recording


def predict(model: MLP, X: Any, engine: str = "eager") -> np.ndarray:
    """The model's outputs for each row of X (n, nin), shape (n, nout); builds no graph.

    A 1-D X of length nin is one sample; any other shape is a ValueError.
    ``engine="replay"`` computes all rows at once with numpy (one sample's forward
    pass recorded and run over the batch) when there are enough of them to pay for
    it; the outputs then agree with the eager engine's to about 1e-15."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: choose one of {', '.join(map(repr, ENGINES))}")
    xs = as_inputs(model, X)
    if engine == "replay" and len(xs) * len(model.parameters()) >= REPLAY_PREDICTIONS_FROM:
        return _replayed_outputs(model, xs)
    with no_grad():
        return np.array([[v.data for v in _outputs(model(row))] for row in xs.tolist()])


def _replayed_outputs(model: MLP, xs: np.ndarray) -> np.ndarray:
    """Every row's outputs from one numpy forward pass over the batch."""
    outputs: list[Value] = []

    def total(x: Any) -> Value:
        outputs[:] = _outputs(model(x))
        return Value.sum(outputs)  # one root to record; the outputs are read from their rows

    program = record_numpy(total, (xs[0].tolist(),), model.parameters())
    return program.values([p.data for p in model.parameters()], xs, outputs).T


def accuracy(pred: Any, y: Any, threshold: float = 0.5) -> float:
    """Fraction of outputs on the right side of ``threshold`` (NaN counts as wrong)."""
    p = np.asarray(pred, dtype=float)
    if p.ndim == 1:
        p = p.reshape(-1, 1)
    if p.ndim != 2:
        raise ValueError(f"predictions have shape {p.shape}; accuracy needs (n, nout) or (n,)")
    t = as_targets(y, len(p), p.shape[1])
    right = np.where(np.isfinite(p), (p > threshold) == (t > threshold), False)
    return float(right.mean())


def print_predictions(
    X: np.ndarray,
    pred: np.ndarray,
    y: np.ndarray | None,
    acc: float,
    file: IO[str] | None = None,
    limit: int = 25,
    threshold: float = 0.5,
) -> None:
    """The end of a run: the table ``tinygrad-hw predict`` prints (inputs, outputs, class,
    label, ✓ or ✗; beyond ``limit`` rows the first and last ten), then the accuracy."""
    out = file if file is not None else sys.stdout
    for line in prediction_table(X, np.asarray(pred, dtype=float), y, threshold=threshold, limit=limit):
        print(line, file=out)
    print(f"Accuracy: {acc * 100:.1f} %", file=out)

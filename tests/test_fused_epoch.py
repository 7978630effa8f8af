"""Per-sample SGD epochs in one generated function (issue 23): the eager engine's bits,
its order of updates, and fit's behaviour on Ctrl-C, errors and divergence."""

import math
import os
import signal
import threading

import numpy as np
import pytest

from tinygrad_hw.data import generate_linear, generate_xor_easy
from tinygrad_hw.losses import mse
from tinygrad_hw.nn import MLP
from tinygrad_hw.replay import record
from tinygrad_hw.straightline import StraightLine
from tinygrad_hw.train import fit


@pytest.fixture
def epochs_run(monkeypatch):
    """How many times generated epoch code ran: a test of the fused path checks it did run
    (``replay.choose`` picks straight-line code only when enough steps pay for compiling it)."""
    calls = {"epoch": 0}
    epoch_function = StraightLine.epoch_function

    def counted(self):
        run = epoch_function(self)

        def epoch(*args):
            calls["epoch"] += 1
            return run(*args)

        return epoch

    monkeypatch.setattr(StraightLine, "epoch_function", counted)
    return calls


def _run(engine, sizes, activation, model_seed, X, y, **options):
    model = MLP(X.shape[1], sizes, activation, seed=model_seed)
    history = fit(model, X, y, engine=engine, **{"epochs": 10, "verbose": False, "progress": False, **options})
    return [p.data for p in model.parameters()], history


def _bits(xs):
    return [(math.isnan(x), 0.0 if math.isnan(x) else x) for x in xs]


@pytest.mark.parametrize(
    "sizes, activation",
    [([4, 1], "sigmoid"), ([8, 8, 1], "sigmoid"), ([5, 3, 2], "tanh"), ([6, 6, 1], "relu"), ([3, 1], "none")],
)
@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("shuffle", [False, True])
def test_a_fused_epoch_gives_the_eager_engines_bits(sizes, activation, seed, shuffle, epochs_run):
    X, y = generate_xor_easy()
    y = np.hstack([y.reshape(-1, 1)] * sizes[-1])
    eager = _run("eager", sizes, activation, seed, X, y, shuffle=shuffle, seed=seed)
    replay = _run("replay", sizes, activation, seed, X, y, shuffle=shuffle, seed=seed)
    assert epochs_run["epoch"] == 10
    assert _bits(replay[0]) == _bits(eager[0])  # every weight, to the last bit: the same updates in the same order
    assert _bits(replay[1].loss) == _bits(eager[1].loss) and replay[1].steps == eager[1].steps


def test_fit_runs_per_sample_epochs_without_a_python_call_per_sample(monkeypatch, epochs_run):
    steps = []
    step = StraightLine.__call__
    monkeypatch.setattr(StraightLine, "__call__", lambda self, *args: steps.append(1) or step(self, *args))
    X, y = generate_xor_easy()
    fit(MLP(2, [8, 8, 1], seed=1), X, y, epochs=40, engine="replay", verbose=False, progress=False)
    assert epochs_run["epoch"] == 40 and steps == []  # one call of generated code an epoch, none a sample


class _PendingAfter:
    """A Ctrl-C flag that becomes pending when read the (k+1)-th time: before sample k."""

    def __init__(self, k):
        self.k, self.reads = k, 0

    @property
    def pending(self):
        self.reads += 1
        return self.reads > self.k


def _xor_step():
    X, y = generate_xor_easy()
    rows = [(*x, t) for x, t in zip(X.tolist(), y.ravel().tolist())]
    model = MLP(2, [8, 8, 1], seed=3)
    step = record(lambda x, t: mse(model(x), t), (rows[0][:2], rows[0][2]), model.parameters())[0].step
    return step, rows, tuple(p.data for p in model.parameters())


@pytest.mark.parametrize("k", [0, 1, 13, 21])
def test_a_pending_ctrl_c_stops_the_epoch_before_a_sample_with_the_steps_so_far(k):
    step, rows, W = _xor_step()
    out = [None, None]
    step.epoch_function()((*W, 0.0, 0), rows, 0.1, _PendingAfter(k), out)
    state, total = W, 0.0
    for row in rows[:k]:  # the same steps one by one
        loss, state = step(state, row, 0.1)
        total += loss
    assert out[0] == (*state, total, k) and out[1] is None


def test_an_exception_inside_the_epoch_leaves_the_last_completed_step():
    step, rows, W = _xor_step()

    class Raising:
        reads = 0

        @property
        def pending(self):
            Raising.reads += 1
            if Raising.reads == 6:
                raise KeyboardInterrupt  # as a second Ctrl-C would, before sample 5
            return False

    out = [None, None]
    with pytest.raises(KeyboardInterrupt):
        step.epoch_function()((*W, 0.0, 0), rows, 0.1, Raising(), out)
    state = W
    for row in rows[:5]:
        state = step(state, row, 0.1)[1]
    assert out[0][:-2] == state and out[0][-1] == 5


def test_two_quick_ctrl_cs_leave_the_parameters_of_the_last_completed_step():
    """The second Ctrl-C raises at once, most likely inside the generated epoch."""
    X, y = generate_xor_easy()
    model = MLP(2, [8, 8, 1], seed=1)
    pid = os.getpid()
    timers = [threading.Timer(delay, os.kill, (pid, signal.SIGINT)) for delay in (0.4, 0.4005)]
    for timer in timers:
        timer.start()
    try:
        with pytest.raises(KeyboardInterrupt) as caught:
            fit(model, X, y, epochs=10**6, engine="replay", verbose=False, progress=False)
    finally:
        for timer in timers:
            timer.cancel()
            timer.join()
    history = caught.value.history
    assert history.steps > 21 and len(history.loss) == history.steps // 21
    assert [p.data for p in model.parameters()] == _eager_steps(1, X, y, history.steps)


def _eager_steps(seed, X, y, steps):
    """The parameters of a 2-8-8-1 after ``steps`` eager per-sample SGD steps in the data's order."""
    model = MLP(2, [8, 8, 1], seed=seed)
    xs, ys = X.tolist(), y.ravel().tolist()
    for k in range(steps):
        for p in model.parameters():
            p.grad = 0.0
        mse(model(xs[k % len(xs)]), ys[k % len(xs)]).backward()
        for p in model.parameters():
            p.data -= 0.1 * p.grad
    return [p.data for p in model.parameters()]


def test_overflow_in_python_mid_epoch_reruns_that_sample_ieee_safe_and_goes_on(monkeypatch, epochs_run):
    """exp(1000) raises in Python; the sample is stepped again with IEEE answers (σ = 0)."""
    reruns = []
    step = StraightLine.__call__
    monkeypatch.setattr(StraightLine, "__call__", lambda self, *args: reruns.append(1) or step(self, *args))
    X, y = generate_xor_easy()
    runs = []
    for engine in ("eager", "replay"):
        model = MLP(2, [4, 1], seed=0)
        for p in model.parameters():
            p.data *= 5000.0  # sigmoids saturate: exp(-z) overflows on some samples, not all
        history = fit(model, X, y, epochs=10, engine=engine, verbose=False, progress=False)
        runs.append((_bits([p.data for p in model.parameters()]), _bits(history.loss), history.steps))
    assert runs[0] == runs[1]
    assert runs[1][2] == 210 and reruns and epochs_run["epoch"] > 10  # every step taken, the epoch resumed


def test_a_diverging_run_keeps_the_eager_history_and_finds_the_same_node(epochs_run):
    X, y = generate_linear(30, seed=2)
    runs = [_run(engine, [8, 8, 1], "none", 1, X, y * 100.0, epochs=50, lr=0.5) for engine in ("eager", "replay")]
    assert epochs_run["epoch"] == 1
    (eager_w, eager), (replay_w, replay) = runs
    assert eager.diverged and replay.diverged_at == eager.diverged_at
    assert _bits(replay.loss) == _bits(eager.loss) and replay.steps == eager.steps
    assert _bits(replay_w) == _bits(eager_w)  # the step whose loss was not finite updated nothing
    assert replay.divergence is not None and replay.divergence.message == eager.divergence.message

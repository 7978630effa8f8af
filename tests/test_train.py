"""fit(): the report's loop and console format, batches, divergence, bad input."""

import io
import json
import math
import re

import numpy as np
import pytest

from tinygrad_hw.data import generate_linear, generate_xor_easy
from tinygrad_hw.nn import MLP
from tinygrad_hw.optim import SGD, Adam
from tinygrad_hw.train import History, accuracy, fit, predict


def test_a_short_run_lowers_the_loss():
    X, y = generate_xor_easy()
    history = fit(MLP(2, [8, 8, 1], seed=1), X, y, epochs=200, verbose=False, progress=False)
    assert len(history.loss) == 200 and history.loss[-1] < history.loss[0]
    assert not history.diverged and 0.0 <= history.accuracy <= 1.0


def test_the_console_format_is_the_reports():
    X, y = generate_xor_easy()
    out = io.StringIO()
    history = fit(
        MLP(2, [8, 8, 1], seed=1), X, y, epochs=3000, log_every=500, progress=False, file=out, engine="replay"
    )
    lines = out.getvalue().splitlines()
    epochs = [line for line in lines if line.startswith("Epoch")]
    assert [int(line.split()[1]) for line in epochs] == [1, 500, 1000, 1500, 2000, 2500, 3000]
    assert all(re.fullmatch(r"Epoch \d+ loss: \d+\.\d{6}", line) for line in epochs)
    table = lines[len(epochs) : -1]  # the table predict prints: header, 21 rows, the class rule
    assert table[0].split() == ["x1", "x2", "output", "class", "label", "right"] and len(table) == 23
    assert all(row.split()[-1] == "✓" for row in table[1:-1]) and table[-1] == "(class: output > 0.5)"
    assert [row.split()[:2] for row in table[1:3]] == [["0", "0"], ["0", "1"]]  # the inputs, as X has them
    assert lines[-1] == "Accuracy: 100.0 %" and history.accuracy == 1.0


def test_fit_ends_with_the_table_predict_prints():
    from lab.predict import write_predictions

    X, y = generate_xor_easy()
    model = MLP(2, [4, 1], seed=3)
    out = io.StringIO()
    history = fit(model, X, y, epochs=5, progress=False, file=out)
    printed = out.getvalue().splitlines()
    written = io.StringIO()
    write_predictions(model, X, y, file=written)  # tinygrad-hw predict's lines, with its accuracy
    table = written.getvalue().splitlines()
    assert printed[-len(table) :][:-1] == table[:-1]  # one function, one format
    assert printed[-1] == f"Accuracy: {100 * history.accuracy:.1f} %"
    assert table[-1].startswith(f"Accuracy: {100 * history.accuracy:.1f} % (")  # the same count


def test_a_diverging_run_stops_with_one_line_and_keeps_its_history():
    X, y = generate_xor_easy()
    model = MLP(2, [8, 8, 1], "none", seed=1)  # the report's run without activation functions
    out = io.StringIO()
    history = fit(model, X, y, epochs=100, lr=0.1, progress=False, file=out)
    assert history.diverged and history.diverged_at == 1
    assert len(history.loss) == 1 and not math.isfinite(history.loss[0])
    stops = [line for line in out.getvalue().splitlines() if line.startswith("Stopped")]
    assert stops == [history.message] and "epoch 1" in history.message
    assert history.accuracy is not None and out.getvalue().endswith("%\n")


def test_a_later_divergence_keeps_the_finite_epochs():
    X, y = generate_xor_easy()
    model = MLP(2, [1], "none", seed=0)  # a linear model with too large a step: grows, then overflows
    history = fit(model, X, y, epochs=200, lr=1.0, verbose=False, progress=False)
    assert history.diverged and history.diverged_at > 10
    assert all(math.isfinite(x) for x in history.loss[:-1]) and not math.isfinite(history.loss[-1])
    assert len(history.loss) == history.diverged_at


def test_full_batch_loss_is_the_mean_over_samples():
    X, y = generate_linear(20, seed=0)
    model = MLP(2, [3, 1], seed=0)
    before = predict(model, X)
    history = fit(model, X, y, epochs=1, batch_size=None, verbose=False, progress=False)
    assert history.loss[0] == pytest.approx(float(np.mean((before - y) ** 2)), rel=1e-12)


def test_mini_batches_shuffling_and_other_optimisers():
    X, y = generate_linear(30, seed=0)
    runs = []
    for _ in range(2):
        model = MLP(2, [4, 1], seed=0)
        runs.append(fit(model, X, y, epochs=5, batch_size=7, shuffle=True, seed=3, verbose=False, progress=False))
    assert runs[0].loss == runs[1].loss
    model = MLP(2, [4, 1], seed=0)
    adam = fit(model, X, y, epochs=30, optimizer=Adam(model.parameters(), 0.05), verbose=False, progress=False)
    assert adam.loss[-1] < adam.loss[0]
    bce = fit(MLP(2, [4, 1], seed=0), X, y, epochs=30, loss="bce", verbose=False, progress=False)
    assert bce.loss[-1] < bce.loss[0]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"X": np.zeros((3, 3))}, ValueError, r"X has shape \(3, 3\); this model needs \(n, 2\)"),
        ({"y": np.zeros((4, 1))}, ValueError, r"y has shape \(4, 1\); for 3 samples"),
        ({"X": [[0, 1], [math.nan, 0], [1, 1]]}, ValueError, "X holds nan at row 1"),
        ({"X": [["a", "b"]] * 3}, TypeError, "numeric"),
        ({"epochs": 0}, ValueError, "epochs must be a positive integer"),
        ({"loss": "hinge"}, ValueError, "unknown loss 'hinge'"),
        ({"engine": "jit"}, ValueError, "unknown engine 'jit'"),
        ({"batch_size": 0}, ValueError, "batch_size must be"),
        ({"loss": lambda p, t: 3.0}, TypeError, "loss function must return a Value, not float"),
        ({"loss": lambda p, t: 3.0, "engine": "replay"}, TypeError, "loss function must return a Value, not float"),
    ],
)
def test_bad_input_is_named(kwargs, error, message):
    args = {"X": np.zeros((3, 2)), "y": np.zeros((3, 1)), "epochs": 1, "verbose": False, "progress": False}
    args.update(kwargs)
    X, y = args.pop("X"), args.pop("y")
    with pytest.raises(error, match=message):
        fit(MLP(2, [2, 1], seed=0), X, y, **args)


def test_predict_and_accuracy():
    model = MLP(2, [2, 1], seed=0)
    assert predict(model, np.zeros((5, 2))).shape == (5, 1)
    assert accuracy([[0.9], [0.2], [math.nan]], [[1], [0], [0]]) == pytest.approx(2 / 3)


def test_history_saves_as_json_and_csv(tmp_path):
    h = History(loss=[0.5, 0.25], accuracy=1.0, epochs=2)
    h.save(tmp_path / "h.json")
    h.save(tmp_path / "h.csv")
    assert json.loads((tmp_path / "h.json").read_text())["loss"] == [0.5, 0.25]
    assert (tmp_path / "h.csv").read_text() == "epoch,loss\n1,0.5\n2,0.25\n"
    assert h.epochs_to(0.3) == 2 and h.epochs_to(0.1) is None and h.final_loss == 0.25


# -- shapes are taken exactly as given, never reshaped (issue 10, finding 2) -----------------


def test_predict_refuses_transposed_inputs_instead_of_inventing_samples():
    X, _ = generate_xor_easy()
    model = MLP(2, [8, 8, 1], seed=1)
    with pytest.raises(ValueError, match=r"X has shape \(2, 21\).*\(n, 2\).*transposed"):
        predict(model, X.T)
    with pytest.raises(ValueError, match=r"X has shape \(2, 3\)"):
        predict(model, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"X has shape \(4,\)"):
        predict(model, np.zeros(4))
    assert predict(model, [0.0, 1.0]).shape == (1, 1)  # a 1-D X of length nin is one sample
    assert predict(model, X).shape == (21, 1)


@pytest.mark.parametrize(
    ("nouts", "y_shape", "message"),
    [
        ([2, 2], (2, 21), r"y has shape \(2, 21\); for 21 samples of a 2-output model it needs \(21, 2\)"),
        ([2, 1], (7, 3), r"y has shape \(7, 3\); for 21 samples of a 1-output model it needs \(21, 1\) or \(21,\)"),
        ([2, 1], (1, 21), r"y has shape \(1, 21\)"),
        ([2, 2], (42,), r"y has shape \(42,\)"),
        ([2, 2], (21,), r"y has shape \(21,\)"),
    ],
)
def test_fit_refuses_targets_of_the_wrong_shape(nouts, y_shape, message):
    X, _ = generate_xor_easy()
    model = MLP(2, nouts, seed=0)
    before = [p.data for p in model.parameters()]
    for engine in ("eager", "replay"):
        with pytest.raises(ValueError, match=message):
            fit(model, X, np.zeros(y_shape), epochs=1, engine=engine, verbose=False, progress=False)
    assert [p.data for p in model.parameters()] == before


def test_fit_takes_the_shapes_that_are_not_ambiguous():
    X, y = generate_xor_easy()
    for targets in (y, y.ravel(), y.tolist()):
        fit(MLP(2, [2, 1], seed=0), X, targets, epochs=1, verbose=False, progress=False)
    fit(MLP(2, [2, 1], seed=0), [0.0, 1.0], 1.0, epochs=1, verbose=False, progress=False)  # one sample
    fit(MLP(2, [3, 2], seed=0), X, np.zeros((21, 2)), epochs=1, verbose=False, progress=False)
    with pytest.raises(ValueError, match=r"X has shape \(2, 21\)"):
        fit(MLP(2, [2, 1], seed=0), X.T, y, epochs=1, verbose=False, progress=False)


def test_bce_targets_outside_zero_one_are_refused_before_training():
    X, y = generate_xor_easy()
    model = MLP(2, [2, 1], seed=0)
    before = [p.data for p in model.parameters()]
    for engine in ("eager", "replay"):
        with pytest.raises(ValueError, match=r"y holds 2\.0 at row 1: binary cross-entropy needs targets in \[0, 1\]"):
            fit(model, X, y * 2.0, epochs=1, loss="bce", engine=engine, verbose=False, progress=False)
    assert [p.data for p in model.parameters()] == before


def test_accuracy_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match=r"y has shape \(2, 2\)"):
        accuracy([[0.9], [0.1], [0.2], [0.7]], [[1, 0], [0, 1]])


# -- an interrupted run keeps its last completed step (issue 10, finding 3) -------------------


def _steps_by_hand(seed, hidden, X, y, steps, lr=0.1):
    """The parameters after ``steps`` per-sample SGD steps in the data's order, eagerly."""
    from tinygrad_hw.losses import mse
    from tinygrad_hw.optim import SGD

    model = MLP(2, hidden, seed=seed)
    opt = SGD(model.parameters(), lr)
    xs, ys = X.tolist(), y.ravel().tolist()
    for k in range(steps):
        opt.zero_grad()
        mse(model(xs[k % len(xs)]), ys[k % len(xs)]).backward()
        opt.step()
    return [p.data for p in model.parameters()]


@pytest.mark.parametrize("engine", ["eager", "replay"])
def test_an_exception_mid_run_keeps_the_completed_steps(engine):
    from tinygrad_hw.losses import mse

    X, y = generate_xor_easy()

    def loss(pred, target):  # not a mean-loss the numpy program knows: straight-line, one tape per size
        if not isinstance(pred, list):  # one sample: fit passes its one prediction alone
            raise RuntimeError("the last, short batch")
        return mse(pred, target)

    model = MLP(2, [4, 1], seed=2)
    before = [p.data for p in model.parameters()]
    with pytest.raises(RuntimeError, match="short batch") as caught:
        fit(model, X, y, epochs=5, batch_size=5, loss=loss, engine=engine, verbose=False, progress=False)
    history = caught.value.history
    assert history.steps == 4 and history.loss == []  # four batches of five, then the 21st sample
    assert "after step 4" in history.message
    after = [p.data for p in model.parameters()]
    assert after != before
    reference = MLP(2, [4, 1], seed=2)  # the same four steps, one by one
    fit(reference, X[:20], y[:20], epochs=1, batch_size=5, loss=mse, engine="eager", verbose=False, progress=False)
    # batches of five may run as numpy (the executor replay.choose picks): equal to ~1e-15, not bit for bit
    np.testing.assert_allclose(after, [p.data for p in reference.parameters()], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("engine", ["eager", "replay"])
def test_ctrl_c_leaves_the_parameters_of_the_last_completed_step(engine):
    import os
    import signal
    import threading

    X, y = generate_xor_easy()
    model = MLP(2, [8, 8, 1], seed=1)
    timer = threading.Timer(0.6, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt) as caught:
            fit(model, X, y, epochs=10**6, engine=engine, verbose=False, progress=False)
    finally:
        timer.cancel()
    history = caught.value.history
    assert history.steps > 21 and len(history.loss) == history.steps // 21
    assert [p.data for p in model.parameters()] == _steps_by_hand(1, [8, 8, 1], X, y, history.steps)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("engine", ["eager", "replay"])
def test_ctrl_c_in_the_middle_of_an_update_waits_for_the_update_to_finish(engine):
    import signal

    from tinygrad_hw.optim import SGD

    class InterruptedSGD(SGD):  # Ctrl-C arrives after half the parameters have moved, at step 30
        calls = 0

        def step(self):
            InterruptedSGD.calls += 1
            if InterruptedSGD.calls != 30:
                return super().step()
            half = len(self.params) // 2
            for p in self.params[:half]:
                p.data -= self.lr * p.grad
            signal.raise_signal(signal.SIGINT)
            for p in self.params[half:]:
                p.data -= self.lr * p.grad

    X, y = generate_xor_easy()
    model = MLP(2, [8, 8, 1], seed=1)
    with pytest.raises(KeyboardInterrupt) as caught:
        fit(model, X, y, epochs=5, optimizer=InterruptedSGD(model.parameters(), 0.1), engine=engine, verbose=False)
    history = caught.value.history
    assert history.steps == 30 and len(history.loss) == 1  # one whole epoch of 21 steps, then 9 more
    assert [p.data for p in model.parameters()] == _steps_by_hand(1, [8, 8, 1], X, y, 30)


def test_an_enormous_number_of_epochs_runs_until_it_stops():
    X, y = generate_xor_easy()
    model = MLP(2, [8, 8, 1], "none", seed=1)  # diverges in its first epoch
    history = fit(model, X, y, epochs=10**23, verbose=False, progress=True)
    assert history.diverged and history.diverged_at == 1 and history.epochs == 10**23


def test_a_diverged_runs_history_is_strict_json(tmp_path):
    X, y = generate_xor_easy()
    history = fit(MLP(2, [8, 8, 1], "none", seed=1), X, y, epochs=5, verbose=False, progress=False)
    assert history.diverged and not math.isfinite(history.loss[-1])
    path = tmp_path / "run.json"
    history.save(path)

    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    data = json.loads(path.read_text(), parse_constant=refuse)  # a strict parser: NaN and Infinity are errors
    assert data["loss"][-1] is None and data["diverged_at"] == 1


def test_a_long_list_of_predictions_is_summarised():
    X, y = generate_linear(100, seed=0)
    out = io.StringIO()
    fit(MLP(2, [4, 1], seed=0), X, y, epochs=1, progress=False, file=out)
    lines = out.getvalue().splitlines()
    assert lines[-1].startswith("Accuracy: ")
    table = lines[lines.index(next(line for line in lines if not line.startswith("Epoch"))) : -1]
    assert len(table) == 1 + 21 + 1 and table[11] == "... 80 more rows ..."  # header, 10, gap, 10, rule
    shown = [row.split() for row in table[1:11] + table[12:22]]
    assert [r[0] for r in shown] == [f"{x:g}" for x in [*X[:10, 0], *X[-10:, 0]]]  # the first and last ten
    assert all(0.0 <= float(r[2]) <= 1.0 and r[-1] in "✓✗" for r in shown)


# -- an optimizer that trains none of the model is refused (issue 22, defect 12) -------------


@pytest.mark.parametrize("engine", ["eager", "replay"])
def test_an_optimizer_over_another_models_parameters_is_refused(engine):
    # Before: fit ran every epoch, trained nothing and said nothing, on both engines.
    X, y = generate_xor_easy()
    model = MLP(2, [3, 1], seed=0)
    before = [p.data for p in model.parameters()]
    other = SGD(MLP(2, [3, 1], seed=1).parameters(), 0.1)
    with pytest.raises(ValueError, match=r"the optimizer holds none of the model's 13 parameters"):
        fit(model, X, y, epochs=5, optimizer=other, engine=engine, verbose=False)
    assert [p.data for p in model.parameters()] == before


@pytest.mark.parametrize("engine", ["eager", "replay"])
@pytest.mark.parametrize("batch_size", [1, None])
def test_an_optimizer_over_part_of_the_model_trains_that_part_and_says_so(engine, batch_size, capsys):
    X, y = generate_xor_easy()
    model = MLP(2, [3, 1], seed=0)
    frozen = model.layers[0].parameters()
    before = [p.data for p in frozen]
    stranger = MLP(2, [1], seed=3).parameters()  # held too: its gradient stays 0, it stays as it is
    opt = Adam(model.layers[1].parameters() + stranger, 0.05)
    fit(model, X, y, epochs=3, optimizer=opt, engine=engine, batch_size=batch_size, progress=False)
    assert "The optimizer lacks 9 of the model's 13 parameters: they stay as they are." in capsys.readouterr().out
    assert [p.data for p in frozen] == before
    start = [q.data for q in MLP(2, [3, 1], seed=0).layers[1].parameters()]
    assert all(p.data != b for p, b in zip(model.layers[1].parameters(), start))

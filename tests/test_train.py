"""fit(): the report's loop and console format, batches, divergence, bad input."""

import io
import json
import math
import re

import numpy as np
import pytest

from tinygrad_hw.data import generate_linear, generate_xor_easy
from tinygrad_hw.nn import MLP
from tinygrad_hw.optim import Adam
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
    predictions = lines[len(epochs) : -1]
    assert len(predictions) == 21 and all(0.0 <= float(p) <= 1.0 for p in predictions)
    assert lines[-1] == "Accuracy: 100.0 %" and history.accuracy == 1.0


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
        ({"y": np.zeros((4, 1))}, ValueError, r"y has shape \(4, 1\); with 3 samples"),
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

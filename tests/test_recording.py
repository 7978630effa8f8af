"""Frames of a real fit: the schedule, the weights at each frame (the same as a fit
stopped at that epoch, on either engine), and the frames file the step-through
page reads."""

from __future__ import annotations

import itertools
import json

import pytest

from tinygrad_hw.data import generate_xor_easy
from tinygrad_hw.nn import MLP
from tinygrad_hw.recording import Recorder, frame_epochs, load_frame, record_fit
from tinygrad_hw.serialize import ModelFileError
from tinygrad_hw.train import fit


@pytest.mark.parametrize("epochs", [1, 5, 199, 200, 201, 3000, 10**6, 10**23])
def test_frames_are_log_spaced_dense_early_and_at_most_200(epochs):
    frames = frame_epochs(epochs)
    assert frames[0] == 0 and frames[-1] == epochs
    assert frames == sorted(set(frames)) and len(frames) <= 200
    if epochs < 200:
        assert frames == list(range(epochs + 1))
    else:
        assert len(frames) >= 190  # close to the budget: rounding merges few
        dense = 20 if epochs <= 10**6 else 5  # every epoch at first, where the network changes most
        assert frames[:dense] == list(range(dense))
        gaps = [b - a for a, b in itertools.pairwise(frames)]
        assert gaps[-1] >= gaps[0]


@pytest.mark.parametrize("epochs", [10**15, 10**300])
def test_a_huge_run_keeps_its_budget_and_no_near_copy_of_its_last_epoch(epochs):
    frames = frame_epochs(epochs)
    assert len(frames) <= 200 and frames[-1] == epochs and frames[-2] < 0.99 * epochs


def test_two_frames_are_the_start_and_the_end():
    assert frame_epochs(10, 2) == [0, 10] and frame_epochs(1, 2) == [0, 1]


def test_too_few_frames_is_refused():
    with pytest.raises(ValueError, match="max_frames >= 2"):
        frame_epochs(10, 1)


@pytest.mark.parametrize("engine", ["eager", "replay"])
def test_each_frame_is_the_weights_of_the_fit_stopped_at_that_epoch(engine):
    X, y = generate_xor_easy()
    run = record_fit(MLP(2, [3, 1], seed=1), X, y, epochs=12, lr=0.5, engine=engine, verbose=False, max_frames=6)
    assert [f.epoch for f in run.frames] == frame_epochs(12, 6)
    assert run.frames[0].weights == [p.data for p in MLP(2, [3, 1], seed=1).parameters()]
    for frame in run.frames[1:]:
        alone = MLP(2, [3, 1], seed=1)
        history = fit(alone, X, y, epochs=frame.epoch, lr=0.5, engine="eager", verbose=False)
        assert frame.weights == [p.data for p in alone.parameters()]  # bit for bit, on either engine
        assert frame.loss == history.loss[-1] == run.history.loss[frame.epoch - 1]


def test_on_epoch_sees_the_weights_the_replay_holds():
    X, y = generate_xor_easy()
    model = MLP(2, [2, 1], seed=1)
    seen = []
    fit(
        model,
        X,
        y,
        epochs=3,
        engine="replay",
        verbose=False,
        on_epoch=lambda e, loss: seen.append(model.layers[0].neurons[0].w[0].data),
    )
    eager = []
    other = MLP(2, [2, 1], seed=1)
    fit(
        other,
        X,
        y,
        epochs=3,
        engine="eager",
        verbose=False,
        on_epoch=lambda e, loss: eager.append(other.layers[0].neurons[0].w[0].data),
    )
    assert seen == eager and len(set(seen)) == 3


def test_a_diverged_run_ends_with_the_frame_where_it_stopped():
    X, y = generate_xor_easy()
    run = record_fit(MLP(2, [8, 8, 1], "none", seed=1), X, y, epochs=100, lr=0.1, verbose=False)
    last = run.frames[-1]
    assert last.partial and last.epoch == run.history.diverged_at == 1
    assert last.weights == [p.data for p in run.model.parameters()]  # as fit left them: before the failing step


def test_frames_round_trip_through_their_file(tmp_path):
    X, y = generate_xor_easy()
    run = record_fit(MLP(2, [3, 1], seed=1), X, y, epochs=30, lr=0.5, verbose=False)
    path = run.save_frames(tmp_path / "frames.json")
    for k in (0, 5, -1):
        model = load_frame(path, run.frames[k].epoch)
        assert [p.data for p in model.parameters()] == run.frames[k].weights
        assert repr(model) == repr(run.model)
    with pytest.raises(ValueError, match="no frame at epoch 31: the nearest is 30"):
        load_frame(path, 31)
    data = json.loads(path.read_text())
    data["frames"][1]["weights"] = data["frames"][1]["weights"][:-1]
    (tmp_path / "short.json").write_text(json.dumps(data))
    with pytest.raises(ModelFileError, match="does not hold 13 weights"):
        load_frame(tmp_path / "short.json", 1)
    (tmp_path / "model.json").write_text('{"format": "tinygrad_hw.mlp"}')
    with pytest.raises(ModelFileError, match="not a frames file"):
        load_frame(tmp_path / "model.json", 1)


def test_a_recorder_keeps_only_its_schedule():
    model = MLP(2, [1], seed=0)
    recorder = Recorder(model, 1000, max_frames=10)
    for epoch in range(1, 1001):
        recorder(epoch, 0.5)
    assert [f.epoch for f in recorder.frames] == frame_epochs(1000, 10)

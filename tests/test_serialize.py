"""Save/load as JSON: exact round trips, clear errors, never a half-written file."""

import json
import os

import numpy as np
import pytest

from tinygrad_hw import serialize
from tinygrad_hw.nn import MLP
from tinygrad_hw.serialize import ModelFileError, load, save
from tinygrad_hw.train import predict


@pytest.mark.parametrize(
    "model",
    [MLP(2, [8, 8, 1], seed=1), MLP(3, [4, 2], ["relu", "none"], seed=2), MLP(2, [3, 1], "tanh", bias=False, seed=3)],
)
def test_a_round_trip_predicts_identically(tmp_path, model):
    for p in model.parameters():
        p.data *= 1.2345678901234567  # digits a sloppy format would lose
    path = tmp_path / "model.json"
    save(model, path)
    loaded = load(path)
    X = np.random.default_rng(0).uniform(-1, 1, (50, model.nin))
    assert (predict(loaded, X) == predict(model, X)).all()
    assert loaded.activations == model.activations and loaded.sizes == model.sizes and loaded.bias == model.bias
    assert json.loads(path.read_text())["format"] == "tinygrad_hw.mlp"


def test_missing_truncated_and_foreign_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no model file at .*nothing\.json"):
        load(tmp_path / "nothing.json")
    good = tmp_path / "good.json"
    save(MLP(2, [2, 1], seed=0), good)
    truncated = tmp_path / "truncated.json"
    truncated.write_text(good.read_text()[:-40])
    with pytest.raises(ModelFileError, match=r"truncated\.json is not valid JSON"):
        load(truncated)
    foreign = tmp_path / "foreign.json"
    foreign.write_text('{"name": "resnet"}')
    with pytest.raises(ModelFileError, match=r"foreign\.json is not a tinygrad_hw model"):
        load(foreign)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ModelFileError, match="not UTF-8"):
        load(binary)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["layers"][1]["weights"][0].pop(), "layer 2 neuron 1 weights should be a list of 2"),
        (lambda d: d["layers"][0].update(activation="swish"), "unknown activation 'swish'"),
        (lambda d: d["layers"][0]["bias"].__setitem__(0, "x"), "layer 1 bias holds 'x'"),
        (lambda d: d.update(version=99), "version 99"),
        (lambda d: d.update(nin=0), "nin is 0"),
        (lambda d: d["layers"][1].update(bias=None), "layer 2 lacks biases"),
    ],
)
def test_inconsistent_files_are_refused_with_the_reason(tmp_path, edit, message):
    data = serialize.model_to_dict(MLP(2, [2, 1], seed=0))
    edit(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelFileError, match=message):
        load(path)


def test_a_diverged_model_is_not_saved(tmp_path):
    model = MLP(2, [2, 1], seed=0)
    model.layers[1].neurons[0].w[0].data = float("nan")
    with pytest.raises(ValueError, match="layer 2 has non-finite weights"):
        save(model, tmp_path / "m.json")
    assert list(tmp_path.iterdir()) == []


def test_a_failing_save_leaves_the_old_file_and_no_debris(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    save(MLP(2, [2, 1], seed=0), path)
    before = path.read_text()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save(MLP(2, [2, 1], seed=1), path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_saved_files_get_ordinary_permissions(tmp_path):
    path = tmp_path / "model.json"
    save(MLP(2, [1], seed=0), path)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask

"""Save/load as JSON: exact round trips, clear errors, never a half-written file."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

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
    ("name", "content", "message"),
    [
        ("pts.csv", "x1,x2,y\n0,1,1\n1,1,0\n", r"pts\.csv looks like CSV, not a model file"),
        ("pts.csv", "0.5,1\n", "pts.csv looks like CSV, not a model file"),
        ("graph.svg", '<?xml version="1.0"?>\n<svg width="8pt">', "graph.svg looks like an SVG drawing, not a model"),
        ("notes.txt", "train it for longer\n", "notes.txt looks like plain text, not a model file"),
        ("empty.json", "", "empty.json is empty, not a model file"),
        ("cut.json", '{"format": "tinygrad_hw.mlp", "layers": [', r"cut\.json is not valid JSON \(truncated\?\)"),
    ],
)
def test_a_file_that_is_not_a_model_says_what_it_looks_like(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ModelFileError, match=message):
        load(path)


def test_a_model_file_saved_again_with_a_byte_order_mark_loads(tmp_path):
    """As Notepad's "UTF-8 with BOM" saves a hand-edited model; it was called CSV."""
    model = MLP(2, [3, 1], seed=4)
    save(model, tmp_path / "m.json")
    edited = tmp_path / "edited.json"
    edited.write_bytes(b"\xef\xbb\xbf" + (tmp_path / "m.json").read_bytes())
    assert [p.data for p in load(edited).parameters()] == [p.data for p in model.parameters()]


def test_a_binary_file_that_is_not_a_model_is_named_by_its_kind(tmp_path):
    path = tmp_path / "curve.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff")
    with pytest.raises(
        ModelFileError, match=r"curve\.png is not a tinygrad_hw model: it is not UTF-8 text but a PNG image"
    ):
        load(path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["layers"][1]["weights"][0].pop(), "layer 2 neuron 1 weights should be a list of 2"),
        (lambda d: d["layers"][0].update(activation="swish"), "unknown activation 'swish'"),
        (lambda d: d["layers"][0]["bias"].__setitem__(0, "x"), "layer 1 bias holds 'x'"),
        (lambda d: d.update(version=99), "version 99"),
        (lambda d: d.update(nin=0), "nin is 0"),
        (lambda d: d["layers"][1].update(bias=None), "layer 2 lacks biases"),
        # a layer without its "bias" key loaded as a model without biases, silently
        (lambda d: [layer.pop("bias") for layer in d["layers"]], 'layer 1 has no "bias" key .*or null for none'),
        (lambda d: d["layers"][1].pop("bias"), 'layer 2 has no "bias" key'),
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


# -- every malformed file is a ModelFileError, in time and memory in proportion to it (issue 10, 5-6)


def _small_model_text():
    """A small model file whose first bias, 0.125, is written nowhere else."""
    model = MLP(2, [3, 1], seed=0)
    model.layers[0].neurons[0].b.data = 0.125
    return json.dumps(serialize.model_to_dict(model), indent=1)


@pytest.mark.parametrize("nin", ["1000000000", "100000000000000000000000000000"])
def test_claimed_sizes_are_checked_against_the_arrays_before_anything_is_built(tmp_path, nin):
    """A 141-byte file claiming a billion inputs used to allocate them (MemoryError after
    17 s), and 10**29 never returned. Run under a 2 GB address-space cap and a timeout."""
    path = tmp_path / "claims.json"
    layers = [{"activation": "sigmoid", "weights": [[0.5]], "bias": [0.0]}]
    path.write_text(f'{{"format": "tinygrad_hw.mlp", "version": 1, "nin": {nin}, "layers": {json.dumps(layers)}}}')
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "from tinygrad_hw.serialize import ModelFileError, load\n"
        "try:\n"
        f"    load({str(path)!r})\n"
        "except ModelFileError as error:\n"
        "    print(error)\n"
        "    sys.exit(0)\n"
        "sys.exit(5)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-500:]
    assert "nin is" in done.stdout and "1 weight each" in done.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (lambda t: t.replace('"activation": "sigmoid"', '"activation": []', 1), "unknown activation \\[\\]"),
        (lambda t: t.replace("0.125", "1" * 401, 1), "a 401-digit integer"),
        (lambda t: t.replace("0.125", "-" + "9" * 5001, 1), "a 5001-digit integer"),
        (lambda t: "[" * 999 + "]" * 999, 'no "format"|nested too deeply'),
        (lambda t: "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (lambda t: t.replace('"nin": 2', '"nin": 1e400', 1), "nin is inf"),
        (lambda t: t.replace('"version": 1', '"version": true', 1), "version True"),
        (lambda t: t.replace("0.125", "NaN", 1), "holds nan"),
        (lambda t: '{"format": "tinygrad_hw.mlp", "version": 1, "nin": 2, "layers": [{}]}', "unknown activation None"),
        (lambda t: t.replace('"nin": 2', '"nin": 3', 1), "nin is 3, but layer 1's neurons have 2 weights"),
    ],
)
def test_malformed_files_raise_model_file_errors_naming_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text(_small_model_text()))
    with pytest.raises(ModelFileError, match=message) as caught:
        load(path)
    assert str(path) in str(caught.value)


def _load_outcome(tmp_path, content: bytes) -> str:
    path = tmp_path / "fuzzed.json"
    path.write_bytes(content)
    try:
        model = load(path)
    except ModelFileError as error:
        assert str(path) in str(error)
        return "refused"
    assert isinstance(model, MLP) and all(np.isfinite(p.data) for p in model.parameters())
    return "loaded"


def test_a_file_cut_at_every_byte_is_refused_cleanly(tmp_path):
    data = _small_model_text().encode()
    outcomes = [_load_outcome(tmp_path, data[:cut]) for cut in range(len(data))]
    assert outcomes.count("loaded") == 0  # a JSON document cut short is never whole


@given(st.data())
def test_fuzzed_model_files_load_or_raise_model_file_error(tmp_path_factory, data):
    text = _small_model_text()
    kind = data.draw(st.sampled_from(["flip", "swap", "nest", "number"]))
    if kind == "flip":  # bytes changed anywhere
        raw = bytearray(text.encode())
        for _ in range(data.draw(st.integers(1, 4))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
        content = bytes(raw)
    elif kind == "swap":  # a value of another type where one was expected
        tree = json.loads(text)
        json_values = st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
            max_leaves=6,
        )
        node, parent, key = tree, None, None
        for _ in range(data.draw(st.integers(1, 5))):
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            parent, key = node, data.draw(st.sampled_from(keys))
            if not isinstance(node[key], (dict, list)) or data.draw(st.booleans()):
                break
            node = node[key]
        if parent is not None:
            parent[key] = data.draw(json_values)
        content = json.dumps(tree).encode()
    elif kind == "nest":  # a value wrapped in many lists
        depth = data.draw(st.integers(1, 3000))
        content = text.replace("0.125", "[" * depth + "0.125" + "]" * depth, 1).encode()
    else:  # numbers no float holds
        literal = data.draw(
            st.sampled_from(["1" * 400, "-" + "7" * 4400, "1e999", "-1e999", "Infinity", "NaN", "1" * 31])
        )
        content = text.replace(data.draw(st.sampled_from(["0.125", '"nin": 2', "1"])), literal, 1).encode()
    _load_outcome(tmp_path_factory.mktemp("fuzz"), content)


def test_a_watch_frames_file_given_as_a_model_says_how_to_read_one_frame(tmp_path):
    """`predict --model out/frames/run1.json` said only: no "format": "tinygrad_hw.mlp" field."""
    from tinygrad_hw.recording import FRAMES_FORMAT

    frames = tmp_path / "run1.json"
    frames.write_text(json.dumps({"format": FRAMES_FORMAT, "frames": []}))
    with pytest.raises(ModelFileError, match=r"frames of a `tinygrad-hw watch` run.*--epoch N"):
        load(frames)

"""tinygrad-hw predict and graph --model: a saved model on the user's own inputs."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from lab.cli import main
from tinygrad_hw.nn import MLP
from tinygrad_hw.serialize import save
from tinygrad_hw.train import predict

needs_dot = pytest.mark.usefixtures("graphviz_dot")


@pytest.fixture
def saved(tmp_path):
    model = MLP(2, [3, 1], seed=7)
    save(model, tmp_path / "net.json")
    return model, tmp_path / "net.json"


def _table(out):
    lines = out.strip().splitlines()
    return lines[0].split(), [line.split() for line in lines[1:] if not line.startswith(("(", "Accuracy"))]


def test_predict_prints_the_models_outputs_for_each_input(saved, capsys):
    model, path = saved
    inputs = [[0.0, 1.0], [1.0, 1.0], [0.25, -3.5]]
    args = ["predict", "--model", str(path)]
    for x in inputs:
        args += ["--input", *map(str, x)]
    assert main(args) == 0
    head, rows = _table(capsys.readouterr().out)
    assert head == ["x1", "x2", "output", "class"]
    expected = predict(model, np.array(inputs))[:, 0]
    assert [float(r[2]) for r in rows] == pytest.approx(expected, rel=1e-5)
    assert [int(r[3]) for r in rows] == [int(v > 0.5) for v in expected]


def test_predict_from_a_csv_with_targets_marks_each_and_counts(saved, tmp_path, capsys):
    model, path = saved
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    outputs = predict(model, X)[:, 0]
    labels = [int(v > 0.5) for v in outputs]
    labels[1] = 1 - labels[1]  # one the model gets wrong
    rows = "".join(f"{x1},{x2},{t}\n" for (x1, x2), t in zip(X, labels))
    (tmp_path / "data.csv").write_text("x1,x2,target\n" + rows + "\n")
    assert main(["predict", "--model", str(path), "--csv", str(tmp_path / "data.csv")]) == 0
    out = capsys.readouterr().out
    head, table = _table(out)
    assert head == ["x1", "x2", "output", "class", "label", "right"]
    assert [r[-1] for r in table] == ["✓", "✗", "✓", "✓"]
    assert "Accuracy: 75.0 % (3 of 4)" in out


def test_a_score_output_splits_at_zero(tmp_path, capsys):
    model = MLP(2, [4, 1], activation=["relu", "none"], seed=3)
    save(model, tmp_path / "svm.json")
    assert main(["predict", "--model", str(tmp_path / "svm.json"), "--input", "0.5", "-0.5"]) == 0
    out = capsys.readouterr().out
    score = predict(model, np.array([[0.5, -0.5]]))[0, 0]
    assert "(class: output > 0)" in out and _table(out)[1][0][-1] == str(int(score > 0))


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("0,1\n1,abc\n", "data.csv, line 2: 'abc' is not a finite number"),
        ("0,1\n1,inf\n", "data.csv, line 2: 'inf' is not a finite number"),
        ("0,1\n1,1,0,0\n", "data.csv, line 2: 4 numbers where every row needs 2 (inputs) or 3 (inputs, then targets)"),
        ("0\n", "data.csv, line 1: 1 number where every row needs 2"),
        ("x1,x2\n\n", "data.csv, line 1: a header and no data rows after it; each row needs 2 (inputs) or 3"),
        ("\n\n", "data.csv: no rows of numbers (the file is empty or blank); each row needs 2 (inputs) or 3"),
        ('\n\nx1,x2\n0,1\n"1\n",2\nz,1\n', "data.csv, line 7: 'z'"),  # lines as in an editor
        (b"\xff\xfe0,1\n", "data.csv: not a CSV text file"),
    ],
)
def test_a_bad_csv_is_one_line_naming_the_line(saved, tmp_path, capsys, csv, message):
    _, path = saved
    data = tmp_path / "data.csv"
    data.write_bytes(csv if isinstance(csv, bytes) else csv.encode())
    assert main(["predict", "--model", str(path), "--csv", str(data)]) == 1
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1 and message in error and "Traceback" not in error


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--input", "0", "1", "2"], 1, "--input 1 gave 3 numbers; the model takes 2"),
        (["--input", "0", "1", "--input", "3"], 1, "--input 2 gave 1 number;"),
        ([], 2, "one of the arguments --input --csv is required"),
        (["--input", "0", "nan"], 2, "'nan' is not a finite number"),
        (["--input", "0", "1", "--csv", "MODEL"], 2, "not allowed with argument"),
    ],
)
def test_bad_predict_arguments_are_one_line(saved, capsys, args, code, message):
    _, path = saved
    args = [str(path) if a == "MODEL" else a for a in args]
    assert _exit_code(["predict", "--model", str(path), *args]) == code
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1 and message in error


def _exit_code(args):
    """main's exit status, whether it returns it or argparse exits with it."""
    try:
        return main(args)
    except SystemExit as done:
        return done.code


def test_a_file_that_is_no_model_is_one_line(tmp_path, capsys):
    (tmp_path / "data.csv").write_text("0,1\n")
    assert main(["predict", "--model", str(tmp_path / "data.csv"), "--input", "0", "1"]) == 1
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1 and "data.csv" in error and "JSON" in error


@needs_dot
def test_graph_draws_your_input_through_your_model(saved, tmp_path, capsys):
    model, path = saved
    out = tmp_path / "drawn"
    assert main(["graph", "--model", str(path), "--input", "0.5", "0.25", "--target", "1", "--out", str(out)]) == 0
    svg = out / "net_graph.svg"
    assert f"Wrote {svg}" in capsys.readouterr().out
    texts = [e.text for e in ET.parse(svg).getroot().iter("{http://www.w3.org/2000/svg}text") if e.text]
    output = predict(model, np.array([[0.5, 0.25]]))[0, 0]
    loss = (output - 1.0) ** 2
    assert any(t.startswith("x = (0.5, 0.25), target 1") for t in texts)
    assert f"data {loss:.4f}" in texts or f"data {loss:.4g}" in texts  # the loss of this very input
    assert "data 0.2500" in texts  # x2 as given


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "0", "1"], "--input, --target and --level draw a saved model: give it with --model FILE"),
        (["--model", "MODEL"], "--model needs the sample to draw: --input X [X ...]"),
        (["--model", "MODEL", "--input", "1", "2", "3"], "--input gave 3 numbers; the model takes 2"),
        (["--model", "MODEL", "--input", "1", "2", "--target", "1", "0"], "--target gave 2 numbers"),
    ],
)
def test_graph_of_a_model_needs_an_input_that_fits(saved, tmp_path, capsys, args, message):
    _, path = saved
    args = [str(path) if a == "MODEL" else a for a in args]
    assert main(["graph", "--out", str(tmp_path / "o"), *args]) == 1
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1 and message in error
    assert not (tmp_path / "o").exists()  # nothing written


# -- the threshold splits outputs, never targets (issue 22, defect 2) ------------------------


def _predict_csv(model_path, csv_path, text, *extra):
    csv_path.write_text(text)
    return _exit_code(["predict", "--model", str(model_path), "--csv", str(csv_path), *extra])


def test_the_threshold_splits_the_outputs_not_the_targets(saved, tmp_path, capsys):
    # Before: --threshold 1 classed every target 0 too, and scored 100 %.
    model, path = saved
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    rows = "".join(f"{a},{b},{t}\n" for (a, b), t in zip(X, [0, 1, 1, 0]))
    for threshold in ("1", "-1", "0.5"):
        assert _predict_csv(path, tmp_path / "t.csv", rows, "--threshold", threshold) == 0
        out = capsys.readouterr().out
        predicted = (predict(model, X)[:, 0] > float(threshold)).astype(int)
        right = int((predicted == [0, 1, 1, 0]).sum())
        assert f"Accuracy: {100 * right / 4:.1f} % ({right} of 4)" in out
        assert [r[4] for r in _table(out)[1]] == ["0", "1", "1", "0"]  # the labels as given
    assert right == 2  # all class 1 at -1: half right, not all


@pytest.mark.parametrize("target", ["5", "-3", "0.5", "2", "0.999", "-0.5"])
def test_a_target_that_is_not_a_class_is_one_line_naming_its_line(saved, tmp_path, capsys, target):
    # Before: 5 was class 1, -3 and 0.5 class 0, silently.
    _, path = saved
    assert _predict_csv(path, tmp_path / "t.csv", f"x1,x2,y\n0,0,0\n0,1,1\n\n1,0,{target}\n1,1,0\n") == 1
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1
    assert f"t.csv, line 5: target {float(target):g} is not a class label" in error


def test_micrograds_minus_one_and_one_are_labels_but_not_mixed_with_zero(tmp_path, capsys):
    model = MLP(2, [4, 1], activation=["relu", "none"], seed=3)
    save(model, tmp_path / "svm.json")
    X = np.array([[0.5, -0.5], [1.0, 2.0], [-1.0, 0.25]])
    score = predict(model, X)[:, 0]
    targets = [1 if s > 0 else -1 for s in score]
    rows = "".join(f"{a},{b},{t}\n" for (a, b), t in zip(X, targets))
    assert _predict_csv(tmp_path / "svm.json", tmp_path / "t.csv", rows) == 0
    assert "Accuracy: 100.0 % (3 of 3)" in capsys.readouterr().out
    assert _predict_csv(tmp_path / "svm.json", tmp_path / "t.csv", "0,0,-1\n1,1,0\n0,1,1\n") == 1
    assert "line 2: target 0 is not a class label" in capsys.readouterr().err


def test_several_outputs_take_one_hot_targets_and_no_threshold(tmp_path, capsys):
    model = MLP(2, [3, 3], seed=5)
    save(model, tmp_path / "three.json")
    X = np.array([[0.0, 1.0], [1.0, 0.5]])
    predicted = predict(model, X).argmax(axis=1)
    one_hot = np.eye(3)[predicted]
    one_hot[1] = np.roll(one_hot[1], 1)  # one wrong
    rows = "".join(",".join(f"{v:g}" for v in (*x, *t)) + "\n" for x, t in zip(X, one_hot))
    assert _predict_csv(tmp_path / "three.json", tmp_path / "t.csv", rows) == 0
    assert "Accuracy: 50.0 % (1 of 2)" in capsys.readouterr().out
    for bad in ("1,1,0", "0,0,0", "0.5,0.5,0", "2,0,0"):
        assert _predict_csv(tmp_path / "three.json", tmp_path / "t.csv", f"0,1,1,0,0\n0,1,{bad}\n") == 1
        assert "t.csv, line 2: target " in capsys.readouterr().err
    args = ["predict", "--model", str(tmp_path / "three.json"), "--input", "0", "1", "--threshold", "2"]
    assert _exit_code(args) == 1
    assert "--threshold splits a single output; this model has 3" in capsys.readouterr().err


def test_a_nan_output_has_no_class_and_is_never_right(tmp_path, capsys):
    model = MLP(2, [1], activation="none", seed=0)
    neuron = model.layers[0].neurons[0]
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 2.0, -2.0, 0.0
    save(model, tmp_path / "nan.json")
    rows = "1e308,1e308,0\n1e308,1e308,1\n"  # inf + -inf: NaN
    assert _predict_csv(tmp_path / "nan.json", tmp_path / "t.csv", rows) == 0
    out = capsys.readouterr().out
    assert [r[3] for r in _table(out)[1]] == ["none", "none"] and "Accuracy: 0.0 % (0 of 2)" in out


@pytest.mark.parametrize(
    ("nout", "rows", "read"),
    [  # what `predict --help` says the targets are, held to what predict does
        (1, "0,0,0\n1,1,1\n", True),
        (1, "0,0,-1\n1,1,1\n", True),
        (1, "0,0,0\n1,1,-1\n", False),  # not 0 and -1 in one file
        (1, "0,0,0.7\n", False),  # a label, never split by the threshold
        (3, "0,0,0,1,0\n1,1,1,0,0\n", True),
        (3, "0,0,2\n", False),  # a class number is not a one-hot row
        (3, "0,0,0,1,1\n", False),
    ],
)
def test_predict_help_says_how_targets_are_read(tmp_path, capsys, nout, rows, read):
    # Before: the help said "x1, ..., xn[, target] per row": one target, whatever the outputs.
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for said in (
        "one output 0 or 1, or -1 and 1",
        "not 0 and -1 in one file",
        "a one-hot row of k numbers",
        "--threshold",
    ):
        assert said in text
    save(MLP(2, [3, nout], seed=0), tmp_path / "net.json")
    (tmp_path / "data.csv").write_text(rows)
    code = main(["predict", "--model", str(tmp_path / "net.json"), "--csv", str(tmp_path / "data.csv")])
    assert (code == 0 and "Accuracy" in capsys.readouterr().out) == read

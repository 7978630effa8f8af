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
        ("0\n", "data.csv, line 1: 1 numbers where every row needs 2"),
        ("x1,x2\n\n", "data.csv: no rows of numbers"),
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
        (["--input", "0", "1", "--input", "3"], 1, "--input 2 gave 1 numbers"),
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

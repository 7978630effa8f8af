"""The tinygrad-hw command: help everywhere, one-line errors, the files it writes."""

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lab.cli import main

needs_dot = pytest.mark.usefixtures("graphviz_dot")  # skipped without Graphviz, failed in CI


def run(*args):
    return subprocess.run([sys.executable, "-m", "lab.cli", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [[], ["train"], ["graph"], ["explain"], ["predict"], ["moons"], ["report"]])
def test_help_on_every_part(args):
    done = run(*args, "--help")
    assert done.returncode == 0 and "usage: tinygrad-hw" in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["fly"],
        ["train", "--lr", "0"],
        ["train", "--hidden"],
        ["train", "--dataset", "mnist"],
        ["train", "--epochs", "-3"],
        ["graph", "--bogus"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(args):
    done = run(*args)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("tinygrad-hw")


def test_train_writes_the_example_files(tmp_path, capsys):
    assert (
        main(
            ["train", "--dataset", "linear", "--epochs", "30", "--hidden", "4", "--out", str(tmp_path), "--no-progress"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Accuracy:" in out and "Epoch 30 loss:" in out
    for name in ("comparison.png", "learning_curve.png", "model.json", "history.csv"):
        assert (tmp_path / f"linear_{name}").stat().st_size > 0


def test_a_failure_at_run_time_is_one_line_and_exit_1(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = run("train", "--epochs", "1", "--out", str(blocker / "out"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "error" in done.stderr


@needs_dot
def test_graph_writes_three_svgs(tmp_path, capsys):
    assert main(["graph", "--out", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["neuron_graph.svg", "xor_sample_graph.svg", "xor_sample_neurons.svg"]
    assert str(tmp_path) in capsys.readouterr().out


# -- arguments checked before any work, errors in one line (issue 10, finding 12) ---------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--seed", "-1"], "argument --seed: -1 is not a seed: seeds run from 0 to 4294967295"),
        (["train", "--seed", str(2**32)], "argument --seed"),
        (["train", "--out", ""], "argument --out: an empty name is no folder"),
        (["report", "--out", ""], "argument --out: an empty name is no folder"),
        (["graph", "--out", ""], "argument --out: an empty name is no folder"),
    ],
)
def test_bad_seeds_and_folders_are_usage_errors(args, message):
    done = run(*args)
    assert done.returncode == 2 and done.stdout == "" and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("tinygrad-hw") and message in done.stderr


def test_out_naming_a_file_is_refused_before_training(tmp_path):
    blocker = tmp_path / "results.txt"
    blocker.write_text("keep me")
    for command in ("train", "report", "graph"):
        done = run(command, "--out", str(blocker))
        assert done.returncode == 2 and "Errno" not in done.stderr, command
        assert f"argument --out: {blocker} is a file, not a folder" in done.stderr
    assert blocker.read_text() == "keep me"


def test_an_unwritable_out_is_found_before_training(tmp_path):
    done = run("train", "--epochs", "1000", "--out", "/proc/tinygrad-hw-cannot-be-here", "--no-progress")
    assert done.returncode == 1 and "Epoch" not in done.stdout  # refused before the first epoch
    assert done.stderr.startswith("tinygrad-hw train: error: /proc/tinygrad-hw-cannot-be-here")
    assert len(done.stderr.strip().splitlines()) == 1


def test_errors_at_run_time_share_the_commands_prefix(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = run("train", "--epochs", "1", "--out", str(blocker / "out"))
    assert done.returncode == 1 and done.stderr.startswith("tinygrad-hw train: error: ")


def _points_csv(folder):
    points = folder / "pts.csv"
    points.write_text("x1,x2,y\n0,1,1\n1,1,0\n")
    return points


@pytest.mark.parametrize(
    ("command", "usage", "at_run_time"),
    [
        ("train", ["--lr", "zero"], ["--epochs", "1", "--out", "{blocked}"]),
        ("graph", ["--level", "atom"], ["--model", "{csv}", "--input", "0", "1", "--out", "{tmp}"]),
        ("explain", ["--sample", "one"], ["--model", "{csv}", "--input", "0", "1", "--out", "{tmp}"]),
        ("predict", ["--model"], ["--model", "{csv}", "--input", "0", "1"]),
        ("moons", ["--steps", "0"], ["--steps", "1", "--out", "{blocked}"]),
        ("report", ["--jobs", "0"], ["--quick", "--out", "{tmp}"]),
    ],
)
def test_one_error_style_for_every_command_exit_2_for_usage_1_at_run_time(
    tmp_path, capsys, command, usage, at_run_time
):
    (tmp_path / "blocker").write_text("a file, not a folder")
    names = {
        "{blocked}": str(tmp_path / "blocker" / "out"),
        "{csv}": str(_points_csv(tmp_path)),
        "{tmp}": str(tmp_path),
    }
    with pytest.raises(SystemExit) as usage_error:
        main([command, *usage])
    assert usage_error.value.code == 2
    assert capsys.readouterr().err.startswith(f"tinygrad-hw {command}: error: ")
    assert main([command, *(names.get(a, a) for a in at_run_time)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"tinygrad-hw {command}: error: ") and len(err.strip().splitlines()) == 1, err


def test_help_states_the_defaults_the_code_uses():
    from lab.experiment import DEFAULT_EPOCHS

    text = " ".join(run("train", "--help").stdout.split())
    for dataset, epochs in DEFAULT_EPOCHS.items():
        assert f"{epochs} for {dataset}" in text
    assert "the same bits as eager" in text and "batches equal to about 1e-15" in text


def test_enormous_epoch_counts_and_wide_layers_run(tmp_path):
    done = run("train", "--activation", "none", "--epochs", "9" * 23, "--out", str(tmp_path), "--no-progress")
    assert "Traceback" not in done.stderr and "Stopped at epoch 1" in done.stdout  # diverges at once: exit 1
    done = run("train", "--hidden", "3000", "--epochs", "2", "--out", str(tmp_path), "--no-progress")
    assert done.returncode == 0 and "Traceback" not in done.stderr and "Accuracy:" in done.stdout


# -- explain: the step-through page (issue 12) ------------------------------------------------


@needs_dot
def test_explain_writes_the_page_for_the_report_network(tmp_path, capsys):
    assert main(["explain", "--out", str(tmp_path)]) == 0
    page = (tmp_path / "stepthrough.html").read_text(encoding="utf-8")
    assert "XOR sample 1" in page and "2-8-8-1" in page and "W3[1,8]" in page  # its layer's step names it
    assert 'id="a_L2.in8.c0"' in page and page.count('class="neuron-view"') == 17  # one row per neuron, unfolding
    assert "stepthrough.html" in capsys.readouterr().out


@needs_dot
def test_explain_a_saved_model_on_an_input(tmp_path):
    from tinygrad_hw.nn import MLP
    from tinygrad_hw.serialize import save

    save(MLP(3, [4, 2], "tanh", seed=0), tmp_path / "model.json")
    args = ["explain", "--model", str(tmp_path / "model.json"), "--input", "0.5", "-1", "2", "--out", str(tmp_path)]
    assert main([*args, "--target", "1", "0", "--level", "neuron"]) == 0
    page = (tmp_path / "stepthrough.html").read_text(encoding="utf-8")
    assert "x = (0.5, -1, 2), target 1, 0" in page and 'id="a_L2.in2.c0"' in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "1", "nan"], "'nan' is not a finite number"),
        (["--model", "no-such-model.json"], "no-such-model.json: no such file"),
        (["--level", "layer"], "invalid choice: 'layer'"),
        (["--max-nodes", "0"], "'0' is not a positive integer"),
    ],
)
def test_explain_bad_arguments_exit_2_with_one_line(args, message):
    done = run("explain", *args)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "1", "2", "3"], "--input gave 3 numbers; the model takes 2"),
        (["--sample", "21"], "--sample 21 is not an XOR sample: they run from 0 to 20"),
        (["--target", "1", "0"], "--target gave 2 numbers; the model has 1 output"),
    ],
)
def test_explain_inputs_that_do_not_fit_the_model_exit_1_with_one_line(tmp_path, args, message):
    done = run("explain", "--out", str(tmp_path), *args)
    assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "stepthrough.html").exists()


# -- negative numbers are values, whatever their notation (issue 22, defect 11) -------------

NEGATIVES = ["-1e-3", "-1E+3", "-.5", "-5.", "-2.5e-300", "-1_000", "-0", "-7"]


@pytest.mark.parametrize("command", ["predict", "graph", "explain"])
@pytest.mark.parametrize("number", NEGATIVES)
def test_negative_numbers_in_any_notation_are_inputs_and_targets(command, number):
    # Before: argparse read -1e-3 and -1E+3 as options: "expected at least one argument".
    from lab.cli import build_parser

    extra = ["--model", __file__] if command == "predict" else []
    args = build_parser().parse_args([command, *extra, "--input", "0", number])
    assert args.input in ([[0.0, float(number)]], [0.0, float(number)])
    if command != "predict":
        args = build_parser().parse_args([command, "--input", number, number, "--target", number, "--level", "value"])
        assert args.input == [float(number)] * 2 and args.target == [float(number)] and args.level == "value"


@pytest.mark.parametrize("command", ["predict", "graph", "explain"])
@pytest.mark.parametrize("number", ["-inf", "-Infinity", "-nan", "-1e999"])
def test_a_negative_that_is_not_finite_is_refused_as_such(command, number, capsys):
    extra = ["--model", __file__] if command == "predict" else []
    with pytest.raises(SystemExit) as done:
        main([command, *extra, "--input", "0", number])
    error = capsys.readouterr().err
    assert done.value.code == 2 and len(error.strip().splitlines()) == 1
    assert f"'{number}' is not a finite number" in error


def test_options_and_threshold_still_read_after_negative_numbers(tmp_path, capsys):
    from tinygrad_hw.nn import MLP
    from tinygrad_hw.serialize import save

    save(MLP(2, [1], seed=0), tmp_path / "m.json")
    args = ["predict", "--model", str(tmp_path / "m.json"), "--input", "-1e-3", "-1E+3", "--threshold", "-2e-1"]
    assert main([*args, "--input", "-.5", "2"]) == 0
    out = capsys.readouterr().out
    assert "(class: output > -0.2)" in out and "-0.001  -1000 " in out and " -0.5      2 " in out
    with pytest.raises(SystemExit):
        main(["predict", "--model", str(tmp_path / "m.json"), "--input", "0", "-x"])  # not a number: an option
    assert "unrecognized arguments: -x" in capsys.readouterr().err


@given(
    st.floats(max_value=-0.0, allow_nan=False, allow_infinity=False), st.sampled_from(["{!r}", "{:e}", "{:E}", "{:g}"])
)
def test_every_negative_float_as_python_writes_it_is_a_value(x, form):
    from lab.cli import build_parser

    text = form.format(x)
    args = build_parser().parse_args(["graph", "--input", text, "--target", text])
    assert args.input == [float(text)] and args.target == [float(text)]


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path):
    # Before: `tinygrad-hw predict ... | head` could end with "error: [Errno 32] Broken pipe".
    from tinygrad_hw.nn import MLP
    from tinygrad_hw.serialize import save

    save(MLP(2, [3, 1], seed=0), tmp_path / "m.json")
    rows = tmp_path / "rows.csv"
    rows.write_text("".join(f"{k % 7},{k % 5}\n" for k in range(50_000)))  # far more than a pipe holds
    command = [sys.executable, "-m", "lab.cli", "predict", "--model", str(tmp_path / "m.json"), "--csv", str(rows)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline().split()[:2] == [b"x1", b"x2"]
    process.stdout.close()  # as `head -1` does
    err = process.stderr.read() if process.stderr is not None else b""
    assert process.wait(timeout=60) == 141 and err == b""


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["train", "--bogus"], "train"),
        (["predict", "--model", "{model}", "--input", "0", "1", "--bogus", "3"], "predict"),
        (["watch", "--frames", "0"], "watch"),
        (["exercise", "start", "local", "--zzz"], "exercise start"),
        (["check", "{model}", "--exercise", "network", "--nope"], "check"),
    ],
)
def test_an_option_a_command_does_not_know_is_that_commands_usage_error(tmp_path, capsys, args, command):
    from tinygrad_hw.nn import MLP
    from tinygrad_hw.serialize import save

    save(MLP(2, [1], seed=0), tmp_path / "m.json")  # so that only the unknown option is wrong
    with pytest.raises(SystemExit) as usage_error:
        main([str(tmp_path / "m.json") if a == "{model}" else a for a in args])
    err = capsys.readouterr().err
    assert usage_error.value.code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"tinygrad-hw {command}: error: unrecognized arguments: "), err


@pytest.mark.parametrize("activation", ["none", "tanh", "relu"])
def test_bce_without_a_sigmoid_output_is_refused_before_training(tmp_path, capsys, activation):
    """A none or tanh output is negative at once: bce's log was nan at epoch 1, explained as
    a divergence that 'a smaller learning rate' would cure."""
    out = tmp_path / "out"
    assert main(["train", "--loss", "bce", "--activation", activation, "--epochs", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tinygrad-hw train: error: --loss bce needs --activation sigmoid") and not out.exists()

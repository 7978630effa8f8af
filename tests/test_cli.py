"""The tinygrad-hw command: help everywhere, one-line errors, the files it writes."""

import shutil
import subprocess
import sys

import pytest

from tinygrad_hw.cli import main

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def run(*args):
    return subprocess.run([sys.executable, "-m", "tinygrad_hw.cli", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [[], ["train"], ["graph"]])
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

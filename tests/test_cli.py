"""The tinygrad-hw command: help everywhere, one-line errors, the files it writes."""

import shutil
import subprocess
import sys

import pytest

from lab.cli import main

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def run(*args):
    return subprocess.run([sys.executable, "-m", "lab.cli", *args], capture_output=True, text=True, timeout=120)


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
    assert done.stderr.startswith("tinygrad-hw: error: /proc/tinygrad-hw-cannot-be-here")
    assert len(done.stderr.strip().splitlines()) == 1


def test_errors_at_run_time_share_the_commands_prefix(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = run("train", "--epochs", "1", "--out", str(blocker / "out"))
    assert done.returncode == 1 and done.stderr.startswith("tinygrad-hw: error: ")


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

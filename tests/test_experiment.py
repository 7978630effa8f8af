"""The main job end to end: examples/xor.py's output and files."""

import io
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lab.experiment import train_and_draw
from tinygrad_hw.serialize import load

ROOT = Path(__file__).resolve().parent.parent
needs_dot = pytest.mark.usefixtures("graphviz_dot")  # skipped without Graphviz, failed in CI


@needs_dot
def test_the_main_job_trains_xor_to_100_percent_and_writes_its_files(tmp_path):
    out = io.StringIO()
    result = train_and_draw("xor", out=tmp_path, progress=False, file=out)
    text = out.getvalue()
    assert "Accuracy: 100.0 %" in text and text.startswith("Epoch 1 loss:")
    for key in ("comparison", "learning_curve", "graph", "model", "history"):
        assert result.files[key].stat().st_size > 0, key
    svg = ET.parse(result.files["graph"]).getroot()
    labels = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert "sigmoid" in labels and "W1[1,1]" in labels and "grad" in labels
    assert load(result.files["model"]).sizes == [2, 8, 8, 1]


def test_the_linear_example_runs_as_a_script(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "linear.py"), "--epochs", "20", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Accuracy:" in done.stdout and (tmp_path / "linear_comparison.png").exists()


@pytest.mark.parametrize("args", [["--lr", "-1"], ["--epochs", "many"], ["--activation", "softmax"], ["--bogus"]])
def test_bad_arguments_exit_2_with_one_line(args):
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "xor.py"), *args], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1 and "error:" in done.stderr


def test_a_diverging_run_exits_nonzero_but_writes_its_curve(tmp_path):
    out = io.StringIO()
    result = train_and_draw("xor", activation="none", epochs=50, out=tmp_path, progress=False, file=out)
    assert result.history.diverged and "Stopped at epoch 1" in out.getvalue()
    assert result.files["learning_curve"].exists() and "model" not in result.files

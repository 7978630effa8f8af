"""The training page's numbers against the engine, and ``tinygrad-hw watch``.

Heatmap cells are the eager engine's ``model(x)`` bit for bit; the PNGs hold exactly
the quantised cells; what the page lists for a training point is the engine's value
at that frame; a comparison's runs start from the same weights and share one
timeline; every user string is escaped; bad arguments are one line."""

from __future__ import annotations

import json
import math
import re
import zlib

import numpy as np
import pytest

from lab.cli import main
from lab.watch import Setting, initial_models, parse_compare, settings
from tinygrad_hw.data import generate_xor_easy
from tinygrad_hw.diagnose import neuron_nodes, short
from tinygrad_hw.engine import no_grad
from tinygrad_hw.nn import MLP
from tinygrad_hw.recording import record_fit
from viz.heatmaps import grid, neuron_outputs, palette_table, quantise
from viz.png import grey_png
from viz.watch import watch
from viz.watch_data import edge_code, neuron_id, plane_for, run_frames
from viz.watch_layout import formula_templates


def eager_neurons(model, points):
    """Every neuron's output at each point, from the engine: one list per point."""
    with no_grad():
        return [[a.data for layer in neuron_nodes(model, p) for _, a in layer] for p in points.tolist()]


@pytest.mark.parametrize(
    ("activations", "bias"),
    [
        (["sigmoid"] * 3, True),
        (["tanh", "relu", "sigmoid"], True),
        (["none"] * 3, True),
        (["relu", "tanh", "none"], False),
    ],
)
def test_heatmap_cells_are_the_engines_outputs_bit_for_bit(activations, bias):
    model = MLP(2, [5, 4, 1], activations, seed=7, bias=bias)
    rng = np.random.default_rng(0)
    points = np.vstack(
        [grid((-3.0, 2.0, -1.0, 4.0), 6), rng.normal(scale=40, size=(30, 2))]
    )  # 40: saturated and overflowing
    weights = [p.data * 9 for p in model.parameters()]
    for p, w in zip(model.parameters(), weights):
        p.data = w
    cells = np.hstack(neuron_outputs(model, weights, points))
    expected = np.array(eager_neurons(model, points))
    same = (cells == expected) | (np.isnan(cells) & np.isnan(expected))
    assert same.all(), np.argwhere(~same)[:3]


def test_sigmoid_cells_overflow_as_the_engine_does():
    model = MLP(2, [1], "sigmoid", seed=0)
    model.layers[0].neurons[0].w[0].data = -1000.0  # exp(1000·x) overflows: math raises, the engine gives 0
    points = np.array([[1.0, 0.0], [-1.0, 0.0], [math.nan, 0.0]])
    cells = neuron_outputs(model, [p.data for p in model.parameters()], points)[0][:, 0]
    engine = [v[0] for v in eager_neurons(model, points)]
    assert (
        cells[0] == engine[0] == 0.0 and cells[1] == engine[1] == 1.0 and math.isnan(cells[2]) and math.isnan(engine[2])
    )


def unpng(png: bytes) -> np.ndarray:
    """Decode an 8-bit greyscale PNG (the five filters), as a reader would."""
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert png[24:29] == bytes([8, 0, 0, 0, 0])
    raw = zlib.decompress(png[41 : len(png) - 16])
    rows, previous = [], [0] * width
    for r in range(height):
        kind, line = raw[r * (width + 1)], list(raw[r * (width + 1) + 1 : (r + 1) * (width + 1)])
        for i in range(width):
            left = line[i - 1] if i else 0
            up, corner = previous[i], previous[i - 1] if i else 0
            p = left + up - corner
            paeth = min((abs(p - left), 0, left), (abs(p - up), 1, up), (abs(p - corner), 2, corner))[2]
            line[i] = (line[i] + [0, left, up, (left + up) // 2, paeth][kind]) % 256
        rows.append(line)
        previous = line
    return np.array(rows, dtype=np.uint8)


def test_the_pngs_hold_the_quantised_cells_exactly():
    rng = np.random.default_rng(1)
    smooth = quantise(np.add.outer(np.linspace(0, 1, 20), np.linspace(0, 1, 33)) / 2, 0, 1, 64)
    for image in (smooth, rng.integers(0, 256, (7, 11), dtype=np.uint8), np.zeros((1, 1), np.uint8)):
        assert (unpng(grey_png(image)) == image).all()


def test_quantising_spans_the_palette_and_marks_nan():
    codes = quantise(np.array([-5.0, 0.0, 0.5, 1.0, 9.0, math.nan, math.inf, -math.inf]), 0.0, 1.0)
    assert codes.tolist() == [1, 1, 128, 255, 255, 0, 255, 1]
    table = palette_table()
    assert len(table) == 256 and table[128] == pytest.approx((247 / 255,) * 3, abs=1e-4)


def test_edges_are_coded_by_sign_and_size():
    assert [edge_code(w) for w in (0.05, -0.05, 0.3, -0.3, 8.0, -8.0, math.nan)] == ["a", "A", "c", "C", "j", "J", "z"]
    assert neuron_id("z3[1]") == neuron_id("W3[1,4]") == neuron_id("b3[1]") == "n3-1"
    assert neuron_id("x2") == "x2" and neuron_id("C") is None


@pytest.fixture(scope="module")
def small_run():
    X, y = generate_xor_easy()
    return record_fit(MLP(2, [3, 2, 1], seed=1), X, y, epochs=40, lr=1.0, verbose=False, name="small", max_frames=12)


def test_every_frame_lists_the_engines_values_and_wrong_samples(small_run):
    frames = run_frames(small_run, plane_for(small_run.X))
    assert len(frames.epochs) == len(small_run.frames) == 12
    for k in (0, 5, 11):
        model = small_run.model_at(k)
        values = eager_neurons(model, small_run.X)
        assert frames.values[k] == [" ".join(short(v) for v in row) for row in values]
        wrong = "".join("0" if (row[-1] > 0.5) == (t > 0.5) else "1" for row, t in zip(values, small_run.y[:, 0]))
        assert frames.wrong[k] == wrong
        edges = [w.data for layer in model.layers for n in layer.neurons for w in n.w]
        assert frames.edges[k] == "".join(edge_code(w) for w in edges) and len(edges) == 3 * 2 + 2 * 3 + 2


def test_formulas_put_the_frames_weights_in_the_engines_order(small_run):
    frames = run_frames(small_run, plane_for(small_run.X))
    templates = formula_templates(small_run.model)
    params = frames.params[3]
    first = templates[0]
    text = first["head"] + "".join(params[p] + n for p, n in zip(first["params"], first["names"])) + first["tail"]
    w1, w2, b = small_run.frames[3].weights[:3]
    sign = lambda x: f" − {short(x)[1:]}" if x < 0 else f" + {short(x)}"  # noqa: E731
    assert text == f"a1[1] = σ({short(b)}{sign(w1)}·x₁{sign(w2)}·x₂)"
    out = templates[-1]
    assert out["head"] == "a3[1] = σ(" and out["names"] == ["", "·a2[1]", "·a2[2]"]
    assert "-" not in "".join(p for frame in frames.params for p in frame)  # one minus sign: U+2212


def test_a_comparison_starts_from_the_same_weights():
    runs = settings(Setting(), parse_compare("lr=1,0.1,0.01"), 2)
    models = initial_models(runs, seed=3)
    assert [r.name for r in runs] == ["lr=1", "lr=0.1", "lr=0.01"]
    assert all([p.data for p in m.parameters()] == [p.data for p in models[0].parameters()] for m in models)
    runs = settings(Setting(hidden=(8, 8)), parse_compare("hidden=2,4"), 2)
    small, large = initial_models(runs, seed=3)
    assert [r.hidden for r in runs] == [(2, 2), (4, 4)]
    for a, b in zip(small.layers, large.layers):  # the smaller network is the larger's top-left corner
        for na, nb in zip(a.neurons, b.neurons):
            assert [w.data for w in na.w] == [w.data for w in nb.w[: len(na.w)]] and na.b.data == nb.b.data


def test_a_comparisons_timeline_lines_the_runs_up():
    X, y = generate_xor_easy()
    runs = [
        record_fit(MLP(2, [4, 1], seed=1), X, y, epochs=300, lr=0.5, verbose=False, name="ok"),
        record_fit(MLP(2, [8, 8, 1], "none", seed=1), X, y, epochs=300, lr=0.1, verbose=False, name="diverges"),
    ]
    page = watch(runs)
    data = page.data
    positions = data["positions"]
    assert len(data["at"][0]) == len(data["at"][1]) == len(positions) == len(data["cursor"])
    assert data["cursor"] == sorted(data["cursor"])
    for run, at in zip(data["runs"], data["at"]):
        epochs = [int(run["epochs"][f]) for f in at]
        shown = [int(re.match(r"epoch (\d+)", p).group(1)) for p in positions]
        assert all(e <= s for e, s in zip(epochs, shown)) and epochs == sorted(epochs)
    stopped = positions.index("epoch 1, stopped · frame 3 of " + str(len(positions)))
    assert data["runs"][1]["labels"][data["at"][1][-1]] == "epoch 1: stopped, the loss not finite"
    assert all(f == data["at"][1][stopped] for f in data["at"][1][stopped:])  # it stays where it stopped
    assert "z3[1] became nan at epoch 1, sample 7" in data["runs"][1]["diagnosis"]
    assert "origin:n3-1" in data["runs"][1]["marks"][-1]


def test_user_strings_are_escaped(small_run):
    small_run.name = "</script><script>alert(1)</script>"
    page = watch(small_run, title="<b>mine</b> & yours")
    assert "<script>alert(1)" not in page.html and "&lt;b&gt;mine&lt;/b&gt; &amp; yours" in page.html
    payload = re.search(r'<script type="application/json" id="data">(.*?)</script>', page.html, re.S).group(1)
    assert json.loads(payload)["runs"][0]["name"] == small_run.name


def test_a_page_too_large_shows_fewer_frames_and_says_so(small_run):
    whole = watch(small_run)
    cut = watch(small_run, max_bytes=len(whole.html.encode()) * 3 // 4)
    assert len(cut.html.encode()) <= len(whole.html.encode()) * 3 // 4
    assert cut.data["note"] == f"{len(cut.data['positions'])} of 12 recorded frames shown, to keep the page under 3 MB"
    assert cut.data["positions"][0].startswith("epoch 0") and cut.data["positions"][-1].startswith("epoch 40")


def test_a_notebook_shows_the_page_in_a_frame(small_run):
    shown = watch(small_run)._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and "&lt;!DOCTYPE html&gt;" in shown and "<script" not in shown


def test_watch_refuses_a_model_it_cannot_draw():
    X = np.zeros((4, 3))
    run = record_fit(MLP(3, [1], seed=0), X, np.zeros((4, 1)), epochs=1, verbose=False)
    with pytest.raises(ValueError, match=r"watch draws the input plane and one output: .* 3 inputs"):
        watch(run)


def test_the_command_writes_the_page_and_frames_that_explain_opens(tmp_path, capsys):
    out = tmp_path / "w"
    assert main(["watch", "--epochs", "20", "--hidden", "3", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "loss" in printed and f"Wrote {out / 'watch.html'}" in printed
    page = (out / "watch.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "http" not in page.replace("http://www.w3.org", "")
    command = json.loads(re.search(r'id="data">(.*?)</script>', page, re.S).group(1))["runs"][0]["command"]
    assert command == f"tinygrad-hw explain --out {out} --model {out / 'frames' / 'run1.json'} --epoch"
    assert (
        main(
            [
                "explain",
                "--out",
                str(out),
                "--model",
                str(out / "frames" / "run1.json"),
                "--epoch",
                "20",
                "--input",
                "0.1",
                "0.9",
                "--target",
                "1",
            ]
        )
        == 0
    )
    assert "at epoch 20" in (out / "stepthrough.html").read_text()


def test_the_command_explains_a_divergence(tmp_path, capsys):
    assert main(["watch", "--activation", "none", "--epochs", "5", "--out", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "Stopped at epoch 1" in printed and "  z3[1] became nan at epoch 1, sample 7" in printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--compare", "lr=1"], "give two or more values"),
        (["--compare", "speed=1,2"], "compare one of lr, hidden, activation, optimizer"),
        (["--compare", "lr=1,x"], "'x' is not a learning rate"),
        (["--compare", "activation=sigmoid,cubic"], "'cubic' is not one of"),
        (["--compare", "hidden=2,0"], "is not a list of hidden layer sizes"),
        (["--hidden", "8,a"], "is not a list of hidden layer sizes"),
        (["--data", "nowhere.csv"], "'nowhere.csv' is not one of xor, linear, moons or a CSV file (no such file)"),
        (["--epochs", "0"], "'0' is not a positive integer"),
    ],
)
def test_bad_arguments_are_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["watch", *args])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1 and message in err


@pytest.mark.parametrize(
    ("rows", "message"),
    [("x1,x2\n0,1\n1,0\n", "watch needs a target after the two inputs"), ("1,2,3,4\n", "3 (inputs, then targets)")],
)
def test_a_csv_it_cannot_use_is_one_line(tmp_path, capsys, rows, message):
    path = tmp_path / "data.csv"
    path.write_text(rows)
    assert main(["watch", "--data", str(path), "--epochs", "2", "--out", str(tmp_path / "o"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_a_csv_trains_and_its_name_and_header_are_escaped(tmp_path):
    path = tmp_path / "<b>xor&.csv"
    path.write_text("<x1>,x2,label\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    out = tmp_path / "o"
    assert main(["watch", "--data", str(path), "--epochs", "3", "--out", str(out), "--no-progress"]) == 0
    page = (out / "watch.html").read_text()
    assert "<b>" not in page and "<x1>" not in page
    assert "&lt;b&gt;xor&amp;.csv" in page.split("</title>")[0]  # the title names the file, escaped


def test_a_dead_relu_and_a_vanishing_layer_are_flagged_on_their_frames():
    X, y = generate_xor_easy()
    run = record_fit(MLP(2, [3, 1], ["relu", "sigmoid"], seed=3), X, y, epochs=2, lr=0.1, verbose=False)
    dead = run.frames[1].weights
    dead[3:6] = [-1.0, -1.0, -0.5]  # neuron 2 of layer 1: z < 0 on all of [0, 1]²
    saturated = run.frames[2].weights
    saturated[9:13] = [0.0, 0.0, 0.0, 80.0]  # the output: σ(80), whose σ' is about 2e-35
    frames = run_frames(run, plane_for(run.X))
    assert frames.flags[0] == "" and frames.marks[0] == ""
    assert "dead ReLU: a1[2] is 0 on every sample" in frames.flags[1] and frames.marks[1] == "dead:n1-2"
    assert "vanishing gradient: layer 1" in frames.flags[2] and "vanish:L2" in frames.marks[2].split()


def test_the_page_says_what_the_same_start_means():
    from lab.watch import same_start

    assert same_start(settings(Setting(), parse_compare("lr=1,0.1"), 2), 1).startswith("every run starts from the same")
    assert "top-left corner" in same_start(settings(Setting(), parse_compare("hidden=2,4"), 2), 1)
    assert "differ in depth" in same_start(settings(Setting(), parse_compare("hidden=4,8-8-8"), 2), 1)
    shapes = [s.hidden for s in settings(Setting(), parse_compare("hidden=4,8-8-8"), 2)]
    assert shapes == [(4, 4), (8, 8, 8)]  # a single width fills every hidden layer of --hidden


def test_the_command_flags_a_dead_relu_at_the_final_weights(tmp_path, capsys):
    args = ["watch", "--activation", "relu", "--hidden", "3", "--seed", "0", "--epochs", "20", "--no-progress"]
    assert main([*args, "--out", str(tmp_path)]) == 0
    assert "\n  dead ReLU: a1[2], a1[3] are 0 on every sample, so no gradient passes\n" in capsys.readouterr().out


def test_the_step_through_command_is_quoted_for_the_shell(tmp_path, capsys):
    import shlex

    out = tmp_path / "my runs" / "it's here"
    assert main(["watch", "--epochs", "3", "--hidden", "2", "--out", str(out), "--no-progress"]) == 0
    page = (out / "watch.html").read_text()
    run = json.loads(re.search(r'id="data">(.*?)</script>', page, re.S).group(1))["runs"][0]
    command = run["command"]
    assert run["hint"] == "Its step-through page at these weights:"  # the command wrote the frames it names
    words = shlex.split(command + " 3 --input 0.1 0.9 --target 1")  # as a shell splits what the page shows
    assert words[:6] == ["tinygrad-hw", "explain", "--out", str(out), "--model", str(out / "frames" / "run1.json")]
    assert main(words[1:]) == 0 and (out / "stepthrough.html").is_file()


@pytest.mark.parametrize("text", ["activation=relu,relu", "lr=0.1,1,0.10", "hidden=3,2,3", "optimizer=adam,adam"])
def test_comparing_a_setting_with_itself_is_refused(text, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["watch", "--compare", text])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1 and "is there twice" in err


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        ("0,0,0\n0,1,1\n1,0,2\n", "line 4: target 2 is not a class label"),  # read as predict reads it
        ("0,0,0\n0,1,1\n1,0,0.5\n", "line 4: target 0.5 is not a class label"),
        ("0,0,-1\n0,1,1\n1,0,1\n", "data row 1 has -1 (for -1/1 labels, write 0 for -1)"),  # micrograd's labels
    ],
)
def test_a_csv_target_that_is_not_a_class_is_refused(tmp_path, capsys, rows, said):
    path = tmp_path / "data.csv"
    path.write_text("x1,x2,y\n" + rows)
    out = tmp_path / "o"
    assert main(["watch", "--data", str(path), "--epochs", "2", "--out", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tinygrad-hw watch: error: ") and said in err
    assert not (out / "watch.html").exists()


def test_a_csv_saved_with_a_byte_order_mark_keeps_its_first_row(tmp_path):
    from lab.watch import load_data

    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeff0,0,0\n0,1,1\n1,0,1\n1,1,0\n".encode())  # Excel's "CSV UTF-8"
    X, y, _ = load_data(str(path), 1)
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y[:, 0].tolist() == [0, 1, 1, 0]


def test_a_sample_whose_output_is_not_finite_is_wrong_as_the_accuracy_counts_it():
    from tinygrad_hw.train import accuracy, predict

    X, y = generate_xor_easy()
    run = record_fit(MLP(2, [8, 8, 1], "none", seed=1), X, y, epochs=3, lr=0.1, verbose=False)
    frames = run_frames(run, plane_for(run.X))
    stopped = run.model_at(len(run.frames) - 1)
    assert run.frames[-1].partial and np.isnan(predict(stopped, X)).all()
    assert accuracy(predict(stopped, X), y) == run.history.accuracy == 0.0
    assert frames.wrong[-1] == "1" * len(X)  # not the targets 0 shown right because nan > 0.5 is False


def test_one_epoch_is_said_in_the_singular(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["watch", "--epochs", "1", "--hidden", "2", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    page = json.loads(re.search(r'id="data">(.*?)</script>', (out / "watch.html").read_text(), re.S).group(1))
    assert " after 1 epoch, " in printed and page["runs"][0]["summary"].startswith("after 1 epoch: loss")

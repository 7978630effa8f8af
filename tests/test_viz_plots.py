"""viz.plots: the report's figures, as files and as Figure objects."""

import math
import re

import numpy as np
import pytest
from matplotlib.figure import Figure

from tinygrad_hw.data import generate_xor_easy
from tinygrad_hw.train import History
from viz.plots import accuracy_bars, comparison, decision_boundary, learning_curve, learning_curves


def test_comparison_is_two_panels_red_for_0_blue_for_1(tmp_path):
    X, y = generate_xor_easy()
    pred = np.where(y > 0, 0.9, 0.1)
    pred[0] = 0.8  # one wrong prediction: a blue point where the truth is red
    fig = comparison(X, y, pred, path=tmp_path / "c.png")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["Ground truth", "Predict result"]
    truth_red, truth_blue = (len(c.get_offsets()) for c in fig.axes[0].collections)
    pred_red, pred_blue = (len(c.get_offsets()) for c in fig.axes[1].collections)
    assert (truth_red, truth_blue) == (11, 10) and (pred_red, pred_blue) == (10, 11)
    assert fig.axes[0].collections[0].get_facecolor()[0][0] > 0.7  # red first
    assert (tmp_path / "c.png").stat().st_size > 1000


def test_learning_curves_one_line_per_run_and_divergence_marked(tmp_path):
    ok = History(loss=[0.3, 0.2, 0.1], epochs=3)
    bad = History(loss=[0.3, 5.0, math.inf], diverged_at=3, epochs=10)
    fig = learning_curve([ok, bad], ["lr 0.1", "lr 1"], logy=True, path=tmp_path / "l.png")
    ax = fig.axes[0]
    assert len(fig.axes) == 1 and ax.get_yscale() == "log"
    curves = [line for line in ax.get_lines() if line.get_marker() in ("None", "") and len(line.get_xdata())]
    assert [len(line.get_xdata()) for line in curves] == [3, 2]  # the infinite point is not drawn
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["lr 0.1", "lr 1 (diverged at epoch 3)"]
    assert [line.get_xdata()[0] for line in ax.get_lines() if line.get_marker() == "x"] == [2]  # its last finite loss
    assert (tmp_path / "l.png").stat().st_size > 1000
    single = learning_curve(ok, path=tmp_path / "one.svg")
    assert len(single.axes) == 1 and (tmp_path / "one.svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(ValueError, match="1 labels for 2 histories"):
        learning_curve([ok, bad], ["only one"])


def test_many_seeds_light_their_mean_bold_and_diverged_runs_end_in_a_cross():
    # Before: one survivor's 3,000-epoch curve under a legend "(diverged at epoch 1)".
    ok = [History(loss=[0.3, 0.2, 0.1 * k], epochs=3) for k in (1, 2)]
    never = History(loss=[math.nan], diverged_at=1, epochs=3)
    late = History(loss=[0.3, math.nan], diverged_at=2, epochs=3)
    ax = learning_curves({"sigmoid": ok, "none": [never, late, ok[0]]}).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["sigmoid, 2 seeds", "none (2 of 3 diverged: ×)"]
    drawn = [line for line in ax.get_lines() if line.get_marker() in ("None", "") and len(line.get_xdata())]
    bold = [line for line in drawn if line.get_linewidth() > 2]
    assert len(bold) == 1 and list(bold[0].get_ydata()) == pytest.approx([0.3, 0.2, 0.15])  # sigmoid's median
    assert max(len(line.get_xdata()) for line in drawn if line.get_color() == "C1") == 3  # the survivor only
    assert sum(line.get_marker() == "x" for line in ax.get_lines()) == 2  # one cross per diverged run


def test_accuracy_bars(tmp_path):
    fig = accuracy_bars(["2", "4", "8"], [0.5, 0.9, 1.0], spread=[0.1, 0.05, 0.0], path=tmp_path / "a.png")
    ax = fig.axes[0]
    assert [round(p.get_height(), 6) for p in ax.patches] == [50.0, 90.0, 100.0]
    assert [t.get_text() for t in ax.texts] == ["50.0 %", "90.0 %", "100.0 %"]
    assert (tmp_path / "a.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="2 labels for 3 accuracies"):
        accuracy_bars(["a", "b"], [1, 1, 1])


def test_accuracy_bars_of_seeds_never_draw_a_diverged_setting_at_zero():
    # Before: a setting whose runs all diverged showed a bar at "0.0 %".
    fig = accuracy_bars(["sigmoid", "none", "half"], [[1.0, 1.0, 0.9], [], [0.5]], diverged=[0, 3, 2])
    ax = fig.axes[0]
    assert [round(p.get_height(), 6) for p in ax.patches] == [pytest.approx(96.666667), 50.0]  # no bar for none
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["96.7 %", "no run finished\n(3 diverged)", "50.0 % (1 of 3)"]
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(dots) == 1 and len(dots[0].get_xdata()) == 3  # each seed of sigmoid


def _net():
    from tinygrad_hw.nn import MLP

    return MLP(2, [4, 1], seed=3)


def test_the_boundary_shades_the_plane_and_rings_the_points_the_model_gets_wrong(tmp_path):
    from tinygrad_hw.train import predict

    X, y = generate_xor_easy()
    model = _net()
    wrong = (predict(model, X)[:, 0] > 0.5) != (y[:, 0] > 0.5)
    assert 0 < wrong.sum() < len(X)  # an untrained net: some right, some wrong
    fig = decision_boundary(model, X, y, diagonal=True, title="XOR", path=tmp_path / "b.png")
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["class 0", "class 1", f"wrong ({wrong.sum()})", "x₁ = x₂", "output = 0.5"]
    assert ax.get_title() == "XOR" and (tmp_path / "b.png").stat().st_size > 5000
    rings = ax.collections[-1].get_offsets()
    assert np.array_equal(np.asarray(rings), X[wrong])


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.zeros((4, 3)), np.zeros(4), r"X has shape \(4, 3\)"),
        (np.zeros((0, 2)), np.zeros(0), r"X has shape \(0, 2\)"),
        (np.zeros((4, 2)), np.zeros(5), r"y has shape \(5,\); for X of shape \(4, 2\) it must be \(4,\) or \(4, 1\)"),
        (np.zeros((2, 2)), np.zeros((1, 2)), r"y has shape \(1, 2\)"),
        (np.full((4, 2), np.nan), np.zeros(4), "must be finite"),
    ],
)
def test_a_boundary_of_misshapen_points_is_refused_naming_them(X, y, message):
    with pytest.raises(ValueError, match=message):
        decision_boundary(_net(), X, y)


def test_a_boundary_needs_a_model_of_two_inputs_and_one_output():
    from tinygrad_hw.nn import MLP

    with pytest.raises(ValueError, match="2 inputs and 1 output; this one has 3 and 1"):
        decision_boundary(MLP(3, [1]), np.zeros((2, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="this one has 2 and 2"):
        decision_boundary(MLP(2, [2]), np.zeros((2, 2)), np.zeros(2))


def test_curves_on_top_of_each_other_stay_visible():
    # Before: lr 0.1's curve hid under lr 0.01's, the same colour weight and the same solid line.
    same = [History(loss=list(np.linspace(0.26, 0.25, 1000)), epochs=1000) for _ in range(3)]
    ax = learning_curves({"lr 0.1": same, "lr 0.01": same}).axes[0]
    means = [line for line in ax.get_lines() if line.get_linewidth() > 2 and len(line.get_xdata())]
    assert len({line.get_linestyle() for line in means}) == 2
    marks = [line for line in ax.get_lines() if line.get_linestyle() == "None" and line.get_marker() not in ("x", "")]
    assert len(marks) == 2 and len({m.get_marker() for m in marks}) == 2
    assert not set(marks[0].get_xdata()) & set(marks[1].get_xdata())  # never on the same epochs
    legend = ax.get_legend().get_lines()
    assert len({(h.get_linestyle(), h.get_marker()) for h in legend}) == 2


@pytest.mark.parametrize(("low", "high"), [(0.2, 0.3), (0.02, 0.3), (0.2499, 0.2512), (1e-9, 0.3)])
def test_a_log_axis_has_at_least_three_labelled_ticks_in_view(low, high):
    # Before: the hidden-units figure, from 0.02 to 0.3, had one labelled tick (0.1).
    run = History(loss=list(np.geomspace(high, low, 50)), epochs=50)
    ax = learning_curves({"a": [run, run]}).axes[0]
    bottom, top = ax.get_ylim()
    label = ax.yaxis.get_major_formatter()
    shown = [label(v, k) for k, v in enumerate(ax.yaxis.get_majorticklocs()) if bottom <= v <= top]
    assert 3 <= len([s for s in shown if s]) <= 8, shown
    assert all("$" not in s for s in shown) and len(set(shown)) == len(shown)  # plain numbers, each its own
    assert ax.yaxis.get_minor_formatter()(0.15, 0) == ""  # and no crowd of minor labels


def test_a_learning_curve_of_losses_collected_by_hand():
    """`losses.append(loss.data)` in a loop, as micrograd's demo keeps them: it was
    "'list' object has no attribute 'loss'"."""
    by_hand = learning_curve([0.9, 0.5, 0.2])
    as_history = learning_curve(History(loss=[0.9, 0.5, 0.2], epochs=3))
    assert [list(line.get_ydata()) for line in by_hand.axes[0].get_lines()] == [
        list(line.get_ydata()) for line in as_history.axes[0].get_lines()
    ]
    two = learning_curve([[1.0, 0.5], np.array([2.0, math.nan])], ["a", "b"])
    assert [t.get_text() for t in two.axes[0].get_legend().get_texts()] == ["a", "b (diverged at epoch 2)"]
    with pytest.raises(TypeError, match="run 1 is a str: give a History or a list of losses"):
        learning_curve(["0.5"], ["a"])


@pytest.mark.parametrize(
    ("X", "y", "pred", "shapes"),
    [
        (np.zeros((5, 2)), np.zeros(5), np.zeros(3), "X (5, 2), 5 labels and 3 predictions"),
        (np.zeros((5, 2)), np.zeros(4), np.zeros(5), "X (5, 2), 4 labels and 5 predictions"),
        (np.zeros(5), np.zeros(5), np.zeros(5), "X (5,), 5 labels and 5 predictions"),
    ],
)
def test_a_comparison_of_mismatched_lengths_names_them(X, y, pred, shapes):
    """It was numpy's IndexError about a boolean index (or a drawing of the wrong points)."""
    with pytest.raises(
        ValueError, match=re.escape(f"comparison needs X of shape (n, 2) and n labels and predictions: got {shapes}")
    ):
        comparison(X, y, pred)

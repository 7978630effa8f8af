"""The report's figures with matplotlib, without pyplot's global state.

Every function returns a ``matplotlib.figure.Figure`` and, given ``path``, also
writes it there atomically. The figure shows itself inline in Jupyter (as PNG) with
no ``%matplotlib inline`` and no pyplot.
"""

from __future__ import annotations

import io
import math
import numbers
import os
from pathlib import Path
from typing import Any, Mapping, Sequence, cast

import numpy as np
from matplotlib.figure import Figure as _MatplotlibFigure

from tinygrad_hw.atomic import write_atomic
from tinygrad_hw.checks import counted
from tinygrad_hw.history import History

__all__ = [
    "Figure",
    "accuracy_bars",
    "comparison",
    "decision_boundary",
    "learning_curve",
    "learning_curves",
    "save_figure",
]

RED, BLUE = "#d62728", "#1f77b4"  # label 0, label 1
# Each setting of a figure gets a colour, a line style and a marker, so that two curves on
# top of each other (lr 0.1 and lr 0.01 in the learning-rate figure) both stay visible.
LINE_STYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P")
MARKS_PER_CURVE = 8


class Figure(_MatplotlibFigure):
    """A matplotlib figure that a notebook displays by itself: without pyplot, a figure
    has no backend to show it, and Jupyter would print ``<Figure size 720x440 ...>``."""

    def _repr_png_(self) -> bytes:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        if not isinstance(self.canvas, FigureCanvasAgg):
            FigureCanvasAgg(self)
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        return buffer.getvalue()


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: int = 120) -> Path:
    """Write ``fig`` to ``path`` (format from its suffix), atomically."""
    kind = Path(path).suffix.lstrip(".").lower() or "png"
    write_atomic(path, writer=lambda f: fig.savefig(f, format=kind, dpi=dpi, bbox_inches="tight"))
    return Path(path)


def _finish(fig: Figure, path: str | os.PathLike[str] | None) -> Figure:
    if path is not None:
        save_figure(fig, path)
    return fig


def comparison(X: Any, y: Any, pred: Any, *, title: str = "", path: str | os.PathLike[str] | None = None) -> Figure:
    """The lab's show_result: ground truth beside the prediction, red = 0, blue = 1."""
    X = np.asarray(X, dtype=float)
    truth = np.asarray(y, dtype=float).reshape(-1) > 0.5
    guess = np.asarray(pred, dtype=float).reshape(-1) > 0.5
    if X.ndim != 2 or X.shape[1] < 2 or not len(X) == len(truth) == len(guess):
        raise ValueError(
            f"comparison needs X of shape (n, 2) and n labels and predictions: got X {X.shape}, "
            f"{counted(len(truth), 'label')} and {counted(len(guess), 'prediction')}"
        )
    fig = Figure(figsize=(9.5, 4.4), layout="constrained")
    for ax, labels, name in zip(fig.subplots(1, 2), (truth, guess), ("Ground truth", "Predict result")):
        ax.scatter(X[~labels, 0], X[~labels, 1], c=RED, s=28, label="0")
        ax.scatter(X[labels, 0], X[labels, 1], c=BLUE, s=28, label="1")
        ax.set_title(name, fontsize=14)
        ax.set_xlabel("x₁")
        ax.set_ylabel("x₂")
        ax.set_aspect("equal", adjustable="datalim")
    fig.legend(*fig.axes[0].get_legend_handles_labels(), title="label", loc="outside right center", frameon=False)
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


def _as_history(run: Any, k: int) -> History:
    """A run as a History: itself, or a list of losses (diverged at its first non-finite one)."""
    if isinstance(run, History):
        return run
    if isinstance(run, (str, bytes)):
        raise TypeError(f"run {k + 1} is a {type(run).__name__}: give a History or a list of losses")
    try:
        losses = [float(x) for x in run]
    except (TypeError, ValueError):
        raise TypeError(f"run {k + 1} is a {type(run).__name__}: give a History or a list of losses") from None
    stop = next((i + 1 for i, x in enumerate(losses) if not math.isfinite(x)), None)
    return History(loss=losses, diverged_at=stop, epochs=len(losses))


def _runs(histories: Any) -> list[History]:
    """One run (a History, or a list of numbers) or several, each a History."""
    if isinstance(histories, History):
        return [histories]
    runs = list(histories)
    if runs and isinstance(runs[0], numbers.Real):  # numbers: one run's losses
        return [_as_history(runs, 0)]
    return [_as_history(run, k) for k, run in enumerate(runs)]


def learning_curve(
    histories: History | Sequence[History],
    labels: Sequence[str] | None = None,
    *,
    title: str = "Learning curve",
    logy: bool = False,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Loss against epoch, one line per run: a ``History``, or the losses as a list of
    numbers, as a loop written by hand collects them (``learning_curve(losses)``)."""
    runs = _runs(histories)
    names = list(labels) if labels is not None else [""] * len(runs)
    if len(names) != len(runs):
        raise ValueError(f"{len(names)} labels for {len(runs)} histories")
    fig = Figure(figsize=(7.2, 4.4))
    ax = fig.subplots()
    for k, (name, h) in enumerate(zip(names, runs)):
        colour, style = f"C{k % 10}", LINE_STYLES[k % len(LINE_STYLES)]
        _one_run(ax, h, colour, alpha=0.9, width=1.4, style=style)
        stopped = f" (diverged at epoch {h.diverged_at})" if h.diverged else ""
        if name or stopped:
            ax.plot([], [], color=colour, linestyle=style, label=name + stopped)
    _axes(ax, title, logy)
    return _finish(fig, path)


def learning_curves(
    groups: Mapping[str, Sequence[History]],
    *,
    title: str = "Learning curves",
    logy: bool = True,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Several settings on one axis, each its own colour, line style and marker: every
    seed's run drawn light, the median of the runs that finished drawn bold (a loss
    spreads over decades, where a mean is one run's), and a cross
    where each diverged run stopped (never a line past it). The markers of different
    settings fall on different epochs, so curves on top of each other stay visible."""
    fig = Figure(figsize=(7.2, 4.4))
    ax = fig.subplots()
    for k, (label, runs) in enumerate(groups.items()):
        colour, style, marker = f"C{k % 10}", LINE_STYLES[k % len(LINE_STYLES)], MARKERS[k % len(MARKERS)]
        runs = list(runs)
        finished = [np.asarray(h.loss, dtype=float) for h in runs if not h.diverged and len(h.loss)]
        stopped = [h for h in runs if h.diverged]
        for h in runs:
            many = len(runs) > 1
            _one_run(ax, h, colour, alpha=0.25 if many else 0.9, width=0.8 if many else 1.4, style=style)
        if len(finished) > 1 and len({len(f) for f in finished}) == 1:
            middle = np.median(finished, axis=0)
            ax.plot(np.arange(1, len(middle) + 1), middle, color=colour, linewidth=2.2, linestyle=style)
            _marks(ax, middle, colour, marker, k, len(groups))
        elif len(finished) == 1:
            _marks(ax, finished[0], colour, marker, k, len(groups))
        note = f" ({len(stopped)} of {len(runs)} diverged: ×)" if stopped else ""
        seeds = f", {len(runs)} seeds" if len(runs) > 1 and not stopped else ""
        ax.plot([], [], color=colour, linewidth=2.2, linestyle=style, marker=marker, label=f"{label}{seeds}{note}")
    _axes(ax, title, logy)
    if len(groups) and any(len(runs) > 1 for runs in groups.values()):
        ax.text(0.99, 0.01, "light: each seed; bold: their median", transform=ax.transAxes, ha="right", va="bottom",
                fontsize=8, color="#555555")  # fmt: skip
    return _finish(fig, path)


def _marks(ax: Any, losses: np.ndarray, colour: str, marker: str, k: int, settings: int) -> None:
    """A few markers along a curve (its finite points), at epochs shifted for each of the
    ``settings`` curves of a figure so that they never fall on one another."""
    step = max(1, len(losses) // MARKS_PER_CURVE)
    at = np.arange(k * step // max(1, settings), len(losses), step)
    at = at[np.isfinite(losses[at])]
    ax.plot(at + 1, losses[at], linestyle="none", marker=marker, color=colour, markersize=5, markeredgecolor="white")


def _one_run(ax: Any, h: History, colour: str, alpha: float, width: float, style: str = "-") -> None:
    """One run's finite losses; a cross at the last of them if it diverged after (at the
    top left if it never had one)."""
    losses = np.asarray(h.loss, dtype=float)
    finite = np.isfinite(losses)
    epochs = np.arange(1, len(losses) + 1)
    ax.plot(epochs[finite], losses[finite], color=colour, alpha=alpha, linewidth=width, linestyle=style)
    if h.diverged:
        if finite.any():
            ax.plot(epochs[finite][-1], losses[finite][-1], marker="x", color=colour, markersize=9, mew=2)
        else:
            ax.plot(0.02, 0.97, marker="x", color=colour, markersize=9, mew=2, transform=ax.transAxes)


def _plain_log_labels(ax: Any) -> None:
    """Log-axis ticks a reader can use: plain numbers (0.01, 1e-05, not typeset powers of
    ten), and at least three of them. Where fewer than three powers of ten are in view,
    the ticks are 1, 2 and 5 times them; within one of those steps, every digit; and in
    a range narrower still, three ticks spread evenly on the log scale."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

    low, high = ax.get_ylim()
    if not (low > 0 and math.isfinite(high) and high > low):
        return
    ticks: list[float] = []
    for digits in ((1,), (1, 2, 5), tuple(range(1, 10))):
        decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
        ticks = [m * 10.0**e for e in decades for m in digits if low <= m * 10.0**e <= high]
        if len(ticks) >= 3:
            break
    digits_shown = "g"
    if len(ticks) < 3:  # as few digits as tell the three ticks apart
        spread = np.geomspace(low, high, 5)[1:-1]
        digits_shown = next(f".{d}g" for d in range(2, 17) if len({format(t, f".{d}g") for t in spread}) == 3)
        ticks = [float(format(t, digits_shown)) for t in spread]
    while len(ticks) > 8:  # many decades: every other power of ten
        ticks = ticks[::2]
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format(v, digits_shown)))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(low, high)


def _axes(ax: Any, title: str, logy: bool) -> None:
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss" + (" (log scale)" if logy else ""))
    if logy:
        ax.set_yscale("log")
        _plain_log_labels(ax)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[1]:
        ax.legend(fontsize=9)


def accuracy_bars(
    labels: Sequence[str],
    accuracies: Sequence[float] | Sequence[Sequence[float]],
    *,
    spread: Sequence[float] | None = None,
    diverged: Sequence[int] | None = None,
    title: str = "Accuracy",
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """One bar per setting (accuracy as a fraction).

    Given one number per setting, the bar is that number (``spread``: an error bar).
    Given each setting's runs (a list per setting), the bar is their mean, the error
    bar their sample standard deviation, and each run a dot. ``diverged[i]`` runs of
    setting i diverged: they are not in its bar, which says so; a setting with no run
    left has no bar, only the words, never a bar at 0 %."""
    if len(labels) != len(accuracies):
        raise ValueError(f"{len(labels)} labels for {len(accuracies)} accuracies")
    runs: list[list[float] | None] = [list(a) if isinstance(a, (list, tuple, np.ndarray)) else None for a in accuracies]
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.subplots()
    for i in range(len(labels)):
        given = runs[i]
        numbers = given if given is not None else [cast(float, accuracies[i])]  # one number per setting
        values = [100 * v for v in numbers if math.isfinite(v)]
        lost = diverged[i] if diverged is not None else 0
        if not values:
            words = f"no run finished\n({lost} diverged)" if lost else "no result"
            ax.annotate(words, (i, 2), ha="center", va="bottom")
            continue
        mean = float(np.mean(values))
        error = float(np.std(values, ddof=1)) if runs[i] is not None and len(values) > 1 else None
        if spread is not None and runs[i] is None:
            error = 100 * spread[i]
        ax.bar(i, mean, yerr=error, capsize=4, color=BLUE, alpha=0.85)
        if runs[i] is not None and len(values) > 1:
            offsets = np.linspace(-0.15, 0.15, len(values))
            ax.plot(i + offsets, values, "o", color="#0b2e59", markersize=3.5, alpha=0.8)
        top = max(mean + (error if error and math.isfinite(error) else 0.0), max(values))
        note = f" ({len(values)} of {len(values) + lost})" if lost else ""
        ax.annotate(
            f"{mean:.1f} %{note}", (i, top), ha="center", va="bottom", xytext=(0, 3), textcoords="offset points"
        )
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_ylim(0, 115)
    ax.set_ylabel("accuracy (%)")
    seeds = any(r is not None and len(r) > 1 for r in runs)
    ax.set_title(f"{title}\nbar: mean of the runs that finished; line: ± sd; dots: each run" if seeds else title,
                 fontsize=10 if seeds else None)  # fmt: skip
    return _finish(fig, path)


def _labelled_points(ax: Any, X: np.ndarray, positive: np.ndarray, wrong: np.ndarray, names: tuple[str, str]) -> None:
    """Red for the negative class, blue for the positive, a black ring where the model is wrong."""
    ax.scatter(X[~positive, 0], X[~positive, 1], c=RED, s=22, edgecolors="white", linewidths=0.5, label=names[0])
    ax.scatter(X[positive, 0], X[positive, 1], c=BLUE, s=22, edgecolors="white", linewidths=0.5, label=names[1])
    if wrong.any():
        ax.scatter(X[wrong, 0], X[wrong, 1], s=110, facecolors="none", edgecolors="black", linewidths=1.3,
                   label=f"wrong ({int(wrong.sum())})")  # fmt: skip


def _plane_points(model: Any, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """X as (n, 2) finite points and y as n labels, for a model of two inputs and one
    output; anything else is a ValueError naming the shapes."""
    nin, nout = getattr(model, "nin", 2), getattr(model, "nout", 1)
    if (nin, nout) != (2, 1):
        raise ValueError(f"a decision boundary needs a model of 2 inputs and 1 output; this one has {nin} and {nout}")
    X, labels = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
        raise ValueError(f"X has shape {X.shape}; a decision boundary needs points of shape (n, 2), n >= 1")
    if labels.shape not in ((len(X),), (len(X), 1)):
        n = len(X)
        raise ValueError(f"y has shape {labels.shape}; for X of shape {X.shape} it must be ({n},) or ({n}, 1)")
    if not (np.isfinite(X).all() and np.isfinite(labels).all()):
        raise ValueError("X and y must be finite: a decision boundary cannot place NaN or infinite points")
    return X, labels.reshape(-1)


def decision_boundary(
    model: Any,
    X: Any,
    y: Any,
    *,
    threshold: float = 0.5,
    diagonal: bool = False,
    title: str = "",
    resolution: int = 160,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """What the network decides over the whole plane, not only at the training points.

    The model's output on a grid around the data, shaded (red below ``threshold``,
    blue above); the decision boundary -- where the output crosses ``threshold`` -- in
    black; the training points, red for class 0 (or −1), blue for class 1, a black ring
    around each one the model gets wrong. ``diagonal`` draws the line x₁ = x₂ that
    separates the lab's linear set."""
    from matplotlib.colors import TwoSlopeNorm

    from tinygrad_hw.train import predict

    X, labels = _plane_points(model, X, y)
    signed = labels.min() < 0  # ±1 labels (an SVM's) rather than 0/1
    positive = labels > (0.0 if signed else 0.5)
    low, high = X.min(axis=0), X.max(axis=0)
    pad = 0.08 * (high - low) + 0.05
    gx, gy = np.meshgrid(*(np.linspace(low[i] - pad[i], high[i] + pad[i], resolution) for i in (0, 1)))
    out = predict(model, np.column_stack([gx.ravel(), gy.ravel()]), engine="replay")[:, 0].reshape(gx.shape)
    ratio = (gy.max() - gy.min()) / (gx.max() - gx.min())
    fig = Figure(figsize=(6.4, float(np.clip(5.4 * ratio + 0.9, 3.4, 6.4))), layout="constrained")
    ax = fig.subplots()
    spread = max(float(np.nanmax(np.abs(out - threshold))), 1e-9)
    norm = TwoSlopeNorm(vcenter=threshold, vmin=threshold - spread, vmax=threshold + spread)
    shade = ax.contourf(gx, gy, out, levels=21, cmap="RdBu", norm=norm, alpha=0.55)
    fig.colorbar(shade, ax=ax, label="network output", fraction=0.05, pad=0.02)
    if np.nanmin(out) < threshold < np.nanmax(out):
        ax.contour(gx, gy, out, levels=[threshold], colors="black", linewidths=1.6)
    wrong = (predict(model, X)[:, 0] > threshold) != positive
    _labelled_points(ax, X, positive, wrong, ("class −1", "class +1") if signed else ("class 0", "class 1"))
    if diagonal:
        ends = [min(low) - max(pad), max(high) + max(pad)]
        ax.plot(ends, ends, linestyle="--", color="#444444", linewidth=1.2, label="x₁ = x₂")
    ax.plot([], [], color="black", linewidth=1.6, label=f"output = {threshold:g}")
    ax.set_xlim(gx.min(), gx.max())
    ax.set_ylim(gy.min(), gy.max())
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_aspect("equal", adjustable="box")
    ax.legend(fontsize=8, loc="best", framealpha=0.85)
    ax.set_title(title or "Decision boundary", fontsize=11)
    return _finish(fig, path)

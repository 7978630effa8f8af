"""The report's figures with matplotlib, without pyplot's global state.

Every function returns a ``matplotlib.figure.Figure`` and, given ``path``, also
writes it there atomically. The figure shows itself inline in Jupyter (as PNG) with
no ``%matplotlib inline`` and no pyplot.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure as _MatplotlibFigure

from tinygrad_hw.atomic import write_atomic
from tinygrad_hw.history import History

__all__ = ["Figure", "accuracy_bars", "comparison", "learning_curve", "learning_curves", "save_figure"]

RED, BLUE = "#d62728", "#1f77b4"  # label 0, label 1


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


def learning_curve(
    histories: History | Sequence[History],
    labels: Sequence[str] | None = None,
    *,
    title: str = "Learning curve",
    logy: bool = False,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Loss against epoch, one line per run."""
    runs = [histories] if isinstance(histories, History) else list(histories)
    names = list(labels) if labels is not None else [""] * len(runs)
    if len(names) != len(runs):
        raise ValueError(f"{len(names)} labels for {len(runs)} histories")
    return _curves([(name, [run]) for name, run in zip(names, runs)], title, logy, path)


def learning_curves(
    groups: Mapping[str, Sequence[History]],
    *,
    title: str = "Learning curves",
    logy: bool = True,
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """Several settings on one axis: every run drawn, one colour per setting."""
    return _curves(list(groups.items()), title, logy, path)


def _curves(
    groups: list[tuple[str, Sequence[History]]], title: str, logy: bool, path: str | os.PathLike[str] | None
) -> Figure:
    """Each group in its own colour. A run that diverged ends in a cross at its last
    finite loss, with a note; one that never had a finite loss is named in the legend."""
    fig = Figure(figsize=(7.2, 4.4))
    ax = fig.subplots()
    for k, (label, runs) in enumerate(groups):
        colour = f"C{k % 10}"
        stopped = sorted({h.diverged_at for h in runs if h.diverged and not np.isfinite(h.loss).any()})
        if label or stopped:
            ax.plot(
                [],
                [],
                color=colour,
                label=label + (f" (diverged at epoch {', '.join(map(str, stopped))})" if stopped else ""),
            )
        for h in runs:
            losses = np.asarray(h.loss, dtype=float)
            finite = np.isfinite(losses)
            epochs = np.arange(1, len(losses) + 1)
            ax.plot(epochs[finite], losses[finite], color=colour, alpha=0.8, linewidth=1.2)
            if h.diverged and finite.any():
                last = (epochs[finite][-1], losses[finite][-1])
                ax.plot(*last, marker="x", color=colour, markersize=9, mew=2)
                ax.annotate(
                    f"diverged at epoch {h.diverged_at}", last, textcoords="offset points", xytext=(8, 8), color=colour
                )
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss" + (" (log scale)" if logy else ""))
    if logy:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[1]:
        ax.legend(fontsize=9)
    return _finish(fig, path)


def accuracy_bars(
    labels: Sequence[str],
    accuracies: Sequence[float],
    *,
    spread: Sequence[float] | None = None,
    title: str = "Accuracy",
    path: str | os.PathLike[str] | None = None,
) -> Figure:
    """One bar per run (accuracy as a fraction), with an optional error bar."""
    if len(labels) != len(accuracies):
        raise ValueError(f"{len(labels)} labels for {len(accuracies)} accuracies")
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.subplots()
    values = [100 * a if math.isfinite(a) else 0.0 for a in accuracies]
    errors = None if spread is None else [100 * s for s in spread]
    bars = ax.bar(range(len(values)), values, yerr=errors, capsize=4, color=BLUE, alpha=0.85)
    tops = [v + (e if math.isfinite(e) else 0.0) for v, e in zip(values, errors or [0.0] * len(values))]
    for bar, value, top in zip(bars, values, tops):
        ax.annotate(
            f"{value:.1f} %",
            (bar.get_x() + bar.get_width() / 2, top),  # above the error bar
            ha="center",
            va="bottom",
            xytext=(0, 3),
            textcoords="offset points",
        )
    ax.set_xticks(range(len(values)), labels)
    ax.set_ylim(0, max(110.0, max(tops, default=0.0) + 12))
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title)
    return _finish(fig, path)

"""What the training page shows of one run at each of its frames, every number
computed here: the heatmaps (as PNG), the edges' widths and signs, the formulas'
numbers, each training sample's value at every neuron (the eager engine's), which
samples are wrong, the loss, and the flags (dead ReLUs, vanishing gradients, where
a divergence began). The page's script only picks the frame's entries."""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from tinygrad_hw.diagnose import health, short
from tinygrad_hw.losses import LOSSES
from tinygrad_hw.nn import MLP
from tinygrad_hw.recording import Recording

from .heatmaps import grid, neuron_outputs, quantise, value_range
from .png import data_uri, grey_png

__all__ = ["EDGE_LEVELS", "Plane", "RunFrames", "edge_code", "neuron_id", "plane_for", "run_frames"]

EDGE_LEVELS = (0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.5, 7.0)  # |w| from which an edge is one width thicker
POSITIVE, NEGATIVE, NOT_FINITE_EDGE = "abcdefghij", "ABCDEFGHIJ", "z"
SPLIT = 0.5  # where the output splits the classes, as tinygrad_hw.train.accuracy counts
LEVELS = 64  # shades of a heatmap: smooth once scaled up, and small as PNG


def edge_code(w: float) -> str:
    """One letter per edge and frame: a–j for a positive weight, A–J negative, thicker
    further on; z for a weight that is not finite."""
    if not math.isfinite(w):
        return NOT_FINITE_EDGE
    return (POSITIVE if w >= 0 else NEGATIVE)[bisect.bisect_right(EDGE_LEVELS, abs(w))]


def neuron_id(label: str) -> str | None:
    """The page's id of the neuron a node belongs to: ``z3[1]``, ``a3[1]``, ``W3[1,2]``
    and ``b3[1]`` are ``n3-1``; ``x2`` is ``x2``; anything else None."""
    match = re.fullmatch(r"[zaWb](\d+)\[(\d+)(?:,\d+)?\]", label)
    if match:
        return f"n{match.group(1)}-{match.group(2)}"
    return label if re.fullmatch(r"x\d+", label) else None


@dataclass
class Plane:
    """The part of the input plane drawn: (x1 from, x1 to, x2 from, x2 to), and the
    grid sizes of a neuron's tile and of the decision boundary."""

    bounds: tuple[float, float, float, float]
    tile: int = 16
    big: int = 40

    def __post_init__(self) -> None:
        self.tile_points = grid(self.bounds, self.tile)
        self.big_points = grid(self.bounds, self.big)


def plane_for(X: np.ndarray, margin: float = 0.1) -> Plane:
    """The data's box with ``margin`` of its size on each side."""
    lows, highs = X.min(axis=0), X.max(axis=0)
    spans = np.where(highs > lows, highs - lows, 2.0)
    lows, highs = lows - margin * spans, highs + margin * spans
    return Plane((float(lows[0]), float(highs[0]), float(lows[1]), float(highs[1])))


@dataclass
class RunFrames:
    """One run, frame by frame, as the page shows it (lists indexed by frame)."""

    epochs: list[int] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # "epoch 37", "epoch 0: the initial weights"
    loss: list[str] = field(default_factory=list)
    atlas: list[str] = field(default_factory=list)  # every hidden neuron's tile, side by side, as a PNG
    boundary: list[str] = field(default_factory=list)  # the output neuron over the plane, larger
    edges: list[str] = field(default_factory=list)  # one letter per weight (edge_code)
    params: list[list[str]] = field(default_factory=list)  # each parameter as its formula writes it
    values: list[list[str]] = field(default_factory=list)  # per sample: every neuron's output, spaced
    wrong: list[str] = field(default_factory=list)  # per sample: "1" where the class is wrong
    scales: list[list[str]] = field(default_factory=list)  # per layer: what the colours span
    flags: list[str] = field(default_factory=list)  # what is wrong at this frame, in sentences
    marks: list[str] = field(default_factory=list)  # "dead:n1-3 vanish:L2 origin:n3-1 chain:n2-4"


def _loss_function(run: Recording) -> Callable[..., Any]:
    return LOSSES[run.loss] if isinstance(run.loss, str) else run.loss


def _param_texts(model: MLP, weights: list[float]) -> list[str]:
    """Each parameter as its neuron's formula writes it, the bias first as ``Value.dot``
    adds it: ``0.05`` then `` − 1.23``, `` + 0.812`` (one minus sign, U+2212)."""
    texts = []
    k = 0
    for layer in model.layers:
        for neuron in layer.neurons:
            count = len(neuron.parameters())
            own = weights[k : k + count]
            k += count
            leading = count - 1 if neuron.b is not None else 0  # the bias leads; without one, the first weight
            for j, w in enumerate(own):
                text = short(w)
                if j != leading:
                    text = f" − {text[1:]}" if text.startswith("−") else f" + {text}"
                texts.append(text)
    return texts


def _tiles(outputs: list[np.ndarray], activations: list[str], size: int) -> tuple[np.ndarray, list[str]]:
    """The hidden neurons' tiles side by side (each padded by its edge pixels, so that
    scaling one never blends in its neighbour), and each layer's colour span."""
    tiles, scales = [], []
    for layer, activation in zip(outputs[:-1], activations):
        low, high = value_range(activation, layer)
        scales.append(f"{short(low)} (blue) to {short(high)} (orange)")
        codes = quantise(layer, low, high, LEVELS)
        tiles += [np.pad(codes[:, i].reshape(size, size), 1, mode="edge") for i in range(layer.shape[1])]
    return (np.hstack(tiles) if tiles else np.zeros((size + 2, size + 2), np.uint8)), scales


def _boundary(values: np.ndarray, activation: str, size: int, split: float) -> tuple[np.ndarray, str]:
    """The output over the plane, its colours centred on the class threshold."""
    if activation in ("sigmoid", "tanh"):
        low, high = value_range(activation, values)
    else:
        finite = np.abs(values[np.isfinite(values)] - split)
        top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        low, high = split - top, split + top
    codes = quantise(values[:, 0], low, high, LEVELS)
    return codes.reshape(size, size), f"{short(low)} (blue) to {short(high)} (orange)"


def _marks(flags: Any, divergence: Any) -> str:
    marks = [f"dead:n{layer.layer}-{i}" for layer in flags.layers for i in layer.dead]
    marks += [f"vanish:L{layer.layer}" for layer in flags.layers if layer.vanishing]
    if divergence is not None:
        ids = [neuron_id(name) for name, _ in divergence.chain]
        marks += [f"{'origin' if k == 0 else 'chain'}:{i}" for k, i in enumerate(ids) if i is not None]
    return " ".join(dict.fromkeys(marks))


def run_frames(run: Recording, plane: Plane) -> RunFrames:
    """Every frame of ``run``, worked out."""
    model = run.model_at(0)
    params = model.parameters()
    loss_fn = _loss_function(run)
    split = SPLIT
    out = RunFrames()
    for frame in run.frames:
        for p, w in zip(params, frame.weights):
            p.data = w
        grid_values = neuron_outputs(model, frame.weights, plane.tile_points)
        atlas, scales = _tiles(grid_values, model.activations, plane.tile)
        big = neuron_outputs(model, frame.weights, plane.big_points)[-1]
        boundary, boundary_scale = _boundary(big, model.activations[-1], plane.big, split)
        with np.errstate(all="ignore"):
            checked = health(model, run.X, run.y, loss_fn)
        divergence = run.history.divergence if frame.partial else None
        out.epochs.append(frame.epoch)
        out.labels.append(_label(frame, run))
        out.loss.append("" if frame.loss is None else f"loss {short(frame.loss)}")
        out.atlas.append(data_uri(grey_png(atlas)))
        out.boundary.append(data_uri(grey_png(boundary)))
        out.edges.append("".join(edge_code(w) for n in _weights_only(model, frame.weights) for w in n))
        out.params.append(_param_texts(model, frame.weights))
        out.values.append([" ".join(short(v) for layer in sample for v in layer) for sample in checked.values])
        predicted = [sample[-1][0] for sample in checked.values]
        out.wrong.append("".join(_wrong(p, t, split) for p, t in zip(predicted, run.y[:, 0])))
        out.scales.append([*scales, boundary_scale])
        out.flags.append("; ".join(checked.flags))
        out.marks.append(_marks(checked, divergence))
    return out


def _wrong(output: float, target: float, split: float) -> str:
    """A "1" where the class is wrong, as ``tinygrad_hw.train.accuracy`` counts: an output
    that is not finite has no class, so it is wrong whatever the target."""
    return "0" if math.isfinite(output) and (output > split) == (target > split) else "1"


def _weights_only(model: MLP, weights: list[float]) -> list[list[float]]:
    """Each neuron's weights (no bias), neuron by neuron, layer by layer: one per edge."""
    rows = []
    k = 0
    for layer in model.layers:
        for neuron in layer.neurons:
            rows.append(weights[k : k + len(neuron.w)])
            k += len(neuron.parameters())
    return rows


def _label(frame: Any, run: Recording) -> str:
    if frame.epoch == 0:
        return "epoch 0: the initial weights"
    if frame.partial:
        return f"epoch {frame.epoch}: stopped, the loss not finite"
    return f"epoch {frame.epoch}"

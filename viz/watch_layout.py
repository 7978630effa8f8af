"""The training page's drawings as SVG text, laid out here once: a run's network (a
column per layer, each neuron's heatmap in its place, an edge per weight), its
decision boundary with the training points, and the loss curves with their cursor.
The page's script changes only pictures, classes and texts in them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Sequence

import numpy as np

from tinygrad_hw.diagnose import short
from tinygrad_hw.nn import MLP

from .heatmaps import grid, quantise
from .png import data_uri, grey_png
from .watch_data import Plane

__all__ = ["RUN_COLOURS", "LossChart", "boundary_svg", "formula_templates", "network_svg", "node_names", "subscript"]

TILE, GAP, COLUMN, MARGIN = 32, 16, 80, 18  # a neuron's tile, the space between tiles, between layers, around
BOUNDARY = 220  # the decision boundary's side
RUN_COLOURS = ("#0b7285", "#c2255c", "#5f3dc4", "#5c940d", "#e8590c", "#495057")
ACTIVATION_NAMES = {"sigmoid": "σ", "tanh": "tanh", "relu": "ReLU"}
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def subscript(text: str) -> str:
    return text.translate(SUBSCRIPTS)


def node_names(model: MLP) -> list[list[str]]:
    """Each layer's outputs as the report names them: a1[3] (z1[3] without an activation)."""
    return [
        [f"{'z' if layer.activation in ('none', 'linear') else 'a'}{k}[{i}]" for i in range(1, layer.nout + 1)]
        for k, layer in enumerate(model.layers, start=1)
    ]


def formula_templates(model: MLP) -> list[dict[str, object]]:
    """Per neuron, how the page writes its formula: ``head``, then each parameter's text
    (by index into the frame's parameters) followed by its input's name, then ``tail``:
    ``a1[3] = σ(0.05 − 1.23·x₁ + 0.812·x₂)``, the bias first as ``Value.dot`` adds it."""
    names = node_names(model)
    inputs = [f"x{subscript(str(j))}" for j in range(1, model.nin + 1)]
    templates: list[dict[str, object]] = []
    k = 0
    for layer, outputs in zip(model.layers, names):
        symbol = ACTIVATION_NAMES.get(layer.activation)
        for neuron, name in zip(layer.neurons, outputs):
            weights = list(range(k, k + len(neuron.w)))
            k += len(neuron.parameters())
            order = ([k - 1] if neuron.b is not None else []) + weights
            suffixes = ([""] if neuron.b is not None else []) + [f"·{x}" for x in inputs]
            head = f"{name} = {symbol}(" if symbol else f"{name} = "
            templates.append({"head": head, "params": order, "names": suffixes, "tail": ")" if symbol else ""})
        inputs = outputs
    return templates


@dataclass
class _Place:
    x: float
    y: float


def _columns(model: MLP) -> tuple[list[list[_Place]], float, float]:
    """Where each node's tile goes: inputs, then every layer; the drawing's size."""
    sizes = model.sizes
    tallest = max(sizes) * (TILE + GAP) - GAP
    columns = []
    for c, n in enumerate(sizes):
        top = MARGIN + (tallest - (n * (TILE + GAP) - GAP)) / 2
        columns.append([_Place(MARGIN + c * COLUMN, top + i * (TILE + GAP)) for i in range(n)])
    return columns, MARGIN * 2 + (len(sizes) - 1) * COLUMN + TILE, MARGIN * 2 + tallest + 12


def _input_tiles(plane: Plane) -> list[str]:
    """The inputs over the plane (x1 rising to the right, x2 upwards): fixed pictures."""
    points = grid(plane.bounds, plane.tile)
    tiles = []
    for j in range(2):
        low, high = plane.bounds[2 * j], plane.bounds[2 * j + 1]
        centre, half = (low + high) / 2, (high - low) / 2
        codes = quantise(points[:, j], centre - half, centre + half).reshape(plane.tile, plane.tile)
        tiles.append(data_uri(grey_png(codes)))
    return tiles


def network_svg(model: MLP, plane: Plane) -> str:
    """The network as layers: input tiles, a tile per neuron cut from the frame's atlas,
    the output tile (the boundary image), and an edge per weight in parameter order."""
    columns, width, height = _columns(model)
    names = node_names(model)
    parts = [f'<svg class="network" viewBox="0 0 {width:g} {height:g}" width="{width:g}" height="{height:g}">']
    for k, layer in enumerate(model.layers):  # edges first: under the tiles
        for i, neuron in enumerate(layer.neurons):
            to = columns[k + 1][i]
            for j in range(len(neuron.w)):
                frm = columns[k][j]
                parts.append(
                    f'<line class="edge" x1="{frm.x + TILE:g}" y1="{frm.y + TILE / 2:g}" '
                    f'x2="{to.x:g}" y2="{to.y + TILE / 2:g}"/>'
                )
    for j, (place, uri) in enumerate(zip(columns[0], _input_tiles(plane)), start=1):
        picture = f'<image href="{uri}" width="{TILE}" height="{TILE}" preserveAspectRatio="none"/>'
        parts.append(_tile(place, f"x{j}", f"x{subscript(str(j))}", picture))
    atlas_width = sum(model.sizes[1:-1]) * (plane.tile + 2)
    index = 0
    for k, layer in enumerate(model.layers):
        last = k == len(model.layers) - 1
        for i in range(layer.nout):
            if last:
                picture = f'<image class="boundary" width="{TILE}" height="{TILE}" preserveAspectRatio="none"/>'
            else:
                view = f"{index * (plane.tile + 2) + 1} 1 {plane.tile} {plane.tile}"
                picture = (
                    f'<svg width="{TILE}" height="{TILE}" viewBox="{view}" preserveAspectRatio="none">'
                    f'<image class="atlas" width="{atlas_width}" height="{plane.tile + 2}"/></svg>'
                )
                index += 1
            place = columns[k + 1][i]
            parts.append(_tile(place, f"n{k + 1}-{i + 1}", names[k][i], picture, layer=k))
        top = min(p.y for p in columns[k + 1])
        parts.append(
            f'<text class="layer" data-id="L{k + 1}" x="{columns[k + 1][0].x + TILE / 2:g}" y="{top - 8:g}">'
            f"layer {k + 1}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _tile(place: _Place, ident: str, name: str, picture: str, layer: int | None = None) -> str:
    """One node's tile: its picture, a frame, its name; a neuron's knows its layer (from 0)."""
    role = f' data-layer="{layer}" tabindex="0"' if layer is not None else ""
    kind = "neuron" if layer is not None else "input"
    return (
        f'<g class="{kind}" data-id="{ident}"{role} transform="translate({place.x:g} {place.y:g})">'
        f'<g class="heat">{picture}</g><rect class="tile" width="{TILE}" height="{TILE}"/>'
        f'<text class="name" x="{TILE / 2:g}" y="{TILE + 10:g}">{escape(name)}</text></g>'
    )


def boundary_svg(plane: Plane, X: np.ndarray, y: np.ndarray) -> str:
    """The output neuron over the plane, large, with the training points on it."""
    x_lo, x_hi, y_lo, y_hi = plane.bounds
    pad = 22
    side = BOUNDARY
    parts = [
        f'<svg class="plane" viewBox="0 0 {side + 2 * pad} {side + 2 * pad}" width="{side + 2 * pad}" '
        f'height="{side + 2 * pad}"><g transform="translate({pad} {pad})">',
        f'<image class="boundary" width="{side}" height="{side}" preserveAspectRatio="none"/>',
        f'<rect class="tile" width="{side}" height="{side}"/>',
    ]
    for k, (point, target) in enumerate(zip(X, y[:, 0])):
        cx = (point[0] - x_lo) / (x_hi - x_lo) * side
        cy = (y_hi - point[1]) / (y_hi - y_lo) * side
        kind = "one" if target > 0.5 else "zero"
        parts.append(f'<circle class="point {kind}" data-sample="{k}" cx="{cx:.2f}" cy="{cy:.2f}" r="5"/>')
    parts.append(
        f'<text class="axis" x="0" y="{side + 15}">{short(x_lo)}</text>'
        f'<text class="axis end" x="{side}" y="{side + 15}">x₁ {short(x_hi)}</text>'
        f'<text class="axis" x="-4" y="{side}" transform="rotate(-90 -4 {side})">{short(y_lo)}</text>'
        f'<text class="axis end" x="-4" y="0" transform="rotate(-90 -4 0)">x₂ {short(y_hi)}</text>'
    )
    parts.append("</g></svg>")
    return "".join(parts)


class LossChart:
    """The runs' losses against the epoch, both on log scales (the frames are log
    spaced, so the cursor moves evenly); epoch 0 at the left edge."""

    WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 400, 200, 54, 14, 12, 34

    def __init__(self, losses: Sequence[Sequence[float]], epochs: int) -> None:
        self.epochs = max(1, epochs)
        finite = [x for run in losses for x in run if math.isfinite(x) and x > 0]
        self.low = math.floor(math.log10(min(finite))) if finite else -4
        self.high = math.ceil(math.log10(max(finite))) if finite else 0
        if self.high <= self.low:
            self.high = self.low + 1
        self.losses = losses

    def x(self, epoch: float) -> float:
        span = self.WIDTH - self.LEFT - self.RIGHT
        return self.LEFT + span * math.log10(epoch + 1) / math.log10(self.epochs + 1)

    def y(self, loss: float) -> float:
        span = self.HEIGHT - self.TOP - self.BOTTOM
        level = math.log10(max(loss, 10.0**self.low))
        return self.TOP + span * (self.high - min(level, self.high)) / (self.high - self.low)

    def _line(self, run: Sequence[float], colour: str) -> str:
        points, last_x = [], -1.0
        for e, loss in enumerate(run, start=1):
            if not math.isfinite(loss):
                break
            x = self.x(e)
            if x - last_x >= 0.5 or e == len(run):  # one point per half pixel is as fine as the screen
                points.append(f"{x:.1f},{self.y(loss):.1f}")
                last_x = x
        return f'<polyline class="loss" style="stroke: {colour}" points="{" ".join(points)}"/>'

    def svg(self, names: Sequence[str], diverged: Sequence[int | None]) -> str:
        w, h = self.WIDTH, self.HEIGHT
        parts = [f'<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}">']
        parts += self._axes()
        for k, (run, colour) in enumerate(zip(self.losses, RUN_COLOURS * 4)):
            parts.append(self._line(run, colour))
            if diverged[k] is not None:
                x = self.x(diverged[k])  # type: ignore[arg-type]
                parts.append(f'<text class="diverged" x="{x:.1f}" y="{self.TOP + 10}" style="fill: {colour}">✕</text>')
        parts.append(f'<line id="cursor" x1="{self.LEFT}" x2="{self.LEFT}" y1="{self.TOP}" y2="{h - self.BOTTOM}"/>')
        parts += [
            f'<circle class="here" data-run="{k}" r="3.5" style="fill: {c}"/>'
            for k, c in enumerate(RUN_COLOURS[: len(names)])
        ]
        parts.append("</svg>")
        return "".join(parts)

    def _axes(self) -> list[str]:
        h, bottom = self.HEIGHT, self.HEIGHT - self.BOTTOM
        inner = self.WIDTH - self.LEFT - self.RIGHT
        parts = [f'<rect class="frame" x="{self.LEFT}" y="{self.TOP}" width="{inner}" height="{bottom - self.TOP}"/>']
        decade = 1
        while decade <= self.epochs:
            x = self.x(decade)
            parts.append(f'<text class="tick" x="{x:.1f}" y="{bottom + 14}">{decade:g}</text>')
            decade *= 10
        parts.append(f'<text class="tick" x="{self.x(0):.1f}" y="{bottom + 14}">0</text>')
        parts.append(f'<text class="label" x="{self.WIDTH / 2:g}" y="{h - 3}">epoch (log scale)</text>')
        step = max(1, math.ceil((self.high - self.low) / 6))  # at most about seven labels
        for level in range(self.low, self.high + 1, step):
            y = self.y(10.0**level)
            parts.append(f'<text class="tick left" x="{self.LEFT - 4}" y="{y + 4:.1f}">{short(10.0**level)}</text>')
        middle = self.TOP + (bottom - self.TOP) / 2
        parts.append(f'<text class="label" x="12" y="{middle:g}" transform="rotate(-90 12 {middle:g})">loss</text>')
        return parts

    def cursor(self, epoch: int) -> float:
        return round(self.x(epoch), 1)

    def dot(self, epoch: int, loss: float | None) -> tuple[float, float] | None:
        if loss is None or not math.isfinite(loss) or epoch == 0:
            return None
        return round(self.x(epoch), 1), round(self.y(loss), 1)

"""Watch a network learn: one self-contained page of real training runs.

``watch(recording)`` (a run recorded with ``tinygrad_hw.recording.record_fit``, or
several for a comparison) draws each run as layers, each neuron's output over the
input plane as a small heatmap in its place, the output as the decision boundary
with the training points, the edges coloured by the weight's sign and thickened by
its size, and the loss curves with a cursor -- frame by frame on one timeline.
Hovering a neuron writes its formula with that frame's weights; clicking a training
point lists its value at every neuron and the command that opens its step-through
page at those weights. Flags say where a ReLU died, a layer's gradient vanished,
or a run diverged (and why).

Every number is computed here (``viz.watch_data``); the page's script only picks the
frame's pictures and texts. The page has no network access and shows itself inline
in Jupyter. It is kept under ``max_bytes`` by showing fewer of the recorded frames
(evenly over the timeline) when all of them would not fit; the page says so.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from tinygrad_hw.atomic import write_atomic
from tinygrad_hw.checks import counted
from tinygrad_hw.diagnose import short
from tinygrad_hw.recording import Recording

from .heatmaps import palette_table
from .notebook import inline_page
from .watch_data import Plane, RunFrames, plane_for, run_frames
from .watch_layout import RUN_COLOURS, LossChart, boundary_svg, formula_templates, network_svg, node_names

__all__ = ["MAX_BYTES", "WatchPage", "watch"]

MAX_BYTES = 2_900_000  # the page's size at most: the 3 MB, with room
HINT = "Its step-through page at these weights"  # above the command a clicked point shows
SPEEDS = (("slow", 400), ("normal", 150), ("fast", 50))  # milliseconds a frame shows while playing


@dataclass
class _Timeline:
    """The frames of every run on one line: each position's epoch and label, and for
    each run the frame it shows there (its latest at or before that epoch)."""

    keys: list[tuple[int, bool]]  # (epoch, partial): a diverged epoch's partial frame after its start
    at: list[list[int]]  # at[run][position] -> that run's frame

    @classmethod
    def of(cls, frames: Sequence[RunFrames], partial: Sequence[Sequence[bool]]) -> _Timeline:
        keys = sorted({(e, p) for run, flags in zip(frames, partial) for e, p in zip(run.epochs, flags)})
        at = []
        for run, flags in zip(frames, partial):
            own = list(zip(run.epochs, flags))
            at.append([max(k for k, key in enumerate(own) if key <= position) for position in keys])
        return cls(keys, at)

    def thinned(self, count: int) -> list[int]:
        """``count`` positions (at least the first, the last and every stop), evenly over the line."""
        must = {0, len(self.keys) - 1} | {k for k, (_, partial) in enumerate(self.keys) if partial}
        rest = [k for k in range(len(self.keys)) if k not in must]
        room = max(0, count - len(must))
        if room >= len(rest):
            return list(range(len(self.keys)))
        chosen = {rest[round(i * (len(rest) - 1) / max(1, room - 1))] for i in range(room)} if room else set()
        return sorted(must | chosen)


def watch(
    runs: Recording | Sequence[Recording],
    path: str | os.PathLike[str] | None = None,
    *,
    title: str = "",
    commands: Sequence[str] | None = None,
    note: str = "",
    max_bytes: int = MAX_BYTES,
) -> WatchPage:
    """The training page of one recorded run, or of several side by side on one
    timeline (written to ``path`` if given).

    ``commands`` gives, per run, the start of the command that opens a sample's
    step-through page (``tinygrad-hw explain --model FRAMES --epoch``); by default it
    names a frames file the notebook user writes with ``Recording.save_frames``.
    ``note`` is shown under the title (how the runs were set up, say)."""
    recordings = [runs] if isinstance(runs, Recording) else list(runs)
    _check(recordings)
    plane = plane_for(np.vstack([r.X for r in recordings]))
    frames = [run_frames(r, plane) for r in recordings]
    partial = [[f.partial for f in r.frames] for r in recordings]
    timeline = _Timeline.of(frames, partial)
    prefixes = list(commands) if commands is not None else [_default_command(r, k) for k, r in enumerate(recordings)]
    hints = [HINT + ":"] * len(recordings) if commands is not None else [_save_hint(k) for k in range(len(recordings))]
    page_title = title or _title(recordings)
    chosen = list(range(len(timeline.keys)))
    while True:
        data = _data(recordings, frames, timeline, chosen, prefixes, plane, page_title, note, hints)
        document = _page(page_title, recordings, plane, data, timeline)
        size = len(document.encode("utf-8"))
        if size <= max_bytes or len(chosen) <= 2:
            break
        chosen = timeline.thinned(int(len(chosen) * max_bytes / size * 0.97))
    page = WatchPage(document, data)
    if path is not None:
        page.save(path)
    return page


class WatchPage:
    """One training page: ``html`` (a whole document), ``data`` (what its script
    reads), ``save(path)``, and inline display in Jupyter."""

    def __init__(self, document: str, data: dict[str, Any]) -> None:
        self.html = document
        self.data = data

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path``, atomically."""
        return write_atomic(path, self.html)

    def _repr_html_(self) -> str:
        return inline_page(self.html, "training page", height=900)


def _check(recordings: list[Recording]) -> None:
    if not recordings:
        raise ValueError("watch() needs at least one recorded run")
    for r in recordings:
        if not isinstance(r, Recording):
            raise TypeError(f"watch() takes recordings (tinygrad_hw.recording.record_fit), not {type(r).__name__}")
        if r.model.nin != 2 or r.model.nout != 1:
            raise ValueError(
                f"watch draws the input plane and one output: run {r.name or '1'} has {counted(r.model.nin, 'input')} "
                f"and {counted(r.model.nout, 'output')} (it needs 2 and 1)"
            )


def _title(recordings: list[Recording]) -> str:
    if len(recordings) == 1:
        return f"Watching it learn: {recordings[0].name or repr(recordings[0].model)}"
    return "Watching it learn: " + " vs ".join(r.name or f"run {k + 1}" for k, r in enumerate(recordings))


def _default_command(run: Recording, k: int) -> str:
    return f"tinygrad-hw explain --model run{k + 1}.frames.json --epoch"


def _save_hint(k: int) -> str:
    """The default command names a frames file nobody has written yet: say how to write it."""
    return f'{HINT}, once its frames are saved (Recording.save_frames("run{k + 1}.frames.json")):'


def _run_data(
    run: Recording, frames: RunFrames, keep: list[int], chart: LossChart, prefix: str, colour: str, hint: str
) -> dict[str, Any]:
    """One run's part of the page's data: static texts, then per kept frame."""
    names = [name for layer in node_names(run.model) for name in layer]
    settings = ", ".join(f"{k} {v}" for k, v in run.settings.items())
    d = run.history.divergence
    samples = [
        f"sample {k}: x = ({', '.join(short(v) for v in x)}), target {short(t[0])}"
        for k, (x, t) in enumerate(zip(run.X, run.y))
    ]
    args = [
        " ".join(["--input", *(repr(float(v)) for v in x), "--target", repr(float(t[0]))]) for x, t in zip(run.X, run.y)
    ]
    pick = lambda values: [values[k] for k in keep]  # noqa: E731 -- the kept frames of each list
    return {
        "name": run.name or "run",
        "colour": colour,
        "settings": settings,
        "summary": _summary(run),
        "diagnosis": d.message if d is not None else "",
        "names": names,
        "formulas": formula_templates(run.model),
        "samples": samples,
        "args": args,
        "command": prefix,
        "hint": hint,
        "epochs": [str(e) for e in pick(frames.epochs)],
        "labels": pick(frames.labels),
        "loss": pick(frames.loss),
        "atlas": pick(frames.atlas),
        "boundary": pick(frames.boundary),
        "edges": pick(frames.edges),
        "params": ["|".join(p) for p in pick(frames.params)],
        "values": pick(frames.values),
        "wrong": pick(frames.wrong),
        "scales": pick(frames.scales),
        "flags": pick(frames.flags),
        "marks": pick(frames.marks),
        "dots": [chart.dot(f.epoch, f.loss) for f in (run.frames[k] for k in keep)],
    }


def _summary(run: Recording) -> str:
    h = run.history
    if h.diverged:
        return f"diverged at epoch {h.diverged_at} of {h.epochs}"
    right = f", {100 * h.accuracy:.1f} % right" if h.accuracy is not None else ""
    span = f"{h.epochs} epoch{'' if h.epochs == 1 else 's'}"
    return f"after {span}: loss {short(h.final_loss)}{right} ({h.seconds:.2f} s, {h.engine} engine)"


def _data(
    recordings: list[Recording],
    frames: list[RunFrames],
    timeline: _Timeline,
    chosen: list[int],
    prefixes: list[str],
    plane: Plane,
    title: str,
    note: str = "",
    hints: list[str] | None = None,
) -> dict[str, Any]:
    """Everything the script reads, for the ``chosen`` timeline positions."""
    chart = _chart(recordings)
    runs = []
    at = []
    for k, (run, own) in enumerate(zip(recordings, frames)):
        keep = sorted({timeline.at[k][t] for t in chosen})
        index = {frame: i for i, frame in enumerate(keep)}
        hint = hints[k] if hints else HINT + ":"
        runs.append(_run_data(run, own, keep, chart, prefixes[k], RUN_COLOURS[k % len(RUN_COLOURS)], hint))
        at.append([index[timeline.at[k][t]] for t in chosen])
    keys = [timeline.keys[t] for t in chosen]
    shown = len(chosen) < len(timeline.keys)
    thinned = f"{len(chosen)} of {len(timeline.keys)} recorded frames shown, to keep the page under 3 MB"
    note = " · ".join(part for part in (note, thinned if shown else "") if part)
    return {
        "title": title,
        "note": note,
        "positions": [
            f"epoch {e}{', stopped' if partial else ''} · frame {k + 1} of {len(keys)}"
            for k, (e, partial) in enumerate(keys)
        ],
        "cursor": [chart.cursor(e) for e, _ in keys],
        "at": at,
        "runs": runs,
        "speeds": [list(s) for s in SPEEDS],
    }


def _chart(recordings: list[Recording]) -> LossChart:
    return LossChart([r.history.loss for r in recordings], max(r.history.epochs for r in recordings))


def _page(title: str, recordings: list[Recording], plane: Plane, data: dict[str, Any], timeline: _Timeline) -> str:
    """The whole document: style, the palette filter, each run's drawings, the data, the script."""
    folder = resources.files("viz")
    style = folder.joinpath("watch.css").read_text(encoding="utf-8")
    script = folder.joinpath("watch.js").read_text(encoding="utf-8")
    payload = json.dumps(data, ensure_ascii=False, allow_nan=False).replace("<", "\\u003c")
    chart = _chart(recordings).svg([r.name for r in recordings], [r.history.diverged_at for r in recordings])
    sections = "".join(_run_section(k, r, plane) for k, r in enumerate(recordings))
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            f"<style>\n{style}\n</style>",
            "</head>",
            "<body>",
            _palette_filter(),
            f'<header><h1>{html.escape(title)}</h1><p id="note">{html.escape(data["note"])}</p>',
            '<nav id="controls">',
            '<button id="play" title="play or pause (space)">▶ play</button>',
            f'<input id="slider" type="range" min="0" max="{len(data["positions"]) - 1}" value="0" step="1" '
            'aria-label="frame" title="frame (← →, Home, End)">',
            '<span id="position"></span>',
            '<label>speed <select id="speed"></select></label>',
            "</nav></header>",
            '<main><div id="runs" class="compare">' if len(recordings) > 1 else '<main><div id="runs">',
            sections,
            '</div><aside id="side"><div id="chart">',
            chart,
            '</div><div id="legend">',
            _legend(recordings),
            '</div><div id="info"><p class="hint">Hover a neuron for its formula at this frame; '
            "click a training point for its value at every neuron.</p></div></aside></main>",
            f'<script type="application/json" id="data">{payload}</script>',
            f"<script>\n{script}\n</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _run_section(k: int, run: Recording, plane: Plane) -> str:
    colour = RUN_COLOURS[k % len(RUN_COLOURS)]
    return (
        f'<section class="run" data-run="{k}">'
        f'<h2><span class="swatch" style="background: {colour}"></span>'
        f'<span class="run-name">{html.escape(run.name or "run")}</span>'
        ' <small class="settings"></small></h2><p class="summary"></p>'
        '<p class="status"><span class="label"></span><span class="sep"> · </span><span class="loss"></span></p>'
        f'<div class="drawings">{network_svg(run.model, plane)}{boundary_svg(plane, run.X, run.y)}</div>'
        '<p class="flags"></p><pre class="diagnosis"></pre></section>'
    )


def _legend(recordings: list[Recording]) -> str:
    return (
        '<p><span class="key high"></span> high <span class="key low"></span> low '
        '<span class="key nan"></span> not finite · edges: <span class="edge-key plus"></span> positive '
        '<span class="edge-key minus"></span> negative weight, thicker when larger · points: '
        '<span class="point-key one"></span> target 1 <span class="point-key zero"></span> target 0, '
        "ringed red when wrong</p>"
    )


def _palette_filter() -> str:
    """The SVG filter that colours the grey heatmaps: byte k of a picture becomes the
    palette's colour k (a table of 256 entries, exact at every byte)."""
    table = palette_table()
    channels = "".join(
        f'<feFunc{c} type="table" tableValues="{" ".join(f"{rgb[i]:g}" for rgb in table)}"/>'
        for i, c in enumerate("RGB")
    )
    return (
        '<svg width="0" height="0" style="position: absolute" aria-hidden="true"><filter id="palette" '
        f'color-interpolation-filters="sRGB"><feComponentTransfer>{channels}</feComponentTransfer></filter></svg>'
    )

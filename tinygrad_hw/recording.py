"""Frames of a training run: the weights at chosen epochs, kept while ``fit`` runs.

``fit(..., on_epoch=Recorder(model, epochs))`` copies the parameters at the epochs of
:func:`frame_epochs` -- every epoch at first, then further and further apart (log
spaced), at most about 200 -- so that a page can replay the run: the training page
(``viz.watch``) draws every frame. The run itself is ``fit``'s, on either engine.

A recording's frames can be saved as one JSON file (``save_frames``) and a frame
read back as a model (``load_frame``): ``tinygrad-hw explain --model FRAMES --epoch E``
opens the step-through page at that frame's weights.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .atomic import PathLike, write_atomic
from .history import History, jsonable
from .nn import MLP
from .serialize import ModelFileError, model_from_dict, model_to_dict
from .train import fit

__all__ = ["FRAMES_FORMAT", "Frame", "Recorder", "Recording", "frame_epochs", "load_frame", "record_fit"]

MAX_FRAMES = 200
FRAMES_FORMAT = "tinygrad_hw.frames"


def frame_epochs(epochs: int, max_frames: int = MAX_FRAMES) -> list[int]:
    """The epochs to keep, with 0 for the initial weights: all of them when they fit in
    ``max_frames``, else log spaced from 1 to ``epochs`` (every epoch early on, where a
    network changes fastest), the last always included."""
    if epochs < 1 or max_frames < 2:
        raise ValueError(f"frames need epochs >= 1 and max_frames >= 2, got {epochs} and {max_frames}")
    wanted = max_frames - 1
    if epochs <= wanted:
        return list(range(epochs + 1))
    if wanted == 1:
        return [0, epochs]  # the start and the end: no room for more

    def spaced(count: int) -> list[int]:
        ratio = math.log(epochs) / (count - 1)  # the last point is epochs itself: exp(log(e)) may round below it
        return sorted({min(epochs, round(math.exp(k * ratio))) for k in range(count - 1)} | {1, epochs})

    low, high = wanted, wanted
    while len(spaced(high)) < wanted:  # rounding merges early epochs: ask for more points until enough
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if len(spaced(middle)) <= wanted else (low, middle)
    chosen = spaced(high) if len(spaced(high)) <= wanted else spaced(low)
    return [0, *chosen]


@dataclass
class Frame:
    """The weights (in ``model.parameters()`` order) after ``epoch`` epochs. ``loss`` is
    that epoch's mean loss (None for epoch 0); a ``partial`` frame holds the weights
    where a diverged epoch stopped (its loss is the step's that was not finite)."""

    epoch: int
    weights: list[float]
    loss: float | None = None
    partial: bool = False


class Recorder:
    """``fit``'s ``on_epoch``: keeps a frame at each epoch of the schedule."""

    def __init__(self, model: MLP, epochs: int, max_frames: int = MAX_FRAMES) -> None:
        self.params = model.parameters()
        self.wanted = frozenset(frame_epochs(epochs, max_frames))
        self.frames = [Frame(0, [p.data for p in self.params])]

    def __call__(self, epoch: int, loss: float) -> None:
        if epoch in self.wanted:
            self.frames.append(Frame(epoch, [p.data for p in self.params], loss))

    def finish(self, history: History) -> list[Frame]:
        """The frames, with one more where a diverged run stopped."""
        if history.diverged_at is not None:
            self.frames.append(Frame(history.diverged_at, [p.data for p in self.params], history.loss[-1], True))
        return self.frames


@dataclass
class Recording:
    """One recorded run: the model (as training left it), the data, its history and
    frames, and how it was set up (``settings``: shown by the page, e.g. ``{"lr": 0.1}``)."""

    name: str
    model: MLP
    X: np.ndarray
    y: np.ndarray
    history: History
    frames: list[Frame]
    loss: str | Callable[..., Any] = "mse"
    settings: dict[str, Any] = field(default_factory=dict)

    def model_at(self, frame: int) -> MLP:
        """A copy of the model with frame ``frame``'s weights."""
        model = copy.deepcopy(self.model)
        for p, w in zip(model.parameters(), self.frames[frame].weights):
            p.data = w
        return model

    def save_frames(self, path: PathLike) -> Path:
        """The frames as JSON, atomically: the architecture (with the initial weights)
        and each frame's epoch, loss and weights (a number that is not finite is null)."""
        data = {
            "format": FRAMES_FORMAT,
            "version": 1,
            "name": self.name,
            "model": model_to_dict(self.model_at(0)),
            "frames": [jsonable(vars(f)) for f in self.frames],
        }
        return write_atomic(path, json.dumps(data, allow_nan=False) + "\n")


def record_fit(
    model: MLP, X: Any, y: Any, *, epochs: int, name: str = "", max_frames: int = MAX_FRAMES, **fit_options: Any
) -> Recording:
    """``fit(model, X, y, epochs=epochs, **fit_options)`` with its frames recorded."""
    recorder = Recorder(model, epochs, max_frames)
    theirs = fit_options.pop("on_epoch", None)

    def on_epoch(epoch: int, loss: float) -> None:
        recorder(epoch, loss)
        if theirs is not None:
            theirs(epoch, loss)

    history = fit(model, X, y, epochs=epochs, on_epoch=on_epoch, **fit_options)
    loss = fit_options.get("loss", "mse")
    xs, ys = np.asarray(X, dtype=float), np.asarray(y, dtype=float).reshape(len(X), -1)
    return Recording(name, model, xs, ys, history, recorder.finish(history), loss)


def load_frame(path: PathLike, epoch: int) -> MLP:
    """The model of a frames file at the frame of ``epoch`` (the partial frame of a
    diverged epoch if that is the one recorded)."""
    source = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(f"{source} is not a frames file: {error}") from None
    if not isinstance(data, dict) or data.get("format") != FRAMES_FORMAT or not isinstance(data.get("frames"), list):
        raise ModelFileError(f'{source} is not a frames file: no "format": "{FRAMES_FORMAT}" with its frames')
    model = model_from_dict(data.get("model"), source)
    frames = [f for f in data["frames"] if isinstance(f, dict)]
    found = next((f for f in frames if f.get("epoch") == epoch), None)
    if found is None:
        epochs = sorted(f["epoch"] for f in frames if isinstance(f.get("epoch"), int))
        nearest = min(epochs, key=lambda e: abs(e - epoch)) if epochs else None
        raise ValueError(f"{source} has no frame at epoch {epoch}" + (f": the nearest is {nearest}" if epochs else ""))
    weights = found.get("weights")
    params = model.parameters()
    if not isinstance(weights, list) or len(weights) != len(params):
        raise ModelFileError(f"{source}: the frame at epoch {epoch} does not hold {len(params)} weights")
    if not all(isinstance(w, (int, float)) and not isinstance(w, bool) and math.isfinite(w) for w in weights):
        raise ValueError(f"{source}: the frame at epoch {epoch} holds weights that are not finite numbers")
    for p, w in zip(params, weights):
        p.data = float(w)
    return model

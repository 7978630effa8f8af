"""Save and load models as JSON: readable, diffable, and never executed (no pickle).

A save writes a temporary file beside the target and renames it over the target,
so a crash midway leaves the old file (or none), never half a model.

Each layer holds ``activation``, ``weights`` and ``bias``: a model without biases writes
``"bias": null``, so a layer without the key is a damaged file, refused, not a model
without biases.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Union

from .atomic import PathLike, write_atomic
from .checks import counted, is_count, type_name
from .nn import ACTIVATIONS, MLP

__all__ = ["FORMAT", "ModelFileError", "load", "model_from_dict", "model_to_dict", "save", "write_atomic"]

FORMAT = "tinygrad_hw.mlp"
VERSION = 1


class ModelFileError(ValueError):
    """The file is not a tinygrad_hw model, or not a whole one."""


def model_to_dict(model: MLP) -> dict[str, Any]:
    """Architecture, activations and every weight, as plain JSON types."""
    if not isinstance(model, MLP):
        raise TypeError(f"save() takes a tinygrad_hw.nn.MLP, not {type_name(model)}")
    layers = []
    for k, layer in enumerate(model.layers, start=1):
        weights = [[w.data for w in n.w] for n in layer.neurons]
        bias = [n.b.data for n in layer.neurons] if model.bias else None  # type: ignore[union-attr]  # model.bias: every neuron has a b
        if not all(math.isfinite(x) for row in weights for x in row) or (
            bias is not None and not all(math.isfinite(x) for x in bias)
        ):
            raise ValueError(f"layer {k} has non-finite weights (did training diverge?); nothing was saved")
        layers.append({"activation": layer.activation, "weights": weights, "bias": bias})
    return {"format": FORMAT, "version": VERSION, "nin": model.nin, "layers": layers}


def save(model: MLP, path: PathLike) -> None:
    """Write ``model`` to ``path`` as JSON, atomically."""
    write_atomic(path, json.dumps(model_to_dict(model), indent=1) + "\n")


def _fail(source: str, why: str) -> ModelFileError:
    return ModelFileError(f"{source} is not a tinygrad_hw model: {why}")


class _LongInteger(str):
    """An integer literal too long to be a weight or a size (kept as text, never converted)."""

    def __repr__(self) -> str:
        return f"a {len(self.lstrip('-'))}-digit integer"


def _integer(text: str) -> int | _LongInteger:
    """JSON integers up to 30 digits; a longer one would cost time to convert and
    could never be a size or a finite float weight anyway."""
    return int(text) if len(text) <= 30 else _LongInteger(text)


def _numbers(value: Any, length: int, what: str, source: str) -> list[float]:
    if not isinstance(value, list) or len(value) != length:
        raise _fail(source, f"{what} should be a list of {counted(length, 'number')}")
    for x in value:
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            raise _fail(source, f"{what} holds {x!r}, not a finite number")
    return [float(x) for x in value]


def _header(data: Any, source: str) -> tuple[int, list[dict[str, Any]]]:
    if isinstance(data, dict) and data.get("format") == "tinygrad_hw.frames":  # recording.FRAMES_FORMAT
        raise _fail(
            source,
            "it is the frames of a `tinygrad-hw watch` run, a model per frame: "
            "`tinygrad-hw explain --model FILE --epoch N` reads the one at epoch N",
        )
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _fail(source, f'no "format": "{FORMAT}" field')
    version = data.get("version")
    if isinstance(version, bool) or version != VERSION:
        raise _fail(source, f"version {version!r}; this tinygrad_hw reads version {VERSION}")
    nin, layers = data.get("nin"), data.get("layers")
    if not is_count(nin):
        raise _fail(source, f"nin is {nin!r}, not a positive integer")
    if not isinstance(layers, list) or not layers or not all(isinstance(x, dict) for x in layers):
        raise _fail(source, "layers should be a non-empty list of objects")
    return nin, layers


_Layer = tuple[str, list[list[float]], Union[list[float], None]]  # activation, weights, biases


def _layers(nin: int, layers: list[dict[str, Any]], source: str) -> list[_Layer]:
    """Every layer checked against the arrays actually in the file -- before anything
    is allocated, so the work is in proportion to the file, whatever sizes it claims."""
    checked: list[_Layer] = []
    width = nin
    has_bias = layers[0].get("bias") is not None
    for k, layer in enumerate(layers, start=1):
        activation = layer.get("activation")
        if not isinstance(activation, str) or activation not in ACTIVATIONS:
            raise _fail(source, f"layer {k} has unknown activation {activation!r}")
        weights = layer.get("weights")
        if not isinstance(weights, list) or not weights:
            raise _fail(source, f"layer {k} has no weights")
        if k == 1 and isinstance(weights[0], list) and len(weights[0]) != nin:
            raise _fail(source, f"nin is {nin!r}, but layer 1's neurons have {counted(len(weights[0]), 'weight')} each")
        rows = [_numbers(row, width, f"layer {k} neuron {i + 1} weights", source) for i, row in enumerate(weights)]
        if "bias" not in layer:  # a model without biases says so, "bias": null; a lost key is not that
            raise _fail(source, f'layer {k} has no "bias" key (a list of each neuron\'s bias, or null for none)')
        bias = layer.get("bias")
        if (bias is not None) != has_bias:
            raise _fail(source, f"layer {k} {'lacks' if has_bias else 'has'} biases, unlike layer 1")
        biases = _numbers(bias, len(rows), f"layer {k} bias", source) if has_bias else None
        checked.append((activation, rows, biases))
        width = len(rows)
    return checked


def model_from_dict(data: Any, source: str = "the data") -> MLP:
    """Rebuild the MLP a ``model_to_dict`` made, checking every field first."""
    nin, layers = _header(data, source)
    checked = _layers(nin, layers, source)
    has_bias = checked[0][2] is not None
    model = MLP(nin, [len(rows) for _, rows, _ in checked], [a for a, _, _ in checked], bias=has_bias, seed=0)
    for layer, (_, rows, biases) in zip(model.layers, checked):
        for i, neuron in enumerate(layer.neurons):
            for w, x in zip(neuron.w, rows[i]):
                w.data = x
            if biases is not None:
                neuron.b.data = biases[i]  # type: ignore[union-attr]  # biases: the model was made with them
    return model


def load(path: PathLike) -> MLP:
    """Read a model ``save`` wrote. A missing file is a FileNotFoundError; anything in
    the file that is not a whole, consistent model is a :class:`ModelFileError`
    naming the path and the problem, in time and memory proportional to the file."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file at {source}") from None
    try:
        text = raw.decode("utf-8-sig")  # a byte order mark, as Windows editors save UTF-8, is skipped
    except UnicodeDecodeError:
        kind = next((name for magic, name in _BINARY if raw.startswith(magic)), None)
        raise _fail(source, "it is not UTF-8 text" + (f" but {kind}" if kind else "")) from None
    try:
        data = json.loads(text, parse_int=_integer)
    except json.JSONDecodeError as error:
        looks = _looks_like(text)
        if looks is not None:
            raise ModelFileError(
                f"{source} {looks}, not a model file (a model file is the JSON that tinygrad-hw train or save() writes)"
            ) from None
        raise ModelFileError(
            f"{source} is not valid JSON (truncated?): {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except RecursionError:
        raise _fail(source, "its JSON is nested too deeply") from None
    except (ValueError, OverflowError) as error:
        raise _fail(source, f"its JSON could not be read ({error})") from None
    return model_from_dict(data, source)


_BINARY = [(b"\x89PNG", "a PNG image"), (b"%PDF", "a PDF"), (b"PK\x03\x04", "a zip archive"), (b"\x80", "a pickle")]


def _looks_like(text: str) -> str | None:
    """What a text that is not JSON seems to be, for the error message; None if it
    starts as JSON does (then it is broken JSON: a truncated model, most likely)."""
    start = text.lstrip()[:1]
    if start in ("{", "["):
        return None
    if not start:
        return "is empty"
    if start == "<":
        head = text.lstrip()[:200].lower()
        return "looks like an SVG drawing" if "<svg" in head else "looks like XML or HTML"
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if lines and all(line.count(",") == lines[0].count(",") > 0 for line in lines):
        return "looks like CSV"
    return "looks like plain text"

"""Save and load models as JSON: readable, diffable, and never executed (no pickle).

A save writes a temporary file beside the target and renames it over the target,
so a crash midway leaves the old file (or none), never half a model.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .atomic import PathLike, write_atomic
from .checks import is_count
from .nn import ACTIVATIONS, MLP

__all__ = ["FORMAT", "ModelFileError", "load", "model_from_dict", "model_to_dict", "save", "write_atomic"]

FORMAT = "tinygrad_hw.mlp"
VERSION = 1


class ModelFileError(ValueError):
    """The file is not a tinygrad_hw model, or not a whole one."""


def model_to_dict(model: MLP) -> dict[str, Any]:
    """Architecture, activations and every weight, as plain JSON types."""
    if not isinstance(model, MLP):
        raise TypeError(f"save() takes an MLP, not {type(model).__name__}")
    layers = []
    for k, layer in enumerate(model.layers, start=1):
        weights = [[w.data for w in n.w] for n in layer.neurons]
        bias = [n.b.data for n in layer.neurons] if model.bias else None
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


def _numbers(value: Any, length: int, what: str, source: str) -> list[float]:
    if not isinstance(value, list) or len(value) != length:
        raise _fail(source, f"{what} should be a list of {length} numbers")
    for x in value:
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            raise _fail(source, f"{what} holds {x!r}, not a finite number")
    return [float(x) for x in value]


def model_from_dict(data: Any, source: str = "the data") -> MLP:
    """Rebuild the MLP a ``model_to_dict`` made, checking every field on the way."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _fail(source, f'no "format": "{FORMAT}" field')
    if data.get("version") != VERSION:
        raise _fail(source, f"version {data.get('version')!r}; this tinygrad_hw reads version {VERSION}")
    nin, layers = data.get("nin"), data.get("layers")
    if not is_count(nin):
        raise _fail(source, f"nin is {nin!r}, not a positive integer")
    if not isinstance(layers, list) or not layers or not all(isinstance(x, dict) for x in layers):
        raise _fail(source, "layers should be a non-empty list of objects")
    sizes, activations = [nin], []
    for k, layer in enumerate(layers, start=1):
        weights = layer.get("weights")
        if not isinstance(weights, list) or not weights:
            raise _fail(source, f"layer {k} has no weights")
        sizes.append(len(weights))
        activation = layer.get("activation")
        if activation not in ACTIVATIONS:
            raise _fail(source, f"layer {k} has unknown activation {activation!r}")
        activations.append(activation)
    bias = layers[0].get("bias") is not None
    model = MLP(nin, sizes[1:], activations, bias=bias)
    for k, (layer, data_layer) in enumerate(zip(model.layers, layers), start=1):
        bias_data = data_layer.get("bias")
        if (bias_data is not None) != bias:
            raise _fail(source, f"layer {k} {'lacks' if bias else 'has'} biases, unlike layer 1")
        if bias:
            biases = _numbers(bias_data, len(layer.neurons), f"layer {k} bias", source)
        for i, neuron in enumerate(layer.neurons):
            row = _numbers(data_layer["weights"][i], sizes[k - 1], f"layer {k} neuron {i + 1} weights", source)
            for w, x in zip(neuron.w, row):
                w.data = x
            if bias:
                neuron.b.data = biases[i]  # type: ignore[union-attr]
    return model


def load(path: PathLike) -> MLP:
    """Read a model ``save`` wrote; a missing, truncated or foreign file raises a clear error."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file at {source}") from None
    except UnicodeDecodeError:
        raise _fail(source, "it is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ModelFileError(
            f"{source} is not valid JSON (truncated?): {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    return model_from_dict(data, source)

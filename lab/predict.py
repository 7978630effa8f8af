"""``tinygrad-hw predict``: a saved model's outputs and classes for inputs from the
command line or a CSV file, as a table; with targets in the CSV, right or wrong and
the accuracy.

Every input is checked before the model sees it: a row of the wrong width or a cell
that is not a finite number is an error naming the file, the line and the cell
(``lab.csvfile``). A target is a class label, never split by the threshold: for one
output 0 or 1 (or -1 and 1, micrograd's labels), for several a one-hot row. The
threshold splits the model's single output, and nothing else.

A million rows take seconds: the outputs come from the numpy replay, a block of rows
at a time, and the table is written a block at a time.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO

import numpy as np

from tinygrad_hw.nn import MLP
from tinygrad_hw.predictions import PredictionTable, class_labels, class_rule, classes
from tinygrad_hw.train import predict

from .csvfile import Numbers, read_numbers

__all__ = ["check_threshold", "default_threshold", "read_csv", "write_predictions"]

BLOCK = 65_536  # rows predicted, and written, at a time: memory stays flat however long the file


def default_threshold(model: MLP) -> float:
    """Where a single output splits the classes: 0.5 for a sigmoid (a probability, the
    lab's rule), 0 for any other output (a score's sign, as micrograd's demo)."""
    return 0.5 if model.activations[-1] == "sigmoid" else 0.0


def read_csv(path: Path, nin: int, nout: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Inputs (n, nin), and targets (n, nout) if every row has ``nin + nout`` cells."""
    numbers = read_numbers(path, (nin, nin + nout), f"{nin} (inputs) or {nin + nout} (inputs, then targets)")
    rows = numbers.rows
    if rows.shape[1] == nin:
        return rows, None
    _check_labels(numbers, rows[:, nin:])
    return rows[:, :nin], rows[:, nin:]


def _check_labels(numbers: Numbers, targets: np.ndarray) -> None:
    _, bad, why = class_labels(targets)
    if bad is not None:
        shown = ", ".join(f"{t:g}" for t in targets[bad])
        raise ValueError(f"{numbers.path}, line {numbers.line(bad)}: target {shown} is not a class label: {why}")


def check_threshold(model: MLP, threshold: float | None) -> float:
    """The threshold to use: the one given, for a model with one output, or the default."""
    if threshold is None:
        return default_threshold(model)
    if model.nout != 1:
        raise ValueError(
            f"--threshold splits a single output; this model has {model.nout}, and a row's class is the largest"
        )
    return threshold


def write_predictions(
    model: MLP, X: np.ndarray, y: np.ndarray | None = None, threshold: float | None = None, file: IO[str] | None = None
) -> None:
    """The model on every row of X, one table line per sample: inputs, outputs, class
    (and with targets y: the label and ✓ or ✗), then the accuracy."""
    out = file if file is not None else sys.stdout
    threshold = check_threshold(model, threshold)
    outputs = np.concatenate([predict(model, X[k : k + BLOCK], engine="replay") for k in range(0, len(X), BLOCK)])
    predicted = classes(outputs, threshold)
    truth = None if y is None else class_labels(y)[0]
    table = PredictionTable(X, outputs, predicted, truth)
    out.write(table.head + "\n")
    for k in range(0, len(X), BLOCK):
        out.write(table.lines(k, min(k + BLOCK, len(X))) + "\n")
    out.write(class_rule(threshold, outputs.shape[1]) + "\n")
    if truth is not None:
        right = int((truth == predicted).sum())
        out.write(f"Accuracy: {100 * right / len(X):.1f} % ({right} of {len(X)})\n")

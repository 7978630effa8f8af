"""``tinygrad-hw predict``: a saved model's outputs and classes for inputs from the
command line or a CSV file, as a table; with targets in the CSV, right or wrong and
the accuracy.

Every input is checked before the model sees it: a row of the wrong width or a cell
that is not a finite number is an error naming the file, the line and the cell.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Sequence

import numpy as np

from tinygrad_hw.nn import MLP
from tinygrad_hw.train import predict

__all__ = ["classes", "default_threshold", "prediction_table", "read_csv"]


def default_threshold(model: MLP) -> float:
    """Where a single output splits the classes: 0.5 for a sigmoid (a probability, the
    lab's rule), 0 for any other output (a score's sign, as micrograd's demo)."""
    return 0.5 if model.activations[-1] == "sigmoid" else 0.0


def classes(outputs: np.ndarray, threshold: float) -> np.ndarray:
    """One class per row: output above ``threshold`` for one output, else the largest."""
    if outputs.shape[1] == 1:
        return (outputs[:, 0] > threshold).astype(int)
    return outputs.argmax(axis=1)


def read_csv(path: Path, nin: int, nout: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Inputs (n, nin), and targets (n, nout) if every row has ``nin + nout`` cells.

    A first row that is not numbers is a header and skipped; blank lines are skipped."""
    try:
        rows = _numeric_rows(path)
    except (UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"{path}: not a CSV text file ({error})") from None
    if not rows:
        raise ValueError(f"{path}: no rows of numbers")
    width = len(rows[0][1])
    odd = next(((k, r) for k, r in rows if len(r) != width), None)
    if width not in (nin, nin + nout) or odd is not None:
        line, row = odd or rows[0]
        want = f"{nin} (inputs) or {nin + nout} (inputs, then targets)"
        raise ValueError(f"{path}, line {line}: {len(row)} numbers where every row needs {want}")
    data = np.array([r for _, r in rows], dtype=float)
    return data[:, :nin], (data[:, nin:] if width > nin else None)


def _numeric_rows(path: Path) -> list[tuple[int, list[float]]]:
    """(line number, numbers) for each non-blank row after an optional header."""
    rows: list[tuple[int, list[float]]] = []
    header = False
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            numbers = [_number(c) for c in cells]
            if None in numbers:
                if not rows and not header:
                    header = True  # the first row that is not blank may name the columns
                    continue
                bad = next(c for c, n in zip(cells, numbers) if n is None)
                raise ValueError(f"{path}, line {reader.line_num}: {bad.strip()!r} is not a finite number")
            rows.append((reader.line_num, numbers))  # type: ignore[arg-type]  # no None left: checked above
    return rows


def _number(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def prediction_table(
    model: MLP, X: np.ndarray, y: np.ndarray | None = None, threshold: float | None = None
) -> list[str]:
    """The model on every row of X, one table line per sample: inputs, outputs, class
    (and with targets y: the label and ✓ or ✗), then the accuracy."""
    threshold = default_threshold(model) if threshold is None else threshold
    outputs = predict(model, X)
    predicted = classes(outputs, threshold)
    head = [f"x{j + 1}" for j in range(X.shape[1])] + _names("output", outputs.shape[1]) + ["class"]
    labels = None if y is None else classes(y, threshold)
    if labels is not None:
        head += ["label", "right"]
    rows = [head]
    for k in range(len(X)):
        row = [f"{v:g}" for v in X[k]] + [f"{v:.6g}" for v in outputs[k]] + [str(predicted[k])]
        if labels is not None:
            row += [str(labels[k]), "✓" if labels[k] == predicted[k] else "✗"]
        rows.append(row)
    lines = _aligned(rows)
    rule = f"class: output > {threshold:g}" if outputs.shape[1] == 1 else "class: the largest output"
    lines.append(f"({rule})")
    if labels is not None:
        right = int((labels == predicted).sum())
        lines.append(f"Accuracy: {100 * right / len(X):.1f} % ({right} of {len(X)})")
    return lines


def _names(stem: str, n: int) -> list[str]:
    return [stem] if n == 1 else [f"{stem}{j + 1}" for j in range(n)]


def _aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return ["  ".join(cell.rjust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]

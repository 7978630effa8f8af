"""The table of a model's predictions: one line per sample with its inputs, outputs and
class, and given targets its label and ✓ or ✗.

``fit`` prints it at the end of a run and ``tinygrad-hw predict`` prints it for a saved
model: one format, from one function, here below both of them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["SHOWN_AT_EACH_END", "classes", "prediction_table"]

SHOWN_AT_EACH_END = 10  # rows kept at the top and at the bottom of a table cut short


def classes(outputs: np.ndarray, threshold: float) -> np.ndarray:
    """One class per row: 1 where a single output is above ``threshold``, else 0; for
    several outputs, the largest."""
    if outputs.shape[1] == 1:
        return (outputs[:, 0] > threshold).astype(int)
    return outputs.argmax(axis=1)


def prediction_table(
    X: np.ndarray,
    outputs: np.ndarray,
    targets: np.ndarray | None = None,
    *,
    threshold: float,
    limit: int | None = None,
) -> list[str]:
    """The table's lines: a header, a line per row of ``X`` (n, nin) and ``outputs``
    (n, nout), and the rule that made the classes. Targets (n, nout) add the label and
    ✓ or ✗. Beyond ``limit`` rows only the first and last ten are shown, with a line
    counting those left out."""
    predicted = classes(outputs, threshold)
    labels = None if targets is None else classes(targets, threshold)
    head = [f"x{j + 1}" for j in range(X.shape[1])] + _names("output", outputs.shape[1]) + ["class"]
    if labels is not None:
        head += ["label", "right"]
    n = len(X)
    cut = limit is not None and n > limit
    shown = [*range(SHOWN_AT_EACH_END), -1, *range(n - SHOWN_AT_EACH_END, n)] if cut else range(n)
    rows: list[list[str] | None] = [head]
    for k in shown:
        if k < 0:
            rows.append(None)  # where the rows left out would be
            continue
        row = [f"{v:g}" for v in X[k]] + [f"{v:.6g}" for v in outputs[k]] + [str(predicted[k])]
        if labels is not None:
            row += [str(labels[k]), "✓" if labels[k] == predicted[k] else "✗"]
        rows.append(row)
    left_out = f"... {n - 2 * SHOWN_AT_EACH_END} more rows ..."
    lines = _aligned(rows, left_out)
    lines.append(f"(class: output > {threshold:g})" if outputs.shape[1] == 1 else "(class: the largest output)")
    return lines


def _names(stem: str, n: int) -> list[str]:
    return [stem] if n == 1 else [f"{stem}{j + 1}" for j in range(n)]


def _aligned(rows: Sequence[Sequence[str] | None], gap: str) -> list[str]:
    """Right-aligned columns; a None row is the ``gap`` line, as it is."""
    full = [r for r in rows if r is not None]
    widths = [max(len(r[c]) for r in full) for c in range(len(full[0]))]
    return [gap if r is None else "  ".join(cell.rjust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]

"""The ``predict`` table, right-aligned, written a block of rows at a time.

A column is as wide as its widest cell, which for a million rows must be found without
formatting every number twice: :func:`widest` bounds each number's width with numpy and
formats only the numbers that could be the widest.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PredictionTable", "widest"]

MARKS = {True: "✓", False: "✗"}
BLOCK = 65_536  # numbers bounded at a time


def widest(column: np.ndarray) -> int:
    """``max(len(f"{v:g}") for v in column)`` (0 for none), formatting only the numbers
    whose width bound could beat the widest found so far."""
    bounds = _width_bounds(column)
    found = 0
    for bound in sorted(set(np.unique(bounds).tolist()), reverse=True):
        if bound <= found:
            break
        candidates = column[bounds == bound]
        for k in range(0, len(candidates), 4096):
            found = max(found, max(len(f"{v:g}") for v in candidates[k : k + 4096].tolist()))
            if found == bound:
                break
    return found


def _width_bounds(column: np.ndarray) -> np.ndarray:
    """For each number, a width ``f"{v:g}"`` cannot exceed: exact for integers below a
    million, else the widest any number of its decimal exponent can be. (Worked out a
    block at a time: the temporaries stay small however long the column.)"""
    bounds = np.empty(len(column), dtype=np.int8)
    for k in range(0, len(column), BLOCK):
        block = column[k : k + BLOCK]
        a = np.abs(block)
        with np.errstate(divide="ignore", invalid="ignore"):  # 0, inf and nan get their widths below
            exact = np.log10(np.where(a > 0, a, 1.0))
            # Near a power of ten, log10's last bit, and rounding to six digits (9.999995 is
            # 10), may move the exponent by one either way; elsewhere it is floor(log10).
            near = np.abs(exact - np.round(exact)) < 1e-6
        e = np.floor(exact)
        general = np.where(
            near, np.maximum.reduce([_widest_with_exponent(e + d) for d in (-1, 0, 1)]), _widest_with_exponent(e)
        )
        whole = (a == np.round(a)) & (a < 1e6)
        digits = 1 + np.searchsorted(10.0 ** np.arange(1, 7), a, side="right")
        width = np.signbit(block) + np.where(whole, digits, general)
        bounds[k : k + BLOCK] = np.where(np.isfinite(block), width, 4)  # nan, inf, -inf
    return bounds


def _widest_with_exponent(x: np.ndarray) -> np.ndarray:
    """The widest ``f"{v:g}"`` of a positive v whose rounded decimal exponent is x: six
    significant digits, in fixed notation from 1e-4 to below 1e6, else with an exponent."""
    exponent_form = np.where(np.abs(x) < 100, 11, 12)  # d.ddddde±XX
    return np.select([x < -4, x < 0, x < 5, x < 6], [exponent_form, 7 - x, 7, 6], exponent_form)


class PredictionTable:
    """Inputs, outputs, class, and with labels the label and ✓ or ✗, one line per row."""

    def __init__(self, X: np.ndarray, outputs: np.ndarray, predicted: np.ndarray, truth: np.ndarray | None) -> None:
        self.X, self.outputs, self.predicted, self.truth = X, outputs, predicted, truth
        heads = [f"x{j + 1}" for j in range(X.shape[1])]
        heads += ["output"] if outputs.shape[1] == 1 else [f"output{j + 1}" for j in range(outputs.shape[1])]
        numbers = [X[:, j] for j in range(X.shape[1])] + [outputs[:, j] for j in range(outputs.shape[1])]
        widths = [max(len(h), widest(c)) for h, c in zip(heads, numbers)]
        formats = [f"%{w}g" for w in widths]
        # the rest of a line depends only on (class, label): one text per pair, looked up
        classes = sorted(set(np.unique(predicted).tolist()))
        tails = [["class", *([] if truth is None else ["label", "right"])]]
        self.pairs = {}
        for c in classes:
            for t in [None] if truth is None else sorted(set(np.unique(truth).tolist())):
                cells = [_class_text(c)] + ([] if t is None else [str(t), MARKS[c == t]])
                self.pairs[(c, t)] = len(tails)
                tails.append(cells)
        tail_widths = [max(len(row[k]) for row in tails) for k in range(len(tails[0]))]
        self.tails = ["  ".join(cell.rjust(w) for cell, w in zip(row, tail_widths)) for row in tails]
        self.head = "  ".join([*(h.rjust(w) for h, w in zip(heads, widths)), self.tails[0]])
        self.format = "  ".join(formats) + "  %s"

    def lines(self, start: int, stop: int) -> str:
        """Lines ``start`` to ``stop`` of the table's body, joined."""
        columns = [self.X[start:stop, j].tolist() for j in range(self.X.shape[1])]
        columns += [self.outputs[start:stop, j].tolist() for j in range(self.outputs.shape[1])]
        predicted = self.predicted[start:stop].tolist()
        truth = [None] * len(predicted) if self.truth is None else self.truth[start:stop].tolist()
        tails = [self.tails[self.pairs[pair]] for pair in zip(predicted, truth)]
        return "\n".join(map(self.format.__mod__, zip(*columns, tails)))


def _class_text(c: int) -> str:
    return "none" if c < 0 else str(c)

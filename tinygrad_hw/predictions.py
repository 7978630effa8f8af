"""The table of a model's predictions: one line per sample with its inputs, outputs and
class, and given class labels the label and ✓ or ✗.

``fit`` prints it at the end of a run and ``tinygrad-hw predict`` prints it for a saved
model (a million rows, a block at a time): one format, from one class, here below both.

A column is as wide as its widest cell, which for a million rows must be found without
formatting every number twice: :func:`widest` bounds each number's width with numpy and
formats only the numbers that could be the widest.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "NO_CLASS",
    "SHOWN_AT_EACH_END",
    "PredictionTable",
    "class_labels",
    "class_rule",
    "classes",
    "prediction_table",
    "widest",
]

NO_CLASS = -1  # the class of a row whose outputs hold a NaN: none, and never right
SHOWN_AT_EACH_END = 10  # rows kept at the top and at the bottom of a table cut short


def classes(outputs: np.ndarray, threshold: float) -> np.ndarray:
    """One class per row: 1 where a single output is above ``threshold``, else 0; for
    several outputs, the largest. A row with a NaN output has none (``NO_CLASS``)."""
    found = (outputs[:, 0] > threshold).astype(int) if outputs.shape[1] == 1 else outputs.argmax(axis=1)
    return np.where(np.isnan(outputs).any(axis=1), NO_CLASS, found)


def class_labels(targets: np.ndarray) -> tuple[np.ndarray, int | None, str]:
    """Targets (n, nout) as class labels: (labels, None, "") when every row is one, else
    (labels, the first row that is not, why). One target: 0 or 1, or -1 and 1 (micrograd's
    demo); several: a one-hot row, whose class is where its 1 is. A threshold never
    splits a target."""
    if targets.shape[1] == 1:
        t = targets[:, 0]
        zero = -1.0 if (t == -1).any() else 0.0  # -1 and 1, or 0 and 1, never both kinds of 0
        bad = (t != zero) & (t != 1)
        why = "a target is a class, 0 or 1 (or -1 and 1, not both 0 and -1)"
        return (t == 1).astype(int), _first(bad), why
    ones = targets == 1
    bad = (ones.sum(axis=1) != 1) | ~(ones | (targets == 0)).all(axis=1)
    why = f"a target row is a class: one 1 and {targets.shape[1] - 1} zeros"
    return ones.argmax(axis=1), _first(bad), why


def _first(bad: np.ndarray) -> int | None:
    return int(bad.argmax()) if bad.any() else None


def class_rule(threshold: float, nout: int) -> str:
    """The line under the table that says how the classes were made."""
    return f"(class: output > {threshold:g})" if nout == 1 else "(class: the largest output)"


def prediction_table(
    X: np.ndarray,
    outputs: np.ndarray,
    targets: np.ndarray | None = None,
    *,
    threshold: float,
    limit: int | None = None,
) -> list[str]:
    """The table's lines: a header, a line per row of ``X`` (n, nin) and ``outputs``
    (n, nout), and the rule that made the classes. Targets that are class labels add the
    label and ✓ or ✗ (other targets, a regression's, add nothing to judge). Beyond
    ``limit`` rows only the first and last ten are shown, with a line counting the rest."""
    truth = None
    if targets is not None:
        labels, bad, _ = class_labels(targets)
        truth = labels if bad is None else None
    table = PredictionTable(X, outputs, classes(outputs, threshold), truth)
    n = len(X)
    if limit is not None and n > limit:
        k = SHOWN_AT_EACH_END
        gap = f"... {n - 2 * k} more rows ..."
        body = [*table.lines(0, k).split("\n"), gap, *table.lines(n - k, n).split("\n")]
    else:
        body = table.lines(0, n).split("\n")
    return [table.head, *body, class_rule(threshold, outputs.shape[1])]


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

"""tinygrad_hw.predictions: the predict table, aligned as if every cell were formatted first, without
formatting a million numbers twice (issue 22, defect 18)."""

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tinygrad_hw.predictions import PredictionTable, widest

_SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-4, 9.999995e-5, 0.0001, 99999.95, 999999.5, 1e6, 123456.0, 1e16, 1e-300]
_SPECIAL += [5e-324, 1.7976931348623157e308, 0.3, 9.9999995, 1e100, 1e-100, math.nan, math.inf, -math.inf]
_FLOATS = st.floats(width=64) | st.sampled_from(_SPECIAL) | st.integers(-(10**7), 10**7).map(float)
_DECIMALS = st.integers(-(10**6), 10**6).map(lambda k: k / 1000)


@given(st.lists(_FLOATS | _DECIMALS, max_size=50))
def test_widest_is_the_width_of_the_widest_formatted_number(values):
    column = np.array(values, dtype=float)
    assert widest(column) == max((len(f"{v:g}") for v in values), default=0)


def _reference(X, outputs, predicted, truth):
    """The table as the first predict wrote it: every cell formatted, then aligned."""
    head = [f"x{j + 1}" for j in range(X.shape[1])]
    head += ["output"] if outputs.shape[1] == 1 else [f"output{j + 1}" for j in range(outputs.shape[1])]
    head += ["class"] + ([] if truth is None else ["label", "right"])
    rows = [head]
    for k in range(len(X)):
        row = [f"{v:g}" for v in X[k]] + [f"{v:.6g}" for v in outputs[k]]
        row.append("none" if predicted[k] < 0 else str(predicted[k]))
        if truth is not None:
            row += [str(truth[k]), "✓" if truth[k] == predicted[k] else "✗"]
        rows.append(row)
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return ["  ".join(cell.rjust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]


@given(
    arrays(float, st.tuples(st.integers(1, 30), st.integers(1, 3)), elements=_FLOATS.filter(np.isfinite)),
    st.integers(1, 3),
    st.booleans(),
    st.data(),
)
def test_the_table_is_every_cell_formatted_then_aligned(X, nout, with_truth, data):
    n = len(X)
    outputs = data.draw(arrays(float, (n, nout), elements=_FLOATS))
    predicted = np.array(data.draw(st.lists(st.integers(-1, max(1, nout - 1)), min_size=n, max_size=n)))
    truth = np.array(data.draw(st.lists(st.integers(0, max(1, nout - 1)), min_size=n, max_size=n)))
    truth = truth if with_truth else None
    table = PredictionTable(X, outputs, predicted, truth)
    split = data.draw(st.integers(0, n))  # written in two blocks, as predict writes a long table
    body = [table.lines(0, split), table.lines(split, n)]
    lines = [table.head] + [line for block in body if block for line in block.split("\n")]
    assert lines == _reference(X, outputs, predicted, truth)

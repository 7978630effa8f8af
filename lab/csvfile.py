"""Rows of numbers from a CSV file (``tinygrad-hw predict --csv``): fast on a million rows,
and every problem one line naming the line and the cell.

The rules, the same however big the file:

* a UTF-8 byte order mark (Excel's "CSV UTF-8") is not part of the first cell;
* blank rows are skipped;
* the first row whose cells are all names (no cell reads as a number) is a header, and
  skipped; a first row with any cell that reads as a number is data, like any other row;
* every cell of a data row is a finite number, and every row has as many as the first;
* a file of a header alone (``x1;x2``: ``;`` is no separator here) is an error naming the
  header's line and what a row holds, numbers separated by commas.

A file of plain numbers is read by numpy (``np.loadtxt``); anything else, or any doubt,
goes through the :mod:`csv` module cell by cell, which reads what the rules accept and
names the first thing they refuse. Both read a number as Python's ``float`` does.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from tinygrad_hw.checks import counted

__all__ = ["Numbers", "read_numbers"]

BOM = b"\xef\xbb\xbf"
# The bytes of a file numpy may read: numbers in plain notation, commas, and white space
# Python's float also strips. Any other byte (a letter, a quote, a NUL) goes the careful way.
PLAIN = b"0123456789.eE+-, \t\r\n"
CHUNK_ROWS = 65_536  # rows gathered into one array at a time by the careful reader


@dataclass
class Numbers:
    """The data rows of a CSV file, as an (n, width) float array."""

    path: Path
    rows: np.ndarray

    def line(self, row: int) -> int:
        """The line of the file (counted as an editor counts them) that data row ``row`` is on."""
        for k, (line, _) in enumerate(_careful_rows(self.path)):
            if k == row:
                return line
        raise IndexError(row)


def read_numbers(path: Path, widths: Sequence[int], wanted: str) -> Numbers:
    """Every data row of ``path``: at least one, each of the same width, one of ``widths``
    (``wanted`` says what those are). Anything else is a ValueError of one line."""
    rows = _plain(path, widths)
    if rows is None:
        rows = _careful(path, widths, wanted)
    return Numbers(path, rows)


# -- the fast way: numpy, for a file of plain numbers --------------------------------------


def _plain(path: Path, widths: Sequence[int]) -> np.ndarray | None:
    """The rows, if the file is plain numbers (after an optional header) that need no
    message; None for anything else, which the careful reader then reads or refuses."""
    raw = path.read_bytes()
    start = len(BOM) if raw.startswith(BOM) else 0
    data = _after_header(raw, start)
    if data is None or len(raw.translate(None, PLAIN)) != len(raw[:data].translate(None, PLAIN)):
        return None  # a quoted header, or something in the numbers numpy and float might read differently
    stream = io.BytesIO(raw)
    stream.seek(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data": the careful reader says it better
            rows = np.loadtxt(io.TextIOWrapper(stream, "ascii"), delimiter=",", comments=None, ndmin=2, dtype=float)
    except ValueError:  # a row of another width, an empty cell, "1 2": the careful reader names it
        return None
    if len(rows) == 0 or rows.shape[1] not in widths or not np.isfinite(rows).all():
        return None
    return rows


def _after_header(raw: bytes, start: int) -> int | None:
    """Where the data begins: after the blank lines and the header, if the first row that is
    not blank is a header on one line; None when that is not plain (a quote, a lone ``\\r``)."""
    while start < len(raw):
        end = raw.find(b"\n", start)
        end = len(raw) if end < 0 else end + 1
        line = raw[start:end]
        if b'"' in line or b"\r" in line.removesuffix(b"\r\n"):
            return None
        try:
            cells = next(csv.reader([line.decode("utf-8")]), [])
        except (UnicodeDecodeError, csv.Error):
            return None
        if any(c.strip() for c in cells):
            return end if _is_header(cells) else start
        start = end
    return start


# -- the careful way: the csv module, cell by cell -----------------------------------------


def _careful(path: Path, widths: Sequence[int], wanted: str) -> np.ndarray:
    """Every data row, gathered a chunk at a time; or the first problem, as one line."""
    chunks: list[np.ndarray] = []
    pending: list[list[float]] = []
    width = None
    for line, numbers in _careful_rows(path):
        if width is None:
            width = len(numbers)
        if len(numbers) != width or width not in widths:
            raise ValueError(f"{path}, line {line}: {counted(len(numbers), 'number')} where every row needs {wanted}")
        pending.append(numbers)
        if len(pending) == CHUNK_ROWS:
            chunks.append(np.array(pending, dtype=float))
            pending = []
    if width is None:
        raise ValueError(_no_rows(path, wanted))
    chunks.append(np.array(pending, dtype=float).reshape(-1, width))
    return np.concatenate(chunks)


def _no_rows(path: Path, wanted: str) -> str:
    """Why a file has no data rows, in one line: a header alone (its line named), or
    nothing; and what a row must hold, so that a file written with ``;`` or tabs (one
    cell of names per row) shows what to change."""
    needs = f"each row needs {wanted} numbers, separated by commas"
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        for cells in reader:
            if any(c.strip() for c in cells):
                return f"{path}, line {reader.line_num}: a header and no data rows after it; {needs}"
    return f"{path}: no rows of numbers (the file is empty or blank); {needs}"


def _careful_rows(path: Path) -> Iterator[tuple[int, list[float]]]:
    """(line, numbers) for each data row, in order; the first cell that is not a finite
    number is a ValueError naming its line and column."""
    first = True
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            for cells in reader:
                if not any(c.strip() for c in cells):
                    continue
                if first and _is_header(cells):
                    first = False
                    continue
                numbers = [_finite(c) for c in cells]
                if None in numbers:
                    column = numbers.index(None)
                    hint = "; a header row holds names only" if first else ""
                    raise ValueError(
                        f"{path}, line {reader.line_num}: {cells[column].strip()!r} is not a finite number "
                        f"(column {column + 1}{hint})"
                    )
                first = False
                yield reader.line_num, numbers  # type: ignore[misc]
    except (UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"{path}: not a CSV text file ({error})") from None


def _is_header(cells: Sequence[str]) -> bool:
    """A row of names: no cell reads as a number (not even ``nan`` or ``1e999``)."""
    return not any(_reads_as_number(c) for c in cells)


def _reads_as_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _finite(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None

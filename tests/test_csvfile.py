"""lab.csvfile: a CSV file's rows of numbers, its header and BOM, and one line per problem
(issue 22, defects 1 and 18)."""

import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lab.cli import main
from lab.csvfile import _careful, read_numbers
from tinygrad_hw.nn import MLP
from tinygrad_hw.serialize import save

WANTED = "2 (inputs) or 3 (inputs, then targets)"
DATA = "0,1,1\n1,1,0\n"


def _read(path):
    return read_numbers(path, (2, 3), WANTED).rows


def _careful_read(path):
    return _careful(path, (2, 3), WANTED)


@pytest.fixture
def model_file(tmp_path):
    save(MLP(2, [3, 1], seed=7), tmp_path / "net.json")
    return tmp_path / "net.json"


@pytest.mark.parametrize("text", ["x1,x2,label\n", "\ufeff\n\nx1;x2;label\r\n\n", "x1\tx2\n"])
def test_a_header_alone_is_one_line_naming_its_line_and_the_separator(tmp_path, text):
    # Before: "data.csv: no rows of numbers", with no line and no word of what a row holds.
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    line = text.lstrip("\ufeff").split("x1")[0].count("\n") + 1
    for read in (_read, _careful_read):
        with pytest.raises(ValueError) as caught:
            read(path)
        needs = f"each row needs {WANTED} numbers, separated by commas"
        assert str(caught.value) == f"{path}, line {line}: a header and no data rows after it; {needs}"


def test_a_byte_order_mark_is_not_part_of_the_first_cell(tmp_path):
    # Before: Excel's "CSV UTF-8" first row was taken for a header and dropped, silently.
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    assert _read(path).tolist() == [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]]
    path.write_bytes(b"\xef\xbb\xbfx1,x2,target\n0,1,1\n")
    assert _read(path).tolist() == [[0, 1, 1]]


def test_the_bom_file_of_the_issue_counts_four_rows(model_file, tmp_path, capsys):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    assert main(["predict", "--model", str(model_file), "--csv", str(path)]) == 0
    assert "of 4)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "first",
    ["nan,0,0", "inf,0,0", "0,1e309,0", "0,0,0,", "0\x00,0,0", "0x1,0,0", "0,O,1", "x1,0,1", "0,,1", "-nan,1,1"],
    ids=repr,
)
def test_a_first_row_that_is_neither_names_nor_numbers_is_one_line_naming_it(model_file, tmp_path, capsys, first):
    # Before: each of these first rows was dropped as a header, silently; on line 2 it was an error.
    path = tmp_path / "data.csv"
    path.write_text(first + "\n" + DATA)
    assert main(["predict", "--model", str(model_file), "--csv", str(path)]) == 1
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1 and "data.csv, line 1: " in error and "Traceback" not in error
    assert "column" in error


@pytest.mark.parametrize("header", ["x1,x2,target", "x1,,target", "a", '"x, 1",x2,"y"', " x1 , x2 , y "], ids=repr)
def test_a_first_row_of_names_only_is_a_header(tmp_path, header):
    path = tmp_path / "data.csv"
    path.write_text("\n" + header + "\n" + DATA)
    assert _read(path).tolist() == [[0, 1, 1], [1, 1, 0]]


def test_a_second_row_of_names_is_an_error_not_a_header(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("x1,x2\nx1,x2\n0,1\n")
    with pytest.raises(ValueError, match=r"data.csv, line 2: 'x1' is not a finite number \(column 1\)"):
        _read(path)


# -- the fast reader and the careful one agree ----------------------------------------------

_NAMES = st.sampled_from(["x1", "x2", "target", "y", "label", "", " ", "a b", "é", "NaNa", "1x", "e", "."])
_NUMBERS = st.floats(allow_nan=False, allow_infinity=False).map(repr) | st.integers(-9, 9).map(str)
_ODD = st.sampled_from(["nan", "inf", "-inf", "1e309", "0x1", "1_0", "\x00", "", "1 2", "１", "+-1", "NaN"])
_CELLS = st.lists(st.one_of(_NAMES, _NUMBERS, _ODD), min_size=1, max_size=4)


def _reads(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _finite(cell: str) -> bool:
    return _reads(cell) and math.isfinite(float(cell))


@given(cells=_CELLS, bom=st.booleans(), blank_lines=st.integers(0, 2), newline=st.sampled_from(["\n", "\r\n"]))
def test_any_first_row_is_data_a_header_or_one_line_naming_it(cells, bom, blank_lines, newline):
    """The fuzzer of first rows: numbers are data, names only a header, anything else an
    error naming line 1 -- never a row dropped silently."""
    first = ",".join(c.replace("\n", " ").replace('"', "") for c in cells)
    rows = [[0.5, -1.0, 1.0], [2.0, 3.0, 0.0]][: 2 if len(cells) == 3 else 0]
    data = "".join(",".join(map(repr, r)) + newline for r in rows)
    text = newline * blank_lines + first + newline + data
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
        fields = first.split(",")
        line = blank_lines + 1
        if not any(f.strip() for f in fields):  # a blank first row: the next one is first
            return
        outcomes = []
        for read in (_read, _careful_read):
            try:
                outcomes.append(("rows", read(path).tolist()))
            except ValueError as error:
                assert "\n" not in str(error)
                outcomes.append(("error", str(error)))
        assert outcomes[0] == outcomes[1]  # numpy's way and the careful way read alike
        kind, got = outcomes[0]
        if not any(_reads(f) for f in fields):  # a header
            header_only = f"{path}, line {line}: a header and no data rows after it; each row needs {WANTED} numbers"
            assert (kind, got[: len(header_only)]) == (("rows", rows) if rows else ("error", header_only))
        elif all(_finite(f) for f in fields) and len(fields) in (2, 3):
            if len(fields) == 3 or not rows:
                assert kind == "rows" and got[0] == [float(f) for f in fields] and got[1:] == rows
        else:
            assert kind == "error" and f", line {line}: " in got


@given(
    st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=3, max_size=3), min_size=1)
)
def test_numbers_round_trip_exactly_through_either_reader(rows):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        path.write_text("x1,x2,y\n" + "".join(",".join(map(repr, r)) + "\n" for r in rows))
        assert _read(path).tolist() == rows
        assert _careful_read(path).tolist() == rows


def test_a_big_file_is_read_by_numpy_not_cell_by_cell(tmp_path, monkeypatch):
    import lab.csvfile as csvfile

    path = tmp_path / "big.csv"
    X = np.random.default_rng(0).random((5000, 3))
    path.write_text("x1,x2,y\n" + "".join(f"{a!r},{b!r},{c!r}\n" for a, b, c in X.tolist()))
    monkeypatch.setattr(csvfile, "_careful", lambda *a: pytest.fail("read cell by cell"))
    assert np.array_equal(_read(path), X)


def test_a_problem_deep_in_a_big_file_names_its_line(tmp_path):
    path = tmp_path / "big.csv"
    lines = ["x1,x2,y"] + ["0.25,0.5,1"] * 3000
    lines[2500] = "0.25,0.5,1e400"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"big.csv, line 2501: '1e400' is not a finite number \(column 3\)"):
        _read(path)

"""tinygrad-hw grade: the gradebook, feedback that shows only visible checks, Gradescope's
results format, the class page; the same grades on every run, with local processes or
on a Dask cluster; rubric errors named in one line."""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import pytest
from homework_helpers import CLASS, RIGHT, plant, write
from optional import need

from lab.cli import main
from lab.homework.rubric import CheckRule, Rubric, RubricError, load_rubric

RUBRIC = """
seed = 5
[checks.d_sub]
points = 3
visible = false
[checks.d_sigmoid]
points = 2
"""


@pytest.fixture(scope="module")
def small_class(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    write(folder, "ada.py", RIGHT["local"])
    plant(folder, "local", "brian", ("return 1.0, -1.0", "return 1.0, 1.0"))
    write(folder, "victor.py", RIGHT["local"].replace("def d_tanh(x):", "def d_tanh(x)"))
    rubric = write(folder.parent, "rubric.toml", RUBRIC)
    return folder, rubric


def grade(folder: Path, rubric: Path, out: Path, *more: str) -> None:
    args = ["grade", str(folder), "--exercise", "local", "--rubric", str(rubric), "--out", str(out), *more]
    assert main(args) == 0


def test_gradebook_feedback_results_and_class_page(small_class, tmp_path, capsys):
    folder, rubric = small_class
    grade(folder, rubric, tmp_path)
    rows = list(csv.DictReader((tmp_path / "gradebook.csv").open()))
    assert list(rows[0])[:3] == ["student", "score", "max_score"] and "d_sub" in rows[0]
    scores = {r["student"]: (r["score"], r["max_score"], r["d_sub"], r["d_sigmoid"]) for r in rows}
    assert scores == {"ada": ("12", "12", "3", "2"), "brian": ("9", "12", "0", "2"), "victor": ("0", "12", "0", "0")}

    brian = (tmp_path / "feedback" / "brian.md").read_text()
    assert "d_sub" not in brian and "1 more check is graded but not shown here" in brian
    victor = (tmp_path / "feedback" / "victor.md").read_text()
    assert "SyntaxError" in victor and "victor.py, line" in victor

    results = json.loads((tmp_path / "results" / "brian.json").read_text())
    assert results["score"] == 9 and len(results["tests"]) == 9
    sub = next(t for t in results["tests"] if t["name"] == "d_sub")
    assert sub == {**sub, "score": 0, "max_score": 3, "status": "failed", "visibility": "hidden"}
    assert sum(t["score"] for t in results["tests"]) == results["score"]
    assert "sub-sign" in sub["output"]

    page = (tmp_path / "index.html").read_text()
    assert 'data-mistake="sub-sign" data-count="1"' in page
    assert 'data-bin="9" data-count="1"' in page and 'data-bin="0" data-count="1"' in page
    assert "Sandbox: " in page and "network: " in page
    assert "Graded 3 submissions" in capsys.readouterr().out


def test_the_same_grades_on_every_run_and_with_more_processes(small_class, tmp_path):
    folder, rubric = small_class
    grade(folder, rubric, tmp_path / "one")
    grade(folder, rubric, tmp_path / "two", "--jobs", "2")
    for name in ("gradebook.csv", "feedback/brian.md", "results/brian.json", "index.html"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


def test_hidden_checks_get_a_seeded_variant_per_student():
    rubric = Rubric("local", seed=5, checks={"d_sub": CheckRule(3.0, visible=False)})
    assert rubric.seed_for("d_sigmoid", "ada") == rubric.seed_for("d_sigmoid", "brian") == 5
    assert rubric.seed_for("d_sub", "ada") != rubric.seed_for("d_sub", "brian")
    assert rubric.seed_for("d_sub", "ada") == rubric.seed_for("d_sub", "ada")


@pytest.mark.parametrize(
    "text, words",
    [
        ("[checks.d_sbu]\npoints = 1\n", "unknown 'd_sbu'"),
        ("[limits]\nmemory_mb = -5\n", "memory_mb must be a positive number"),
        ("[limits]\nprocesses = 2.5\n", "processes must be a whole number"),
        # past these the OS's calls overflow: a traceback, or every submission failed alike
        ("[limits]\ncall_seconds = 1e300\n", "call_seconds must be at most 86400, not 1e+300"),
        ("[limits]\nmemory_mb = 1e30\n", "memory_mb must be at most 1073741824, not 1e+30"),
        # each finite, their sum inf: scores of inf, "Infinity" in the JSON, then a crash
        ("[checks.d_sub]\npoints = 1e308\n[checks.d_sigmoid]\npoints = 1e308\n", "the points add up to inf"),
        ("exercise = 'network'\n", "for exercise 'network', not 'local'"),
        ("seed = 'x'\n", "seed must be a whole number"),
        ("[checks.d_sub]\nvisible = 'no'\n", "visible is true or false"),
        ("points = [", "not TOML"),
    ],
)
def test_a_bad_rubric_is_named_in_one_line(tmp_path, capsys, text, words):
    path = write(tmp_path, "rubric.toml", text)
    with pytest.raises(RubricError, match=re.escape(words)):
        load_rubric(path, "local", ["d_sub", "d_sigmoid"])
    assert (
        main(["grade", str(CLASS / "local"), "--exercise", "local", "--rubric", str(path), "--out", str(tmp_path)]) == 2
    )
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and words in err


EXPECTED = {  # the example class: (score out of 10, mistakes named)
    "ada": (10, set()),
    "alan": (10, set()),
    "linus": (10, set()),
    "barbara": (5, {"z-for-a"}),
    "claude": (2, {"wrong-layer-input"}),
    "donald": (5, {"upstream-missing"}),
    "edsger": (2, {"mse-missing-2"}),
    "frances": (2, {"bias-gradient-missing"}),
    "grace": (2, {"sigmoid-misprint"}),
    "john": (2, {"transposed-weights"}),
    "eve": (0, set()),
    "mallory": (0, set()),
    "oscar": (0, set()),
    "trudy": (0, set()),
    "victor": (0, set()),
}


def _graded_example_class(out: Path, *more: str) -> dict[str, tuple[float, set[str]]]:
    rubric = CLASS / "network.toml"
    args = ["grade", str(CLASS / "network"), "--exercise", "network", "--rubric", str(rubric), "--out", str(out)]
    assert main([*args, *more]) == 0
    found = {}
    for path in sorted((out / "results").glob("*.json")):
        results = json.loads(path.read_text())
        mistakes = {m for t in results["tests"] for m in [_mistake(t["output"])] if m}
        found[path.stem] = (results["score"], mistakes)
    return found


def _mistake(output: str) -> str | None:
    for line in output.splitlines():
        if line.startswith("- **Mistake:** `"):
            return line.split("`")[1]
    return None


@pytest.mark.slow
def test_the_example_class(tmp_path):
    """examples/class/network: right solutions full marks, each mistake named, every
    hostile submission zero, as CI grades it."""
    assert _graded_example_class(tmp_path, "--jobs", "2") == EXPECTED


@pytest.mark.slow
def test_dask_grades_the_same_as_local_processes(small_class, tmp_path):
    try:
        from dask.distributed import LocalCluster
    except ImportError:
        need("Dask is missing: pip install -e '.[dask]' (make test does it)")
    folder, rubric = small_class
    grade(folder, rubric, tmp_path / "local", "--jobs", "2")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        grade(folder, rubric, tmp_path / "dask", "--scheduler", cluster.scheduler_address)
    for name in ("gradebook.csv", "results/brian.json", "feedback/victor.md", "index.html"):
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes(), name


def test_without_dask_a_scheduler_is_one_line(small_class, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)  # import dask fails, installed or not
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    folder, _ = small_class
    args = ["grade", str(folder), "--exercise", "local", "--out", str(tmp_path), "--scheduler", "tcp://127.0.0.1:1"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "pip install 'tinygrad-hw[dask]'" in err


def test_feedback_says_minimal_case_once():
    from lab.homework.grade import feedback
    from lab.homework.graded import Graded

    result = {"name": "d_sub", "passed": False, "reason": "wrong value", "case": {"a": 0.0, "b": 0.0}, "mistake": None}
    graded = Graded(
        "brian", "local", 0, 1, [{"name": "d_sub", "points": 0, "max_points": 1, "visible": True, "result": result}]
    )
    assert "- **Minimal case:** a = 0, b = 0\n" in feedback(graded)  # it was "**Minimal case:** case: a = 0, b = 0"


def test_grading_again_into_the_class_folder_grades_the_same_students(small_class, tmp_path):
    """`grade . --out grades` from the class's folder: the second run took the first's
    output folder for a student's submission, and graded 'grades' 0 out of 12."""
    import shutil

    folder = tmp_path / "class"
    shutil.copytree(small_class[0], folder)
    out = folder / "grades"
    for _ in range(2):
        assert main(["grade", str(folder), "--exercise", "local", "--out", str(out)]) == 0
    students = [row["student"] for row in csv.DictReader((out / "gradebook.csv").open())]
    assert students == ["ada", "brian", "victor"]


def test_file_names_not_utf8_or_with_control_characters_are_graded_and_shown_escaped(tmp_path, capsys):
    # Before: "caf\xe9.py" (Latin-1 bytes) stopped the gradebook with "surrogates not allowed",
    # and "e\x1b[2Jvil.py" cleared the teacher's screen with its progress line.
    import os
    import re

    folder = os.fsencode(tmp_path / "class")
    os.mkdir(folder)
    for name in (b"caf\xe9.py", b"e\x1b[2Jvil.py"):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(RIGHT["local"].encode())
    os.mkdir(os.path.join(folder, b"\xff\x1b]0;x\x07"))  # a folder with no .py file: ungradable, named
    out = tmp_path / "out"
    assert main(["grade", os.fsdecode(folder), "--exercise", "local", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    raw = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
    students = [row["student"] for row in csv.DictReader((out / "gradebook.csv").open(encoding="utf-8"))]
    assert students == ["\\xff\\x1b]0;x\\x07", "caf\\xe9", "e\\x1b[2Jvil"]
    assert "caf\\xe9: 9 / 9" in printed and "e\\x1b[2Jvil: 9 / 9" in printed and not raw.search(printed)
    assert sorted(p.name for p in (out / "feedback").iterdir()) == sorted(f"{s}.md" for s in students)
    unreadable = (out / "feedback" / "\\xff\\x1b]0;x\\x07.md").read_text(encoding="utf-8")
    assert "no .py file in it" in unreadable and "\\xff\\x1b]0;x\\x07: no .py" in unreadable
    for path in [
        out / "gradebook.csv",
        out / "index.html",
        *(out / "feedback").iterdir(),
        *(out / "results").iterdir(),
    ]:
        assert not raw.search(path.read_text(encoding="utf-8")), path


@pytest.mark.parametrize("name", ['=HYPERLINK("http:x","y")', "+1+cmd", "-2+3", "@SUM(A1)", "\tx"])
def test_a_name_that_starts_a_formula_is_written_as_text_in_the_gradebook(name):
    # Before: a student's file "=HYPERLINK(...).py" put a live formula into the teacher's spreadsheet.
    from lab.homework.grade import gradebook
    from lab.homework.graded import Graded

    checks = [{"name": "d_sub", "points": 1, "max_points": 1, "visible": True, "result": {"passed": True}}]
    rows = list(
        csv.reader(
            gradebook([Graded(name, "local", 1, 1, checks), Graded("ada", "local", 1, 1, checks)], "local").splitlines()
        )
    )
    assert [r[0] for r in rows] == ["student", "'" + name, "ada"] and rows[1][1:3] == ["1", "1"]

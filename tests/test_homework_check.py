"""check(): the report in text, HTML and JSON, the same every run; the commands'
exit codes and one-line errors; skeletons that give nothing away; --page's marks."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys

import pytest
from homework_helpers import CLASS, RIGHT, plant, write

from lab.cli import main
from lab.homework import check
from lab.homework.exercises import EXERCISES, skeleton, write_skeleton


def run(*args: str) -> subprocess.CompletedProcess:
    """``tinygrad-hw ARGS`` in this process (the imports are paid once), as a subprocess would report it."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def test_the_command_end_to_end():
    done = subprocess.run(
        [sys.executable, "-m", "lab.cli", "check", str(CLASS / "local" / "ada.py"), "--exercise", "local"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and "all checks pass" in done.stdout, done.stderr


def test_a_right_file_passes_and_exits_0():
    done = run("check", str(CLASS / "local" / "ada.py"), "--exercise", "local")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all checks pass" in done.stdout and done.stdout.count("✓") == 9
    assert "Sandbox: network" in done.stdout


def test_a_wrong_file_exits_1_with_json_of_every_check(tmp_path):
    path = plant(tmp_path, "local", "brian", ("return 1.0, -1.0", "return 1.0, 1.0"))
    done = run("check", str(path), "--exercise", "local", "--json")
    assert done.returncode == 1
    checks = json.loads(done.stdout)
    assert [c["name"] for c in checks] == [f.name for f in EXERCISES["local"].functions]
    for c in checks:
        assert {"name", "passed", "case", "expected", "got", "mistake"} <= set(c)
    sub = next(c for c in checks if c["name"] == "d_sub")
    assert sub == {**sub, "passed": False, "mistake": "sub-sign", "case": {"a": 0.0, "b": 0.0}}
    assert sub["expected"] == [1.0, -1.0] and sub["got"] == [1.0, 1.0]
    assert all(c["passed"] and c["mistake"] is None for c in checks if c["name"] != "d_sub")


@pytest.mark.parametrize(
    "args",
    [
        ["check", "nowhere.py", "--exercise", "local"],
        ["check", "README.md"],
        ["check", "README.md", "--exercise", "homework"],
        ["grade", "examples/class/network", "--exercise", "network"],
        ["exercise", "start", "calculus"],
        ["exercise"],
    ],
)
def test_usage_errors_exit_2_with_one_line(args):
    done = run(*args)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("tinygrad-hw")


def test_a_folder_without_its_main_file_is_a_usage_error(tmp_path):
    write(tmp_path, "one.py", RIGHT["local"])
    write(tmp_path, "two.py", RIGHT["local"])
    done = run("check", str(tmp_path), "--exercise", "local")
    assert done.returncode == 2 and "name the main one local.py" in done.stderr


@pytest.mark.parametrize("args", [["exercise"], ["check"], ["grade"]])
def test_help(args):
    done = run(*args, "--help")
    assert done.returncode == 0 and "usage: tinygrad-hw" in done.stdout


def test_what_the_student_printed_is_kept_and_nothing_else(tmp_path):
    assert check(CLASS / "local" / "ada.py", "local").printed == ""  # no word of the sandbox's own
    report = check(write(tmp_path, "talk.py", "print('hello from the student')\n" + RIGHT["local"]), "local")
    assert report.passed and report.printed == "hello from the student\n"
    assert "It printed: hello from the student" in str(report)


def test_the_report_is_the_same_on_every_run(tmp_path):
    path = plant(tmp_path, "local", "dennis", ("return c * a ** (c - 1)", "return c * a**c"))
    first, second = check(path, "local"), check(path, "local")
    assert first.to_json() == second.to_json() and not first.passed
    assert check(path, "local", seed=7).to_json() != first.to_json()  # another seed, other cases


def test_text_and_html_show_the_minimal_case_and_escape_what_the_student_wrote(tmp_path):
    source = RIGHT["local"].replace("return math.exp(x)", "raise ValueError('<script>alert(1)</script>')")
    report = check(write(tmp_path, "x.py", source), "local")
    text, page = str(report), report._repr_html_()
    assert "✗ d_exp" in text and "ValueError: <script>" in text and "x.py, line" in text
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_control_characters_from_the_submission_never_reach_the_terminal(tmp_path):
    """ESC, BEL, CR and a bidi override in what a submission prints, raises and is named:
    written out (\\x1b, \\u202e) in the text, the JSON and the feedback, never sent raw."""
    from lab.homework.grade import _graded, feedback, gradescope
    from lab.homework.rubric import Rubric

    hostile = "\x1b[2J\x1b]0;pwned\x07\u202eevil\rover"
    source = f"print({hostile!r})\n" + RIGHT["local"].replace("return math.exp(x)", f"raise ValueError({hostile!r})")
    path = write(tmp_path, "ctl\x1b[31m.py", source)
    text = run("check", str(path), "--exercise", "local")
    as_json = run("check", str(path), "--exercise", "local", "--json")
    assert text.returncode == as_json.returncode == 1
    report = check(path, "local")
    graded = _graded("ctl", "local", Rubric("local"), report.results, report.sandbox)
    decoded = [
        json.dumps(json.loads(as_json.stdout), ensure_ascii=False),
        json.dumps(gradescope(graded), ensure_ascii=False),
    ]
    for out in [text.stdout, as_json.stdout, feedback(graded), *decoded]:
        assert not CONTROLS.search(out), out
    assert "ValueError: \\x1b[2J\\x1b]0;pwned\\x07\\u202eevil" in text.stdout
    assert (
        "It printed: \\x1b[2J\\x1b]0;pwned\\x07\\u202eevil\\x0dover" in text.stdout
        and "ctl\\x1b[31m.py, exercise local" in text.stdout
    )
    (exp,) = [c for c in json.loads(as_json.stdout) if c["name"] == "d_exp"]
    assert exp["reason"].startswith("ValueError: \\x1b[2J\\x1b]0;pwned\\x07\\u202eevil")


def test_a_skeleton_gives_nothing_away_and_fails_as_not_written(tmp_path):
    for name, ex in EXERCISES.items():
        text = skeleton(name)
        compile(text, name, "exec")
        assert text.count("TODO") == len(ex.functions)
        assert not re.search(r"\(1 - |1\.0 - |\.T\b|outer|\*\* \(c - 1\)|-a /", text)
        report = check(write(tmp_path, f"{name}.py", text), name)
        assert all(
            r.reason == "not written yet (it raises NotImplementedError)" and r.case is None for r in report.results
        )


def test_start_never_replaces_a_file_without_being_told(tmp_path):
    done = run("exercise", "start", "network", "--out", str(tmp_path))
    assert done.returncode == 0 and (tmp_path / "network.py").read_text() == skeleton("network")
    (tmp_path / "network.py").write_text("my work")
    done = run("exercise", "start", "network", "--out", str(tmp_path))
    assert done.returncode == 1 and "--force" in done.stderr and (tmp_path / "network.py").read_text() == "my work"
    path, replaced = write_skeleton("network", tmp_path, force=True)
    assert replaced and path.read_text() == skeleton("network")
    done = run("exercise", "list")
    assert done.returncode == 0 and all(name in done.stdout for name in EXERCISES)


def test_page_marks_the_wrong_edge_and_the_wrong_units(tmp_path, graphviz_dot):
    brian = plant(tmp_path, "local", "brian", ("return 1.0, -1.0", "return 1.0, 1.0"))
    report = check(brian, "local", page=tmp_path / "pages")
    assert [p.name for p in report.pages] == ["d_sub.html"]
    marks = _marks(report.pages[0].read_text())
    assert marks == [{"node": marks[0]["node"], "edge": marks[0]["edge"], "text": "∂out/∂b: yours 1, right -1"}]
    donald = plant(
        tmp_path,
        "network",
        "donald",
        ("delta = a[l] * (1 - a[l]) * (weights[l][:, :-1].T @ delta)", "delta = a[l] * (1 - a[l])"),
    )
    report = check(donald, "network", page=tmp_path / "pages")
    page = (tmp_path / "pages" / "backward-hidden.html").read_text()
    marks = _marks(page)
    assert marks and all(m["text"].startswith("∂C/∂z: yours 0.25, right") and "edge" not in m for m in marks)
    titles = [step["title"] for step in _data(page)["steps"]]
    assert "a2[0] − y = a2[0] − 0" in titles and "C = (a2[0] − y)^2" in titles
    assert not any(re.search(r"\bv\d+\b", title) for title in titles)  # every node named (not v9)


def _data(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S).group(1))


def _marks(page: str) -> list[dict]:
    return _data(page)["marks"]


def test_a_hang_is_shown_on_the_case_it_hung_on(tmp_path):
    from lab.homework.protocol import Limits

    source = RIGHT["local"].replace("    return math.exp(x)", "    while True:\n        pass")
    report = check(write(tmp_path, "hang.py", source), "local", limits=Limits(call_seconds=1))
    failed = [r for r in report.results if not r.passed]
    assert [r.name for r in failed] == ["d_exp"] and failed[0].stopped and failed[0].case == {"x": 0.0}
    assert re.search(
        r"✗ d_exp +did not return within 1 s \(an endless loop\?\) on the case below \(not called again", str(report)
    )


FLOAT32 = {
    "local": ("s = 1.0 / (1.0 + math.exp(-x))", "s = float(np.float32(1.0) / (1 + np.exp(np.float32(-x))))"),
    "network": ("a = activations", "a = [np.float32(v) for v in activations]"),
}


@pytest.mark.parametrize("exercise", ["local", pytest.param("network", marks=pytest.mark.slow)])
def test_a_float32_answer_is_called_nearly_right_not_a_wrong_formula(tmp_path, exercise):
    """Right formulas in float32 miss 1e-6 by a hair: the report said 'wrong gradients'
    and, for network, that ∂C/∂W 'is not ∂C/∂z times the layer's input', which is false."""
    change = FLOAT32[exercise]
    path = plant(tmp_path, exercise, "single", change, ("import ", "import numpy as np\nimport "))
    failed = [r for r in check(path, exercise).results if not r.passed]
    assert failed
    for r in failed:
        assert r.reason.startswith("off by only ") and "float32" in r.reason, r.reason
        assert r.where == "" and r.mistake is None and r.relative_error < 1e-4


def test_the_other_commands_do_not_import_the_checker():
    """`tinygrad-hw COMMAND` imports lab.homework.cli to list the homework's commands; the
    package's __init__ imported the checker with it (hypothesis: 0.24 s of 0.42 s)."""
    code = "import sys, lab.cli; print(sorted(m for m in ('hypothesis', 'lab.homework.checks') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr
    from lab.homework import CheckReport, check  # still there, on first use

    assert callable(check) and CheckReport.__name__ == "CheckReport"


TORCH_LOADED = """
import sys
from lab.homework import check
report = check(sys.argv[1], sys.argv[2])
print(report.passed, "torch" in sys.modules, report.oracles)
"""


@pytest.mark.parametrize(
    "path, loaded", [(CLASS / "local" / "ada.py", "False"), (CLASS / "local" / "brian.py", "True")]
)
def test_pytorch_is_consulted_on_each_failing_case_and_only_then(path, loaded):
    """Importing PyTorch was a second of every check's (cold) 2.4 s of CPU; it guards the
    verdicts that cost points, so it is imported when a case fails (central differences
    check every case)."""
    pytest.importorskip("torch")
    done = subprocess.run([sys.executable, "-c", TORCH_LOADED, str(path), "local"], capture_output=True, text=True)
    passed, imported, oracles = done.stdout.split(maxsplit=2)
    assert imported == loaded and passed == str(loaded == "False"), done.stderr
    assert "PyTorch (each failing case)" in oracles


def test_oracles_that_disagree_stop_the_grader_not_the_student(monkeypatch):
    """A wrong engine answer is an OracleError (the grader's bug), caught by central
    differences on every case, and by PyTorch on the cases that fail."""
    from lab.homework import oracles

    right = oracles._local_engine
    monkeypatch.setattr(oracles, "_local_engine", lambda f, args: tuple(v + 1e-3 for v in right(f, args)))
    with pytest.raises(oracles.OracleError, match="the engine and central differences disagree"):
        oracles.local_answer("d_tanh", (0.5,))
    monkeypatch.setattr(oracles, "_local_differences", lambda f, args: tuple(v + 1e-3 for v in right(f, args)))
    assert oracles.local_answer("d_tanh", (0.5,))[0] == pytest.approx(right("d_tanh", (0.5,))[0] + 1e-3)
    if oracles.torch_available():
        with pytest.raises(oracles.OracleError, match="the engine and PyTorch disagree"):
            oracles.confirm_local("d_tanh", (0.5,))

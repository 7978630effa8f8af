"""tinygrad-hw report, end to end: every figure exists, the original's numbers sit beside
ours, diverged runs are shown as such, and the tables hold the saved runs' numbers.
(The words against constructed numbers: tests/test_findings.py.)"""

import dataclasses
import json
import multiprocessing
import re
import shutil
import xml.etree.ElementTree as ET

import pytest

from lab import original
from lab.cli import main
from lab.evidence import Spread, Summary
from lab.findings import NOT_JUDGED
from lab.runs import run_one


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    assert main(["report", "--out", str(out), "--quick", "--no-progress"]) == 0
    return out, (out / "report.md").read_text()


def _table_row(text, starts):
    return [cell.strip() for cell in next(line for line in text.splitlines() if line.startswith(starts)).split("|")]


def test_every_figure_the_report_shows_exists(quick_report):
    out, text = quick_report
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    # results: a boundary and curves per data set, one graph; discussion: 2 per experiment
    assert sorted(figures) == sorted(
        ["figures/linear_boundary.png", "figures/linear_learning_curve.png", "figures/xor_boundary.png"]
        + ["figures/xor_learning_curve.png", "figures/xor_graph.svg"]
        + [
            f"figures/{k}_{kind}.png"
            for k in ("learning_rate", "hidden_units", "no_activation", "optimizer", "activation")
            for kind in ("curves", "accuracy")
        ]
    )
    for name in figures:
        assert (out / name).stat().st_size > 1000, name
    graph = ET.parse(out / "figures/xor_graph.svg").getroot()
    texts = [e.text for e in graph.iter("{http://www.w3.org/2000/svg}text") if e.text]
    for neuron in ("z1[8]", "a1[8]", "z2[8]", "a2[8]"):  # every neuron of the 2-8-8-1 net, with its numbers
        assert neuron in texts and texts[texts.index(neuron) + 2].startswith("grad "), neuron


def test_the_xor_predictions_sit_beside_the_reports_on_the_same_points(quick_report):
    _, text = quick_report
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()]
    rows = [c for c in cells if len(c) == 6 and re.fullmatch(r"\d\.\d\d", c[0])]
    assert len(rows) == 21
    for (_, _, label, report, here, right), theirs in zip(rows, original.XOR_OUTPUTS):
        assert float(report) == round(theirs, 4)
        assert right == ("✓" if (float(here) > 0.5) == (label == "1") else "✗")
    assert _table_row(text, "| accuracy | 100.0 % |")  # the report's accuracy, beside ours


def test_the_run_without_activation_is_reported_as_diverged(quick_report):
    out, text = quick_report
    row = _table_row(text, "| no activation |")
    assert row[3] == "– (every run diverged)" and row[-2].startswith("**3 of 3**")
    assert original.NO_ACTIVATION_LOG[0] in text and "Stopped at epoch" in text and "Traceback" not in text
    saved = json.loads((out / "runs" / "no_activation_no_activation_seed1.json").read_text())
    assert saved["diverged_at"] is not None and len(saved["loss"]) == saved["diverged_at"]


def test_the_tables_hold_the_saved_runs_numbers(quick_report):
    out, text = quick_report
    for plan, label in [("learning_rate", "lr 1"), ("hidden_units", "8 units"), ("optimizer", "Adam, lr 0.01")]:
        saved = [json.loads(p.read_text()) for p in sorted((out / "runs").glob(f"{plan}_{_slug(label)}_seed*.json"))]
        assert len(saved) == 3
        accuracy = Summary.of([r["accuracy"] for r in saved]).text(".1f", 100, " %")
        final = Spread.of([r["loss"][-1] for r in saved]).text()
        row = _table_row(text, f"| {label} |")
        assert (row[3], row[4]) == (accuracy, final), label


def _slug(label):
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def test_a_quick_report_states_its_numbers_and_judges_nothing(quick_report):
    out, text = quick_report
    claims = [line for line in text.splitlines() if line.startswith("| “")]
    assert len(claims) == 1 + 3 + 3 + 1  # results, learning rates, hidden units, no activation
    assert all(line.endswith(f"| {NOT_JUDGED} |") for line in claims)
    assert text.count("The report has no such experiment. The numbers are in the table; quick run: not judged") == 2
    after_how_to_read = text.split("## II. Experiment setup", 1)[1]
    for verdict in ("agrees", "disagrees", "no clear difference", "clearly", "**agrees"):
        assert verdict not in after_how_to_read, verdict
    runs = int(re.search(r"(\d+) training runs", text).group(1))
    # results 2, learning rates 3, units 4 (4 units as lr 0.1), no activation 2 (sigmoid as 8 units),
    # optimisers 3 (SGD as 8 units), activations 3 (sigmoid as 8 units): settings met again are trained once
    assert runs == 3 * (2 + 3 + 3 + 1 + 2 + 2)
    saved = list((out / "runs").glob("*.json"))
    assert len(saved) == 3 * (2 + 3 + 4 + 2 + 3 + 3)  # ...and saved under each experiment
    assert all(json.loads(p.read_text())["loss"] for p in saved)


def test_only_the_reports_own_words_are_in_quotation_marks(quick_report):
    _, text = quick_report
    quoted = re.findall(r"“([^”]*)”", text)
    assert len(quoted) >= 8
    for words in quoted:
        assert any(words in passage for passage in original.PASSAGES), words


def test_sections_are_numbered_as_the_reports_and_each_claim_sits_under_its_section(quick_report):
    _, text = quick_report
    headings = re.findall(r"^(#{2,3}) (.+)$", text, re.M)
    numbered = [h for level, h in headings if level == "##" and not h.startswith("How this")]
    assert [h.split(".")[0] for h in numbered] == ["II", "III", "IV"]
    assert [h.split(" ")[0] for level, h in headings if level == "###" and h.startswith("IV.")] == [
        f"IV.{k}" for k in range(1, 6)
    ]
    heading = ""
    for line in text.splitlines():
        if line.startswith("### "):
            heading = line
        claimed = re.match(r"\| “.*” \(([IV.0-9]+)", line)
        if claimed:
            section = claimed.group(1).split(",")[0]
            assert heading.startswith(f"### {section} ") or f"the report's {section})" in heading, (line, heading)


def test_headings_and_text_agree_on_epochs_and_say_why_sections_three_and_four_differ(quick_report):
    _, text = quick_report
    said = next(line for line in text.splitlines() if line.startswith("Epochs "))
    linear = re.search(r"### Linear \(.*, (\d+) epochs\)", text).group(1)
    xor = re.search(r"### XOR \(.*, (\d+) epochs\)", text).group(1)
    assert f"the linear set {int(linear):,} and XOR {int(xor):,} in section III" in said
    sweep = re.search(r"every setting of section IV ([\d,]+)", said).group(1)
    assert f"Every setting here trains {sweep} epochs, where section III's XOR trained {int(xor):,}" in text
    assert "scores" in text.split("## IV. Discussion (XOR)", 1)[1].split("###", 1)[0]  # the two numbers, side by side


def test_every_loss_is_in_one_notation(quick_report):
    _, text = quick_report
    rows = [line.split("|")[1:-1] for line in text.splitlines() if re.match(r"\| (lr |\d units|sigmoid|SGD)", line)]
    assert rows
    for row in rows:
        for cell in (row[3], row[4]):  # final loss, mean loss over training
            assert re.fullmatch(r" (\d\.\d\de[-+]\d\d \(\d\.\d\de[-+]\d\d–\d\.\d\de[-+]\d\d\)|–) ", cell), cell


# -- the report owns its folder (issue 10, finding 13) ----------------------------------------


def _tiny(full):
    """The quick plan cut to two seeds and a few epochs: enough to write a whole report."""

    def tiny(quick):
        plans = full(True)
        for plan in plans:
            plan.settings = [dataclasses.replace(s, epochs=3) for s in plan.settings]
            plan.seeds = [1, 2]
        return plans

    return tiny


@pytest.fixture(scope="module")
def earlier_report(tmp_path_factory):
    """A tiny report, written once; each test copies it."""
    import lab.report as report

    out = tmp_path_factory.mktemp("earlier") / "report"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report, "plans", _tiny(report.plans))
        assert main(["report", "--out", str(out), "--no-progress"]) == 0
    return out


@pytest.fixture
def tiny_plan(monkeypatch):
    import lab.report as report

    monkeypatch.setattr(report, "plans", _tiny(report.plans))


def _tree(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _contents(folder):
    return {p: (folder / p).read_bytes() for p in _tree(folder) if (folder / p).is_file()}


def test_a_report_replaces_an_earlier_one_whole(tmp_path, earlier_report, tiny_plan):
    out = tmp_path / "report"
    shutil.copytree(earlier_report, out)
    first = _tree(out)
    (out / "runs" / "stale_run_seed9.json").write_text("{}")
    (out / "notes.txt").write_text("from the earlier report's folder")
    assert main(["report", "--out", str(out), "--no-progress"]) == 0
    assert _tree(out) == first  # nothing stale mixed with the new
    assert _tree(tmp_path) == ["report", *(f"report/{p}" for p in first)]  # no building folder left beside it


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_interrupted_report_leaves_the_earlier_one_as_it_was(tmp_path, earlier_report, tiny_plan, monkeypatch, jobs):
    import lab.runs as runs

    out = tmp_path / "report"
    shutil.copytree(earlier_report, out)
    before = _contents(out)
    monkeypatch.setattr(runs, "run_one", _interrupted_at_the_third_run)
    _calls.clear()
    assert main(["report", "--out", str(out), "--no-progress", "--jobs", jobs]) == 130
    assert _contents(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]
    assert multiprocessing.active_children() == []  # no worker left running


_calls = []


def _interrupted_at_the_third_run(setting, seed, engine):
    """lab.runs.run_one, but Ctrl-C at its third call (each worker process counts its own)."""
    _calls.append(1)
    if len(_calls) == 3:
        raise KeyboardInterrupt
    return run_one(setting, seed, engine)


def test_a_folder_of_other_files_is_refused_unless_forced(tmp_path, tiny_plan, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("months of work")
    assert main(["report", "--out", str(out), "--no-progress"]) == 1
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1 and str(out) in error and "--force" in error
    assert _tree(out) == ["thesis.tex"]
    assert main(["report", "--out", str(out), "--no-progress", "--force"]) == 0
    assert (out / "report.md").exists() and not (out / "thesis.tex").exists()


def test_no_more_worker_processes_than_runs(tmp_path, monkeypatch):
    import lab.runs as runs

    started = []

    class Counted(runs.ProcessPoolExecutor):
        def __init__(self, workers, **options):
            started.append(workers)
            super().__init__(workers, **options)

    monkeypatch.setattr(runs, "ProcessPoolExecutor", Counted)
    plan = runs.plans(True)[0]
    plan.settings = [dataclasses.replace(s, epochs=3) for s in plan.settings]
    plan.seeds = [1]
    outcomes = runs.run_all([plan], "eager", tmp_path, progress=False, jobs=500)
    assert started == [2]  # two runs: two processes, not 500
    assert [len(o.histories) for o in outcomes["results"]] == [1, 1]

"""tinygrad-hw report: every figure exists, the numbers drive the words."""

import json
import re

import pytest

from lab.cli import main
from lab.report import Outcome, Setting, _hidden_units_verdict, _learning_rate_verdict, _sweep_sentences
from tinygrad_hw.train import History


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    assert main(["report", "--out", str(out), "--quick", "--no-progress"]) == 0
    return out, (out / "report.md").read_text()


def test_every_figure_the_report_shows_exists(quick_report):
    out, text = quick_report
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(figures) == 2 * 2 + 2 * 5  # results: 2 per data set; discussion: 2 per experiment
    for name in figures:
        assert (out / name).stat().st_size > 1000, name


def test_the_reports_setting_reaches_100_percent_on_xor(quick_report):
    _, text = quick_report
    row = next(line for line in text.splitlines() if line.startswith("| XOR |"))
    assert row.split("|")[3].strip() == "100.0 %"


def test_the_run_without_activation_is_reported_as_diverged(quick_report):
    out, text = quick_report
    row = next(line for line in text.splitlines() if line.startswith("| no activation |"))
    assert row.split("|")[-2].strip() == "2 of 2"
    assert "Stopped at epoch" in text and "Traceback" not in text
    saved = json.loads((out / "runs" / "no_activation_no_activation_seed1.json").read_text())
    assert saved["diverged_at"] is not None and len(saved["loss"]) == saved["diverged_at"]


def test_every_run_is_saved_beside_the_figures(quick_report):
    out, text = quick_report
    runs = sorted((out / "runs").glob("*.json"))
    assert len(runs) == int(re.search(r"(\d+) training runs", text).group(1))
    assert all(json.loads(p.read_text())["loss"] for p in runs if "no_activation_no" not in p.name)


def _outcome(label, losses, lr=0.1, seeds=2, diverged=False):
    histories = []
    for _ in range(seeds):
        h = History(loss=list(losses), accuracy=1.0 if losses[-1] < 0.05 else 0.5, epochs=len(losses))
        if diverged:
            h.diverged_at, h.loss = 1, [float("nan")]
        histories.append(h)
    return Outcome(Setting(label, lr=lr, epochs=len(losses)), list(range(seeds)), histories)


def test_the_words_follow_the_numbers():
    slow, fast = [0.3, 0.2, 0.1, 0.08, 0.06], [0.3, 0.005, 0.004, 0.003, 0.002]
    said = " ".join(_sweep_sentences([_outcome("A", slow), _outcome("B", fast)], "setting"))
    assert "The best setting here was B" in said and "the worst was A" in said
    assert "with B in every run (after 2 epochs on average)" in said and "never did with A" in said
    said = " ".join(_sweep_sentences([_outcome("A", fast), _outcome("B", slow)], "setting"))
    assert "The best setting here was A" in said and "never did with B" in said
    said = " ".join(_sweep_sentences([_outcome("A", fast), _outcome("C", slow, diverged=True)], "setting"))
    assert "Only A trained to the end" in said and "2 of 2 runs with C diverged" in said
    tie = " ".join(_sweep_sentences([_outcome("A", [0.3, 0.02]), _outcome("B", [0.3, 0.01])], "setting"))
    assert "Every setting reached the same mean accuracy" in tie and "the lowest final loss was B's" in tie


def test_the_verdicts_can_agree_or_disagree_with_the_report():
    good, bad = [0.3, 0.005, 0.004], [0.3, 0.28, 0.27]
    agree = _learning_rate_verdict(
        {
            1.0: _outcome("lr 1", bad, 1.0),
            0.1: _outcome("lr 0.1", good),
            0.01: _outcome("lr 0.01", [0.3, 0.3, 0.29], 0.01),
        }
    )
    assert agree[0].startswith("As the report found, lr 0.01") and agree[1].startswith("As the report found, lr 1")
    disagree = _learning_rate_verdict(
        {1.0: _outcome("lr 1", good, 1.0), 0.1: _outcome("lr 0.1", good), 0.01: _outcome("lr 0.01", good, 0.01)}
    )
    assert disagree[0].startswith("Unlike the report") and disagree[1].startswith("Unlike the report")
    widths = [_outcome("2 units", bad), _outcome("4 units", good)]
    assert _hidden_units_verdict(widths)[0].startswith("As the report found")
    assert "only in part" in _hidden_units_verdict(widths[::-1])[0]


# -- the report owns its folder (issue 10, finding 13) ----------------------------------------


@pytest.fixture
def tiny_plan(monkeypatch):
    """The quick plan cut to one seed and a few epochs: enough to write a whole report."""
    import dataclasses

    import lab.report as report

    full = report._plan

    def tiny(quick):
        plans = full(True)
        for plan in plans:
            plan.settings = [dataclasses.replace(s, epochs=3) for s in plan.settings]
            plan.seeds = [1]
        return plans

    monkeypatch.setattr(report, "_plan", tiny)


def _tree(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_report_replaces_an_earlier_one_whole(tmp_path, tiny_plan):
    out = tmp_path / "report"
    assert main(["report", "--out", str(out), "--no-progress"]) == 0
    first = _tree(out)
    (out / "runs" / "stale_run_seed9.json").write_text("{}")
    (out / "notes.txt").write_text("from the earlier report's folder")
    assert main(["report", "--out", str(out), "--no-progress"]) == 0
    assert _tree(out) == first  # nothing stale mixed with the new
    assert _tree(tmp_path) == ["report", *(f"report/{p}" for p in first)]  # no building folder left beside it


def test_an_interrupted_report_leaves_the_earlier_one_as_it_was(tmp_path, tiny_plan, monkeypatch):
    import lab.report as report

    out = tmp_path / "report"
    assert main(["report", "--out", str(out), "--no-progress"]) == 0
    before = {p: (out / p).read_bytes() for p in _tree(out) if (out / p).is_file()}
    calls = []
    real_run = report._run

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_run(*args, **kwargs)

    monkeypatch.setattr(report, "_run", interrupted)
    assert main(["report", "--out", str(out), "--no-progress"]) == 130
    assert {p: (out / p).read_bytes() for p in _tree(out) if (out / p).is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


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

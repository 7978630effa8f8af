"""The class page and a check's marked step-through page in a real browser (headless
Chromium through Selenium, offline, as test_stepthrough_browser.py)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from homework_helpers import CLASS, RIGHT, plant, write
from optional import need

from lab.cli import main
from lab.homework import check
from viz.browser import chromium, missing

pytestmark = pytest.mark.slow
OUTPUT = Path(__file__).resolve().parent.parent / "build" / "test-output"


@pytest.fixture(scope="module")
def browser(graphviz_dot):
    need(missing())
    with chromium() as driver:
        yield driver


def _errors(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def test_the_class_page_shows_the_gradebook(browser, tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    write(folder, "ada.py", RIGHT["local"])
    plant(folder, "local", "brian", ("return 1.0, -1.0", "return 1.0, 1.0"))
    plant(folder, "local", "ken", ("return 1.0, -1.0", "return 1.0, 1.0"), ("-a / b**2", "a / b**2"))
    write(folder, "victor.py", "def d_sigmoid(x)\n")
    assert main(["grade", str(folder), "--exercise", "local", "--out", str(tmp_path / "out")]) == 0
    browser.get((tmp_path / "out" / "index.html").as_uri())
    shown = browser.execute_script(
        """return {
          bars: [...document.querySelectorAll('g.bar')].map(g => Number(g.dataset.count)),
          heights: [...document.querySelectorAll('g.bar rect')].map(r => r.getBBox().height),
          mistakes: Object.fromEntries([...document.querySelectorAll('tr[data-mistake]')]
              .map(r => [r.dataset.mistake, Number(r.cells[2].textContent)])),
          students: [...document.querySelectorAll('tr[data-student]')].map(r => r.dataset.student),
        }"""
    )
    rows = list(csv.DictReader((tmp_path / "out" / "gradebook.csv").open()))
    assert sum(shown["bars"]) == len(rows) == 4 and shown["bars"][9] == 1 and shown["bars"][0] == 1
    assert all((h > 0) == (n > 0) for h, n in zip(shown["heights"], shown["bars"]))
    assert shown["mistakes"] == {"sub-sign": 2, "div-sign": 1}
    assert shown["students"] == [r["student"] for r in rows]
    assert not _errors(browser)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(OUTPUT / "homework_class_page.png"))


def test_a_failed_checks_page_shows_its_marks(browser, tmp_path):
    report = check(CLASS / "network" / "donald.py", "network", page=tmp_path)
    page = next(p for p in report.pages if p.name == "backward-hidden.html")
    browser.get(page.as_uri())
    browser.get_log("browser")
    state = browser.execute_script(
        """const s = window.stepThrough.steps;
           const marked = [...document.querySelectorAll('g.marked')];
           const labels = [...document.querySelectorAll('text.mark-label')].map(t => t.textContent);
           const z = s.findIndex(x => x.phase === 'backward' && x.title.startsWith('z1[0]'));
           window.stepThrough.go(z);
           const flag = [...document.querySelectorAll('#step-text p.mark')].map(p => p.textContent);
           return {marked: marked.length, labels: labels, flag: flag};"""
    )
    assert state["marked"] >= 1 and state["labels"] and all("yours" in t and "right" in t for t in state["labels"])
    assert state["flag"] and state["flag"][0].startswith("⚑ ∂C/∂z: yours")
    assert not _errors(browser)
    browser.save_screenshot(str(OUTPUT / "homework_marked_page.png"))

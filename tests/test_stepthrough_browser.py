"""The step-through page in a real browser: headless Chromium (Debian's chromium and
chromium-driver), driven by Selenium (viz.browser). Nothing is downloaded: Selenium is
pointed at those binaries and kept offline.

Every step of each page is played and what the page shows is checked against the
engine's gradients. A screenshot of a backward step is written to build/test-output/.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from optional import need

from tinygrad_hw import Value
from tinygrad_hw.engine import walk
from viz import step_through
from viz.browser import chromium, missing
from viz.gallery import one_neuron, xor_sample
from viz.stepthrough_steps import shown as written

pytestmark = pytest.mark.slow

OUTPUT = Path(__file__).resolve().parent.parent / "build" / "test-output"


@pytest.fixture(scope="module")
def browser(graphviz_dot):
    need(missing())
    with chromium() as driver:
        yield driver


def open_page(driver, page, folder: Path, name: str = "page.html") -> None:
    path = page.save(folder / name)
    driver.get(path.resolve().as_uri())
    driver.get_log("browser")  # start each page with an empty console


def console_errors(driver) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]


SHOWN = """
const blocks = [...document.querySelectorAll('.contribution')].map(b => ({
  child: b.dataset.child, after: Number(b.dataset.after), local: Number(b.dataset.local),
  text: [...b.querySelectorAll('p')].map(p => p.textContent)}));
return {index: window.stepThrough.index, title: document.getElementById('step-title').textContent,
        position: document.getElementById('position').textContent, blocks: blocks,
        current: [...document.querySelectorAll('g.current')].length};
"""


def play_every_step(driver, steps: list[dict], keys: bool = True) -> dict[str, float]:
    """Press → (or, with ``keys=False``, call the player's ``go``, faster) through the
    whole page; check each step shows what Python computed for it; return each place's
    gradient as the page last showed it."""
    from selenium.webdriver.common.keys import Keys

    body = driver.find_element("tag name", "body")
    shown_grads: dict[str, float] = {}
    for i, step in enumerate(steps):
        if i and keys:
            body.send_keys(Keys.ARROW_RIGHT)
        elif i:
            driver.execute_script("window.stepThrough.go(arguments[0])", i)
        state = driver.execute_script(SHOWN)
        assert state["index"] == i and state["title"] == step["title"]
        assert state["position"] == f"{step['phase']} · step {i + 1} of {len(steps)}"
        assert state["current"] >= 1  # the node of this step is lit
        expected = step.get("contributions", []) if step["phase"] == "backward" else []
        assert len(state["blocks"]) == len(expected)
        for block, c in zip(state["blocks"], expected):
            assert block["child"] == c["child"] and block["after"] == c["after"] and block["local"] == c["local"]
            assert block["text"][-1] == f"{c['label']}.grad += {c['shown']['product']} → {c['shown']['after']}"
            assert c["rule"] in block["text"][1]
            shown_grads[c["child"]] = block["after"]
    body.send_keys(Keys.ARROW_RIGHT)  # past the end: stays on the last step
    assert driver.execute_script("return window.stepThrough.index") == len(steps) - 1
    return shown_grads


def page_steps(driver) -> list[dict]:
    return driver.execute_script("return window.stepThrough.steps")


def test_one_neuron_every_step_shows_the_engines_gradients(browser, tmp_path):
    loss, _, _ = one_neuron()
    open_page(browser, step_through(loss), tmp_path)
    steps = page_steps(browser)
    shown = play_every_step(browser, steps)
    labels = {c["child"]: c["label"] for s in steps for c in s.get("contributions", [])}
    engine = {v.label: v.grad for v in walk(loss)}
    assert {labels[place]: grad for place, grad in shown.items()} == {k: v for k, v in engine.items() if k != "C"}
    # at the end every box shows its gradient as the engine has it
    boxes = browser.execute_script(
        "return [...document.querySelectorAll('g.node text')].map(t => t.textContent)"
        ".filter(t => t.startsWith('grad '))"
    )
    assert sorted(boxes) == sorted(f"grad {written(v.grad)}" for v in walk(loss))
    assert console_errors(browser) == []


def test_reuse_shows_each_contribution_and_the_running_sum(browser, tmp_path):
    a = Value(-2.0, "a")
    b = Value(3.0, "b")
    c = a * a + a * b  # a feeds two ops, and one of them twice
    d = c.tanh()
    d.backward()
    open_page(browser, step_through(d), tmp_path)
    steps = page_steps(browser)
    shown = play_every_step(browser, steps)
    labels = {c["child"]: c["label"] for s in steps for c in s.get("contributions", [])}
    by_label = {labels[place]: grad for place, grad in shown.items()}
    assert by_label["a"] == a.grad and by_label["b"] == b.grad
    into_a = [c for s in steps for c in s.get("contributions", []) if c["label"] == "a"]
    assert len(into_a) == 3 and into_a[-1]["after"] == a.grad
    assert console_errors(browser) == []


@pytest.mark.parametrize("level", ["neuron", "value"])
def test_the_report_network_plays_to_the_end(browser, tmp_path, level):
    model, loss = xor_sample()
    open_page(browser, step_through(loss, model=model, level=level), tmp_path)
    steps = page_steps(browser)
    shown = play_every_step(browser, steps, keys=False)
    labels = {c["child"]: c["label"] for s in steps for c in s.get("contributions", [])}
    by_label = {labels[place]: grad for place, grad in shown.items()}
    for p in model.parameters():
        if level == "value":  # at value level every parameter is a row of its own
            assert by_label[p.label] == p.grad
    assert console_errors(browser) == []


def test_controls_keys_clicks_and_play(browser, tmp_path):
    from selenium.webdriver.common.keys import Keys

    loss, _, _ = one_neuron()
    open_page(browser, step_through(loss), tmp_path)
    steps = page_steps(browser)
    index = lambda: browser.execute_script("return window.stepThrough.index")  # noqa: E731
    body = browser.find_element("tag name", "body")
    body.send_keys(Keys.END)
    assert index() == len(steps) - 1
    body.send_keys(Keys.HOME)
    assert index() == 0
    browser.find_element("id", "next").click()
    browser.find_element("id", "next").click()
    browser.find_element("id", "previous").click()
    assert index() == 1
    browser.find_element("id", "backward").click()
    first_backward = next(i for i, s in enumerate(steps) if s["phase"] == "backward")
    assert index() == first_backward
    # clicking a value: in the backward pass, the step that gave it its gradient
    z_step = next(i for i, s in enumerate(steps) if s["phase"] == "backward" and s["title"].startswith("z = "))
    browser.execute_script("document.querySelector('#graph').scrollTo(0, 0)")
    _click_node(browser, steps[z_step]["node"])
    assert index() == z_step
    browser.find_element("id", "first").click()
    _click_node(browser, steps[z_step]["node"])  # in the forward pass: the step computing it
    assert steps[index()]["phase"] == "forward" and steps[index()]["node"] == steps[z_step]["node"]
    # play at the highest speed, then pause
    browser.find_element("id", "first").click()
    browser.execute_script("const s = document.getElementById('speed'); s.value = 20;")
    browser.find_element("id", "play").click()
    deadline = time.monotonic() + 10  # 20 steps a second; a loaded machine may be slower
    while index() < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    browser.find_element("id", "play").click()
    stopped = index()
    assert stopped >= 3 and browser.find_element("id", "play").text == "▶ play"
    time.sleep(0.3)
    assert index() == stopped
    # each edge can show its local derivative
    browser.find_element("id", "edge-labels").click()
    labels = browser.execute_script("return [...document.querySelectorAll('text.edge-label')].map(t => t.textContent)")
    assert len(labels) >= 8 and all("∂" in t for t in labels)
    before = browser.execute_script("return window.stepThrough.scale")
    browser.find_element("id", "zoom-in").click()
    assert browser.find_element("id", "scale").text == f"{round(before * 125)} %"
    assert console_errors(browser) == []


def _click_node(driver, place: str) -> None:
    """Click the box drawn for ``place`` (a node titled so)."""
    from selenium.webdriver.common.action_chains import ActionChains

    node = driver.execute_script(
        "return [...document.querySelectorAll('g.node')]"
        ".find(g => g.querySelector('title').textContent === arguments[0]).querySelector('polygon, ellipse')",
        place,
    )
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", node)
    ActionChains(driver).move_to_element(node).click().perform()


def test_a_label_that_looks_like_a_script_shows_as_text(browser, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException

    evil = "</script><script>alert(1)</script>"
    x = Value(2.0, evil)
    y = (x * 3.0).sigmoid()
    y.backward()
    open_page(browser, step_through(y), tmp_path)
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
    assert browser.find_element("id", "step-title").text == f"Given: {evil} = 2.0000"
    svg_text = browser.execute_script("return document.querySelector('#graph svg').textContent")
    assert evil in svg_text
    assert console_errors(browser) == []


def test_inline_in_a_notebook_frame(browser, tmp_path):
    loss, _, _ = one_neuron()
    page = step_through(loss)
    (tmp_path / "notebook.html").write_text(f"<!DOCTYPE html><html><body>{page._repr_html_()}</body></html>")
    browser.get((tmp_path / "notebook.html").as_uri())
    browser.switch_to.frame(browser.find_element("tag name", "iframe"))
    try:
        assert browser.execute_script("return window.stepThrough.steps.length") == len(page_steps_of(page))
        assert browser.find_element("id", "position").text.startswith("forward · step 1 of")
    finally:
        browser.switch_to.default_content()
    assert console_errors(browser) == []


def page_steps_of(page) -> list:
    import json
    import re

    return json.loads(re.search(r'id="data">(.*?)</script>', page.html, re.S).group(1))["steps"]


def test_a_screenshot_of_a_backward_step(browser):
    loss, _, _ = one_neuron()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    open_page(browser, step_through(loss), OUTPUT, "one-neuron.html")
    steps = page_steps(browser)
    sigmoid = next(i for i, s in enumerate(steps) if s["phase"] == "backward" and s["title"].startswith("a = ŷ"))
    browser.execute_script("window.stepThrough.go(arguments[0])", sigmoid)
    shot = OUTPUT / "stepthrough-backward-step.png"
    assert browser.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(data[16:20], "big") == 1400
    assert "(a = ŷ)·(1 − (a = ŷ)) = 0.5866·(1 − 0.5866) = 0.2425" in browser.find_element("id", "contributions").text
    assert console_errors(browser) == []


# -- the report's 2-8-8-1 network, as `tinygrad-hw explain` writes it (issue 20) ------------------


@pytest.fixture(scope="module")
def report_page(tmp_path_factory):
    """`tinygrad-hw explain`'s page: the report's network on XOR sample 1, one row per neuron."""
    from lab.explain import explain

    return explain(tmp_path_factory.mktemp("explain"))


def open_file(driver, path: Path) -> None:
    driver.get(path.resolve().as_uri())
    driver.get_log("browser")


RECTS = """
const rect = e => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
const root = document.querySelector(arguments[0]);
return {
  labels: [...root.querySelectorAll(arguments[1])].filter(t => t.getClientRects().length)
    .map(t => [t.textContent, rect(t)]),
  boxes: [...root.querySelectorAll('g.node')].map(g => [g.querySelector('title').textContent, rect(g)]),
  active: [...root.querySelectorAll('g.edge.active')].filter(g => !g.id.includes('_op->')).length,
  activeLabels: root.querySelectorAll('text.edge-label.active').length,
};
"""


def overlapping(found: dict) -> list:
    """Pairs of (label, label) or (label, box) whose rectangles overlap by more than half a pixel."""

    def meet(a, b):
        return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5

    labels, boxes = found["labels"], found["boxes"]
    pairs = [(a[0], b[0]) for i, a in enumerate(labels) for b in labels[i + 1 :] if meet(a[1], b[1])]
    return pairs + [(a[0], b[0]) for a in labels for b in boxes if meet(a[1], b[1])]


def test_the_report_page_opens_on_its_inputs_and_fit_fits(browser, report_page):
    # Before: it opened scrolled into layer 3 at W3[1,1], and "fit" stopped at 75 %, too big to fit.
    open_file(browser, report_page)
    state = browser.execute_script(
        """const area = document.getElementById('graph').getBoundingClientRect();
           const lit = [...document.querySelectorAll('#graph g.current')].map(g => g.getBoundingClientRect());
           return {scale: window.stepThrough.scale, ids: window.stepThrough.steps[0].ids, lit: lit.length,
                   shown: lit.every(b => b.left >= area.left && b.right <= area.right
                                         && b.top >= area.top && b.bottom <= area.bottom)};"""
    )
    assert state["lit"] == 2 and state["shown"] and state["scale"] >= 0.7  # x1 and x2, in view, readable
    browser.find_element("id", "zoom-fit").click()
    fitted = browser.execute_script(
        """const area = document.getElementById('graph');
           const svg = area.querySelector('svg').getBoundingClientRect();
           return {scale: window.stepThrough.scale, width: svg.width, height: svg.height,
                   room: [area.clientWidth, area.clientHeight], label: document.getElementById('scale').textContent};"""
    )
    assert fitted["width"] <= fitted["room"][0] and fitted["height"] <= fitted["room"][1]
    assert fitted["label"] == f"{round(fitted['scale'] * 100)} %" and fitted["scale"] < 0.7
    assert console_errors(browser) == []


def test_edge_labels_never_overlap_each_other_or_a_box(browser, report_page, tmp_path):
    # Before: the 8-9 labels fanning into a neuron's dot overlapped into illegible text.
    open_file(browser, report_page)
    browser.find_element("id", "edge-labels").click()
    steps = page_steps(browser)
    placed = 0
    for i in range(len(steps)):
        browser.execute_script("window.stepThrough.go(arguments[0])", i)
        found = browser.execute_script(RECTS, "#graph", "text.edge-label")
        assert overlapping(found) == [], (i, steps[i]["title"])
        assert found["activeLabels"] == found["active"], (i, steps[i]["title"])  # every edge of the step labelled
        placed += len(found["labels"])
    assert placed >= 300
    # each neuron in full: Graphviz's own labels, one per edge into the weighted sum and the activation
    neurons = browser.execute_script("return JSON.parse(document.getElementById('data').textContent).neurons")
    for key in [n["key"] for n in neurons]:
        browser.execute_script("window.stepThrough.unfold(arguments[0])", key)
        found = browser.execute_script(RECTS, f'.neuron-view[data-key="{key}"]', "g.edge text")
        inputs = 2 if key.startswith("1,") else 8
        assert len(found["labels"]) == 2 * inputs + 2 and overlapping(found) == [], key
    # and the value-level drawing of the same network
    model, loss = xor_sample()
    open_page(browser, step_through(loss, model=model, level="value"), tmp_path)
    browser.find_element("id", "edge-labels").click()
    for i in range(0, len(steps), 5):
        browser.execute_script("window.stepThrough.go(arguments[0])", i)
        assert overlapping(browser.execute_script(RECTS, "#graph", "text.edge-label")) == [], i
    assert console_errors(browser) == []


def test_a_neuron_unfolds_on_click_and_shows_the_steps_numbers(browser, report_page):
    from selenium.webdriver.common.action_chains import ActionChains

    open_file(browser, report_page)
    steps = page_steps(browser)
    cell = browser.find_element("css selector", 'g[id="a_L2.in3.c0"]')
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'center'})", cell)
    ActionChains(browser).move_to_element(cell).click().perform()
    assert browser.execute_script("return window.stepThrough.unfolded") == "2,3"
    assert browser.find_element("id", "neuron").is_displayed()
    assert browser.find_element("id", "neuron-title").text == "layer 2, neuron 3 in full"
    z = next(i for i, s in enumerate(steps) if s["phase"] == "backward" and s["title"].startswith("z2[3] = "))
    browser.execute_script("window.stepThrough.go(arguments[0])", z)
    view = '.neuron-view[data-key="2,3"]'
    shown_there = browser.execute_script(
        """const view = document.querySelector(arguments[0]);
           const current = [...view.querySelectorAll('g.current')];
           return {current: current.map(g => g.querySelector('title').textContent),
                   grads: current.flatMap(g => [...g.querySelectorAll('text')].map(t => t.textContent))
                                 .filter(t => t.startsWith('grad '))};""",
        view,
    )
    assert len(shown_there["current"]) == 2  # z2[3]'s box and its op's oval
    assert shown_there["grads"] == [f"grad {steps[z]['shown_grad']}"]  # as the engine has it at this step
    browser.find_element("id", "fold").click()
    assert browser.execute_script("return window.stepThrough.unfolded") is None
    # following the steps: each step unfolds its own neuron
    browser.execute_script("window.stepThrough.unfold('1,1')")
    browser.find_element("id", "follow").click()
    a = next(i for i, s in enumerate(steps) if s["phase"] == "forward" and s["title"].startswith("a1[5] = "))
    browser.execute_script("window.stepThrough.go(arguments[0])", a)
    assert browser.execute_script("return window.stepThrough.unfolded") == "1,5"
    assert console_errors(browser) == []


def test_any_chain_rule_line_copies_as_latex(browser, report_page):
    open_file(browser, report_page)
    steps = page_steps(browser)
    z = next(i for i, s in enumerate(steps) if s["phase"] == "backward" and s["title"].startswith("z1[1] = "))
    browser.execute_script("window.stepThrough.go(arguments[0])", z)
    buttons = browser.find_elements("css selector", "#panel .copy-latex")
    assert len(buttons) == 1 + len(steps[z]["contributions"])  # the step's chain rule, and each input's
    buttons[0].click()
    source = browser.find_element("css selector", "#step-text .latex-source")
    assert source.is_displayed() and source.text == steps[z]["latex"]
    assert source.text.startswith(r"\frac{\partial C}{\partial z^{1}_{1}} = ")
    assert buttons[0].text in ("copied", "selected: copy it")
    assert console_errors(browser) == []


def test_a_screenshot_of_the_report_page(browser, report_page):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    open_file(browser, report_page)
    assert browser.save_screenshot(str(OUTPUT / "stepthrough-2-8-8-1-opening.png"))
    steps = page_steps(browser)
    z = next(i for i, s in enumerate(steps) if s["phase"] == "backward" and s["title"].startswith("z2[8] = "))
    browser.find_element("id", "edge-labels").click()
    browser.execute_script("window.stepThrough.unfold('2,8'); window.stepThrough.go(arguments[0])", z)
    assert browser.save_screenshot(str(OUTPUT / "stepthrough-2-8-8-1-backward.png"))
    assert console_errors(browser) == []

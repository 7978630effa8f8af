"""The step-through page at the report's size (issue 20): the steps start from the
inputs and give the parameters per layer; every formula is in the nodes' own names,
read from the op's rule (cases for piecewise rules), with the one minus sign U+2212;
every chain-rule line also comes as LaTeX, which pdflatex compiles; a neuron unfolded
shows the same values and derivatives as the steps.

What the page does in a browser is tested in test_stepthrough_browser.py."""

from __future__ import annotations

import html
import math
import re
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from optional import require

from tinygrad_hw import Value
from tinygrad_hw.engine import register_op, walk
from tinygrad_hw.testing import expressions
from viz import step_through, to_tikz
from viz.formulas import MINUS, latex_name
from viz.gallery import xor_sample
from viz.stepthrough_steps import shown

pytestmark = pytest.mark.usefixtures("graphviz_dot")  # skipped without Graphviz, failed in CI

BARE = re.compile(r"\b(out|a|b|c)\b")  # the rule's own names, as whole words
HYPHEN_MINUS = re.compile(r"(?<![\w\]])-(?=[\d.(])|e-\d")  # a number or a negation written with "-"


@pytest.fixture(scope="module")
def report_pages():
    """The report's 2-8-8-1 network on XOR sample 1, as `tinygrad-hw explain` draws it
    (one row per neuron) and drawn value by value."""
    model, loss = xor_sample()
    return model, loss, {level: step_through(loss, model=model, level=level) for level in ("neuron", "value")}


def formulas(step: dict) -> list[str]:
    """Every text of a step that is or holds a formula."""
    texts = [step["title"], *step["text"], step.get("chain", "")]
    for c in step.get("contributions", []):
        texts += [c["rule"], c["derivative"], c["chain"], c["label"]]
    return texts


def id_of(page, label: str) -> str:
    """The id the page gives the value labelled ``label`` (from the steps that compute it)."""
    for step in page.steps:
        for c in step.get("contributions", []):
            if c["label"] == label:
                return c["child_id"]
    raise KeyError(label)


# -- order: the inputs first, the parameters given per layer -------------------------------------


@pytest.mark.parametrize("level", ["neuron", "value"])
def test_the_report_page_starts_from_the_inputs_and_gives_each_layer_in_one_step(report_pages, level):
    # Before: 179 steps, 107 of them "X is given", starting at W3[1,1]; x1, x2 at steps 19-20.
    model, _, pages = report_pages
    page = pages[level]
    steps = page.steps
    given = [s for s in steps if s.get("kind") == "given"]
    assert len(steps) == 76 and len(given) == 4 and len(given) / len(steps) <= 0.10
    assert set(steps[0]["ids"]) == {id_of(page, "x1"), id_of(page, "x2")}  # the first step is the inputs
    assert steps[0]["text"][1:] == ["x1 = 0.0000", "x2 = 1.0000"]
    for k, step in enumerate(given[1:], start=1):
        assert len(step["ids"]) == len(model.layers[k - 1].parameters())  # the whole layer in one step
    assert all(s.get("kind") == "given" for s in steps[: len(given)])  # given at the start, then computed
    computed = [s for s in steps if s.get("kind") == "computed"]
    assert computed[0]["title"] == "z1[1] = b1[1] + W1[1,1]·x1 + W1[1,2]·x2"
    assert computed[0]["text"][1:] == ["= 0 + (−0.7313)·0 + 0.6949·1", "= 0.6949"]


def test_every_chain_rule_line_ends_in_the_engines_gradient(report_pages):
    _, loss, pages = report_pages
    grads = {v.label: v.grad for v in walk(loss)}
    backward = [s for s in pages["neuron"].steps if s["phase"] == "backward"]
    assert backward[0]["chain"] == "∂C/∂C = 1"  # the seed
    for step in backward[1:]:
        name = step["title"].split(" = ")[0]
        assert step["chain"].startswith(f"∂C/∂{name} = " if name != "ŷ−y" else "∂C/∂(ŷ−y) = ")
        assert step["chain"].endswith(f" = {shown(grads[name])}") and step["grad"] == grads[name]
    z = next(s for s in backward if s["title"].startswith("z1[1] = "))
    assert z["chain"] == "∂C/∂z1[1] = ∂C/∂a1[1]·∂a1[1]/∂z1[1] = 0.08595·0.2221 = 0.01909"


# -- formulas in the nodes' names ---------------------------------------------------------------------


@pytest.mark.parametrize("level", ["neuron", "value"])
def test_no_formula_on_the_report_page_names_a_rule_variable(report_pages, level):
    # Before: "∂z1[1]/∂W1[1,1]: ∂out/∂a = b = 0".
    page = report_pages[2][level]
    texts = [t for step in page.steps for t in formulas(step)]
    assert [t for t in texts if BARE.search(t)] == []
    rules = {c["rule"] for s in page.steps for c in s.get("contributions", [])}
    assert "∂z1[1]/∂W1[1,1] = x1 = 0" in rules  # the example, word for word
    assert "∂z1[1]/∂x1 = W1[1,1] = −0.7313" in rules
    assert "∂a1[1]/∂z1[1] = a1[1]·(1 − a1[1]) = 0.667·(1 − 0.667) = 0.2221" in rules
    assert "∂C/∂(ŷ−y) = 2·(ŷ−y) = 2·(−0.4018) = −0.8036" in rules  # one minus sign, numbers too


@settings(max_examples=max(10, settings.default.max_examples // 2))
@given(expressions(max_steps=8))
def test_no_formula_of_a_random_graph_names_a_rule_variable_or_writes_a_hyphen_minus(expr):
    out = expr(*(Value(x) for x in expr.inputs))
    for step in step_through(out).steps:
        for text in formulas(step):
            assert not BARE.search(text), (text, expr)
            assert not HYPHEN_MINUS.search(text), (text, expr)


def test_one_minus_sign_everywhere_on_the_report_page(report_pages):
    # Before: "2·(−0.4018) = -0.8036", and the boxes' "data -0.7313".
    page = report_pages[2]["neuron"]
    for step in page.steps:
        texts = formulas(step) + [c["shown"][k] for c in step.get("contributions", []) for k in c["shown"]]
        assert [t for t in texts if HYPHEN_MINUS.search(t)] == []
    drawn = re.findall(r"<text\b[^>]*>([^<]*)</text>", page.html)
    assert [t for t in drawn if re.match(r"(data|grad) (-|&#45;)", t)] == []
    assert any(t.startswith(f"data {MINUS}0.7313") for t in drawn) and f"ŷ{MINUS}y" in drawn


def fold(expr_value: Value) -> dict[str, str]:
    """Each contribution's rule on the page of ``expr_value``, by the name of what it flows into."""
    rules: dict[str, str] = {}
    for step in step_through(expr_value).steps:
        for c in step.get("contributions", []):
            rules[c["derivative"]] = c["rule"]
    return rules


def test_piecewise_rules_read_as_cases_and_say_which_holds():
    # Before: "0 if 2 == 0 else 2·pow((−0.3543), 2 − 1)" for d**2.
    x, y = Value(-1.5, "x"), Value(0.5, "y")
    r, q, m, p, p0, h = x.relu(), y.relu(), abs(x), x**2, x**0, y**0.5
    for v, name in zip((r, q, m, p, p0, h), ("r", "q", "m", "p", "p0", "h")):
        v.label = name
    total = Value.sum([r, q, m, p, p0, h])
    rules = fold(total)
    assert rules["∂r/∂x"] == "∂r/∂x = 0 if x ≤ 0, 1 if x > 0; here −1.5 ≤ 0, so 0"
    assert rules["∂q/∂y"] == "∂q/∂y = 0 if y ≤ 0, 1 if y > 0; here 0.5 > 0, so 1"
    assert rules["∂m/∂x"] == "∂m/∂x = 1 if x > 0, −1 if x < 0, else 0; here −1.5 < 0, so −1"
    assert rules["∂p/∂x"] == "∂p/∂x = 2·x = 2·(−1.5) = −3.0000"  # c = 2 decides the case: 2·x
    assert rules["∂p0/∂x"] == "∂p0/∂x = 0"  # c = 0: the other case
    assert rules["∂h/∂y"] == "∂h/∂y = 0.5·y^(−0.5) = 0.5·0.5^(−0.5) = 0.7071"
    zero = abs(Value(0.0, "z"))
    zero.label = "n"
    assert fold(zero)["∂n/∂z"] == "∂n/∂z = 1 if z > 0, −1 if z < 0, else 0; here 0 ≤ 0 and 0 ≥ 0, so 0"
    forward = {s["title"]: s["text"] for s in step_through(total).steps if s.get("kind") == "computed"}
    assert forward["r = ReLU(x)"] == ["r = ReLU(x): 0 if x < 0, x if x ≥ 0", "here −1.5 < 0, so 0", "= 0.0000"]


def leaky(a):
    out = a if a > 0.0 else 0.01 * a
    return out, (1.0 if a > 0.0 else 0.01,)


def test_an_op_registered_at_run_time_reads_in_names_and_cases_too():
    # The formulas are built from the rule's syntax tree, not by editing the table's texts.
    with register_op(leaky, "leaky", method="leaky", smooth=lambda a: abs(a) > 1e-3):
        x = Value(-2.0, "x")
        y = x.leaky()
        y.label = "y"
        steps = step_through(y).steps
    forward = next(s for s in steps if s.get("kind") == "computed")
    assert forward["text"] == ["y = leaky(x): x if x > 0, 0.01·x if x ≤ 0", "here −2 ≤ 0, so 0.01·(−2)", "= −0.02000"]
    (c,) = steps[-1]["contributions"]
    assert c["rule"] == "∂y/∂x = 1 if x > 0, 0.01 if x ≤ 0; here −2 ≤ 0, so 0.01"
    assert c["local"] == 0.01 and c["after"] == 0.01


# -- LaTeX -------------------------------------------------------------------------------------------


def test_names_in_latex_follow_the_reports_notation():
    assert latex_name("z1[1]") == "z^{1}_{1}" and latex_name("W2[3,1]") == "W^{2}_{3,1}"
    assert latex_name("x1") == "x_{1}" and latex_name("C") == "C" and latex_name("v17") == "v_{17}"
    assert latex_name("ŷ−y") == r"\mathrm{\hat{y}-y}"
    assert latex_name("x_1 & {y} 50%") == r"\mathrm{x\text{\_}1\ \text{\&}\ \text{\{}y\text{\}}\ 50\text{\%}}"


def test_greek_letters_and_subscripts_in_names_read_as_symbols():
    """alpha, w_1, x12 as a reader writes them: \\alpha, w_{1}, x_{12} (not \\mathrm{alpha})."""
    assert latex_name("alpha") == r"\alpha" and latex_name("Delta") == r"\Delta" and latex_name("α") == r"\alpha"
    assert latex_name("w_1") == "w_{1}" and latex_name("x12") == "x_{12}" and latex_name("x₁₂") == "x_{12}"
    assert latex_name("alpha_1") == latex_name("alpha1") == r"\alpha_{1}" and latex_name("w_ij") == "w_{ij}"
    assert latex_name("theta_max") == r"\theta_{\mathrm{max}}" and latex_name("loss") == r"\mathrm{loss}"
    assert latex_name("Δw") == r"\mathrm{{\Delta}w}" and latex_name("ς") == r"\mathrm{\text{?}}"


def test_the_page_and_the_tikz_export_name_a_node_alike():
    alpha, w, x = Value(0.5, "alpha"), Value(-2.0, "w_1"), Value(3.0, "x12")
    y = alpha * w * x
    y.label = "y"
    latex = " ".join(line for s in step_through(y).steps for line in _latex_lines(s))
    tikz = to_tikz(y)
    for symbol in (r"\alpha", "w_{1}", "x_{12}"):
        assert symbol in latex and f"${symbol}$" in tikz
    assert r"\mathrm{alpha}" not in latex and r"w\_1" not in tikz and "x12" not in tikz


def _latex_lines(step: dict) -> list[str]:
    lines = [step["latex"]] if step.get("latex") else []
    return lines + [c["latex"] for c in step.get("contributions", ()) if c.get("latex")]


def test_each_chain_rule_line_comes_as_latex(report_pages):
    page = report_pages[2]["neuron"]
    z = next(s for s in page.steps if s["phase"] == "backward" and s["title"].startswith("z1[1] = "))
    assert z["latex"] == (
        r"\frac{\partial C}{\partial z^{1}_{1}} = \frac{\partial C}{\partial a^{1}_{1}} "
        r"\frac{\partial a^{1}_{1}}{\partial z^{1}_{1}} = 0.08595 \cdot 0.2221 = 0.01909"
    )
    w = next(c for c in z["contributions"] if c["label"] == "W1[1,1]")
    assert w["latex"] == (
        r"\frac{\partial C}{\partial W^{1}_{1,1}} = \frac{\partial C}{\partial z^{1}_{1}} "
        r"\frac{\partial z^{1}_{1}}{\partial W^{1}_{1,1}} = 0.01909 \cdot x_{1} = 0.01909 \cdot 0 = 0"
    )
    x1 = next(c for c in z["contributions"] if c["label"] == "x1")
    assert x1["latex"].startswith(r"\frac{\partial C}{\partial x_{1}} \mathrel{+}= ")  # x1 gets 8 such terms
    assert all(s.get("latex") for s in page.steps if s.get("kind") != "given")


def every_latex(page) -> list[str]:
    found = []
    for step in page.steps:
        found += [step["latex"]] if step.get("latex") else []
        for c in step.get("contributions", []):
            found += [c["latex"], c["latex_local"]]
    return found


@pytest.mark.slow
def test_every_latex_line_compiles_with_pdflatex(report_pages, tmp_path):
    require(
        "pdflatex", shutil.which("pdflatex") is not None, "sudo apt-get install texlive-pictures (make test does it)"
    )
    x, odd = Value(-1.5, "x"), Value(0.25, "x_1 & {y} 50% ~#$")
    odd_graph = Value.sum([x.relu(), abs(x), x**2, x**0.5 if x.data > 0 else x**3, (odd * x).exp() / x, odd.tanh()])
    lines = every_latex(report_pages[2]["neuron"]) + every_latex(step_through(odd_graph))
    assert len(lines) > 250
    body = "\n".join(f"\\noindent$\\displaystyle {line}$\\par\\medskip" for line in lines)
    document = "\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n" + body + "\n\\end{document}\n"
    (tmp_path / "lines.tex").write_text(document, encoding="utf-8")
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "lines.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    log = (tmp_path / "lines.log").read_text(errors="replace")
    assert "Missing character" not in log and "Undefined control sequence" not in log


# -- a neuron unfolded: the same values and derivatives as the steps ----------------------------------


def test_each_neuron_unfolds_into_its_own_values_with_the_steps_derivatives(report_pages):
    model, _, pages = report_pages
    page = pages["neuron"]
    data = page_data(page)
    assert len(data["neurons"]) == sum(layer.nout for layer in model.layers) == 17
    assert pages["value"].html.count('class="neuron-view"') == 0  # drawn in full already: nothing to unfold
    by_edge = {}
    for step in page.steps:
        for c in step.get("contributions", []):
            by_edge[(c["child_id"], step["ids"][0])] = f"{c['derivative']} = {c['shown']['local']}"
    views = re.findall(r'<div class="neuron-view" data-key="([\d,]+)" hidden>(<svg.*?</svg>)', page.html, re.S)
    svgs = {key: html.unescape(svg) for key, svg in views}
    for neuron in data["neurons"]:
        places = neuron["places"]  # value id -> where the unfolded drawing shows it
        back = {place: value for value, place in places.items()}
        edges = re.findall(r'<g id="edge:([^"]+)->([^"]+)" class="edge">.*?</g>', svgs[neuron["key"]], re.S)
        labelled = re.findall(
            r'<g id="edge:([^"]+)->([^"]+)" class="edge">(?:(?!</g>).)*?<text[^>]*>([^<]*)</text>',
            svgs[neuron["key"]],
            re.S,
        )
        k = int(neuron["key"].split(",")[0])
        inputs = 2 if k == 1 else 8
        assert len(edges) == 2 * inputs + 1 + 1 + 2  # weights, inputs, bias; z→σ; the two ops' own edges
        assert len(labelled) == 2 * inputs + 2
        for tail, head, text in labelled:
            assert text == by_edge[(back[tail], back[head])]  # the steps' own derivative, to the digit


def page_data(page) -> dict:
    import json

    return json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', page.html, re.S)[1])


def test_a_non_finite_local_derivative_is_written_as_such():
    x = Value(0.0, "x")
    y = x.log()
    y.label = "y"
    (c,) = next(s for s in step_through(y).steps if s["phase"] == "backward")["contributions"]
    assert c["rule"] == "∂y/∂x = 1/x = 1/0 = inf" and math.isinf(c["local"])
    assert c["latex_local"] == r"\frac{\partial y}{\partial x} = \frac{1}{x} = \frac{1}{0} = \infty"


def test_a_rule_that_is_a_sum_is_bracketed_as_a_factor_in_the_latex_chain():
    x = Value(0.3, "x")
    y = x.tanh()
    y.label = "y"
    z = y * 2
    z.label = "z"
    into_x = [c for s in step_through(z).steps for c in s.get("contributions", []) if c["label"] == "x"]
    assert into_x[0]["latex"] == (
        r"\frac{\partial z}{\partial x} = \frac{\partial z}{\partial y} \frac{\partial y}{\partial x}"
        r" = 2 \cdot \left(1 - y \cdot y\right) = 2 \cdot 0.9151 = 1.8303"
    )

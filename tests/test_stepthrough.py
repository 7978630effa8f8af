"""viz.step_through: the steps' numbers are the engine's, the page stands alone, bad input.

What the page does in a real browser is tested in test_stepthrough_browser.py."""

import html
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_hw import Value
from tinygrad_hw.engine import walk
from tinygrad_hw.losses import mse
from tinygrad_hw.nn import MLP
from viz import GraphTooLarge, StepThrough, draw_graph, step_through
from viz.gallery import one_neuron, xor_sample

pytestmark = pytest.mark.usefixtures("graphviz_dot")  # skipped without Graphviz, failed in CI


def steps_of(page: StepThrough) -> list[dict]:
    data = re.search(r'<script type="application/json" id="data">(.*?)</script>', page.html, re.S).group(1)
    return json.loads(data)["steps"]


def final_sums(steps: list[dict]) -> dict[str, float]:
    """Each place's gradient after the whole backward pass, as the page shows it."""
    return {c["child"]: c["after"] for step in steps for c in step.get("contributions", [])}


def test_every_gradient_on_the_page_is_the_engines_to_the_bit():
    loss, _a, _params = one_neuron()
    steps = steps_of(step_through(loss))
    sums = {c["label"]: c["after"] for s in steps for c in s.get("contributions", [])}
    values = {v.label: v for v in walk(loss) if v.label}
    assert set(sums) == set(values) - {"C"}  # every value but the output receives a gradient
    for label, after in sums.items():
        assert after == values[label].grad, (label, after, values[label].grad)  # same additions, same order


def test_the_report_network_at_neuron_level_matches_the_engine():
    model, loss = xor_sample()
    steps = steps_of(step_through(loss, model=model, level="neuron"))
    by_label = {}
    for step in steps:
        for c in step.get("contributions", []):
            by_label[c["label"]] = c["after"]
    for p in model.parameters():
        assert by_label[p.label] == p.grad, p.label
    assert len(by_label) >= 105  # every weight and bias gets its gradient on the page
    given = [s for s in steps if s.get("kind") == "given"]
    assert [s["title"] for s in given] == [
        "Given: x1 = 0.0000, x2 = 1.0000",
        "Given: layer 1's 24 parameters",
        "Given: layer 2's 72 parameters",
        "Given: layer 3's 9 parameters",
    ]


def test_forward_then_backward_in_topological_order():
    loss, _, _ = one_neuron()
    steps = steps_of(step_through(loss))
    phases = [s["phase"] for s in steps]
    assert phases == sorted(phases, key=lambda p: p != "forward")  # all forward steps first
    seen = set()
    for step in steps:
        if step["phase"] == "forward":
            assert set(step.get("inputs", [])) <= seen  # each value after what it is made of
            seen.update(step["nodes"])
    backward = [s for s in steps if s["phase"] == "backward"]
    assert backward[0]["title"].startswith("C = ") and backward[0]["grad"] == 1.0
    assert "starts at the output" in backward[0]["text"][0]


def test_a_value_used_twice_gets_two_contributions_and_a_running_sum():
    x = Value(3.0, "x")
    y = x * x + x
    y.backward()
    steps = steps_of(step_through(y))
    into_x = [c for s in steps for c in s.get("contributions", []) if c["label"] == "x"]
    assert [(c["before"], c["after"]) for c in into_x] == [(0.0, 1.0), (1.0, 4.0), (4.0, 7.0)]
    assert x.grad == 7.0
    square = next(s for s in steps if s["phase"] == "backward" and "x·x" in s["title"])
    rules = [c["rule"] for c in square["contributions"]]
    name = square["title"].split(" = ")[0]  # unlabelled: the name its box shows
    assert rules == [f"∂{name}/∂x = x = 3"] * 2  # mul's rule (b, then a) in the nodes' names, then numbers


def test_the_local_derivative_is_the_op_tables_formula_then_numbers():
    loss, _, _ = one_neuron()
    steps = steps_of(step_through(loss))
    sigmoid = next(s for s in steps if s["phase"] == "backward" and s["title"].startswith("a = ŷ"))
    (c,) = sigmoid["contributions"]
    assert c["rule"] == "∂(a = ŷ)/∂z = (a = ŷ)·(1 − (a = ŷ)) = 0.5866·(1 − 0.5866) = 0.2425"
    assert c["derivative"] == "∂(a = ŷ)/∂z"
    assert c["shown"] == {"local": "0.2425", "upstream": "−0.8268", "product": "−0.2005", "after": "−0.2005"}


def test_the_page_does_not_need_backward_and_leaves_grad_alone():
    x = Value(2.0, "x")
    y = (x * x).tanh()
    steps = steps_of(step_through(y))
    assert x.grad == 0.0 and y.grad == 0.0
    y.backward()
    assert final_sums(steps)["v0"] == x.grad


def test_a_neuron_level_page_for_a_2_3_1_net_names_rows_in_order():
    model = MLP(2, [3, 1], seed=0)
    loss = mse(model([0.5, -1.0]), 1.0)
    page = step_through(loss, model=model, level="neuron")
    steps = steps_of(page)
    forward = [s["node"] for s in steps if s.get("kind") == "computed" and s["node"].startswith("L1.")]
    assert forward == ["L1.in1", "L1.in1", "L1.in2", "L1.in2", "L1.in3", "L1.in3"]  # z then a, per neuron
    assert steps[1]["nodes"] == ["L1.in1", "L1.in2", "L1.in3"]  # layer 1's parameters: one step for the layer
    for n in (1, 2, 3):
        assert f'id="a_L1.in{n}.c0"' in page.html  # every row's cells can be found and lit


def test_the_page_stands_alone():
    loss, _, _ = one_neuron()
    html = step_through(loss).html
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "<script>" in html
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|url\(", html)  # nothing fetched
    assert not re.findall(r"https?://(?!www\.w3\.org/)", html)  # only XML namespace names


def test_labels_cannot_escape_the_script_or_the_svg():
    evil = "</script><script>alert(1)</script>"
    x = Value(1.0, evil)
    y = x * 2.0
    y.backward()
    html = step_through(y).html
    assert html.count("<script") == 2  # the data and the player, nothing else
    assert "alert(1)</script>" not in html
    assert steps_of(StepThrough(html))[0]["title"] == f"Given: {evil} = 1.0000"  # the label arrives as text


def test_a_big_graph_is_cut_with_the_cut_stated_or_refused():
    x = Value(1.0, "x")
    y = x
    for _ in range(2_000):
        y = y * 1.0001 + 0.5
    page = step_through(y, max_nodes=60)
    assert "showing the 60 values nearest the output of 4,001" in page.html
    steps = steps_of(page)
    assert sum(s.get("kind") == "computed" for s in steps) == 60
    assert not any(s.get("kind") == "given" for s in steps)  # the leaf x is cut off
    assert sum(s["phase"] == "backward" for s in steps) == 60  # the kept values are all computed
    with pytest.raises(GraphTooLarge, match=r"4,001 values, more than max_nodes=60: pass max_nodes=4001"):
        step_through(y, max_nodes=60, collapse=False)


def test_inline_in_jupyter_and_saved_atomically(tmp_path):
    loss, _, _ = one_neuron()
    page = step_through(loss, tmp_path / "page.html")
    assert (tmp_path / "page.html").read_text(encoding="utf-8") == page.html
    frame = page._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and "&lt;!DOCTYPE html&gt;" in frame and "<script>" not in frame


def test_bad_arguments():
    with pytest.raises(TypeError, match="takes a Value, not float"):
        step_through(1.0)
    with pytest.raises(ValueError, match="max_nodes"):
        step_through(Value(1.0) * 2, max_nodes=0)
    with pytest.raises(ValueError, match="needs the model"):
        step_through(Value(1.0) * 2, level="neuron")


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [  # before: rankdir="XY" and "lr" drew as LR without a word, 3 failed inside Graphviz's quoting
        ({"rankdir": "XY"}, ValueError, r"^rankdir must be one of 'LR', 'RL', 'TB', 'BT', not 'XY'$"),
        ({"rankdir": "lr"}, ValueError, r"^rankdir must be one of 'LR', 'RL', 'TB', 'BT', not 'lr'$"),
        ({"rankdir": 3}, ValueError, r"^rankdir must be one of 'LR', 'RL', 'TB', 'BT', not 3$"),
        ({"collapse": "no"}, TypeError, r"^collapse must be True or False, not 'no'$"),
        ({"max_nodes": True}, ValueError, r"^max_nodes must be a positive integer, got True$"),
    ],
)
def test_a_bad_drawing_option_names_the_values_it_accepts(options, error, message):
    with pytest.raises(error, match=message):
        step_through(Value(1.0) * 2, **options)
    with pytest.raises(error, match=message):
        draw_graph(Value(1.0) * 2, **options)
    for rankdir in ("LR", "RL", "TB", "BT"):
        assert step_through(Value(1.0, "x") * 2, rankdir=rankdir).steps


def test_non_finite_numbers_travel_as_text():
    x = Value(0.0, "x")
    y = x.log()
    steps = steps_of(step_through(y))
    (c,) = next(s for s in steps if s["phase"] == "backward")["contributions"]
    assert c["local"] == "inf" and c["shown"]["after"] == "inf"


# -- any title saves and shows, as draw_graph shows it (issue 22, defects 9 and 10) ----------


def _page_title(page: StepThrough) -> str:
    data = re.search(r'<script type="application/json" id="data">(.*?)</script>', page.html, re.S).group(1)
    return json.loads(data)["title"]


def test_a_lone_surrogate_in_the_title_saves_and_shows_escaped(tmp_path):
    # Before: UnicodeEncodeError in write_atomic, and in _repr_html_.
    y = (Value(1.0, "x") * 2).tanh()
    page = step_through(y, tmp_path / "p.html", title="bad \ud800")
    assert (tmp_path / "p.html").read_text(encoding="utf-8") == page.html
    assert "<title>bad \\ud800</title>" in page.html and _page_title(page) == "bad \\ud800"
    page._repr_html_().encode("utf-8")


_TITLE_CHARS = st.characters(codec=None, categories=None)  # any code point: surrogates, controls, non-BMP


@settings(max_examples=max(10, settings.default.max_examples // 3))
@given(st.text(_TITLE_CHARS, max_size=30), st.text(_TITLE_CHARS, max_size=10))
def test_any_title_and_label_save_and_show_as_the_drawing_shows_them(tmp_path_factory, title, label):
    """The fuzzer of title encodings: lone surrogates, control characters, non-BMP."""
    from viz.graph import _visible

    y = (Value(1.0, label) * 2).tanh()
    folder = tmp_path_factory.mktemp("titles")
    page = step_through(y, folder / "p.html", title=title)
    assert (folder / "p.html").read_bytes() == page.html.encode("utf-8")
    page._repr_html_().encode("utf-8")
    assert _page_title(page) == (_visible(title) if title else "Backpropagation, step by step")
    assert f"<title>{html.escape(_page_title(page))}</title>" in page.html
    if label:
        assert steps_of(page)[0]["title"].startswith(f"Given: {_visible(label)} = ")


def test_a_title_or_label_of_100_kb_makes_a_page(tmp_path):
    # Before: BrokenPipeError from dot.
    long = "λ\\N" * 35_000
    y = (Value(1.0, long) * 2).tanh()
    page = step_through(y, tmp_path / "p.html", title=long)
    assert _page_title(page) == long and steps_of(page)[0]["title"] == f"Given: {long} = 1.0000"
    assert "…" in page.html  # the drawing cuts them; the panel and the heading show them whole
